package raftns

import (
	"encoding/json"
	"math"
	"math/rand"
	"testing"
)

// unrandomized is an int8 provider of the artifact under the rules with no randomization (spread 0), so its
// timeouts are the guarded values themselves.
func unrandomized(t *testing.T, a *Artifact, rules *Rules, seed int64) *Provider {
	t.Helper()
	spread := 0.0
	p, err := NewProvider(Options{Artifact: a, Precision: Int8, Rules: rules, Spread: &spread, Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

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

// A leader that check-quorum deposed retries soon: while it is follower or pre-candidate in the term it led,
// stepped-down-retry-cap caps its proposal at 150 ms before the floors and the randomization; a node that
// did not lead in its term, a new term and a Reset clear it.
func TestSteppedDownLeaderProposalCapped(t *testing.T) {
	a, rules := loadDefault(t)
	const capID, capMs = "stepped-down-retry-cap", 150.0
	newProvider := func(spread float64) *Provider {
		seed := int64(7)
		p, err := NewProvider(Options{Artifact: a, Rules: rules, Spread: &spread, Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	now := 0.0
	// No latency and every peer reachable: the only floor is the timing floor, k × heartbeat interval.
	observe := func(p *Provider, role Role, term uint64, leader string, heartbeat bool, intervalMs float64) Explanation {
		now += 10
		p.Observe(Observation{NowMs: now, TickMs: 10, Role: role, Term: term, LeaderID: leader, HeartbeatReceived: heartbeat,
			CPUIdlePct: 80, ClusterSize: 5, PeersReachable: 4, HeartbeatIntervalMs: intervalMs})
		e := p.Explain()
		if e.Source != "model" {
			t.Fatalf("%s term %d: fell back (%s %s); the stream must reach the guardrails", role, term, e.FallbackReason, e.FallbackDetail)
		}
		return e
	}
	capOf := func(e Explanation) *RuleActivation {
		for i := range e.Rules {
			if e.Rules[i].ID == capID {
				return &e.Rules[i]
			}
		}
		return nil
	}
	lead := func(p *Provider, term uint64) {
		for i := 0; i < 30; i++ {
			if e := observe(p, Leader, term, "n1", false, 100); capOf(e) != nil {
				t.Fatalf("leader tick %d: %s active while leading: %+v", i, capID, e.Rules)
			}
		}
	}
	notCapped := func(what string, p *Provider, role Role, term uint64) {
		for i := 0; i < 10; i++ {
			e := observe(p, role, term, "", false, 100)
			if c := capOf(e); c != nil {
				t.Fatalf("%s, %s tick %d: %s active: %+v", what, role, i, capID, *c)
			}
			if !(e.TimeoutMs > capMs) {
				t.Fatalf("%s, %s tick %d: timeout %g ms, want above %g ms (the model's proposal %g ms, floor %g ms)", what, role, i, e.TimeoutMs, capMs, e.ComposedMs, e.HardFloorMs)
			}
		}
	}

	// Deposed in term 5: capped at 150 ms on every tick as follower and as pre-candidate.
	p := newProvider(0)
	lead(p, 5)
	for _, role := range []Role{Follower, PreCandidate} {
		for i := 0; i < 10; i++ {
			e := observe(p, role, 5, "", false, 100)
			c := capOf(e)
			if !(e.ComposedMs > capMs) {
				t.Fatalf("%s tick %d: the model proposes %g ms, not above the cap; the stream no longer exercises it", role, i, e.ComposedMs)
			}
			if c == nil || c.AfterMs != capMs || c.BeforeMs != e.ComposedMs {
				t.Fatalf("%s tick %d after leading term 5: %s activation %+v, want %g → %g ms", role, i, capID, c, e.ComposedMs, capMs)
			}
			if e.TimeoutMs != capMs {
				t.Fatalf("%s tick %d: timeout %g ms, want %g ms (spread 0, floor %g ms)", role, i, e.TimeoutMs, capMs, e.HardFloorMs)
			}
		}
	}
	// The floors act after the cap: a 200 ms timing floor lifts the capped value.
	if e := observe(p, Follower, 5, "", false, 200); capOf(e) == nil || e.TimeoutMs != 200 {
		t.Fatalf("timing floor 200 ms over the cap: timeout %g ms, rules %+v", e.TimeoutMs, e.Rules)
	}
	// A new term clears it (the node campaigned, or heard of a newer leader).
	notCapped("term 6 after leading term 5", p, Follower, 6)
	notCapped("term 6 after leading term 5", p, PreCandidate, 6)

	// The randomization acts after the cap: the armed timeout is 150 ms × U[1, 2).
	p = newProvider(1)
	lead(p, 5)
	for i := 0; i < 10; i++ {
		e := observe(p, PreCandidate, 5, "", false, 100)
		if c := capOf(e); c == nil || c.AfterMs != capMs || !(e.TimeoutMs >= capMs && e.TimeoutMs < 2*capMs) || e.TimeoutMs != math.Ceil(capMs*e.RandomFactor) {
			t.Fatalf("spread 1, tick %d: timeout %g ms (factor %g), %s %+v; want ⌈%g × factor⌉", i, e.TimeoutMs, e.RandomFactor, capID, c, capMs)
		}
	}

	// A node that never led in term 5 (it followed n2 there) is not capped.
	p = newProvider(0)
	for i := 0; i < 30; i++ {
		observe(p, Follower, 5, "n2", i%10 == 0, 100)
	}
	notCapped("never leader in term 5", p, Follower, 5)
	notCapped("never leader in term 5", p, PreCandidate, 5)

	// Reset forgets the term it led.
	p = newProvider(0)
	lead(p, 5)
	p.Reset()
	notCapped("after Reset", p, Follower, 5)
}

// A follower whose leader of this term asked it for a (pre-)vote in a later term (LeaderResigned) is treated
// like a leader that stepped down: capped at 150 ms, no survived-silence floor, and a timing floor without the
// round trip. Without the flag both floors hold.
func TestLeaderResignedFollower(t *testing.T) {
	_, rules := loadDefault(t)
	resigned := Context{Role: Follower, HeartbeatIntervalMs: 100, WorstRTTMs: 300, ClusterSize: 3, PeersReachable: 2,
		SurvivedSilenceMs: 1500, SteppedDownThisTerm: true, PreviousMs: math.NaN()}
	live := resigned
	live.SteppedDownThisTerm = false
	if got := rules.HardFloorMs(&resigned); got != 100 {
		t.Fatalf("resigned: hard floor %g ms, want 100 (the heartbeat interval alone)", got)
	}
	margin := rules.List[ruleIndex(t, defaultRulesDoc(t), "survived_silence_floor")].Margin
	if got := rules.HardFloorMs(&live); got != margin*1500 {
		t.Fatalf("live leader: hard floor %g ms, want %g (margin %g × the survived silence)", got, margin*1500, margin)
	}
	tr := newTrace(len(rules.List))
	if got := rules.Guard(800, &resigned, &tr); got != 150 {
		t.Fatalf("resigned: guarded %g ms, want 150 (stepped-down-retry-cap)", got)
	}
	if got := rules.Guard(800, &live, &tr); got != margin*1500 {
		t.Fatalf("live leader: guarded %g ms, want %g", got, margin*1500)
	}
	noSurvived := live
	noSurvived.SurvivedSilenceMs = 0
	if got := rules.HardFloorMs(&noSurvived); got != 400 {
		t.Fatalf("live leader, nothing survived: hard floor %g ms, want 400 (interval + worst RTT)", got)
	}

	// Through the provider: the observation's flag sets the context.
	a, _ := loadDefault(t)
	spread, seed := 0.0, int64(3)
	p, err := NewProvider(Options{Artifact: a, Rules: rules, Spread: &spread, Seed: &seed, LostThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	now := 0.0
	obs := func(heartbeat, resigned bool) Explanation {
		now += 100
		p.Observe(Observation{NowMs: now, TickMs: 100, Role: Follower, Term: 3, LeaderID: "n1", HeartbeatReceived: heartbeat,
			HeartbeatLatencyMs: 1, HasLatency: heartbeat, CPUIdlePct: 80, ClusterSize: 5, PeersReachable: 4,
			HeartbeatIntervalMs: 100, LeaderResigned: resigned})
		return p.Explain()
	}
	for i := 0; i < 30; i++ {
		obs(true, false)
	}
	// The leader goes quiet: the floor is the interval plus its 1 ms round trip, or margin × the 100 ms gaps it
	// survived, whichever is higher.
	if e, want := obs(false, false), math.Max(101, margin*100); e.Source != "model" || e.HardFloorMs != want {
		t.Fatalf("live leader's silence: %+v, want the model's value over a %g ms floor", e, want)
	}
	// Its pre-vote request for a later term arrives: the round trip leaves the floor, the 150 ms cap applies.
	var e Explanation
	for i := 0; i < 10; i++ {
		e = obs(false, true)
	}
	if e.Source != "model" || e.HardFloorMs != 100 || e.TimeoutMs > 150 || e.TimeoutMs != math.Max(100, math.Min(150, math.Ceil(e.ComposedMs))) {
		t.Fatalf("resigned follower: %+v, want the model's value capped at 150 ms over a 100 ms floor", e)
	}

	// Two providers fed the same follower stream (conformance's leader-resigned stream): leader n1 of term 7
	// survives a 1.2 s silence on 300 ms round trips, then goes quiet again; 400 ms in, one of them is told
	// n1 asked for a pre-vote in term 8. Until then they agree tick for tick; then the told one drops to the
	// 150 ms cap over a 100 ms floor (no survived-silence floor, no round trip), the other keeps both floors.
	told, untold := unrandomized(t, a, rules, 11), unrandomized(t, a, rules, 11)
	now = 0
	activeRule := func(e Explanation, id string) bool {
		for _, r := range e.Rules {
			if r.ID == id {
				return true
			}
		}
		return false
	}
	twinTick := func(heartbeat, resigned bool) (Explanation, Explanation) {
		now += 10
		o := Observation{NowMs: now, TickMs: 10, Role: Follower, Term: 7, LeaderID: "n1", HeartbeatReceived: heartbeat,
			HeartbeatLatencyMs: 300, HasLatency: heartbeat, CPUIdlePct: 80, ClusterSize: 3, PeersReachable: 2,
			HeartbeatIntervalMs: 100}
		untold.Observe(o)
		o.LeaderResigned = resigned
		told.Observe(o)
		et, eu := told.Explain(), untold.Explain()
		if et.Source != "model" || eu.Source != "model" {
			t.Fatalf("t=%g: fell back (%q, %q); the stream must reach the guardrails", now, et.FallbackReason, eu.FallbackReason)
		}
		return et, eu
	}
	same := func(phase string, ms float64, heartbeats bool) {
		for t0 := 0.0; t0 < ms; t0 += 10 {
			if et, eu := twinTick(heartbeats && math.Mod(t0, 100) == 0, false); et.TimeoutMs != eu.TimeoutMs || et.HardFloorMs != eu.HardFloorMs {
				t.Fatalf("%s, t=%g, LeaderResigned false on both: %g / %g ms (floors %g / %g); want equal", phase, now, et.TimeoutMs, eu.TimeoutMs, et.HardFloorMs, eu.HardFloorMs)
			}
		}
	}
	same("steady", 3000, true)
	same("1.2 s silence", 1200, false)
	same("steady after it", 2000, true)
	same("quiet again", 400, false)
	if _, eu := twinTick(false, false); !(eu.HardFloorMs >= 1200) || !(eu.TimeoutMs >= eu.HardFloorMs) {
		t.Fatalf("before the pre-vote: %+v, want the survived-silence floor (≥ 1200 ms) in force", eu)
	}
	for i := 0; i < 30; i++ {
		et, eu := twinTick(false, true)
		if !activeRule(et, "stepped-down-retry-cap") || activeRule(et, "survived-silence-floor") || et.HardFloorMs != 100 {
			t.Fatalf("told, tick %d: floor %g ms, rules %+v; want the 150 ms cap active over a 100 ms floor, no survived-silence floor", i, et.HardFloorMs, et.Rules)
		}
		if activeRule(eu, "stepped-down-retry-cap") || !(eu.HardFloorMs >= 1200) || !(eu.TimeoutMs >= eu.HardFloorMs) {
			t.Fatalf("untold, tick %d: %+v; want no cap and the survived-silence floor in force", i, eu)
		}
		if i >= 10 && et.TimeoutMs != 150 { // the rate limit (400 ms a tick) brings it down first
			t.Fatalf("told, tick %d: timeout %g ms, want 150 (composed %g ms, rules %+v)", i, et.TimeoutMs, et.ComposedMs, et.Rules)
		}
	}
}

// timing_floor candidate_rtt "smoothed" (on in the default rules): a candidate's RTT term is the smoothed
// round trip when lower than the worst, since a candidate hears no heartbeat and its window soon holds only
// the spike that lost the leader; every other role, and a candidate under "worst" or no candidate_rtt, keeps
// the worst; a node that knows no leader serves its term drops the term whatever the role.
func TestCandidateSmoothedRTT(t *testing.T) {
	a, smoothed := loadDefault(t)
	base := defaultRulesDoc(t)
	withCandidateRTT := func(value string) *Rules {
		c := clone(base)
		for _, x := range c["rules"].([]interface{}) {
			if r := x.(map[string]interface{}); r["kind"] == "timing_floor" {
				delete(r, "candidate_rtt")
				if value != "" {
					r["candidate_rtt"] = value
				}
			}
		}
		mb, _ := json.Marshal(c)
		rs, err := ParseRules(mb, "rules.json")
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	worst, absent := withCandidateRTT("worst"), withCandidateRTT("")

	// The guardrails alone: a 100 ms interval, a 3 s worst round trip, a 262.5 ms smoothed one.
	ctx := Context{Role: Candidate, HeartbeatIntervalMs: 100, WorstRTTMs: 3000, SmoothedRTTMs: 262.5, ClusterSize: 3,
		PeersReachable: 2, PreviousMs: math.NaN()}
	floor := func(rs *Rules, role Role, edit func(c *Context)) float64 {
		c := ctx
		c.Role = role
		if edit != nil {
			edit(&c)
		}
		return rs.HardFloorMs(&c)
	}
	for _, c := range []struct {
		what string
		rs   *Rules
		role Role
		edit func(c *Context)
		want float64
	}{
		{"smoothed, candidate", smoothed, Candidate, nil, 362.5},
		{"smoothed, follower", smoothed, Follower, nil, 3100},
		{"smoothed, pre-candidate", smoothed, PreCandidate, nil, 3100},
		{"smoothed, leader", smoothed, Leader, nil, 3100},
		{"smoothed, candidate, smoothed above the worst", smoothed, Candidate, func(c *Context) { c.SmoothedRTTMs = 3500 }, 3100},
		{"smoothed, candidate, stepped down", smoothed, Candidate, func(c *Context) { c.SteppedDownThisTerm = true }, 100},
		{"worst, candidate", worst, Candidate, nil, 3100},
		{"absent, candidate", absent, Candidate, nil, 3100},
		{"absent, follower", absent, Follower, nil, 3100},
	} {
		if got := floor(c.rs, c.role, c.edit); got != c.want {
			t.Errorf("%s: hard floor %g ms, want %g", c.what, got, c.want)
		}
	}
	// Guard applies the same floor: candidate-retry-cap takes the 800 ms proposal to 150 ms, the timing
	// floor lifts it to the interval plus the smoothed round trip.
	tr := newTrace(len(smoothed.List))
	if got := smoothed.Guard(800, &ctx, &tr); got != 362.5 {
		t.Fatalf("smoothed, candidate: guarded %g ms, want 362.5", got)
	}
	tr = newTrace(len(worst.List))
	if got := worst.Guard(800, &ctx, &tr); got != 3100 {
		t.Fatalf("worst, candidate: guarded %g ms, want 3100", got)
	}

	// Through the provider. Three nodes follow n1 in term 4 (heartbeats every 100 ms, 200-320 ms round
	// trips, then a 3 s one), then hear nothing: one becomes a candidate of term 5, one stays a follower, and
	// a third, a follower whose host gives the latency at heartbeats only (the others repeat the last value
	// every tick), must smooth the same samples. srtt is the reference's arithmetic, each product rounded.
	cand, foll, sparse := unrandomized(t, a, smoothed, 5), unrandomized(t, a, smoothed, 5), unrandomized(t, a, smoothed, 5)
	now, latency, srtt := 0.0, 0.0, math.NaN()
	rng := rand.New(rand.NewSource(9))
	tick := func(p *Provider, role Role, term uint64, leader string, heartbeat, repeat bool) {
		p.Observe(Observation{NowMs: now, TickMs: 10, Role: role, Term: term, LeaderID: leader, HeartbeatReceived: heartbeat,
			HeartbeatLatencyMs: latency, HasLatency: heartbeat || repeat, CPUIdlePct: 80, ClusterSize: 3, PeersReachable: 2,
			HeartbeatIntervalMs: 100})
	}
	for i := 0; i < 400; i++ {
		now += 10
		heartbeat := i%10 == 0
		if heartbeat {
			latency = 200 + 120*rng.Float64()
			if i == 390 {
				latency = 3000 // the spike that loses the leader
			}
			if math.IsNaN(srtt) {
				srtt = latency
			} else {
				srtt = float64(0.875*srtt) + float64(0.125*latency)
			}
		}
		for _, p := range []*Provider{cand, foll} {
			tick(p, Follower, 4, "n1", heartbeat, true)
		}
		tick(sparse, Follower, 4, "n1", heartbeat, false)
		for _, p := range []*Provider{cand, foll, sparse} {
			if p.ctx.SmoothedRTTMs != srtt {
				t.Fatalf("follower tick %d: smoothed RTT %v ms, want %v", i, p.ctx.SmoothedRTTMs, srtt)
			}
		}
	}
	if !(srtt < 1000) {
		t.Fatalf("smoothed RTT %g ms after the spike; the stream no longer separates it from the worst", srtt)
	}
	for i := 0; i < 40; i++ {
		now += 10
		tick(cand, Candidate, 5, "", false, true)
		tick(foll, Follower, 4, "n1", false, true)
		ec, ef := cand.Explain(), foll.Explain()
		if ec.Source != "model" || ef.Source != "model" {
			t.Fatalf("silent tick %d: fell back (%q, %q); the stream must reach the guardrails", i, ec.FallbackReason, ef.FallbackReason)
		}
		if cand.ctx.SmoothedRTTMs != srtt || cand.ctx.WorstRTTMs != 3000 {
			t.Fatalf("candidate tick %d: smoothed %v ms, worst %v ms; want %v and 3000 (a repeated latency is no new sample)", i, cand.ctx.SmoothedRTTMs, cand.ctx.WorstRTTMs, srtt)
		}
		if want := 100 + srtt; ec.HardFloorMs != want || !(ec.TimeoutMs >= want) {
			t.Fatalf("candidate tick %d: floor %g ms, timeout %g ms; want the floor %g ms (interval + smoothed RTT)", i, ec.HardFloorMs, ec.TimeoutMs, want)
		}
		if i >= 10 && ec.TimeoutMs != math.Ceil(100+srtt) { // the rate limit (400 ms a tick) brings it down first
			t.Fatalf("candidate tick %d: timeout %g ms, want ⌈%g⌉ (capped at 150 ms, then the floor)", i, ec.TimeoutMs, 100+srtt)
		}
		if ef.HardFloorMs != 3100 || !(ef.TimeoutMs >= 3100) {
			t.Fatalf("follower tick %d: floor %g ms, timeout %g ms; want the worst round trip's 3100 ms floor", i, ef.HardFloorMs, ef.TimeoutMs)
		}
	}

	// Reset forgets the samples and the last one: with no latency the smoothed RTT reads 0, and the next
	// latency, even one equal to the last sample before Reset, starts it afresh.
	cand.Reset()
	now += 10
	tick(cand, Candidate, 5, "", false, false)
	if cand.ctx.SmoothedRTTMs != 0 || cand.ctx.WorstRTTMs != 0 {
		t.Fatalf("after Reset: smoothed %v ms, worst %v ms; want 0 and 0", cand.ctx.SmoothedRTTMs, cand.ctx.WorstRTTMs)
	}
	now += 10
	tick(cand, Candidate, 5, "", false, true)
	if cand.ctx.SmoothedRTTMs != 3000 {
		t.Fatalf("after Reset, latency 3000 ms: smoothed %v ms, want 3000 (the first sample)", cand.ctx.SmoothedRTTMs)
	}
}
