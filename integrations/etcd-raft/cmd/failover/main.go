// Command failover crashes (or isolates) the leader of an in-process etcd raft cluster N times per policy
// and prints failover and unnecessary term changes side by side, on the same seeds.
//
//	integrations/etcd-raft/run.sh failover --nodes 5 --trials 100
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"raftns"
	etcdraft "raftns-etcd"
)

func main() {
	nodes := flag.Int("nodes", 5, "cluster size (3 or 5)")
	trials := flag.Int("trials", 100, "leader faults per policy and network")
	fault := flag.String("fault", "crash", "crash | isolate")
	nets := flag.String("net", "lan,slow", "networks: lan, slow")
	seed := flag.Int64("seed", 1, "first seed (trial i uses seed+i)")
	artifact := flag.String("artifact", etcdraft.ArtifactDir("."), "raft-ns artifact folder")
	rulesPath := flag.String("rules", "rules/default.rules.json", "safety rules")
	flag.Parse()
	if *fault != "crash" && *fault != "isolate" {
		fmt.Fprintln(os.Stderr, "failover: --fault must be crash or isolate")
		os.Exit(2)
	}
	a, err := raftns.LoadDir(*artifact)
	if err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(2)
	}
	rules, err := raftns.LoadRules(*rulesPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(2)
	}
	problems := 0
	for _, name := range strings.Split(*nets, ",") {
		var n etcdraft.Network
		switch name {
		case "lan":
			n = etcdraft.LAN
		case "slow":
			n = etcdraft.Slow
		default:
			fmt.Fprintf(os.Stderr, "failover: --net: unknown network %q (lan, slow)\n", name)
			os.Exit(2)
		}
		base := etcdraft.Config{Nodes: *nodes, Net: n, TickMs: 10, HeartbeatMs: 100, LeaseMs: etcdraft.LeaseMsFor(n, 100, 10),
			Fault: *fault, Seed: *seed, WarmupMs: 4000, AfterMs: 10000, GiveUpMs: 30000}
		rows := etcdraft.Compare(etcdraft.StandardPolicies(a, rules, n, base.LeaseMs), base, *trials)
		etcdraft.PrintTable(os.Stdout, fmt.Sprintf("%d nodes, %s network (one-way %g–%g ms, tail %g%% +≤%g ms, loss %g%%, %g stalls/s of %g–%g ms), leader %s × %d, lease %g ms",
			*nodes, n.Name, n.MinMs, n.MaxMs, 100*n.TailProb, n.TailMs, 100*n.Loss, n.StallsPerS, n.StallMinMs, n.StallMaxMs, *fault, *trials, base.LeaseMs), rows)
		for _, r := range rows {
			problems += r.SafetyProblems
		}
	}
	if problems > 0 {
		os.Exit(1)
	}
}
