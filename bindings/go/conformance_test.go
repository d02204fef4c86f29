package raftns

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// The conformance vectors of docs/ARTIFACT.md §9 and docs/RULES.md §7, committed beside (never inside) the
// artifact folder. RAFT_NS_CONFORMANCE names another folder (a new model version).
func conformanceDir(t testing.TB) string {
	if d := os.Getenv("RAFT_NS_CONFORMANCE"); d != "" {
		return d
	}
	return repoPath(t, "conformance/"+DefaultModel)
}

type conformanceFile struct {
	Artifact struct {
		Name, Version string
		WeightsSHA256 string `json:"weights_sha256"`
	} `json:"artifact"`
	Rules struct {
		Name, SHA256 string
	} `json:"rules"`
	Tolerance struct {
		X       float64 `json:"x"`
		Outputs float64 `json:"outputs"`
	} `json:"tolerance"`
	Vectors []struct {
		Name     string          `json:"name"`
		Rows     [][]interface{} `json:"rows"`
		X        [][4]float64    `json:"x"`
		Provider struct {
			Seed          int64   `json:"seed"`
			Spread        float64 `json:"spread"`
			LostThreshold float64 `json:"lost_threshold"`
			Precision     string  `json:"precision"`
		} `json:"provider"`
		Expected struct {
			Float32   [][2]float64 `json:"float32"`
			Int8      [][2]float64 `json:"int8"`
			TimeoutMs []float64    `json:"timeout_ms"`
			Fallback  []*string    `json:"fallback"`
		} `json:"expected"`
	} `json:"vectors"`
}

func readConformance(t testing.TB, name string) *conformanceFile {
	b, err := os.ReadFile(conformanceDir(t) + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var f conformanceFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &f
}

// ObservationFromRow reads one row in the column order of the vectors. Fields of the wrong type become
// values the provider must refuse (a role it does not know, a NaN).
func observationFromRow(r []interface{}) Observation {
	num := func(i int) float64 {
		if f, ok := r[i].(float64); ok {
			return f
		}
		return math.NaN()
	}
	o := Observation{NowMs: num(0), TickMs: num(1), LogReplicationGap: num(6), RPCRetries: num(7), CPUIdlePct: num(8),
		HeartbeatIntervalMs: num(12), ClusterSize: int(num(10)), PeersReachable: int(num(11)), Term: uint64(num(3))}
	o.Role = Role(fmt.Sprint(r[2]))
	if s, ok := r[4].(string); ok {
		o.LeaderID = s
	}
	if f, ok := r[5].(float64); ok {
		o.HeartbeatLatencyMs, o.HasLatency = f, true
	}
	o.HeartbeatReceived, _ = r[9].(bool)
	// leader_resigned came later: a row of 13 (a file written before it) reads as false.
	if len(r) > 13 {
		o.LeaderResigned, _ = r[13].(bool)
	}
	return o
}

func sampleOf(o Observation) Sample {
	return Sample{NowMs: o.NowMs, HeartbeatReceived: o.HeartbeatReceived, Term: o.Term, LeaderID: o.LeaderID,
		HeartbeatLatencyMs: o.HeartbeatLatencyMs, HasLatency: o.HasLatency, LogReplicationGap: o.LogReplicationGap,
		RPCRetries: o.RPCRetries, CPUIdlePct: o.CPUIdlePct}
}

func TestConformanceSequences(t *testing.T) {
	a, _ := loadDefault(t)
	f := readConformance(t, "sequences.json")
	if f.Artifact.WeightsSHA256 != a.WeightsSHA256 {
		t.Fatalf("sequences.json is for weights %s, the artifact has %s", f.Artifact.WeightsSHA256, a.WeightsSHA256)
	}
	worst := map[Precision]float64{}
	for _, v := range f.Vectors {
		for _, prec := range []Precision{Float32, Int8} {
			params, _ := a.Params(prec)
			want := v.Expected.Float32
			if prec == Int8 {
				want = v.Expected.Int8
			}
			var fs FeatureState
			var st State
			for i, r := range v.Rows {
				o := observationFromRow(r)
				s := sampleOf(o)
				z := a.Normalization.Normalize(fs.Raw(&s))
				for k := range z {
					if z[k] != float32(v.X[i][k]) {
						t.Fatalf("%s tick %d: x[%d] = %.9g, vector %.9g (features must match as binary32 exactly)", v.Name, i, k, z[k], v.X[i][k])
					}
				}
				q, l := params.Step(&st, z)
				d := math.Max(math.Abs(q-want[i][0]), math.Abs(l-want[i][1]))
				worst[prec] = math.Max(worst[prec], d)
				if !(d <= f.Tolerance.Outputs) {
					t.Fatalf("%s %s tick %d: (q, ℓ) = (%.15g, %.15g), vector (%.15g, %.15g)", v.Name, prec, i, q, l, want[i][0], want[i][1])
				}
			}
		}
	}
	t.Logf("%d sequences: max |Δ| float32 %.3g, int8 %.3g (tolerance %g)", len(f.Vectors), worst[Float32], worst[Int8], f.Tolerance.Outputs)
}

func TestConformanceGuardrails(t *testing.T) {
	a, rules := loadDefault(t)
	f := readConformance(t, "guardrails.json")
	ticks := 0
	for _, v := range f.Vectors {
		seed, spread := v.Provider.Seed, v.Provider.Spread
		p, err := NewProvider(Options{Artifact: a, Precision: Precision(v.Provider.Precision), Rules: rules,
			LostThreshold: v.Provider.LostThreshold, Spread: &spread, Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range v.Rows {
			p.Observe(observationFromRow(r))
			got, reason := p.ElectionTimeout(), p.Explain().FallbackReason
			wantReason := ""
			if v.Expected.Fallback[i] != nil {
				wantReason = *v.Expected.Fallback[i]
			}
			if got != v.Expected.TimeoutMs[i] || reason != wantReason {
				t.Fatalf("%s tick %d: timeout %g ms (fallback %q), vector %g ms (fallback %q)", v.Name, i, got, reason, v.Expected.TimeoutMs[i], wantReason)
			}
			ticks++
		}
	}
	t.Logf("%d guardrail streams, %d ticks: every armed timeout equal", len(f.Vectors), ticks)
}
