package etcdraft

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"raftns"
)

func root() string {
	if r := os.Getenv("RAFT_NS_ROOT"); r != "" {
		return r
	}
	return filepath.Join("..", "..")
}

// A short run of the failover command's loop: after every leader crash (and isolation) a new leader is
// elected and commits, with no two leaders in a term and no divergent committed entries, for stock etcd
// and for the provider through the adapter.
func TestLeaderReelectedAfterEveryFault(t *testing.T) {
	a, err := raftns.LoadDir(ArtifactDir(root()))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := raftns.LoadRules(filepath.Join(root(), "rules/default.rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fault := range []string{"crash", "isolate"} {
		for _, n := range []Network{LAN, Slow} {
			base := Config{Nodes: 3, Net: n, TickMs: 10, HeartbeatMs: 100, LeaseMs: LeaseMsFor(n, 100, 10), Fault: fault, Seed: 11,
				WarmupMs: 3000, AfterMs: 1000, GiveUpMs: 30000}
			policies := StandardPolicies(a, rules, n, base.LeaseMs)
			for _, row := range Compare([]PolicySpec{policies[0], policies[len(policies)-2]}, base, 4) {
				if row.Recovered != row.Trials || row.SafetyProblems != 0 {
					t.Errorf("%s, %s, %s: recovered %d/%d, safety problems %d", fault, n.Name, row.Policy, row.Recovered, row.Trials, row.SafetyProblems)
				}
				t.Logf("%s %s %-32s failover mean %.0f ms", fault, n.Name, row.Policy, row.MeanMs)
			}
		}
	}
}

// The oracle is the reference of the comparison: it recovers every trial with no safety problem, fails over
// faster than stock etcd, and the capture column puts it at 1 and the first row at 0. (Its unnecessary term
// changes are election races after the fault — a candidate of the next term arriving after another won — as
// in the simulator's oracle, so they are logged, not asserted.)
func TestOracleIsThePhysicalLimit(t *testing.T) {
	for _, n := range []Network{LAN, Slow} {
		lease := LeaseMsFor(n, 100, 10)
		base := Config{Nodes: 5, Net: n, TickMs: 10, HeartbeatMs: 100, LeaseMs: lease, Fault: "crash", Seed: 21,
			WarmupMs: 3000, AfterMs: 2000, GiveUpMs: 30000}
		rows := Compare([]PolicySpec{{Name: "etcd ElectionTick=100", StockElectionTick: 100}, {Name: OracleName, NewPolicy: NewOracleFactory(lease, n.MaxMs), Oracle: true}}, base, 12)
		etcd, oracle := rows[0], rows[1]
		if oracle.Recovered != oracle.Trials || oracle.SafetyProblems != 0 {
			t.Fatalf("%s: oracle recovered %d/%d, %d safety problems", n.Name, oracle.Recovered, oracle.Trials, oracle.SafetyProblems)
		}
		if !(oracle.MeanMs < etcd.MeanMs) || oracle.Capture != 1 || etcd.Capture != 0 {
			t.Fatalf("%s: oracle %.0f ms (capture %.2f) vs etcd %.0f ms (capture %.2f)", n.Name, oracle.MeanMs, oracle.Capture, etcd.MeanMs, etcd.Capture)
		}
		t.Logf("%s: oracle %.0f / %.0f / %.0f ms (%d unnecessary term changes), etcd %.0f ms", n.Name, oracle.MeanMs, oracle.P50Ms, oracle.P90Ms, oracle.UnnecessaryTerms, etcd.MeanMs)
	}
}

// The oracle's rule on its own: never a campaign while the ground truth says a leader serves the node; once
// none does, the lease plus an offset in [0, W), the offset redrawn on a term or role change only.
func TestOracleTimeoutFollowsGroundTruth(t *testing.T) {
	served := true
	p := NewOracleFactory(120, 5)(2, 7)
	p.(groundTruthUser).useGroundTruth(func(self uint64) bool { return self == 2 && served })
	obs := raftns.Observation{NowMs: 10, TickMs: 10, Role: raftns.Follower, Term: 3, ClusterSize: 5, HeartbeatIntervalMs: 100}
	p.Observe(obs)
	if to := p.ElectionTimeout(); !math.IsInf(to, 1) {
		t.Fatalf("a leader serves the node: timeout %v, want +Inf", to)
	}
	served = false
	first := p.ElectionTimeout()
	if first < 120 || first >= 170 {
		t.Fatalf("no leader: timeout %v, want in [120, 170)", first)
	}
	obs.NowMs = 20
	p.Observe(obs)
	if p.ElectionTimeout() != first {
		t.Fatal("the offset changed without a term or role change")
	}
	seen := map[float64]bool{first: true}
	for term := uint64(4); term < 12; term++ {
		obs.Term = term
		p.Observe(obs)
		seen[p.ElectionTimeout()] = true
	}
	if len(seen) < 5 {
		t.Fatalf("8 terms drew %d distinct offsets", len(seen))
	}
}
