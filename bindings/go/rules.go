package raftns

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
)

// Role of the node this tick.
type Role string

const (
	Follower     Role = "follower"
	PreCandidate Role = "pre-candidate"
	Candidate    Role = "candidate"
	Leader       Role = "leader"
)

func validRole(r Role) bool {
	return r == Follower || r == PreCandidate || r == Candidate || r == Leader
}

// MaxRandomizationSpread bounds randomization_spread and Options.Spread: factors up to 5× the guarded value.
const MaxRandomizationSpread = 4

// RawFields is the order of Rule.RawBox (input_domain "raw").
var RawFields = [5]string{"heartbeat_latency_ms", "log_replication_gap", "rpc_retries", "cpu_idle_pct", "heartbeat_interval_ms"}

// Rule is one entry of a safety-rules file; the fields of its kind are set, the others are zero.
type Rule struct {
	ID, Kind, Why string
	// timing_floor
	K, AbsoluteFloorMs float64
	RTTWindowTicks     int
	// CandidateSmoothed is candidate_rtt "smoothed": a candidate's RTT term is min(worst, SmoothedRTTMs).
	CandidateSmoothed bool
	// ceiling, proposal_cap
	MaxMs float64
	// conditional_floor (and WhenRoles, UnreachableFrac, SteppedDown: proposal_cap)
	MinMs           float64
	WhenRoles       []Role
	UnreachableFrac float64 // NaN when the condition is absent
	// SteppedDown is when.stepped_down_this_term: nil when absent, else the value Context.SteppedDownThisTerm
	// must equal for the condition to hold.
	SteppedDown *bool
	// survived_silence_floor
	WindowMs, Margin float64
	// max_change_per_tick
	MaxIncreaseMs, MaxDecreaseMs float64
	// input_domain
	NormMin, NormMax [Features]float64
	RawBox           [5][2]float64
}

// Phases of the guardrails (docs/RULES.md §3): a kind enforces in one phase or is declared only (verify).
const (
	phaseDeclared = iota
	phaseCap
	phaseRate
	phaseFloor
	phaseCeiling
)

// kindSpec is everything the engine knows about a rule kind: its keys, how to read them and where it acts.
// A new kind is one entry here (and its floor/limit in guard when it enforces).
type kindSpec struct {
	keys  []string
	phase int
	parse func(r *Rule, o map[string]interface{}, v *validator)
}

var kinds = map[string]kindSpec{
	"timing_floor": {[]string{"k", "absolute_floor_ms", "rtt_window_ticks", "candidate_rtt"}, phaseFloor, func(r *Rule, o map[string]interface{}, v *validator) {
		r.K = v.num(o["k"], "k", 0, false, math.Inf(1))
		r.AbsoluteFloorMs = v.num(o["absolute_floor_ms"], "absolute_floor_ms", 0, true, math.Inf(1))
		w := v.num(o["rtt_window_ticks"], "rtt_window_ticks", 1, false, 4096)
		if w != math.Trunc(w) {
			v.bad("rtt_window_ticks", "expected an integer in [1, 4096]")
		}
		r.RTTWindowTicks = int(w)
		if c, ok := o["candidate_rtt"]; ok {
			switch c {
			case "worst":
			case "smoothed":
				r.CandidateSmoothed = true
			default:
				v.bad("candidate_rtt", `expected "worst" or "smoothed"`)
			}
		}
	}},
	"ceiling": {[]string{"max_ms"}, phaseCeiling, func(r *Rule, o map[string]interface{}, v *validator) {
		r.MaxMs = v.num(o["max_ms"], "max_ms", 0, true, math.Inf(1))
	}},
	"conditional_floor": {[]string{"min_ms", "when"}, phaseFloor, func(r *Rule, o map[string]interface{}, v *validator) {
		r.MinMs = v.num(o["min_ms"], "min_ms", 0, true, math.Inf(1))
		parseWhen(r, o, v)
	}},
	"proposal_cap": {[]string{"max_ms", "when"}, phaseCap, func(r *Rule, o map[string]interface{}, v *validator) {
		r.MaxMs = v.num(o["max_ms"], "max_ms", 0, true, math.Inf(1))
		parseWhen(r, o, v)
	}},
	"survived_silence_floor": {[]string{"window_ms", "margin"}, phaseFloor, func(r *Rule, o map[string]interface{}, v *validator) {
		r.WindowMs = v.num(o["window_ms"], "window_ms", 0, true, 600000)
		r.Margin = v.num(o["margin"], "margin", 0, false, 10)
	}},
	"max_change_per_tick": {[]string{"max_increase_ms", "max_decrease_ms"}, phaseRate, func(r *Rule, o map[string]interface{}, v *validator) {
		r.MaxIncreaseMs = v.num(o["max_increase_ms"], "max_increase_ms", 0, true, math.Inf(1))
		r.MaxDecreaseMs = v.num(o["max_decrease_ms"], "max_decrease_ms", 0, true, math.Inf(1))
	}},
	"input_domain": {[]string{"normalized", "raw"}, phaseDeclared, func(r *Rule, o map[string]interface{}, v *validator) {
		r.NormMin, r.NormMax = v.box(o["normalized"], "normalized")
		raw, ok := o["raw"].(map[string]interface{})
		if !ok {
			v.bad("raw", "expected an object")
			return
		}
		v.keys(raw, "raw", RawFields[:])
		for i, f := range RawFields {
			pair, ok := raw[f].([]interface{})
			var lo, hi float64
			if ok && len(pair) == 2 {
				lo, ok = pair[0].(float64)
				var ok2 bool
				hi, ok2 = pair[1].(float64)
				ok = ok && ok2 && lo >= 0 && lo <= hi
			} else {
				ok = false
			}
			if !ok {
				v.bad("raw/"+f, "expected [min, max] with 0 ≤ min ≤ max, finite")
			}
			r.RawBox[i] = [2]float64{lo, hi}
		}
	}},
	// Declared properties that verify proves or checks; the runtime reads them but never applies them.
	"monotonic": {[]string{"output", "feature", "direction", "region", "state", "tolerance"}, phaseDeclared, func(r *Rule, o map[string]interface{}, v *validator) {
		v.oneOf(o["output"], "output", "log_gap_quantile", "leader_lost_logit")
		v.oneOf(o["feature"], "feature", "heartbeat_latency", "log_replication_gap", "rpc_retries", "cpu_idle")
		v.oneOf(o["direction"], "direction", "nondecreasing", "nonincreasing")
		v.oneOf(o["state"], "state", "zero", "reachable")
		v.box(o["region"], "region")
		if t, ok := o["tolerance"]; ok {
			v.num(t, "tolerance", 0, false, math.Inf(1))
		}
	}},
	"quantization_budget": {[]string{"max_abs_log_gap", "max_abs_logit", "at_quantile", "worst_tick_abs_log_gap", "max_loss_increase"}, phaseDeclared, func(r *Rule, o map[string]interface{}, v *validator) {
		v.num(o["max_abs_log_gap"], "max_abs_log_gap", 0, false, math.Inf(1))
		v.num(o["max_abs_logit"], "max_abs_logit", 0, false, math.Inf(1))
		if q, ok := o["at_quantile"]; ok {
			v.num(q, "at_quantile", 0, true, 1)
		}
		for _, k := range []string{"worst_tick_abs_log_gap", "max_loss_increase"} {
			if x, ok := o[k]; ok {
				v.num(x, k, 0, false, math.Inf(1))
			}
		}
	}},
}

// Rules is a validated, compiled rules file; immutable, share it between nodes.
type Rules struct {
	Name             string
	StaticFallbackMs float64
	// RandomizationSpread is randomization_spread (default 1): the provider's factor is U[1, 1+spread)
	// unless Options.Spread overrides it.
	RandomizationSpread float64
	List                []Rule
	AbsoluteFloorMs     float64 // max over timing floors of absolute_floor_ms
	CeilingMs           float64 // min over ceilings of max_ms
	RTTWindowTicks      int     // longest rtt_window_ticks of any timing floor
	// SurvivedWindowMs is the longest window_ms of any survived_silence_floor; 0 = no such rule (the
	// provider then tracks no survived silences).
	SurvivedWindowMs float64
	Domain           *Rule
	phases           []int
}

// LoadRules reads and compiles a safety-rules JSON file.
func LoadRules(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fail("rules.missing", "%s: cannot read (%v)", path, err)
	}
	return ParseRules(b, path)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// ParseRules validates (schemas/safety-rules.schema.json plus the cross-rule checks of docs/RULES.md §1)
// and compiles; the error names the first problems by JSON path.
func ParseRules(data []byte, sourceName string) (*Rules, error) {
	var root interface{}
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fail("rules.json", "%s: not valid JSON (%v); expected safety rules (schemas/safety-rules.schema.json)", sourceName, err)
	}
	v := &validator{}
	o, ok := root.(map[string]interface{})
	if !ok {
		return nil, fail("rules.invalid", "%s: invalid safety rules (/: expected a JSON object)", sourceName)
	}
	v.keys(o, "", []string{"$schema", "format", "format_version", "name", "description", "static_fallback_ms", "randomization_spread", "rules"})
	if o["format"] != "raft-ns-safety-rules" {
		v.bad("format", `expected "raft-ns-safety-rules"`)
	}
	if o["format_version"] != 1.0 {
		v.bad("format_version", "expected 1")
	}
	rs := &Rules{}
	if rs.Name, ok = o["name"].(string); !ok || rs.Name == "" {
		v.bad("name", "expected a non-empty string")
	}
	if sc, present := o["$schema"]; present {
		if _, isString := sc.(string); !isString {
			v.bad("$schema", "expected a string")
		}
	}
	if d, present := o["description"]; present {
		if _, ok := d.(string); !ok {
			v.bad("description", "expected a string")
		}
	}
	rs.StaticFallbackMs = v.num(o["static_fallback_ms"], "static_fallback_ms", 0, true, math.Inf(1))
	rs.RandomizationSpread = 1
	if sp, present := o["randomization_spread"]; present {
		rs.RandomizationSpread = v.num(sp, "randomization_spread", 0, false, MaxRandomizationSpread)
	}
	list, ok := o["rules"].([]interface{})
	if !ok {
		v.bad("rules", "expected an array")
		return nil, v.err(sourceName)
	}
	ids := map[string]bool{}
	for i, x := range list {
		v.prefix = fmt.Sprintf("rules/%d/", i)
		ro, ok := x.(map[string]interface{})
		if !ok {
			v.bad("", "expected an object")
			continue
		}
		r := Rule{}
		r.ID, _ = ro["id"].(string)
		r.Why, _ = ro["why"].(string)
		r.Kind, _ = ro["kind"].(string)
		if !idPattern.MatchString(r.ID) {
			v.bad("id", "expected a lower-case id ([a-z0-9_.-])")
		} else if ids[r.ID] {
			v.bad("id", "duplicate id")
		}
		ids[r.ID] = true
		if r.Why == "" {
			v.bad("why", "expected a non-empty string")
		}
		spec, known := kinds[r.Kind]
		if !known {
			v.bad("kind", "unknown rule kind")
			continue
		}
		v.keys(ro, "", append([]string{"id", "why", "kind"}, spec.keys...))
		spec.parse(&r, ro, v)
		rs.List = append(rs.List, r)
		rs.phases = append(rs.phases, spec.phase)
	}
	v.prefix = ""
	if len(v.issues) > 0 {
		return nil, v.err(sourceName)
	}
	rs.AbsoluteFloorMs, rs.CeilingMs = math.Inf(-1), math.Inf(1)
	domains := 0
	for i := range rs.List {
		r := &rs.List[i]
		switch r.Kind {
		case "timing_floor":
			rs.AbsoluteFloorMs = math.Max(rs.AbsoluteFloorMs, r.AbsoluteFloorMs)
			if r.RTTWindowTicks > rs.RTTWindowTicks {
				rs.RTTWindowTicks = r.RTTWindowTicks
			}
		case "ceiling":
			rs.CeilingMs = math.Min(rs.CeilingMs, r.MaxMs)
		case "survived_silence_floor":
			rs.SurvivedWindowMs = math.Max(rs.SurvivedWindowMs, r.WindowMs)
		case "input_domain":
			domains++
			rs.Domain = r
		}
	}
	if math.IsInf(rs.AbsoluteFloorMs, -1) {
		v.bad("rules", "expected at least one timing_floor rule")
	}
	if math.IsInf(rs.CeilingMs, 1) {
		v.bad("rules", "expected at least one ceiling rule")
	}
	if domains != 1 {
		v.bad("rules", fmt.Sprintf("expected exactly one input_domain rule, found %d", domains))
	}
	if len(v.issues) == 0 {
		if rs.AbsoluteFloorMs > math.Floor(rs.CeilingMs) {
			v.bad("rules", fmt.Sprintf("absolute floor %g ms exceeds the ceiling %g ms (rounded down to whole ms)", rs.AbsoluteFloorMs, rs.CeilingMs))
		}
		for i, r := range rs.List {
			if r.Kind == "conditional_floor" && r.MinMs > rs.CeilingMs {
				v.bad(fmt.Sprintf("rules/%d/min_ms", i), fmt.Sprintf("%g ms exceeds the ceiling %g ms", r.MinMs, rs.CeilingMs))
			}
		}
		if rs.StaticFallbackMs < rs.AbsoluteFloorMs || rs.StaticFallbackMs > rs.CeilingMs {
			v.bad("static_fallback_ms", fmt.Sprintf("%g ms is outside [%g, %g] ms", rs.StaticFallbackMs, rs.AbsoluteFloorMs, rs.CeilingMs))
		}
	}
	if len(v.issues) > 0 {
		return nil, v.err(sourceName)
	}
	return rs, nil
}

// Context is what the guardrails see of the current tick.
type Context struct {
	Role                Role
	HeartbeatIntervalMs float64
	WorstRTTMs          float64 // max heartbeat latency over the RTT window; 0 if none
	// SmoothedRTTMs is RFC 6298's smoothed round trip over the node's RTT samples (docs/RULES.md §2); 0 if
	// none. Read only by a timing floor with candidate_rtt "smoothed", for a candidate.
	SmoothedRTTMs  float64
	ClusterSize    int
	PeersReachable int
	// SurvivedSilenceMs is the longest silence the leader was seen to survive within the
	// survived_silence_floor window (docs/RULES.md §5); 0 if none.
	SurvivedSilenceMs float64
	// SteppedDownThisTerm: the node knows no leader serves its current term: it led the term and no longer
	// does (a check-quorum step-down; Raft has one leader per term), or the term's leader asked it for a
	// (pre-)vote in a later term (Observation.LeaderResigned). Then the timing floor drops its RTT term and the
	// survived-silence floor does not apply (docs/RULES.md §2).
	SteppedDownThisTerm bool
	PreviousMs          float64 // the guarded (pre-randomization) value of the previous tick; NaN = none
}

// Trace records which rules changed the value at the last Guard.
type Trace struct {
	Active            []bool
	BeforeMs, AfterMs []float64
	Counts            []float64
	Conflict          bool
}

func newTrace(n int) Trace {
	return Trace{Active: make([]bool, n), BeforeMs: make([]float64, n), AfterMs: make([]float64, n), Counts: make([]float64, n)}
}

func (r *Rule) floorMs(ctx *Context) float64 {
	switch r.Kind {
	case "timing_floor":
		// No leader serves the term (SteppedDownThisTerm): no heartbeat to wait for, only the interval's spacing.
		// A candidate under candidate_rtt "smoothed" waits for a usual round trip: it hears no heartbeat, so its
		// window soon holds only the last one it saw, often the spike that lost the leader.
		rtt := ctx.WorstRTTMs
		if ctx.SteppedDownThisTerm {
			rtt = 0
		} else if r.CandidateSmoothed && ctx.Role == Candidate && ctx.SmoothedRTTMs < ctx.WorstRTTMs {
			rtt = ctx.SmoothedRTTMs
		}
		return math.Max(r.AbsoluteFloorMs, r.K*(ctx.HeartbeatIntervalMs+rtt))
	case "conditional_floor":
		if r.conditionHolds(ctx) {
			return r.MinMs
		}
	case "survived_silence_floor":
		// Followers only: a (pre-)candidate's timeout is its election retry, which a leader's past
		// silences say nothing about; and not once no leader serves the term.
		if ctx.Role == Follower && !ctx.SteppedDownThisTerm {
			return r.Margin * ctx.SurvivedSilenceMs
		}
	}
	return math.Inf(-1)
}

func (r *Rule) conditionHolds(ctx *Context) bool {
	if r.WhenRoles != nil {
		in := false
		for _, x := range r.WhenRoles {
			in = in || x == ctx.Role
		}
		if !in {
			return false
		}
	}
	if !math.IsNaN(r.UnreachableFrac) {
		peers := math.Max(0, float64(ctx.ClusterSize-1))
		unreachable := math.Max(0, peers-float64(ctx.PeersReachable))
		if !(unreachable > r.UnreachableFrac*peers) {
			return false
		}
	}
	if r.SteppedDown != nil && ctx.SteppedDownThisTerm != *r.SteppedDown {
		return false
	}
	return true
}

// HardFloorMs is the largest floor in force in this context (timing, conditional and survived-silence
// floors, before the ceiling). A NaN floor is skipped here (Guard sends it to the ceiling).
func (rs *Rules) HardFloorMs(ctx *Context) float64 {
	f := rs.AbsoluteFloorMs
	for i := range rs.List {
		if rs.phases[i] == phaseFloor {
			if x := rs.List[i].floorMs(ctx); x > f {
				f = x
			}
		}
	}
	return f
}

// Guard applies every enforcing rule to proposalMs in the order of docs/RULES.md §3 (proposal caps, rate
// limit, floors, ceilings; in file order within a phase) and returns a value in [AbsoluteFloorMs, CeilingMs].
func (rs *Rules) Guard(proposalMs float64, ctx *Context, t *Trace) float64 {
	for i := range t.Active {
		t.Active[i] = false
	}
	t.Conflict = false
	v := proposalMs
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = rs.CeilingMs
	}
	for _, phase := range []int{phaseCap, phaseRate, phaseFloor, phaseCeiling} {
		for i := range rs.List {
			if rs.phases[i] != phase {
				continue
			}
			r := &rs.List[i]
			nv := v
			switch phase {
			case phaseCap:
				if !(v > r.MaxMs) || !r.conditionHolds(ctx) {
					continue
				}
				nv = r.MaxMs
			case phaseRate:
				if math.IsNaN(ctx.PreviousMs) {
					continue
				}
				lo, hi := ctx.PreviousMs-r.MaxDecreaseMs, ctx.PreviousMs+r.MaxIncreaseMs
				if v < lo {
					nv = lo
				} else if v > hi {
					nv = hi
				}
			case phaseFloor:
				f := r.floorMs(ctx)
				if !(f <= v) {
					if math.IsNaN(f) || math.IsInf(f, 0) {
						nv = rs.CeilingMs
					} else {
						nv = f
					}
				}
			case phaseCeiling:
				if !(v > r.MaxMs) {
					continue
				}
				for j := range rs.List {
					// A conflict is a floor the ceiling overrides; a cap or the rate limit above it is not one.
					if t.Active[j] && rs.phases[j] != phaseRate && rs.phases[j] != phaseCap {
						t.Conflict = true
					}
				}
				nv = r.MaxMs
			}
			if nv != v {
				if !t.Active[i] {
					t.Active[i] = true
					t.BeforeMs[i] = v
					t.Counts[i]++
				}
				t.AfterMs[i] = nv
				v = nv
			}
		}
	}
	if !(v >= rs.AbsoluteFloorMs) {
		v = rs.AbsoluteFloorMs
	}
	return v
}

// rawViolation returns 0 inside the input domain, else 1 + the RawFields index of the first field outside.
func (rs *Rules) rawViolation(latencyMs float64, hasLatency bool, values [4]float64) int {
	b := &rs.Domain.RawBox
	if hasLatency && !(latencyMs >= b[0][0] && latencyMs <= b[0][1]) {
		return 1
	}
	for i, x := range values {
		if !(x >= b[i+1][0] && x <= b[i+1][1]) {
			return i + 2
		}
	}
	return 0
}

func (rs *Rules) normalizedViolation(z [Features]float32) bool {
	for i, x := range z {
		if !(float64(x) >= rs.Domain.NormMin[i] && float64(x) <= rs.Domain.NormMax[i]) {
			return true
		}
	}
	return false
}

type validator struct {
	prefix string
	issues []string
}

func (v *validator) bad(path, msg string) {
	v.issues = append(v.issues, "/"+strings.TrimSuffix(v.prefix+path, "/")+": "+msg)
}

func (v *validator) err(source string) error {
	first := v.issues
	if len(first) > 3 {
		first = first[:3]
	}
	return fail("rules.invalid", "%s: invalid safety rules (%s)", source, strings.Join(first, "; "))
}

func (v *validator) keys(o map[string]interface{}, path string, allowed []string) {
	for k := range o {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			p := path
			if p != "" {
				p += "/"
			}
			v.bad(p+k, "unknown key")
		}
	}
}

func (v *validator) num(x interface{}, path string, min float64, exclusiveMin bool, max float64) float64 {
	f, ok := x.(float64)
	if !ok || (exclusiveMin && f <= min) || (!exclusiveMin && f < min) || f > max {
		v.bad(path, fmt.Sprintf("expected a number %s %g%s", map[bool]string{true: ">", false: "≥"}[exclusiveMin], min, map[bool]string{true: fmt.Sprintf(" and ≤ %g", max), false: ""}[!math.IsInf(max, 1)]))
		return math.NaN()
	}
	return f
}

func (v *validator) oneOf(x interface{}, path string, allowed ...string) {
	s, _ := x.(string)
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.bad(path, "expected "+strings.Join(allowed, " | "))
}

func (v *validator) box(x interface{}, path string) (lo, hi [Features]float64) {
	o, ok := x.(map[string]interface{})
	if !ok {
		v.bad(path, "expected {min: number[4], max: number[4]}")
		return
	}
	v.keys(o, path, []string{"min", "max"})
	mn, ok1 := o["min"].([]interface{})
	mx, ok2 := o["max"].([]interface{})
	if !ok1 || !ok2 || len(mn) != Features || len(mx) != Features {
		v.bad(path, "expected min and max of length 4")
		return
	}
	for i := 0; i < Features; i++ {
		a, okA := mn[i].(float64)
		b, okB := mx[i].(float64)
		if !okA || !okB || a > b {
			v.bad(fmt.Sprintf("%s/min/%d", path, i), "expected finite min ≤ max")
		}
		lo[i], hi[i] = a, b
	}
	return
}

// parseWhen reads the "when" conditions of conditional_floor and proposal_cap (all present must hold).
func parseWhen(r *Rule, o map[string]interface{}, v *validator) {
	r.UnreachableFrac = math.NaN()
	w, ok := o["when"].(map[string]interface{})
	if !ok {
		v.bad("when", "expected an object")
		return
	}
	v.keys(w, "when", []string{"roles", "unreachable_peers_more_than_fraction", "stepped_down_this_term"})
	sd, hasSD := w["stepped_down_this_term"] // present, even as null, counts as a condition (as in runtime/rules.ts)
	if w["roles"] == nil && w["unreachable_peers_more_than_fraction"] == nil && !hasSD {
		v.bad("when", "expected at least one condition")
	}
	if rs, present := w["roles"]; present {
		list, ok := rs.([]interface{})
		ok = ok && len(list) > 0
		for _, x := range list {
			s, isStr := x.(string)
			ok = ok && isStr && validRole(Role(s))
			r.WhenRoles = append(r.WhenRoles, Role(s))
		}
		if !ok {
			v.bad("when/roles", "expected a non-empty list of follower | pre-candidate | candidate | leader")
		}
	}
	if f, present := w["unreachable_peers_more_than_fraction"]; present {
		r.UnreachableFrac = v.num(f, "when/unreachable_peers_more_than_fraction", 0, false, 1)
	}
	if hasSD {
		if b, ok := sd.(bool); ok {
			r.SteppedDown = &b
		} else {
			v.bad("when/stepped_down_this_term", "expected true or false")
		}
	}
}
