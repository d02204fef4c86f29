package etcdraft

import (
	"math"
	"math/rand"

	"raftns"
)

// The adaptive baselines of docs/EVALUATION.md ("What runs"), ported from sim/baselines.ts: Jacobson/Karels (RFC 6298, SRTT +
// 4·RTTVAR, α 1/8, β 1/4, floor 2 heartbeat intervals) and φ-accrual (threshold 8, 1000 samples) over
// leader-contact inter-arrivals, each × U[1, 2) redrawn on every term or role change.

type estimator interface {
	observe(o *raftns.Observation)
	timeoutMs() float64
}

type randomized struct {
	inner  estimator
	rng    *rand.Rand
	factor float64
	term   uint64
	role   raftns.Role
	drawn  bool
}

// Randomized wraps an estimator with etcd's randomization.
func (r *randomized) Observe(o raftns.Observation) {
	r.inner.observe(&o)
	if !r.drawn || o.Term != r.term || o.Role != r.role {
		r.drawn, r.term, r.role = true, o.Term, o.Role
		r.factor = 1 + r.rng.Float64()
	}
}

func (r *randomized) ElectionTimeout() float64 { return r.inner.timeoutMs() * r.factor }

// NewJacobsonKarels returns the RFC 6298 policy × U[1, 2).
func NewJacobsonKarels(seed int64) Policy {
	return &randomized{inner: &jacobson{timeout: 1000, last: -1}, rng: rand.New(rand.NewSource(seed))}
}

// NewPhiAccrual returns the φ-accrual policy × U[1, 2).
func NewPhiAccrual(seed int64) Policy {
	return &randomized{inner: &phiAccrual{timeout: 1000, last: -1, ring: make([]float64, 1000)}, rng: rand.New(rand.NewSource(seed))}
}

type jacobson struct {
	srtt, rttvar, last, timeout float64
	samples                     int
	leader                      string
	term                        uint64
}

func (j *jacobson) observe(o *raftns.Observation) {
	if o.LeaderID != j.leader || o.Term != j.term {
		j.leader, j.term, j.samples, j.last, j.timeout = o.LeaderID, o.Term, 0, -1, 1000
	}
	if !o.HeartbeatReceived {
		return
	}
	if j.last >= 0 {
		gap := o.NowMs - j.last
		if j.samples == 0 {
			j.srtt, j.rttvar = gap, gap/2
		} else {
			j.rttvar = 0.75*j.rttvar + 0.25*math.Abs(j.srtt-gap)
			j.srtt = 0.875*j.srtt + 0.125*gap
		}
		j.samples++
		j.timeout = math.Max(2*o.HeartbeatIntervalMs, j.srtt+4*j.rttvar)
	}
	j.last = o.NowMs
}

func (j *jacobson) timeoutMs() float64 { return j.timeout }

type phiAccrual struct {
	ring             []float64
	count, head      int
	sum, sumSq, last float64
	timeout          float64
	leader           string
	term             uint64
}

func (p *phiAccrual) observe(o *raftns.Observation) {
	if o.LeaderID != p.leader || o.Term != p.term {
		p.leader, p.term, p.count, p.head, p.sum, p.sumSq, p.last, p.timeout = o.LeaderID, o.Term, 0, 0, 0, 0, -1, 1000
	}
	if !o.HeartbeatReceived {
		return
	}
	if p.last >= 0 {
		gap := o.NowMs - p.last
		if p.count == len(p.ring) {
			old := p.ring[p.head]
			p.sum -= old
			p.sumSq -= old * old
		} else {
			p.count++
		}
		p.ring[p.head] = gap
		p.sum += gap
		p.sumSq += gap * gap
		p.head = (p.head + 1) % len(p.ring)
		mean := p.sum / float64(p.count)
		std := math.Max(math.Sqrt(math.Max(0, p.sumSq/float64(p.count)-mean*mean)), 0.1*o.HeartbeatIntervalMs)
		p.timeout = phiCrossingMs(mean, std, 8)
	}
	p.last = o.NowMs
}

func (p *phiAccrual) timeoutMs() float64 { return p.timeout }

func phi(elapsed, mean, std float64) float64 {
	y := (elapsed - mean) / std
	e := math.Exp(-y * (1.5976 + 0.070566*y*y))
	if elapsed > mean {
		return -math.Log10(e / (1 + e))
	}
	return -math.Log10(1 - 1/(1+e))
}

func phiCrossingMs(mean, std, threshold float64) float64 {
	lo, hi := 0.0, mean+std
	for phi(hi, mean, std) < threshold {
		hi *= 2
	}
	for hi-lo > 0.01 {
		mid := (lo + hi) / 2
		if phi(mid, mean, std) < threshold {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// NewProviderFactory returns the raft-ns provider (the real Go package) for every node, each with its
// own randomization seed.
func NewProviderFactory(a *raftns.Artifact, rules *raftns.Rules) func(id uint64, seed int64) Policy {
	return func(id uint64, seed int64) Policy {
		s := seed
		p, err := raftns.NewProvider(raftns.Options{Artifact: a, Rules: rules, Seed: &s})
		if err != nil {
			panic(err)
		}
		return p
	}
}
