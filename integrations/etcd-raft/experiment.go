package etcdraft

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"raftns"
)

// DefaultArtifact is the committed default model the harness loads (relative to the repository root) unless
// RAFT_NS_ARTIFACT or --artifact names another folder.
const DefaultArtifact = "artifacts/raft-ns-default/2.12.0"

// ArtifactDir is RAFT_NS_ARTIFACT when set, else root/DefaultArtifact.
func ArtifactDir(root string) string {
	if d := os.Getenv("RAFT_NS_ARTIFACT"); d != "" {
		return d
	}
	return filepath.Join(root, DefaultArtifact)
}

// PolicySpec names one column of the comparison.
type PolicySpec struct {
	Name              string
	StockElectionTick int
	NewPolicy         func(id uint64, seed int64) Policy
	// Oracle marks the physical limit: the capture column's 1.
	Oracle bool
}

// StandardPolicies: stock etcd (ElectionTick 100 and 50 at 10 ms ticks: 1–2 s and 0.5–1 s), the two
// adaptive baselines, the raft-ns provider and the oracle (the physical limit, oracle.go), the last four
// through the Driver recipe on network n with lease leaseMs.
func StandardPolicies(a *raftns.Artifact, rules *raftns.Rules, n Network, leaseMs float64) []PolicySpec {
	return []PolicySpec{
		{Name: "etcd ElectionTick=100", StockElectionTick: 100},
		{Name: "etcd ElectionTick=50", StockElectionTick: 50},
		{Name: "Jacobson/Karels × U[1,2)", NewPolicy: func(_ uint64, seed int64) Policy { return NewJacobsonKarels(seed) }},
		{Name: "φ-accrual × U[1,2)", NewPolicy: func(_ uint64, seed int64) Policy { return NewPhiAccrual(seed) }},
		{Name: fmt.Sprintf("raft-ns %s %s", a.Name, a.Version), NewPolicy: NewProviderFactory(a, rules)},
		{Name: OracleName, NewPolicy: NewOracleFactory(leaseMs, n.MaxMs), Oracle: true},
	}
}

// OracleName is the oracle's row in the tables.
const OracleName = "oracle (perfect detector)"

// LeaseMsFor is the lease L the recipe uses on a network: the heartbeat interval + the largest regular
// round trip + a tick, so a follower stays in its lease between two heartbeats. Not more: a policy's
// timeout below L is lifted to L, and lifted timeouts lose their randomization (every follower then
// campaigns when the lease ends, together, and splits the vote).
func LeaseMsFor(n Network, heartbeatMs, tickMs float64) float64 {
	return heartbeatMs + 2*n.MaxMs + tickMs
}

// Row is one policy's figures over all trials.
type Row struct {
	Policy               string
	Oracle               bool
	Trials, Recovered    int
	MeanMs, P50Ms, P90Ms float64
	UnnecessaryTerms     int
	SafetyProblems       int
	// Capture of the mean failover: (first row − this) / (first row − oracle); NaN without an oracle row.
	Capture float64
}

// Compare runs trials seeds [seed, seed+trials) for every policy on one network.
func Compare(policies []PolicySpec, base Config, trials int) []Row {
	var rows []Row
	for _, p := range policies {
		row := Row{Policy: p.Name, Oracle: p.Oracle, Trials: trials}
		var fo []float64
		for i := 0; i < trials; i++ {
			cfg := base
			cfg.Seed = base.Seed + int64(i)
			cfg.StockElectionTick = p.StockElectionTick
			cfg.NewPolicy = p.NewPolicy
			r := RunTrial(cfg)
			if !math.IsNaN(r.FailoverMs) {
				row.Recovered++
				fo = append(fo, r.FailoverMs)
			}
			row.UnnecessaryTerms += r.UnnecessaryTerms
			row.SafetyProblems += len(r.SafetyViolations)
		}
		row.MeanMs, row.P50Ms, row.P90Ms = stats(fo)
		rows = append(rows, row)
	}
	fillCapture(rows)
	return rows
}

// fillCapture sets each row's failover capture against the first row (the baseline) and the oracle row.
func fillCapture(rows []Row) {
	oracle := math.NaN()
	for _, r := range rows {
		if r.Oracle {
			oracle = r.MeanMs
		}
	}
	for i := range rows {
		rows[i].Capture = math.NaN()
		if !math.IsNaN(oracle) && rows[0].MeanMs > oracle {
			rows[i].Capture = (rows[0].MeanMs - rows[i].MeanMs) / (rows[0].MeanMs - oracle)
		}
	}
}

func stats(v []float64) (mean, p50, p90 float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	for _, x := range s {
		mean += x
	}
	q := func(p float64) float64 { return s[int(math.Ceil(p*float64(len(s))))-1] }
	return mean / float64(len(s)), q(0.5), q(0.9)
}

// PrintTable writes the rows as a Markdown table.
func PrintTable(w io.Writer, title string, rows []Row) {
	fmt.Fprintf(w, "\n%s\n\n| policy | recovered | failover mean ms | p50 ms | p90 ms | capture | unnecessary term changes | safety problems |\n|---|---|---|---|---|---|---|---|\n", title)
	for _, r := range rows {
		capture := "—"
		if !math.IsNaN(r.Capture) {
			capture = fmt.Sprintf("%.2f", r.Capture)
		}
		fmt.Fprintf(w, "| %s | %d/%d | %.0f | %.0f | %.0f | %s | %d | %d |\n", r.Policy, r.Recovered, r.Trials, r.MeanMs, r.P50Ms, r.P90Ms, capture, r.UnnecessaryTerms, r.SafetyProblems)
	}
	fmt.Fprintf(w, "\ncapture = (%s − policy) / (%s − oracle) on the mean failover: 0 is the first row, 1 the oracle.\n", rows[0].Policy, rows[0].Policy)
}
