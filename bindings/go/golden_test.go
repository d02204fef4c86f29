package raftns

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// repoPath finds a file of the repository from bindings/go (tests run in the package folder; in GOPATH
// mode through a symlink, so RAFT_NS_ROOT may name the checkout).
func repoPath(t testing.TB, rel string) string {
	t.Helper()
	if root := os.Getenv("RAFT_NS_ROOT"); root != "" {
		return filepath.Join(root, rel)
	}
	return filepath.Join("..", "..", rel)
}

// DefaultModel is the model the tests load unless RAFT_NS_ARTIFACT names another artifact folder (npm test
// passes the default model of pipeline/run, so a new version needs no edit here).
const DefaultModel = "raft-ns-default/2.12.0"

func artifactDir(t testing.TB) string {
	if d := os.Getenv("RAFT_NS_ARTIFACT"); d != "" {
		return d
	}
	return repoPath(t, "artifacts/"+DefaultModel)
}

func loadDefault(t testing.TB) (*Artifact, *Rules) {
	t.Helper()
	a, err := LoadDir(artifactDir(t))
	if err != nil {
		t.Fatal(err)
	}
	r, err := LoadRules(repoPath(t, "rules/default.rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

// golden.json of the artifact: 4-column rows are ticks with a heartbeat from one leader (ARTIFACT.md §8).
func TestGoldenJSON(t *testing.T) {
	a, _ := loadDefault(t)
	b, err := os.ReadFile(filepath.Join(artifactDir(t), "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Tolerance float64 `json:"tolerance"`
		Sequences []struct {
			Name     string                  `json:"name"`
			Rows     [][4]*float64           `json:"rows"`
			X        [][4]float64            `json:"x"`
			Expected map[string][][2]float64 `json:"expected"`
		} `json:"sequences"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	worst := map[Precision]float64{}
	for _, seq := range g.Sequences {
		for _, prec := range []Precision{Float32, Int8} {
			params, _ := a.Params(prec)
			var fs FeatureState
			var st State
			for i, r := range seq.Rows {
				s := Sample{NowMs: float64(i), HeartbeatReceived: true, LogReplicationGap: *r[1], RPCRetries: *r[2], CPUIdlePct: *r[3]}
				if r[0] != nil {
					s.HeartbeatLatencyMs, s.HasLatency = *r[0], true
				}
				z := a.Normalization.Normalize(fs.Raw(&s))
				for k := range z {
					if float64(z[k]) != float64(float32(seq.X[i][k])) {
						t.Fatalf("%s tick %d: x[%d] = %v, golden %v", seq.Name, i, k, z[k], seq.X[i][k])
					}
				}
				q, l := params.Step(&st, z)
				want := seq.Expected[string(prec)][i]
				worst[prec] = math.Max(worst[prec], math.Max(math.Abs(q-want[0]), math.Abs(l-want[1])))
			}
		}
	}
	for prec, w := range worst {
		if !(w <= g.Tolerance) {
			t.Errorf("%s: max |Δ| %g > tolerance %g", prec, w, g.Tolerance)
		}
		t.Logf("%s: max |Δ| vs golden.json %.3g", prec, w)
	}
}
