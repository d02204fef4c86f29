package raftns

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
)

// Observation is what a node sees at the end of each tick (docs/ARTIFACT.md §3, docs/RULES.md §4).
type Observation struct {
	NowMs  float64 // end of the tick, ms, any origin (only differences are used)
	TickMs float64 // the host's tick length
	Role   Role
	Term   uint64
	// LeaderID is the leader this node currently follows, "" for none; only equality between ticks matters.
	LeaderID string
	// HeartbeatLatencyMs is the heartbeat round trip the leader measured and echoed (ARTIFACT.md §3), ms;
	// HasLatency false: no new value this tick (the last one is carried).
	HeartbeatLatencyMs  float64
	HasLatency          bool
	LogReplicationGap   float64 // entries the leader has and this node lacks (leader's last index − own last index)
	RPCRetries          float64 // RPC resends in this tick
	CPUIdlePct          float64 // 0..100
	HeartbeatReceived   bool    // a heartbeat or AppendEntries from the current leader arrived this tick
	ClusterSize         int     // voters, this node included
	PeersReachable      int     // peers heard from within the last election timeout
	HeartbeatIntervalMs float64 // the leader's heartbeat interval
	// LeaderResigned: the leader of this node's current term asked it for a pre-vote or vote in a later term
	// (etcd: a MsgPreVote or MsgVote from Lead with a higher term, ignored while in the lease but seen). That
	// leader gave the term up; false when the host cannot tell.
	LeaderResigned bool
}

// Options configure a Provider. The zero value of a field means its default.
type Options struct {
	Artifact   *Artifact // nil: the static fallback always
	Precision  Precision // default Int8 when present, else Float32
	Rules      *Rules    // required (LoadRules("rules/default.rules.json"))
	FallbackMs float64   // default Rules.StaticFallbackMs; must lie in the rules' bounds
	// LostThreshold is the P(leader lost) above which the timeout drops toward the floor (default 0.8).
	LostThreshold float64
	// Spread: the armed timeout is the guarded value × U[1, 1+Spread), redrawn when term or role changes.
	// nil = the rules' RandomizationSpread (1, etcd's U[1, 2), when the file has none); 0 turns it off.
	Spread *float64
	// Seed makes the draws reproducible (give each node its own); nil seeds from crypto/rand.
	Seed *int64
	// ModelError is shown in Explain when the caller could not load the artifact.
	ModelError string
}

// Fallback reasons, counted in Explain.
const (
	NoModel       = "no-model"
	InvalidInput  = "invalid-input"
	OutsideDomain = "outside-domain"
	EngineFault   = "engine-fault"
)

var fallbackReasons = []string{NoModel, InvalidInput, OutsideDomain, EngineFault}

// Provider is the election-timeout provider of one node. ElectionTimeout is always a whole number of ms in
// [Rules.AbsoluteFloorMs, ⌊Rules.CeilingMs⌋]; Observe and ElectionTimeout never panic.
type Provider struct {
	rules         *Rules
	params        *Params
	art           *Artifact
	precision     Precision
	fallbackMs    float64
	ceilingIntMs  float64
	lostThreshold float64
	spread        float64
	modelError    string

	features FeatureState
	state    State
	heldQ    float64
	heldTerm uint64
	heldLdr  string
	rtt      []float64 // ring of heartbeat latencies, NaN = none that tick
	rttPos   int
	// RFC 6298's SRTT over the RTT samples (NaN before the first) and the last sample (Context.SmoothedRTTMs).
	srttMs, lastRTTSampleMs float64
	ctx                     Context
	trace                   Trace

	timeoutMs      float64
	fromModel      bool
	reason         string
	fallbackField  int // 1-based RawFields index, −1 normalized box, 0 none
	fallbackCounts map[string]float64
	fallbackTotal  float64
	ticks          float64
	q, logit       float64
	composedMs     float64
	floorMs        float64

	lastHeartbeatMs, gapMeanMs, gapDevMs, silenceMs float64

	// Survived silences (survived_silence_floor, docs/RULES.md §5): per bucket of window/8 by when the gap
	// ended, its number and the longest gap; a ring of survivedBuckets, so a gap counts from window_ms to
	// window_ms × 9/8 after it ended. Nil when the rules have no such floor.
	survivedMax, survivedBucket []float64
	survivedBucketMs            float64
	contactLeader               string
	contactTerm                 uint64
	isolatedSinceContact        bool
	// ledTerm is the last term in which this node's role was leader; valid only when hasLed (none seen
	// since the last Reset otherwise).
	ledTerm uint64
	hasLed  bool

	rng      uint32
	factor   float64
	drawn    bool
	drawTerm uint64
	drawRole Role
}

// NewProvider checks the options; it fails only on a configuration error (no rules, a fallback outside
// the bounds, a spread outside [0, 4], a precision the artifact lacks).
func NewProvider(o Options) (*Provider, error) {
	if o.Rules == nil {
		return nil, fail("provider.rules", "Options.Rules is required (LoadRules(\"rules/default.rules.json\"))")
	}
	p := &Provider{rules: o.Rules, modelError: o.ModelError, factor: 1, q: math.NaN(), logit: math.NaN(), composedMs: math.NaN(), floorMs: math.NaN()}
	fb := o.FallbackMs
	if fb == 0 {
		fb = o.Rules.StaticFallbackMs
	}
	if !(fb >= o.Rules.AbsoluteFloorMs && fb <= o.Rules.CeilingMs) {
		return nil, fail("provider.fallback", "FallbackMs %g is outside the rules' bounds [%g, %g] ms", fb, o.Rules.AbsoluteFloorMs, o.Rules.CeilingMs)
	}
	p.ceilingIntMs = math.Floor(o.Rules.CeilingMs)
	p.fallbackMs = math.Min(math.Ceil(fb), p.ceilingIntMs)
	p.lostThreshold = 0.8
	if o.LostThreshold != 0 {
		p.lostThreshold = o.LostThreshold
	}
	p.spread = o.Rules.RandomizationSpread
	if o.Spread != nil {
		p.spread = *o.Spread
	}
	if !(p.spread >= 0 && p.spread <= MaxRandomizationSpread) {
		return nil, fail("provider.spread", "Spread %g is outside [0, %g]", p.spread, float64(MaxRandomizationSpread))
	}
	p.rng = seedState(o.Seed)
	if o.Artifact != nil {
		prec := o.Precision
		if prec == "" {
			prec = Float32
			if o.Artifact.Int8 != nil {
				prec = Int8
			}
		}
		params, err := o.Artifact.Params(prec)
		if err != nil {
			return nil, err
		}
		p.params, p.art, p.precision, p.modelError = params, o.Artifact, prec, ""
	} else if p.modelError == "" {
		p.modelError = "no artifact given"
	}
	p.trace = newTrace(len(o.Rules.List))
	p.rtt = make([]float64, o.Rules.RTTWindowTicks)
	if o.Rules.SurvivedWindowMs > 0 {
		p.survivedMax = make([]float64, survivedBuckets)
		p.survivedBucket = make([]float64, survivedBuckets)
		p.survivedBucketMs = o.Rules.SurvivedWindowMs / (survivedBuckets - 1)
	}
	p.fallbackCounts = map[string]float64{}
	p.Reset()
	p.timeoutMs = p.fallbackMs
	if p.params == nil {
		p.reason = NoModel
	}
	return p, nil
}

// Reset forgets the carried state and statistics (after a restart or a snapshot install); counters stay.
func (p *Provider) Reset() {
	p.state.Reset()
	p.features.Reset()
	p.heldQ = math.NaN()
	for i := range p.rtt {
		p.rtt[i] = math.NaN()
	}
	p.srttMs, p.lastRTTSampleMs = math.NaN(), math.NaN()
	p.lastHeartbeatMs, p.gapMeanMs, p.gapDevMs = math.NaN(), math.NaN(), 0
	for i := range p.survivedBucket {
		p.survivedBucket[i] = math.NaN() // empty: NaN is never the current bucket nor inside the window
	}
	p.contactLeader, p.contactTerm, p.isolatedSinceContact = "", 0, false
	p.ledTerm, p.hasLed = 0, false
	p.ctx.PreviousMs = math.NaN()
}

// survivedBuckets is the ring length: the window in 8 parts plus the current one.
const survivedBuckets = 9

// ElectionTimeout is the timeout to arm now, in ms, measured from the last leader contact.
func (p *Provider) ElectionTimeout() float64 { return p.timeoutMs }

// Observe feeds one tick. On any problem the next ElectionTimeout is the (randomized) static fallback.
func (p *Provider) Observe(o Observation) {
	defer func() {
		if recover() != nil {
			p.fallback(EngineFault, 0)
			p.state.Reset()
		}
	}()
	p.observe(&o)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (p *Provider) observe(o *Observation) {
	p.ticks++
	if !finite(o.NowMs) || !finite(o.TickMs) || !(o.TickMs > 0) || o.ClusterSize < 1 || o.ClusterSize > 1000 ||
		o.PeersReachable < 0 || o.PeersReachable >= o.ClusterSize || !validRole(o.Role) {
		p.fallback(InvalidInput, 0)
		return
	}
	if !p.drawn || o.Term != p.drawTerm || o.Role != p.drawRole {
		p.drawn, p.drawTerm, p.drawRole = true, o.Term, o.Role
		p.factor = 1 + float64(p.spread*p.nextUniform()) // float64(): no fused multiply-add (arm64, ppc64le, s390x), as in TS
	}
	values := [4]float64{o.LogReplicationGap, o.RPCRetries, o.CPUIdlePct, o.HeartbeatIntervalMs}
	if field := p.rules.rawViolation(o.HeartbeatLatencyMs, o.HasLatency, values); field != 0 {
		x := o.HeartbeatLatencyMs
		if field > 1 {
			x = values[field-2]
		}
		if !finite(x) || x < 0 {
			p.fallback(InvalidInput, field)
		} else {
			p.fallback(OutsideDomain, field)
		}
		return
	}
	p.trackContact(o)
	if p.params == nil {
		p.fallback(NoModel, 0)
		return
	}
	s := Sample{NowMs: o.NowMs, HeartbeatReceived: o.HeartbeatReceived, Term: o.Term, LeaderID: o.LeaderID,
		HeartbeatLatencyMs: o.HeartbeatLatencyMs, HasLatency: o.HasLatency, LogReplicationGap: o.LogReplicationGap,
		RPCRetries: o.RPCRetries, CPUIdlePct: o.CPUIdlePct}
	z := p.art.Normalization.Normalize(p.features.Raw(&s))
	if p.rules.normalizedViolation(z) {
		p.fallback(OutsideDomain, -1)
		return
	}
	q, l := p.params.Step(&p.state, z)
	if !finite(q) || !finite(l) || !p.state.finite() {
		p.state.Reset()
		p.fallback(EngineFault, 0)
		return
	}
	p.q, p.logit = q, l
	// The deadline is the quantile armed at the last leader contact, held while the leader is silent.
	if o.HeartbeatReceived || math.IsNaN(p.heldQ) || o.Term != p.heldTerm || o.LeaderID != p.heldLdr {
		p.heldQ, p.heldTerm, p.heldLdr = q, o.Term, o.LeaderID
	}
	proposal := math.Exp(p.heldQ)
	floor := p.rules.HardFloorMs(&p.ctx)
	p.floorMs = floor
	// The leader-lost drop: toward the floor, linear in P above the threshold, once the silence exceeds
	// the usual heartbeat gap (mean + 4 × deviation).
	pl := sigmoid(l)
	if pl > p.lostThreshold && !math.IsNaN(p.gapMeanMs) && p.silenceMs > p.gapMeanMs+4*p.gapDevMs && proposal > floor {
		sc := (pl - p.lostThreshold) / (1 - p.lostThreshold)
		proposal = proposal - float64((proposal-floor)*sc) // float64(): no fused multiply-add, as in TS
	}
	p.composedMs = proposal
	t := math.Min(math.Ceil(p.rules.Guard(proposal, &p.ctx, &p.trace)), p.ceilingIntMs)
	p.timeoutMs = p.randomized(t)
	p.ctx.PreviousMs = t
	p.fromModel, p.reason, p.fallbackField = true, "", 0
}

// trackContact updates what the guardrails read from the stream of contacts — the usual heartbeat gap
// (Jacobson/Karels smoothing), the silence, the RTT ring, the survived silences, the last term this node
// led — and fills p.ctx. Invariant: every p.ctx field but PreviousMs is rewritten here, before HardFloorMs
// and Guard read it.
func (p *Provider) trackContact(o *Observation) {
	if o.HeartbeatReceived {
		if !math.IsNaN(p.lastHeartbeatMs) {
			gap := o.NowMs - p.lastHeartbeatMs
			if p.survivedMax != nil {
				p.recordSurvived(o, gap)
			}
			if gap > 0 {
				if math.IsNaN(p.gapMeanMs) {
					p.gapMeanMs, p.gapDevMs = gap, gap/2
				} else {
					p.gapDevMs += 0.25 * (math.Abs(gap-p.gapMeanMs) - p.gapDevMs)
					p.gapMeanMs += 0.125 * (gap - p.gapMeanMs)
				}
			}
		}
		p.lastHeartbeatMs = o.NowMs
		p.contactLeader, p.contactTerm, p.isolatedSinceContact = o.LeaderID, o.Term, false
	} else if o.PeersReachable == 0 {
		// A node cut off from every peer sees the leader's silence too; when the cut heals the leader
		// "returns", but it never stalled: such a silence is no evidence about the leader.
		p.isolatedSinceContact = true
	}
	p.silenceMs = 0
	if !math.IsNaN(p.lastHeartbeatMs) {
		p.silenceMs = o.NowMs - p.lastHeartbeatMs
	}
	v := math.NaN()
	if o.HasLatency {
		v = o.HeartbeatLatencyMs
	}
	p.rtt[p.rttPos] = v
	p.rttPos = (p.rttPos + 1) % len(p.rtt)
	worst := 0.0
	for _, r := range p.rtt {
		if r > worst { // NaN compares false: skipped
			worst = r
		}
	}
	// A latency that differs from the last one seen is a new round-trip sample: hosts that repeat the value
	// every tick and hosts that send none between heartbeats give the same samples (docs/RULES.md §2).
	if v >= 0 && v != p.lastRTTSampleMs {
		p.lastRTTSampleMs = v
		if math.IsNaN(p.srttMs) {
			p.srttMs = v
		} else {
			// Each product rounded on its own, as in runtime/contact.ts: without the float64(...) the compiler
			// may fuse 0.875 × srtt into the add (ppc64le and s390x do), a different float64 in about half the
			// samples.
			p.srttMs = float64(0.875*p.srttMs) + float64(0.125*v)
		}
	}
	smoothed := 0.0
	if !math.IsNaN(p.srttMs) {
		smoothed = p.srttMs
	}
	survived := 0.0
	if p.survivedMax != nil {
		oldest := math.Floor(o.NowMs/p.survivedBucketMs) - (survivedBuckets - 1)
		for i := range p.survivedMax {
			if p.survivedBucket[i] >= oldest && p.survivedMax[i] > survived {
				survived = p.survivedMax[i]
			}
		}
	}
	// Raft has one leader per term: a node that led in this term and no longer leads knows none serves it,
	// and so does one whose leader of this term asked it for votes in a later term.
	if o.Role == Leader {
		p.ledTerm, p.hasLed = o.Term, true
	}
	steppedDown := (o.Role != Leader && p.hasLed && o.Term == p.ledTerm) || o.LeaderResigned
	p.ctx = Context{Role: o.Role, HeartbeatIntervalMs: o.HeartbeatIntervalMs, WorstRTTMs: worst, SmoothedRTTMs: smoothed,
		ClusterSize: o.ClusterSize, PeersReachable: o.PeersReachable, SurvivedSilenceMs: survived,
		SteppedDownThisTerm: steppedDown, PreviousMs: p.ctx.PreviousMs}
}

// recordSurvived records gap as survived when the same leader, in the same term, spoke again after it and
// this node was not cut off from every peer meanwhile.
func (p *Provider) recordSurvived(o *Observation, gap float64) {
	if !(gap > 0) || p.isolatedSinceContact || o.LeaderID == "" || o.LeaderID != p.contactLeader || o.Term != p.contactTerm {
		return
	}
	b := math.Floor(o.NowMs / p.survivedBucketMs)
	slot := int(math.Mod(b, survivedBuckets))
	if slot < 0 {
		slot += survivedBuckets // time before the origin: math.Mod keeps the sign of b
	}
	if p.survivedBucket[slot] != b {
		p.survivedBucket[slot], p.survivedMax[slot] = b, 0
	}
	if gap > p.survivedMax[slot] {
		p.survivedMax[slot] = gap
	}
}

// randomized is ⌈t × factor⌉ capped at ⌊ceiling⌋; ≥ t since factor ≥ 1.
func (p *Provider) randomized(t float64) float64 {
	return math.Min(math.Ceil(t*p.factor), p.ceilingIntMs)
}

// nextUniform is xorshift32 (13, 17, 5) → [0, 1).
func (p *Provider) nextUniform() float64 {
	x := p.rng
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	p.rng = x
	return float64(x) / 4294967296
}

func seedState(seed *int64) uint32 {
	var s uint32
	if seed != nil {
		s = (uint32(*seed) ^ 0x9e3779b9) * 0x85ebca6b
	} else {
		var b [4]byte
		if _, err := crand.Read(b[:]); err == nil {
			s = binary.LittleEndian.Uint32(b[:])
		} else {
			s = 0x2545f491
		}
	}
	if s == 0 {
		return 0x6d2b79f5
	}
	return s
}

func (p *Provider) fallback(reason string, field int) {
	p.timeoutMs = p.randomized(p.fallbackMs)
	p.ctx.PreviousMs = p.fallbackMs
	p.fromModel, p.reason, p.fallbackField = false, reason, field
	p.fallbackTotal++
	p.fallbackCounts[reason]++
	for i := range p.trace.Active {
		p.trace.Active[i] = false
	}
}

// RuleActivation is a rule that changed the value at the last tick.
type RuleActivation struct {
	ID, Kind, Why     string
	BeforeMs, AfterMs float64
}

// Explanation is what the provider did at the last tick and why.
type Explanation struct {
	TimeoutMs, RandomFactor              float64
	Source                               string // "model" or "fallback"
	FallbackReason, FallbackDetail       string
	Q, RawProposalMs, LeaderLostLogit    float64
	PLeaderLost, ComposedMs, HardFloorMs float64
	SilenceMs, UsualGapMs                float64
	Rules                                []RuleActivation
	FloorCeilingConflict                 bool
	RuleActivationCounts, FallbackCounts map[string]float64
	FallbackCount, Ticks                 float64
	Model                                string // "name@version precision", "" without a model
	RulesName                            string
	FloorMs, CeilingMs                   float64
}

// Explain reports the last tick (allocates; for logs and dashboards).
func (p *Provider) Explain() Explanation {
	e := Explanation{TimeoutMs: p.timeoutMs, RandomFactor: p.factor, Source: "fallback", FallbackReason: p.reason,
		Q: p.q, RawProposalMs: math.Exp(p.q), LeaderLostLogit: p.logit, PLeaderLost: sigmoid(p.logit),
		ComposedMs: p.composedMs, HardFloorMs: p.floorMs, SilenceMs: p.silenceMs, UsualGapMs: p.gapMeanMs,
		FloorCeilingConflict: p.trace.Conflict, RuleActivationCounts: map[string]float64{}, FallbackCounts: map[string]float64{},
		FallbackCount: p.fallbackTotal, Ticks: p.ticks, RulesName: p.rules.Name, FloorMs: p.rules.AbsoluteFloorMs, CeilingMs: p.rules.CeilingMs}
	if p.fromModel {
		e.Source, e.FallbackReason = "model", ""
	}
	switch {
	case p.reason == NoModel:
		e.FallbackDetail = p.modelError
	case !p.fromModel && p.fallbackField == -1:
		e.FallbackDetail = "normalized features outside the input_domain box"
	case !p.fromModel && p.fallbackField > 0:
		e.FallbackDetail = fmt.Sprintf("%s outside the input_domain range or not a finite number ≥ 0", RawFields[p.fallbackField-1])
	}
	for i, r := range p.rules.List {
		e.RuleActivationCounts[r.ID] = p.trace.Counts[i]
		if p.trace.Active[i] {
			e.Rules = append(e.Rules, RuleActivation{ID: r.ID, Kind: r.Kind, Why: r.Why, BeforeMs: p.trace.BeforeMs[i], AfterMs: p.trace.AfterMs[i]})
		}
	}
	for _, r := range fallbackReasons {
		e.FallbackCounts[r] = p.fallbackCounts[r]
	}
	if p.art != nil {
		e.Model = fmt.Sprintf("%s@%s %s", p.art.Name, p.art.Version, p.precision)
	}
	return e
}
