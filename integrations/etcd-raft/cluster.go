package etcdraft

import (
	"container/heap"
	"fmt"
	"io/ioutil"
	"log"
	"math"
	"math/rand"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"
)

// Network is the in-memory transport's behaviour: one-way delay U[MinMs, MaxMs] plus, with probability
// TailProb, U[0, TailMs]; Loss drops a message; each node stalls (neither sends nor receives until the
// stall ends, as in a GC pause or a full disk) at StallsPerS with durations U[StallMinMs, StallMaxMs].
type Network struct {
	Name                   string
	MinMs, MaxMs           float64
	TailProb, TailMs       float64
	Loss                   float64
	StallsPerS             float64
	StallMinMs, StallMaxMs float64
}

// LAN is the LAN: one-way 1–5 ms, nothing lost. Slow is a slow, jittery network with stalls.
var (
	LAN  = Network{Name: "lan", MinMs: 1, MaxMs: 5}
	Slow = Network{Name: "slow", MinMs: 20, MaxMs: 80, TailProb: 0.05, TailMs: 200, Loss: 0.01, StallsPerS: 0.1, StallMinMs: 100, StallMaxMs: 400}
)

// Config of one trial.
type Config struct {
	Nodes       int
	Net         Network
	TickMs      float64 // 10
	HeartbeatMs float64 // 100 (HeartbeatTick = 10)
	// StockElectionTick > 0 runs etcd stock with that ElectionTick; otherwise the recipe with LeaseMs.
	StockElectionTick int
	LeaseMs           float64
	NewPolicy         func(id uint64, seed int64) Policy
	Fault             string // "crash" or "isolate"
	Seed              int64
	WarmupMs          float64 // steady window before the fault starts after this
	AfterMs           float64 // observed after the new leader commits
	GiveUpMs          float64 // a failover longer than this is "not recovered"
}

// Result of one trial.
type Result struct {
	FailoverMs       float64 // fault → first commit by a new leader in its term; NaN if not recovered
	UnnecessaryTerms int     // term increments while a leader was alive and connected
	SafetyViolations []string
	Campaigns        int
}

type envelope struct {
	at   float64
	seq  int
	to   uint64
	m    pb.Message
	echo float64
}

type queue []envelope

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q queue) Swap(i, j int)       { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x interface{}) { *q = append(*q, x.(envelope)) }
func (q *queue) Pop() interface{} {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type member struct {
	id        uint64
	node      *raft.RawNode
	storage   *raft.MemoryStorage
	driver    *Driver
	up        bool
	isolated  bool
	stallTo   float64
	nextStall float64
	hbSent    map[uint64]float64 // leader: send time of the last heartbeat to each peer
	rtt       map[uint64]float64 // leader: measured RTT to each peer
}

type cluster struct {
	cfg     Config
	rng     *rand.Rand
	members []*member
	q       queue
	seq     int
	nowMs   float64
	// safety
	leaderOf   map[uint64]uint64 // term → leader
	committed  map[uint64]string // index → term/data of the first node that applied it
	violations []string
	// failover bookkeeping
	onCommit func(m *member, e pb.Entry)
}

var quiet = &raft.DefaultLogger{Logger: log.New(ioutil.Discard, "", 0)}

func newCluster(cfg Config) *cluster {
	c := &cluster{cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), leaderOf: map[uint64]uint64{}, committed: map[uint64]string{}}
	voters := make([]uint64, cfg.Nodes)
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	electionTick := cfg.StockElectionTick
	if electionTick == 0 {
		electionTick = int(math.Ceil(cfg.LeaseMs / cfg.TickMs))
	}
	heartbeatTick := int(cfg.HeartbeatMs / cfg.TickMs)
	for _, id := range voters {
		s := raft.NewMemoryStorage()
		_ = s.ApplySnapshot(pb.Snapshot{Metadata: pb.SnapshotMetadata{Index: 1, Term: 1, ConfState: pb.ConfState{Voters: voters}}})
		n, err := raft.NewRawNode(&raft.Config{ID: id, ElectionTick: electionTick, HeartbeatTick: heartbeatTick, Storage: s,
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, PreVote: true, CheckQuorum: true, Logger: quiet})
		if err != nil {
			panic(err)
		}
		var policy Policy
		if cfg.StockElectionTick == 0 {
			policy = cfg.NewPolicy(id, cfg.Seed*1000+int64(id))
			if g, ok := policy.(groundTruthUser); ok {
				g.useGroundTruth(c.leaderAlive)
			}
		}
		m := &member{id: id, node: n, storage: s, up: true, hbSent: map[uint64]float64{}, rtt: map[uint64]float64{}}
		m.driver = NewDriver(n, id, policy, cfg.TickMs, cfg.LeaseMs, cfg.HeartbeatMs, cfg.Nodes)
		m.driver.Storage = s
		m.nextStall = c.nextStallAfter(0)
		c.members = append(c.members, m)
	}
	return c
}

func (c *cluster) nextStallAfter(t float64) float64 {
	if c.cfg.Net.StallsPerS <= 0 {
		return math.Inf(1)
	}
	return t + c.rng.ExpFloat64()*1000/c.cfg.Net.StallsPerS
}

func (c *cluster) member(id uint64) *member { return c.members[id-1] }

// send puts a message on the wire with the network's delay (or drops it).
func (c *cluster) send(from *member, m pb.Message) {
	to := c.member(m.To)
	if !from.up || from.isolated || to.isolated || c.rng.Float64() < c.cfg.Net.Loss {
		return
	}
	d := c.cfg.Net.MinMs + c.rng.Float64()*(c.cfg.Net.MaxMs-c.cfg.Net.MinMs)
	if c.cfg.Net.TailProb > 0 && c.rng.Float64() < c.cfg.Net.TailProb {
		d += c.rng.Float64() * c.cfg.Net.TailMs
	}
	at := math.Max(c.nowMs, from.stallTo) + d
	echo := -1.0
	if m.Type == pb.MsgHeartbeat || m.Type == pb.MsgApp {
		if r, ok := from.rtt[m.To]; ok {
			echo = r
		}
		if m.Type == pb.MsgHeartbeat {
			from.hbSent[m.To] = c.nowMs
		}
	}
	c.seq++
	heap.Push(&c.q, envelope{at: at, seq: c.seq, to: m.To, m: m, echo: echo})
}

func (c *cluster) deliverDue() {
	for c.q.Len() > 0 && c.q[0].at <= c.nowMs {
		e := heap.Pop(&c.q).(envelope)
		to := c.member(e.to)
		if !to.up || to.isolated {
			continue
		}
		if to.stallTo > c.nowMs { // a stalled node reads its socket when the stall ends
			e.at = to.stallTo
			heap.Push(&c.q, e)
			continue
		}
		if e.m.Type == pb.MsgHeartbeatResp {
			if t, ok := to.hbSent[e.m.From]; ok {
				to.rtt[e.m.From] = c.nowMs - t
			}
		}
		to.driver.Receive(e.m, c.nowMs, e.echo, false)
		c.ready(to)
	}
}

// ready persists, sends and applies what the node produced (etcd's Ready loop).
func (c *cluster) ready(m *member) {
	for m.node.HasReady() {
		rd := m.node.Ready()
		if !raft.IsEmptyHardState(rd.HardState) {
			_ = m.storage.SetHardState(rd.HardState)
		}
		_ = m.storage.Append(rd.Entries)
		if rd.SoftState != nil && rd.SoftState.RaftState == raft.StateLeader {
			st := m.node.BasicStatus()
			if prev, ok := c.leaderOf[st.Term]; ok && prev != m.id {
				c.violations = append(c.violations, fmt.Sprintf("two leaders in term %d: %d and %d", st.Term, prev, m.id))
			}
			c.leaderOf[st.Term] = m.id
		}
		for _, msg := range rd.Messages {
			c.send(m, msg)
		}
		for _, e := range rd.CommittedEntries {
			key := fmt.Sprintf("%d/%x", e.Term, e.Data)
			if prev, ok := c.committed[e.Index]; ok && prev != key {
				c.violations = append(c.violations, fmt.Sprintf("node %d committed %s at index %d, another node %s", m.id, key, e.Index, prev))
			}
			c.committed[e.Index] = key
			if e.Type == pb.EntryConfChange {
				var cc pb.ConfChange
				_ = cc.Unmarshal(e.Data)
				m.node.ApplyConfChange(cc)
			}
			if c.onCommit != nil {
				c.onCommit(m, e)
			}
		}
		m.node.Advance(rd)
	}
}

func (c *cluster) leader() *member {
	var best *member
	var bestTerm uint64
	for _, m := range c.members {
		if !m.up || m.isolated {
			continue
		}
		st := m.node.BasicStatus()
		if st.RaftState == raft.StateLeader && st.Term >= bestTerm {
			best, bestTerm = m, st.Term
		}
	}
	return best
}

// leaderAlive is the ground truth the oracle reads: a leader serves the cluster (up, not isolated: the
// one c.leader() finds) and self is not cut off from it (isolation cuts every link of the node). Not the
// node's own view: a pre-candidate forgets its leader, and a follower learns a new one a message late.
func (c *cluster) leaderAlive(self uint64) bool {
	return c.leader() != nil && !c.member(self).isolated
}

func (c *cluster) maxTerm() uint64 {
	var t uint64
	for _, m := range c.members {
		if m.up && !m.isolated {
			if x := m.node.BasicStatus().Term; x > t {
				t = x
			}
		}
	}
	return t
}

// step runs 1 ms: deliveries, stalls, and on tick boundaries the drivers and a proposal every 50 ms.
func (c *cluster) step() {
	c.nowMs++
	for _, m := range c.members {
		if c.nowMs >= m.nextStall {
			m.stallTo = c.nowMs + c.cfg.Net.StallMinMs + c.rng.Float64()*(c.cfg.Net.StallMaxMs-c.cfg.Net.StallMinMs)
			m.nextStall = c.nextStallAfter(m.stallTo)
		}
	}
	c.deliverDue()
	if math.Mod(c.nowMs, c.cfg.TickMs) != 0 {
		return
	}
	for _, m := range c.members {
		if !m.up || m.stallTo > c.nowMs {
			continue // a stalled node does not tick either
		}
		if m.node.BasicStatus().RaftState == raft.StateLeader {
			worst := -1.0
			for _, r := range m.rtt {
				worst = math.Max(worst, r)
			}
			m.driver.rttEchoMs = worst
		}
		m.driver.Tick(c.nowMs)
		c.ready(m)
	}
	if math.Mod(c.nowMs, 50) == 0 {
		if l := c.leader(); l != nil && l.stallTo <= c.nowMs {
			_ = l.node.Propose([]byte(fmt.Sprintf("w%.0f", c.nowMs)))
			c.ready(l)
		}
	}
}

// RunTrial boots a cluster, lets node 1 win the first election, waits WarmupMs (+ a seeded offset), then
// crashes or isolates the leader and measures failover and unnecessary term changes.
func RunTrial(cfg Config) Result {
	c := newCluster(cfg)
	res := Result{FailoverMs: math.NaN()}
	_ = c.member(1).node.Campaign()
	c.ready(c.member(1))
	faultAt := cfg.WarmupMs + float64(c.rng.Intn(int(cfg.HeartbeatMs)))
	steadyFrom := cfg.WarmupMs / 2
	var lastTerm uint64
	countTerms := func() {
		if t := c.maxTerm(); t > lastTerm {
			res.UnnecessaryTerms += int(t - lastTerm)
			lastTerm = t
		}
	}
	campaigns := func() int {
		n := 0
		for _, m := range c.members {
			n += m.driver.Campaigns
		}
		return n
	}
	for c.nowMs < steadyFrom {
		c.step()
	}
	lastTerm = c.maxTerm()
	for c.nowMs < faultAt {
		c.step()
		countTerms()
	}
	old := c.leader()
	if old == nil {
		res.SafetyViolations = append(res.SafetyViolations, "no leader at the fault time")
		return res
	}
	oldTerm := old.node.BasicStatus().Term
	if cfg.Fault == "isolate" {
		old.isolated = true
	} else {
		old.up = false
	}
	recoveredAt := math.NaN()
	c.onCommit = func(m *member, e pb.Entry) {
		if math.IsNaN(recoveredAt) && m.id != old.id && e.Term > oldTerm {
			st := m.node.BasicStatus()
			if st.RaftState == raft.StateLeader && st.Term == e.Term {
				recoveredAt = c.nowMs
			}
		}
	}
	for math.IsNaN(recoveredAt) && c.nowMs < faultAt+cfg.GiveUpMs {
		c.step()
	}
	if math.IsNaN(recoveredAt) {
		res.SafetyViolations = append(res.SafetyViolations, c.violations...)
		return res
	}
	res.FailoverMs = recoveredAt - faultAt
	lastTerm = c.maxTerm()
	for c.nowMs < recoveredAt+cfg.AfterMs {
		c.step()
		countTerms()
	}
	res.Campaigns = campaigns()
	res.SafetyViolations = append(res.SafetyViolations, c.violations...)
	return res
}
