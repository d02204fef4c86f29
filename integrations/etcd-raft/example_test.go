package etcdraft_test

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/raft"

	"raftns"
	etcdraft "raftns-etcd"
)

// The lines an etcd user writes (README.md "Use it from Go / with etcd raft" shows this body; test/go.test.ts
// checks that every line of the README block is here, and go vet compiles it).
func ExampleDriver() {
	root := os.Getenv("RAFT_NS_ROOT")
	if root == "" {
		root = filepath.Join("..", "..")
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		panic(err)
	}
	defer func() { _ = os.Chdir(wd) }()
	var id uint64 = 1
	// --- README block begins
	art, _ := raftns.LoadDir("artifacts/raft-ns-default/2.12.0")
	rules, _ := raftns.LoadRules("rules/default.rules.json")
	seed := int64(id) // one randomization seed per node
	provider, _ := raftns.NewProvider(raftns.Options{Artifact: art, Rules: rules, Seed: &seed})
	const tickMs, heartbeatMs, leaseMs = 10.0, 100.0, 120.0 // lease L > heartbeat + worst round trip
	storage := raft.NewMemoryStorage()
	node, _ := raft.NewRawNode(&raft.Config{ID: id, Storage: storage, HeartbeatTick: 10, ElectionTick: 12, // ⌈L/tick⌉
		PreVote: true, CheckQuorum: true, MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256})
	driver := etcdraft.NewDriver(node, id, provider, tickMs, leaseMs, heartbeatMs, 5)
	driver.Storage = storage
	// transport, per delivered message: driver.Receive(msg, nowMs, leaderRTTEchoMs, isResend)
	// every tickMs: driver.Tick(nowMs), then handle node.Ready() as usual
	// --- README block ends
	driver.Tick(tickMs)
	fmt.Println(provider.ElectionTimeout() >= rules.AbsoluteFloorMs, driver.Campaigns)
	// Output: true 0
}
