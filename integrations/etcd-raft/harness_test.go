package etcdraft

import (
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
	policies := StandardPolicies(a, rules)
	for _, fault := range []string{"crash", "isolate"} {
		for _, n := range []Network{LAN, Slow} {
			base := Config{Nodes: 3, Net: n, TickMs: 10, HeartbeatMs: 100, LeaseMs: LeaseMsFor(n, 100, 10), Fault: fault, Seed: 11,
				WarmupMs: 3000, AfterMs: 1000, GiveUpMs: 30000}
			for _, row := range Compare([]PolicySpec{policies[0], policies[len(policies)-1]}, base, 4) {
				if row.Recovered != row.Trials || row.SafetyProblems != 0 {
					t.Errorf("%s, %s, %s: recovered %d/%d, safety problems %d", fault, n.Name, row.Policy, row.Recovered, row.Trials, row.SafetyProblems)
				}
				t.Logf("%s %s %-32s failover mean %.0f ms", fault, n.Name, row.Policy, row.MeanMs)
			}
		}
	}
}
