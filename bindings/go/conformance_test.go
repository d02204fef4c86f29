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
	Columns   []string `json:"columns"`
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

// observationColumns are the row columns the vectors may name (docs/ARTIFACT.md §9), in the generator's order.
// leader_resigned came last: a file written before it has the first 13 only, and its absence reads as false.
var observationColumns = [...]string{"now_ms", "tick_ms", "role", "term", "leader_id", "heartbeat_latency_ms",
	"log_replication_gap", "rpc_retries", "cpu_idle_pct", "heartbeat_received", "cluster_size", "peers_reachable",
	"heartbeat_interval_ms", "leader_resigned"}

const (
	colNowMs = iota
	colTickMs
	colRole
	colTerm
	colLeaderID
	colHeartbeatLatencyMs
	colLogReplicationGap
	colRPCRetries
	colCPUIdlePct
	colHeartbeatReceived
	colClusterSize
	colPeersReachable
	colHeartbeatIntervalMs
	colLeaderResigned
	requiredColumns = colLeaderResigned // every column before leader_resigned must be present
)

// rowLayout is where each of observationColumns sits in a file's rows: at[c] is the row index of column c,
// −1 when the file lacks it (leader_resigned only); width is the length of every row.
type rowLayout struct {
	at    [len(observationColumns)]int
	width int
}

// layoutOf maps a file's "columns" by name: each known column at most once, the first 13 all present,
// leader_resigned optional, nothing else (a column this reader does not know could change what a row means).
func layoutOf(columns []string) (rowLayout, error) {
	l := rowLayout{width: len(columns)}
	for c := range l.at {
		l.at[c] = -1
	}
	for i, name := range columns {
		c := -1
		for k, known := range observationColumns {
			if name == known {
				c = k
			}
		}
		switch {
		case c < 0:
			return l, fmt.Errorf("column %d %q is not one of %v", i, name, observationColumns)
		case l.at[c] >= 0:
			return l, fmt.Errorf("column %q appears twice (at %d and %d)", name, l.at[c], i)
		}
		l.at[c] = i
	}
	for c := 0; c < requiredColumns; c++ {
		if l.at[c] < 0 {
			return l, fmt.Errorf("column %q is missing (columns %v)", observationColumns[c], columns)
		}
	}
	return l, nil
}

// observation reads one row by the file's columns. Fields of the wrong type become values the provider must
// refuse (a role it does not know, a NaN); a leader_resigned that is absent or not true reads as false, as
// the TypeScript reader takes it (r[13] === true).
func (l *rowLayout) observation(r []interface{}) (Observation, error) {
	if len(r) != l.width {
		return Observation{}, fmt.Errorf("a row of %d values, the file has %d columns", len(r), l.width)
	}
	val := func(c int) interface{} { return r[l.at[c]] }
	num := func(c int) float64 {
		if f, ok := val(c).(float64); ok {
			return f
		}
		return math.NaN()
	}
	o := Observation{NowMs: num(colNowMs), TickMs: num(colTickMs), LogReplicationGap: num(colLogReplicationGap),
		RPCRetries: num(colRPCRetries), CPUIdlePct: num(colCPUIdlePct), HeartbeatIntervalMs: num(colHeartbeatIntervalMs),
		ClusterSize: int(num(colClusterSize)), PeersReachable: int(num(colPeersReachable)), Term: uint64(num(colTerm))}
	o.Role = Role(fmt.Sprint(val(colRole)))
	if s, ok := val(colLeaderID).(string); ok {
		o.LeaderID = s
	}
	if f, ok := val(colHeartbeatLatencyMs).(float64); ok {
		o.HeartbeatLatencyMs, o.HasLatency = f, true
	}
	o.HeartbeatReceived, _ = val(colHeartbeatReceived).(bool)
	if l.at[colLeaderResigned] >= 0 {
		o.LeaderResigned, _ = val(colLeaderResigned).(bool)
	}
	return o, nil
}

// observations reads every row of a vector, failing the test on a row that does not fit the columns.
func (f *conformanceFile) observations(t testing.TB, vector string, rows [][]interface{}) []Observation {
	t.Helper()
	l, err := layoutOf(f.Columns)
	if err != nil {
		t.Fatalf("%s: %v", vector, err)
	}
	out := make([]Observation, len(rows))
	for i, r := range rows {
		if out[i], err = l.observation(r); err != nil {
			t.Fatalf("%s row %d: %v", vector, i, err)
		}
	}
	return out
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
			for i, o := range f.observations(t, v.Name, v.Rows) {
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
		for i, o := range f.observations(t, v.Name, v.Rows) {
			p.Observe(o)
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

// Rows are read by the file's columns: a file written before leader_resigned (13 columns) reads it as false,
// a 14th column is read when true (and only when true, as the TypeScript reader does), the order is the
// file's, and an unknown, repeated or missing column or a row of another width is refused.
func TestConformanceColumns(t *testing.T) {
	old := observationColumns[:requiredColumns]
	row := []interface{}{100.0, 10.0, "follower", 7.0, "n1", 0.4, 0.0, 0.0, 90.0, true, 5.0, 4.0, 100.0}
	want := Observation{NowMs: 100, TickMs: 10, Role: Follower, Term: 7, LeaderID: "n1", HeartbeatLatencyMs: 0.4,
		HasLatency: true, CPUIdlePct: 90, HeartbeatReceived: true, ClusterSize: 5, PeersReachable: 4, HeartbeatIntervalMs: 100}
	read := func(columns []string, r []interface{}) Observation {
		t.Helper()
		l, err := layoutOf(columns)
		if err != nil {
			t.Fatal(err)
		}
		o, err := l.observation(r)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if got := read(old, row); got != want {
		t.Fatalf("13 columns: %+v, want %+v", got, want)
	}
	all := observationColumns[:]
	for _, c := range []struct {
		v    interface{}
		want bool
	}{{true, true}, {false, false}, {nil, false}, {1.0, false}, {"true", false}} {
		w := want
		w.LeaderResigned = c.want
		if got := read(all, append(append([]interface{}{}, row...), c.v)); got != w {
			t.Fatalf("14 columns, leader_resigned %v: %+v, want %+v", c.v, got, w)
		}
	}
	// The file's order, not the generator's: leader_resigned first, now_ms and tick_ms swapped.
	reordered := append([]string{"leader_resigned", "tick_ms", "now_ms"}, old[2:]...)
	w := want
	w.LeaderResigned = true
	if got := read(reordered, append([]interface{}{true, 10.0, 100.0}, row[2:]...)); got != w {
		t.Fatalf("reordered columns: %+v, want %+v", got, w)
	}
	for _, bad := range [][]string{
		append(append([]string{}, all...), "leader_term"),
		append(append([]string{}, old...), "now_ms"),
		old[1:],
	} {
		if _, err := layoutOf(bad); err == nil {
			t.Fatalf("columns %v: accepted", bad)
		}
	}
	l, _ := layoutOf(all)
	if _, err := l.observation(row); err == nil {
		t.Fatal("a row of 13 values under 14 columns: accepted")
	}
}
