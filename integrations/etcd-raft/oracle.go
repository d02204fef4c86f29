package etcdraft

import (
	"math"
	"math/rand"

	"raftns"
)

// The oracle: a perfect failure detector as a timeout policy, the physical limit of docs/EVALUATION.md
// ("The physical limit") inside etcd raft. It reads the harness's ground truth — does a leader serve the
// cluster, and is this node connected to it — so it exists only here, never on a real node. While a leader
// serves it, it never campaigns; once none does (crashed, isolated from it, or none elected) its timeout is
// the lease L plus U[0, W), redrawn on every term or role change: the Driver lifts any timeout to L (the
// other followers refuse (pre-)votes inside their leases, CheckQuorum's rule), so L is the earliest a
// campaign can win, and W spreads the followers' campaigns over a vote round trip so they do not split the
// vote (Raft §9.3). The rule of sim/oracle.ts, with the lease in front.

// groundTruthUser is a policy that reads the harness's ground truth (newCluster hands it over).
type groundTruthUser interface {
	useGroundTruth(leaderAlive func(self uint64) bool)
}

type oracle struct {
	self     uint64
	alive    func(self uint64) bool
	leaseMs  float64
	wMs      float64
	rng      *rand.Rand
	offsetMs float64
	term     uint64
	role     raftns.Role
	drawn    bool
}

// NewOracleFactory returns the oracle for every node: lease L and window W = max(50 ms, 4 × the network's
// largest one-way delay), a pre-vote and a vote round trip.
func NewOracleFactory(leaseMs, maxOneWayMs float64) func(id uint64, seed int64) Policy {
	w := math.Max(50, 4*maxOneWayMs)
	return func(id uint64, seed int64) Policy {
		return &oracle{self: id, leaseMs: leaseMs, wMs: w, rng: rand.New(rand.NewSource(seed))}
	}
}

func (o *oracle) useGroundTruth(alive func(self uint64) bool) { o.alive = alive }

func (o *oracle) Observe(ob raftns.Observation) {
	if !o.drawn || ob.Term != o.term || ob.Role != o.role {
		o.drawn, o.term, o.role = true, ob.Term, ob.Role
		o.offsetMs = o.rng.Float64() * o.wMs
	}
}

func (o *oracle) ElectionTimeout() float64 {
	if o.alive != nil && o.alive(o.self) {
		return math.Inf(1)
	}
	return o.leaseMs + o.offsetMs
}
