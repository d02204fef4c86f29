package raftns

import (
	"math"
	"math/rand"
	"testing"
)

// Under adversarial observations — NaN, ±Inf, negative, huge, unknown roles, time going backwards,
// impossible peer counts — Observe never panics and ElectionTimeout stays a whole number of ms inside
// [absolute floor, ⌊ceiling⌋], on both paths and without a model.
func TestProviderInvariantsUnderFuzzedObservations(t *testing.T) {
	a, rules := loadDefault(t)
	rng := rand.New(rand.NewSource(42))
	weird := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 0, 1e-300, 1e300, 5e9, 0.5, 100, 60001}
	pick := func(typical float64) float64 {
		if rng.Intn(8) == 0 {
			return weird[rng.Intn(len(weird))]
		}
		return typical * (0.5 + rng.Float64())
	}
	roles := []Role{Follower, PreCandidate, Candidate, Leader, "observer", ""}
	for _, prec := range []Precision{Int8, Float32, ""} {
		seed := int64(3)
		opts := Options{Artifact: a, Precision: prec, Rules: rules, Seed: &seed}
		if prec == "" {
			opts.Artifact = nil
		}
		p, err := NewProvider(opts)
		if err != nil {
			t.Fatal(err)
		}
		now := 0.0
		var term uint64 = 1
		for i := 0; i < 60000; i++ {
			now += 10
			if rng.Intn(500) == 0 {
				term++
			}
			size := 1 + rng.Intn(9)
			o := Observation{NowMs: now - 10 + pick(10), TickMs: pick(10), Role: roles[rng.Intn(len(roles))*(rng.Intn(4)/3)], Term: term,
				LeaderID: []string{"", "n1", "n2"}[rng.Intn(3)], HeartbeatLatencyMs: pick(5), HasLatency: rng.Intn(3) > 0,
				LogReplicationGap: math.Floor(pick(3)), RPCRetries: math.Floor(pick(1)), CPUIdlePct: pick(80),
				HeartbeatReceived: rng.Intn(10) == 0, ClusterSize: size, PeersReachable: rng.Intn(size+1) - rng.Intn(2), HeartbeatIntervalMs: pick(100)}
			p.Observe(o)
			v := p.ElectionTimeout()
			if !(v >= rules.AbsoluteFloorMs && v <= math.Floor(rules.CeilingMs)) || v != math.Trunc(v) {
				t.Fatalf("%s tick %d: timeout %v outside [%g, %g] or not whole ms", prec, i, v, rules.AbsoluteFloorMs, rules.CeilingMs)
			}
		}
		e := p.Explain()
		if prec != "" && e.FallbackCount == e.Ticks {
			t.Fatalf("%s: every tick fell back; the fuzz never reached the model", prec)
		}
		t.Logf("%s: %v ticks, fallbacks %v", prec, e.Ticks, e.FallbackCounts)
	}
}

// Explain says why: a value outside the input domain names the field and falls back.
func TestExplainNamesTheField(t *testing.T) {
	a, rules := loadDefault(t)
	seed := int64(1)
	p, _ := NewProvider(Options{Artifact: a, Rules: rules, Seed: &seed})
	o := Observation{NowMs: 10, TickMs: 10, Role: Follower, Term: 1, LeaderID: "n1", HeartbeatReceived: true,
		HeartbeatLatencyMs: 1, HasLatency: true, CPUIdlePct: 200, ClusterSize: 3, PeersReachable: 2, HeartbeatIntervalMs: 100}
	p.Observe(o)
	e := p.Explain()
	if e.Source != "fallback" || e.FallbackReason != OutsideDomain || e.FallbackDetail == "" || e.TimeoutMs < 1000 {
		t.Fatalf("explain: %+v", e)
	}
	o.CPUIdlePct, o.NowMs = 90, 20
	p.Observe(o)
	if e := p.Explain(); e.Source != "model" || e.Model != a.Name+"@"+a.Version+" int8" {
		t.Fatalf("explain after valid input: %+v", e)
	}
}
