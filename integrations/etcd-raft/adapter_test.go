package etcdraft

import (
	"testing"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"

	"raftns"
)

// recorder is a Policy that keeps the last observation and never lets the driver campaign.
type recorder struct{ last raftns.Observation }

func (r *recorder) Observe(o raftns.Observation) { r.last = o }
func (r *recorder) ElectionTimeout() float64     { return 1e9 }

// LeaderResigned is set from the tick after a MsgPreVote or MsgVote from the node's leader with a higher
// term arrives (ignored by etcd under the lease, but seen), for as long as the node stays in that term; a
// request from another node, or from the leader in the same term, does not set it.
func TestDriverLeaderResigned(t *testing.T) {
	storage := raft.NewMemoryStorage()
	if err := storage.ApplySnapshot(pb.Snapshot{Metadata: pb.SnapshotMetadata{Index: 1, Term: 1,
		ConfState: pb.ConfState{Voters: []uint64{1, 2, 3}}}}); err != nil {
		t.Fatal(err)
	}
	node, err := raft.NewRawNode(&raft.Config{ID: 2, Storage: storage, HeartbeatTick: 10, ElectionTick: 12,
		PreVote: true, CheckQuorum: true, MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	pol := &recorder{}
	d := NewDriver(node, 2, pol, 10, 120, 100, 3)
	d.Storage = storage
	now := 0.0
	deliver := func(m pb.Message) {
		m.To = 2
		d.Receive(m, now, -1, false)
	}
	tick := func(what string, term uint64, want bool) {
		t.Helper()
		now += 10
		d.Tick(now)
		if pol.last.Term != term || pol.last.LeaderResigned != want {
			t.Fatalf("%s: term %d, LeaderResigned %v; want term %d, %v", what, pol.last.Term, pol.last.LeaderResigned, term, want)
		}
	}
	deliver(pb.Message{Type: pb.MsgHeartbeat, From: 1, Term: 2})
	tick("following n1 in term 2", 2, false)
	deliver(pb.Message{Type: pb.MsgPreVote, From: 3, Term: 3, LogTerm: 1, Index: 1})
	tick("a pre-vote from n3, not the leader", 2, false)
	deliver(pb.Message{Type: pb.MsgPreVote, From: 1, Term: 2, LogTerm: 1, Index: 1})
	tick("a pre-vote from n1 in its own term", 2, false)
	deliver(pb.Message{Type: pb.MsgHeartbeat, From: 1, Term: 2})
	deliver(pb.Message{Type: pb.MsgPreVote, From: 1, Term: 3, LogTerm: 1, Index: 1})
	if st := node.BasicStatus(); st.Term != 2 || st.Lead != 1 {
		t.Fatalf("the pre-vote under the lease changed the node: term %d, lead %d", st.Term, st.Lead)
	}
	for i := 0; i < 3; i++ {
		tick("after n1's pre-vote for term 3", 2, true)
	}
	// A vote for term 3 from n3, past the lease: the node moves to term 3, where n1 resigned nothing.
	for i := 0; i < 12; i++ {
		tick("waiting out the lease", 2, true)
	}
	deliver(pb.Message{Type: pb.MsgVote, From: 3, Term: 3, LogTerm: 1, Index: 1})
	tick("term 3", 3, false)
}
