// Package etcdraft drives etcd's raft (go.etcd.io/etcd/raft, 3.4) with an external election-timeout
// policy — the raft-ns provider, or a baseline — and measures failover on in-process clusters.
//
// The adapter (Driver) is the recipe of integrations/etcd-raft/README.md, implemented once:
//
//   - etcd's ElectionTick is at once the randomized election timer, a follower's vote lease (with
//     CheckQuorum, a follower that heard from its leader within ElectionTick ticks ignores (pre-)votes)
//     and the leader's check-quorum period. So ElectionTick is set to a lease L well above
//     heartbeat interval + round trip, not to the timeout.
//   - Followers, pre-candidates and candidates are ticked with TickQuiesced(): the lease clock advances
//     but etcd's own election never fires. The leader is ticked with Tick() (heartbeats, check quorum).
//   - When now − max(last leader contact, last campaign) ≥ max(policy timeout, L) the driver calls
//     Campaign() (a pre-vote with PreVote on). A campaign sooner than L after the other followers' last
//     contact is refused under their lease — so the timeout is kept ≥ L.
//   - Re-campaigning after a lost (pre-)vote is the driver's too (the same deadline, from the last
//     campaign); the policy randomizes (raft-ns redraws its factor on every term or role change).
//
// Pitfalls met on the way: setting ElectionTick huge and calling Campaign() from outside gets pre-votes
// ignored under the lease; a pre-candidate sets its leader to None (etcd's becomePreCandidate), so a
// follower that campaigns too early forgets its leader and failover then follows the third-fastest
// follower; Tick() on a follower with a small ElectionTick lets etcd's own randomized timer fire first.
package etcdraft

import (
	"math"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"

	"raftns"
)

// Policy is an election-timeout policy fed once per tick (raft-ns's Provider satisfies it).
type Policy interface {
	Observe(o raftns.Observation)
	ElectionTimeout() float64
}

// Driver wraps one RawNode: it turns what etcd and the transport see into the provider's observation,
// ticks the node per the recipe and campaigns when the policy's timeout expires. With a nil policy it
// ticks etcd stock (Tick() everywhere, etcd's own randomized timeout).
type Driver struct {
	Node        *raft.RawNode
	ID          uint64
	Policy      Policy // nil = stock etcd
	TickMs      float64
	LeaseMs     float64
	HeartbeatMs float64
	ClusterSize int
	Storage     *raft.MemoryStorage // for the node's own last index (log_replication_gap)

	lastContactMs, lastCampaignMs float64
	lead, term                    uint64
	state                         raft.StateType
	// What the transport saw since the last tick.
	heartbeat    bool
	rttEchoMs    float64 // the leader's last measured RTT to this node, echoed in its heartbeats (-1 none)
	leaderLastIx uint64
	retries      int
	heardMs      map[uint64]float64
	// The term whose leader asked this node for a (pre-)vote in a later term (Observation.LeaderResigned).
	resignedTerm uint64
	resigned     bool
	Campaigns    int
}

// NewDriver prepares the driver of a node already created with ElectionTick = ⌈LeaseMs/TickMs⌉ (or the
// stock ElectionTick when policy is nil).
func NewDriver(node *raft.RawNode, id uint64, policy Policy, tickMs, leaseMs, heartbeatMs float64, clusterSize int) *Driver {
	return &Driver{Node: node, ID: id, Policy: policy, TickMs: tickMs, LeaseMs: leaseMs, HeartbeatMs: heartbeatMs,
		ClusterSize: clusterSize, rttEchoMs: -1, heardMs: map[uint64]float64{}, lastCampaignMs: math.Inf(-1)}
}

// Receive is called by the transport for every message delivered to this node, with the leader's RTT echo
// (the transport's addition: etcd heartbeats carry no timestamp) and whether it is a resend.
func (d *Driver) Receive(m pb.Message, nowMs, rttEchoMs float64, resend bool) {
	d.heardMs[m.From] = nowMs
	if resend {
		d.retries++
	}
	if (m.Type == pb.MsgHeartbeat || m.Type == pb.MsgApp) && m.Term >= d.term {
		// A contact from the leader of this term (etcd adopts m.From as leader on either).
		d.heartbeat = true
		d.lastContactMs = nowMs
		if rttEchoMs >= 0 {
			d.rttEchoMs = rttEchoMs
		}
		if m.Type == pb.MsgApp {
			last := m.Index + uint64(len(m.Entries))
			if last > d.leaderLastIx {
				d.leaderLastIx = last
			}
		}
	}
	if m.Type == pb.MsgPreVote || m.Type == pb.MsgVote {
		// Seen before etcd's lease check drops it: the leader of this term asking for votes in a later one.
		if st := d.Node.BasicStatus(); st.Lead != raft.None && m.From == st.Lead && m.Term > st.Term {
			d.resignedTerm, d.resigned = st.Term, true
		}
	}
	_ = d.Node.Step(m)
}

// Tick advances the node by one tick at nowMs (the end of the tick).
func (d *Driver) Tick(nowMs float64) {
	st := d.Node.BasicStatus()
	if st.Term != d.term || st.Lead != d.lead {
		if st.Lead != raft.None && st.Lead != d.ID {
			d.lastContactMs = nowMs // a new leader: its silence starts now
		}
		d.term, d.lead = st.Term, st.Lead
	}
	d.state = st.RaftState
	if d.Policy == nil {
		d.Node.Tick()
		d.resetTickSignals()
		return
	}
	d.Policy.Observe(d.observation(nowMs, &st))
	if st.RaftState == raft.StateLeader {
		d.Node.Tick()
	} else {
		d.Node.TickQuiesced()
		from := math.Max(d.lastContactMs, d.lastCampaignMs)
		if nowMs-from >= math.Max(d.Policy.ElectionTimeout(), d.LeaseMs) {
			d.lastCampaignMs = nowMs
			d.Campaigns++
			_ = d.Node.Campaign()
		}
	}
	d.resetTickSignals()
}

func (d *Driver) resetTickSignals() {
	d.heartbeat = false
	d.retries = 0
}

// observation maps etcd's state and the transport's signals to the inputs of docs/ARTIFACT.md §3.
func (d *Driver) observation(nowMs float64, st *raft.BasicStatus) raftns.Observation {
	role := raftns.Follower
	switch st.RaftState {
	case raft.StateLeader:
		role = raftns.Leader
	case raft.StateCandidate:
		role = raftns.Candidate
	case raft.StatePreCandidate:
		role = raftns.PreCandidate
	}
	reachable := 0
	for id, t := range d.heardMs {
		if id != d.ID && nowMs-t <= d.LeaseMs*2 {
			reachable++
		}
	}
	if reachable > d.ClusterSize-1 {
		reachable = d.ClusterSize - 1
	}
	gap := 0.0
	if last := d.lastIndex(); d.leaderLastIx > last {
		gap = float64(d.leaderLastIx - last)
	}
	o := raftns.Observation{NowMs: nowMs, TickMs: d.TickMs, Role: role, Term: st.Term, LogReplicationGap: gap,
		RPCRetries: float64(d.retries), CPUIdlePct: 95, HeartbeatReceived: d.heartbeat && st.Lead != raft.None,
		ClusterSize: d.ClusterSize, PeersReachable: reachable, HeartbeatIntervalMs: d.HeartbeatMs,
		LeaderResigned: d.resigned && d.resignedTerm == st.Term}
	if st.Lead != raft.None {
		o.LeaderID = idString(st.Lead)
	}
	if d.rttEchoMs >= 0 {
		o.HeartbeatLatencyMs, o.HasLatency = d.rttEchoMs, true
	}
	return o
}

func (d *Driver) lastIndex() uint64 {
	if d.Storage == nil {
		return d.Node.BasicStatus().Commit
	}
	last, _ := d.Storage.LastIndex()
	return last
}

func idString(id uint64) string {
	const digits = "0123456789"
	if id == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for id > 0 {
		i--
		b[i] = digits[id%10]
		id /= 10
	}
	return string(b[i:])
}
