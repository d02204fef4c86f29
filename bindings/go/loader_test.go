package raftns

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func defaultBytes(t *testing.T) (map[string]interface{}, []byte) {
	dir := artifactDir(t)
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := os.ReadFile(filepath.Join(dir, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	return m, wb
}

func clone(m map[string]interface{}) map[string]interface{} {
	b, _ := json.Marshal(m)
	var c map[string]interface{}
	_ = json.Unmarshal(b, &c)
	return c
}

// defaultRulesDoc is rules/default.rules.json as a generic JSON document, for tests that edit a clone of it.
func defaultRulesDoc(t *testing.T) map[string]interface{} {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "rules/default.rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]interface{}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// ruleIndex is the index of the first rule of the kind in doc; the test fails when there is none.
func ruleIndex(t *testing.T, doc map[string]interface{}, kind string) int {
	t.Helper()
	for i, x := range doc["rules"].([]interface{}) {
		if x.(map[string]interface{})["kind"] == kind {
			return i
		}
	}
	t.Fatalf("the default rules have no %s", kind)
	return -1
}

// Every malformed case the TypeScript loader refuses (runtime/artifact.ts) is refused, with an error
// naming the file and the field.
func TestLoaderRefusals(t *testing.T) {
	m, w := defaultBytes(t)
	tensor := func(c map[string]interface{}, name string) map[string]interface{} {
		for _, x := range c["tensors"].([]interface{}) {
			if e := x.(map[string]interface{}); e["name"] == name {
				return e
			}
		}
		t.Fatalf("no tensor %s", name)
		return nil
	}
	nan := make([]byte, len(w))
	copy(nan, w)
	copy(nan[0:4], []byte{0, 0, 0xc0, 0x7f}) // lstm/kernel[0] = NaN, sha256 fixed below
	cases := []struct {
		name, code, mention string
		edit                func(c map[string]interface{}) []byte // returns weights to use (nil = unchanged)
	}{
		{"format", "artifact.format", "format", func(c map[string]interface{}) []byte { c["format"] = "onnx"; return nil }},
		{"format_version", "artifact.version", "format_version", func(c map[string]interface{}) []byte { c["format_version"] = 2.0; return nil }},
		{"architecture missing", "artifact.manifest", "architecture", func(c map[string]interface{}) []byte { delete(c, "architecture"); return nil }},
		{"units", "artifact.architecture", "architecture.units", func(c map[string]interface{}) []byte {
			c["architecture"].(map[string]interface{})["units"] = 32.0
			return nil
		}},
		{"hard sigmoid", "artifact.architecture", "recurrent_activation", func(c map[string]interface{}) []byte {
			c["architecture"].(map[string]interface{})["recurrent_activation"] = "hard_sigmoid"
			return nil
		}},
		{"gate order", "artifact.architecture", "gate_order", func(c map[string]interface{}) []byte {
			c["architecture"].(map[string]interface{})["gate_order"] = "iofg"
			return nil
		}},
		{"state", "artifact.architecture", "state", func(c map[string]interface{}) []byte {
			c["architecture"].(map[string]interface{})["state"] = "stateless"
			return nil
		}},
		{"outputs", "artifact.architecture", "outputs", func(c map[string]interface{}) []byte {
			c["architecture"].(map[string]interface{})["outputs"] = []interface{}{}
			return nil
		}},
		{"parameter_count", "artifact.architecture", "parameter_count", func(c map[string]interface{}) []byte {
			c["architecture"].(map[string]interface{})["parameter_count"] = 1.0
			return nil
		}},
		{"std zero", "artifact.normalization", "normalization", func(c map[string]interface{}) []byte {
			c["normalization"].(map[string]interface{})["std"].([]interface{})[2] = 0.0
			return nil
		}},
		{"mean length", "artifact.normalization", "normalization", func(c map[string]interface{}) []byte {
			c["normalization"].(map[string]interface{})["mean"] = []interface{}{1.0}
			return nil
		}},
		{"clip", "artifact.normalization", "normalization", func(c map[string]interface{}) []byte {
			c["normalization"].(map[string]interface{})["clip"] = 0.0
			return nil
		}},
		{"quantization scheme", "artifact.quantization", "quantization", func(c map[string]interface{}) []byte {
			c["quantization"].(map[string]interface{})["scheme"] = "int4"
			return nil
		}},
		{"zero point", "artifact.quantization", "quantization", func(c map[string]interface{}) []byte {
			c["quantization"].(map[string]interface{})["zero_point"] = 3.0
			return nil
		}},
		{"heartbeat interval negative", "artifact.timing", "heartbeat_interval_ms", func(c map[string]interface{}) []byte { c["heartbeat_interval_ms"] = -100.0; return nil }},
		{"heartbeat interval string", "artifact.timing", "heartbeat_interval_ms", func(c map[string]interface{}) []byte { c["heartbeat_interval_ms"] = "100"; return nil }},
		{"tick zero", "artifact.timing", "tick_ms", func(c map[string]interface{}) []byte { c["tick_ms"] = 0.0; return nil }},
		{"tensors not array", "artifact.manifest", "tensors", func(c map[string]interface{}) []byte { c["tensors"] = "x"; return nil }},
		{"bad tensor entry", "artifact.tensor", "tensors[0]", func(c map[string]interface{}) []byte {
			tensor(c, "lstm/kernel")["shape"] = []interface{}{-4.0, 256.0}
			return nil
		}},
		{"sha hex", "artifact.manifest", "weights_sha256", func(c map[string]interface{}) []byte { c["weights_sha256"] = "abc"; return nil }},
		{"byte length", "artifact.manifest", "weights_byte_length", func(c map[string]interface{}) []byte { c["weights_byte_length"] = 1.5; return nil }},
		{"truncated", "artifact.truncated", "weights.bin", func(c map[string]interface{}) []byte { return w[:len(w)-8] }},
		{"tampered", "artifact.sha256", "weights.bin", func(c map[string]interface{}) []byte {
			b := append([]byte(nil), w...)
			b[100] ^= 1
			return b
		}},
		{"duplicate tensor", "artifact.tensor", "duplicate", func(c map[string]interface{}) []byte {
			ts := c["tensors"].([]interface{})
			c["tensors"] = append(ts, ts[0])
			return nil
		}},
		{"dtype", "artifact.tensor", "dtype", func(c map[string]interface{}) []byte { tensor(c, "head/bias")["dtype"] = "float16"; return nil }},
		{"byte_length vs shape", "artifact.tensor", "byte_length", func(c map[string]interface{}) []byte { tensor(c, "head/bias")["byte_length"] = 4.0; return nil }},
		{"alignment", "artifact.tensor", "aligned", func(c map[string]interface{}) []byte { tensor(c, "head/bias")["offset"] = 90761.0; return nil }},
		{"bounds", "artifact.bounds", "past the end", func(c map[string]interface{}) []byte { tensor(c, "head/bias")["offset"] = 90768.0; return nil }},
		{"missing tensor", "artifact.tensor", "head/kernel.scale", func(c map[string]interface{}) []byte {
			var kept []interface{}
			for _, x := range c["tensors"].([]interface{}) {
				if x.(map[string]interface{})["name"] != "head/kernel.scale" {
					kept = append(kept, x)
				}
			}
			c["tensors"] = kept
			return nil
		}},
		{"wrong shape", "artifact.tensor", "lstm/bias", func(c map[string]interface{}) []byte {
			e := tensor(c, "lstm/bias")
			e["shape"] = []interface{}{128.0, 2.0}
			return nil
		}},
		{"non-finite weight", "artifact.nonfinite", "not finite", func(c map[string]interface{}) []byte {
			c["weights_sha256"] = sha256Hex(nan)
			return nan
		}},
	}
	for _, tc := range cases {
		c := clone(m)
		weights := tc.edit(c)
		if weights == nil {
			weights = w
		}
		mb, _ := json.Marshal(c)
		_, err := FromBytes(mb, weights)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: accepted (err %v)", tc.name, err)
			continue
		}
		if e.Code != tc.code || !strings.Contains(e.Error(), tc.mention) {
			t.Errorf("%s: got %s %q, want code %s mentioning %q", tc.name, e.Code, e.Error(), tc.code, tc.mention)
		}
	}
	if _, err := FromBytes([]byte("{"), w); err == nil {
		t.Error("invalid JSON accepted")
	}
	if _, err := FromBytes([]byte(`[1]`), w); err == nil {
		t.Error("a JSON array accepted as a manifest")
	}
}

// The timing assumptions are read when present, and absent or null means unknown (artifacts before 2.2.0).
func TestLoaderReadsTimingAssumptions(t *testing.T) {
	m, w := defaultBytes(t)
	for _, hb := range []interface{}{100.0, nil, "absent"} {
		c := clone(m)
		if hb == "absent" {
			delete(c, "heartbeat_interval_ms")
		} else {
			c["heartbeat_interval_ms"] = hb
		}
		mb, _ := json.Marshal(c)
		a, err := FromBytes(mb, w)
		if err != nil {
			t.Fatalf("heartbeat_interval_ms %v: %v", hb, err)
		}
		want := 0.0
		if hb == 100.0 {
			want = 100
		}
		if a.HeartbeatIntervalMs != want || a.TickMs != 10 {
			t.Errorf("heartbeat_interval_ms %v: read %g (tick %g), want %g (tick 10)", hb, a.HeartbeatIntervalMs, a.TickMs, want)
		}
	}
}

// LoadDir also checks the sha256 of every file listed under "files" (golden.json, ARTIFACT.md, model/...).
func TestLoadDirChecksListedFiles(t *testing.T) {
	src := artifactDir(t)
	dir := t.TempDir()
	for _, f := range []string{"manifest.json", "weights.bin", "golden.json", "ARTIFACT.md", "model/model.json", "model/weights.bin"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadDir(dir); err != nil {
		t.Fatalf("a faithful copy is refused: %v", err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "golden.json"), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(" ")
	_ = f.Close()
	_, err := LoadDir(dir)
	var e *Error
	if !errors.As(err, &e) || e.Code != "artifact.sha256" || !strings.Contains(e.Msg, "golden.json") {
		t.Fatalf("a modified golden.json is not refused: %v", err)
	}
	_ = os.Remove(filepath.Join(dir, "ARTIFACT.md"))
	if _, err := LoadDir(dir); err == nil {
		t.Fatal("a missing listed file is not refused")
	}
}

// The rules parser refuses what runtime/rules-format.ts refuses: unknown kinds and keys, bad numbers, a floor
// above the ceiling, a fallback outside the bounds, no input_domain.
func TestRulesRefusals(t *testing.T) {
	base := defaultRulesDoc(t)
	rule := func(c map[string]interface{}, kind string) map[string]interface{} {
		for _, x := range c["rules"].([]interface{}) {
			if r := x.(map[string]interface{}); r["kind"] == kind {
				return r
			}
		}
		return nil
	}
	cases := map[string]func(c map[string]interface{}){
		"unknown kind":       func(c map[string]interface{}) { rule(c, "ceiling")["kind"] = "cooldown" },
		"unknown key":        func(c map[string]interface{}) { rule(c, "ceiling")["max"] = 3.0 },
		"negative k":         func(c map[string]interface{}) { rule(c, "timing_floor")["k"] = -1.0 },
		"fractional window":  func(c map[string]interface{}) { rule(c, "timing_floor")["rtt_window_ticks"] = 2.5 },
		"candidate rtt":      func(c map[string]interface{}) { rule(c, "timing_floor")["candidate_rtt"] = "median" },
		"candidate rtt type": func(c map[string]interface{}) { rule(c, "timing_floor")["candidate_rtt"] = 1.0 },
		"floor over ceiling": func(c map[string]interface{}) { rule(c, "ceiling")["max_ms"] = 40.0 },
		"fallback outside":   func(c map[string]interface{}) { c["static_fallback_ms"] = 20000.0 },
		"bad role": func(c map[string]interface{}) {
			rule(c, "conditional_floor")["when"] = map[string]interface{}{"roles": []interface{}{"observer"}}
		},
		"empty when":      func(c map[string]interface{}) { rule(c, "conditional_floor")["when"] = map[string]interface{}{} },
		"duplicate id":    func(c map[string]interface{}) { rule(c, "ceiling")["id"] = "raft-timing-floor" },
		"upper-case id":   func(c map[string]interface{}) { rule(c, "ceiling")["id"] = "Ceiling" },
		"format":          func(c map[string]interface{}) { c["format"] = "rules" },
		"no input domain": func(c map[string]interface{}) { rule(c, "input_domain")["kind"] = "ceiling" },
		"raw domain inverted": func(c map[string]interface{}) {
			rule(c, "input_domain")["raw"].(map[string]interface{})["rpc_retries"] = []interface{}{5.0, 1.0}
		},
	}
	for name, edit := range cases {
		c := clone(base)
		edit(c)
		mb, _ := json.Marshal(c)
		if _, err := ParseRules(mb, "rules.json"); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "rules.json") {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
	if _, err := LoadRules(repoPath(t, "rules/default.rules.json")); err != nil {
		t.Fatal(err)
	}
}

// when.stepped_down_this_term takes true or false, alone or beside the other conditions; anything else is
// refused at its path with the message of runtime/rules-format.ts.
func TestRulesSteppedDownCondition(t *testing.T) {
	base := defaultRulesDoc(t)
	capIndex := ruleIndex(t, base, "proposal_cap")
	parse := func(kind string, when map[string]interface{}) (*Rules, error) {
		c := clone(base)
		r := c["rules"].([]interface{})[capIndex].(map[string]interface{})
		if kind == "conditional_floor" {
			delete(r, "max_ms")
			r["min_ms"] = 150.0
		}
		r["kind"], r["when"] = kind, when
		mb, _ := json.Marshal(c)
		return ParseRules(mb, "rules.json")
	}
	for _, kind := range []string{"proposal_cap", "conditional_floor"} {
		for _, want := range []bool{true, false} {
			for _, when := range []map[string]interface{}{
				{"stepped_down_this_term": want},
				{"stepped_down_this_term": want, "roles": []interface{}{"follower"}},
			} {
				rs, err := parse(kind, when)
				if err != nil {
					t.Fatalf("%s when %v: refused: %v", kind, when, err)
				}
				if got := rs.List[capIndex].SteppedDown; got == nil || *got != want {
					t.Fatalf("%s when %v: SteppedDown = %v, want %v", kind, when, got, want)
				}
			}
		}
		for _, bad := range []interface{}{"true", 1.0, 0.0, nil, []interface{}{true}, map[string]interface{}{}} {
			_, err := parse(kind, map[string]interface{}{"stepped_down_this_term": bad})
			want := fmt.Sprintf("/rules/%d/when/stepped_down_this_term: expected true or false", capIndex)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s stepped_down_this_term %#v: error %v, want it to contain %q", kind, bad, err, want)
			}
			if err != nil && strings.Contains(err.Error(), "expected at least one condition") {
				t.Errorf("%s stepped_down_this_term %#v: a present key is a condition, yet: %v", kind, bad, err)
			}
		}
	}
	if rs, err := LoadRules(repoPath(t, "rules/default.rules.json")); err != nil {
		t.Fatal(err)
	} else if r := rs.List[capIndex]; r.SteppedDown != nil {
		t.Fatalf("%s has no stepped_down_this_term, yet SteppedDown = %v", r.ID, *r.SteppedDown)
	}
}

// timing_floor.candidate_rtt is optional, "worst" (the default) or "smoothed"; any other value is refused at
// its path with the message of runtime/rules-format.ts, and only "smoothed" sets CandidateSmoothed.
func TestRulesCandidateRTT(t *testing.T) {
	base := defaultRulesDoc(t)
	floorIndex := ruleIndex(t, base, "timing_floor")
	parse := func(value interface{}, present bool) (*Rules, error) {
		c := clone(base)
		r := c["rules"].([]interface{})[floorIndex].(map[string]interface{})
		delete(r, "candidate_rtt")
		if present {
			r["candidate_rtt"] = value
		}
		mb, _ := json.Marshal(c)
		return ParseRules(mb, "rules.json")
	}
	for _, c := range []struct {
		value    interface{}
		present  bool
		smoothed bool
	}{{nil, false, false}, {"worst", true, false}, {"smoothed", true, true}} {
		rs, err := parse(c.value, c.present)
		if err != nil {
			t.Fatalf("candidate_rtt %#v (present %v): refused: %v", c.value, c.present, err)
		}
		if got := rs.List[floorIndex].CandidateSmoothed; got != c.smoothed {
			t.Fatalf("candidate_rtt %#v (present %v): CandidateSmoothed = %v, want %v", c.value, c.present, got, c.smoothed)
		}
	}
	// null is a present value, not an absent key (runtime/rules-format.ts tests !== undefined).
	for _, bad := range []interface{}{"median", "Smoothed", "", nil, 1.0, true, []interface{}{"smoothed"}} {
		_, err := parse(bad, true)
		want := fmt.Sprintf(`/rules/%d/candidate_rtt: expected "worst" or "smoothed"`, floorIndex)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("candidate_rtt %#v: error %v, want it to contain %q", bad, err, want)
		}
	}
}

// randomization_spread: absent means 1 (etcd's U[1, 2)); a value in [0, 4] becomes the provider's spread unless
// Options.Spread overrides it; anything else is refused at its path, as runtime/rules-format.ts refuses it.
func TestRulesRandomizationSpread(t *testing.T) {
	a, _ := loadDefault(t)
	base := defaultRulesDoc(t)
	parse := func(value interface{}, present bool) (*Rules, error) {
		c := clone(base)
		delete(c, "randomization_spread")
		if present {
			c["randomization_spread"] = value
		}
		mb, _ := json.Marshal(c)
		return ParseRules(mb, "rules.json")
	}
	if rs, err := parse(nil, false); err != nil || rs.RandomizationSpread != 1 {
		t.Fatalf("absent randomization_spread: %v, %v; want 1", rs, err)
	}
	narrow, err := parse(0.25, true)
	if err != nil || narrow.RandomizationSpread != 0.25 {
		t.Fatalf("randomization_spread 0.25: %v, %v", narrow, err)
	}
	factor := func(spread *float64, seed int64) float64 {
		p, err := NewProvider(Options{Artifact: a, Rules: narrow, Spread: spread, Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		p.Observe(Observation{NowMs: 10, TickMs: 10, Role: Follower, Term: 1, LeaderID: "n1", HeartbeatReceived: true,
			CPUIdlePct: 80, ClusterSize: 5, PeersReachable: 4, HeartbeatIntervalMs: 100})
		return p.Explain().RandomFactor
	}
	one := 1.0
	for seed := int64(1); seed <= 8; seed++ {
		f, wide := factor(nil, seed), factor(&one, seed)
		if !(f >= 1 && f < 1.25) || math.Abs((f-1)-0.25*(wide-1)) > 1e-12 {
			t.Fatalf("seed %d: factor %g from the rules' 0.25 (with Spread 1: %g); want 1 + 0.25·u of the same draw", seed, f, wide)
		}
	}
	for _, bad := range []interface{}{-0.5, 4.5, "1", nil, true} {
		if _, err := parse(bad, true); err == nil || !strings.Contains(err.Error(), "/randomization_spread: expected a number") {
			t.Errorf("randomization_spread %#v: error %v, want one naming /randomization_spread", bad, err)
		}
	}
}
