/**
 * From run results to the report's numbers: per scenario and pooled estimates with 95% CIs over seeds,
 * the Pareto sweep points, and the seed system's claims. Pure functions of the results.
 *
 * Pooling: for each seed, a policy's metric is averaged over the suite's scenarios (a run with nothing to
 * measure, e.g. no failover, is skipped); the CI is then over those per-seed means. Seeds are the
 * independent replicates; scenarios are the fixed design.
 *
 * Capture: the share of the achievable improvement a policy realizes, (static etcd − policy) / (static etcd −
 * oracle), on the pooled (or per-scenario) means: 0 is static etcd, 1 the oracle, negative worse than etcd,
 * above 1 better than the oracle (possible: the oracle is not a strict bound, docs/EVALUATION.md).
 */
import { estimate, type Estimate } from '../report/stats.js';
import { METRIC_KEYS, type JobResult, type MetricKey } from './harness.js';
import { BASELINE_POLICY_ID, ORACLE_FAMILY, ORACLE_POLICY_ID } from './policies.js';

export type Estimates = Record<MetricKey, Estimate>;

/** The metrics capture is reported on: what a timeout policy is meant to improve. */
export const CAPTURE_KEYS = ['commit_latency_mean_ms', 'commit_latency_downtime_mean_ms', 'failover_ms', 'leaderless_s_per_hour'] as const;
export type CaptureKey = (typeof CAPTURE_KEYS)[number];
export type Capture = Record<CaptureKey, number | null>;

/** Below this share of static etcd's value the oracle's gain is noise, and a ratio over it says nothing. */
export const CAPTURE_MIN_GAIN = 0.01;

/**
 * A count's excess over another policy's on the same runs: Σ (mine − theirs) over the runs both made, paired
 * by (scenario, seed), and the sum's standard error (√n × the sample SD of the per-run differences; NaN
 * under 2 runs). A count summed over runs has no per-seed CI of its own; this is its noise.
 */
export interface PairedSum { diff: number; se: number; runs: number }

/** The unnecessary elections of `rs` beyond those of `other` on the same runs (docs/EVALUATION.md "The election count's noise"). */
export function unnecessaryExcess(rs: readonly JobResult[], other: readonly JobResult[]): PairedSum {
  const count = (r: JobResult): number => (Number.isFinite(r.metrics.unnecessary_elections) ? r.metrics.unnecessary_elections : 0);
  const theirs = new Map(other.map((r) => [`${r.scenario}\u0000${r.seed}`, count(r)]));
  const d: number[] = [];
  for (const r of rs) {
    const o = theirs.get(`${r.scenario}\u0000${r.seed}`);
    if (o !== undefined) d.push(count(r) - o);
  }
  const n = d.length;
  const diff = d.reduce((a, x) => a + x, 0);
  if (n < 2) return { diff, se: Number.NaN, runs: n };
  const mean = diff / n;
  const sd = Math.sqrt(d.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { diff, se: Math.sqrt(n) * sd, runs: n };
}

/** The same excess in total and over the jitter scenarios' runs alone: what goal 2 and the tune table report. */
export function unnecessaryExcessSplit(rs: readonly JobResult[], other: readonly JobResult[], jitter: ReadonlySet<string>): { total: PairedSum; jitter: PairedSum } {
  const inJitter = (r: JobResult): boolean => jitter.has(r.scenario);
  return { total: unnecessaryExcess(rs, other), jitter: unnecessaryExcess(rs.filter(inJitter), other.filter(inJitter)) };
}

/** "−1 ± 21": a paired excess with its 95% interval (1.96 standard errors, the normal approximation over runs). */
export function fmtExcess(p: PairedSum): string {
  return `${p.diff > 0 ? '+' : p.diff < 0 ? '−' : '±'}${Math.abs(p.diff)}${Number.isFinite(p.se) ? ` ± ${(1.96 * p.se).toFixed(0)}` : ''}`;
}

export interface ScenarioRow {
  scenario: string;
  tags: string[];
  policy: string;
  estimates: Estimates;
  capture: Capture;
  runs: Array<{ seed: number } & Record<MetricKey, number | null>>;
}

export interface PooledRow {
  policy: string;
  estimates: Estimates;
  capture: Capture;
  safety_violations_total: number;
  runs: number;
}

/** Per (scenario, policy) estimates over seeds, in the given scenario and policy orders. */
export function perScenario(results: JobResult[], scenarios: Array<{ name: string; tags: string[] }>, policies: string[]): ScenarioRow[] {
  const rows: ScenarioRow[] = [];
  for (const s of scenarios) {
    for (const p of policies) {
      const rs = results.filter((r) => r.scenario === s.name && r.policyId === p).sort((a, b) => a.seed - b.seed);
      const estimates = {} as Estimates;
      for (const k of METRIC_KEYS) estimates[k] = est(rs.map((r) => r.metrics[k]));
      rows.push({
        scenario: s.name, tags: s.tags, policy: p, estimates, capture: noCapture(),
        runs: rs.map((r) => {
          const o = { seed: r.seed } as { seed: number } & Record<MetricKey, number | null>;
          for (const k of METRIC_KEYS) o[k] = finiteOrNull(r.metrics[k]);
          return o;
        }),
      });
    }
  }
  for (const s of scenarios) fillCapture(rows.filter((r) => r.scenario === s.name));
  return rows;
}

/** Per policy: per-seed means over the scenarios (optionally only those passing `keep`), then a CI over seeds. */
export function pooled(results: JobResult[], policies: string[], keep: (scenario: string) => boolean = () => true): PooledRow[] {
  const rows = policies.map((p): PooledRow => {
    const rs = results.filter((r) => r.policyId === p && keep(r.scenario));
    const estimates = {} as Estimates;
    for (const k of METRIC_KEYS) estimates[k] = est(perSeedMeans(rs, k));
    return { policy: p, estimates, capture: noCapture(), safety_violations_total: rs.reduce((a, r) => a + r.metrics.safety_violations, 0), runs: rs.length };
  });
  fillCapture(rows);
  return rows;
}

/**
 * (baseline − policy) / (baseline − oracle) on one metric's means (lower is better on every capture
 * metric); null when a value is missing, or the oracle does not improve on the baseline by at least
 * CAPTURE_MIN_GAIN of it — then there is no achievable improvement to share out, and a ratio over a tiny
 * or negative gain would flip or explode.
 */
export function captureOf(policy: number, baseline: number, oracle: number): number | null {
  if (!Number.isFinite(policy) || !Number.isFinite(baseline) || !Number.isFinite(oracle)) return null;
  const gain = baseline - oracle;
  if (gain <= 0 || gain < CAPTURE_MIN_GAIN * Math.abs(baseline)) return null;
  return (baseline - policy) / gain;
}

/** Sets every row's capture from the static etcd and oracle rows among them (one scenario, or pooled). */
function fillCapture(rows: Array<{ policy: string; estimates: Estimates; capture: Capture }>): void {
  const base = rows.find((r) => r.policy === BASELINE_POLICY_ID);
  const oracle = rows.find((r) => r.policy === ORACLE_POLICY_ID);
  for (const r of rows) {
    for (const k of CAPTURE_KEYS) {
      r.capture[k] = base && oracle ? captureOf(r.estimates[k].mean, base.estimates[k].mean, oracle.estimates[k].mean) : null;
    }
  }
}

function noCapture(): Capture {
  return { commit_latency_mean_ms: null, commit_latency_downtime_mean_ms: null, failover_ms: null, leaderless_s_per_hour: null };
}

/** seed → mean over that seed's runs of metric k (non-finite runs skipped), in seed order. */
export function perSeedMeans(rs: JobResult[], k: MetricKey): number[] {
  const bySeed = new Map<number, number[]>();
  for (const r of rs) {
    const v = r.metrics[k];
    if (!bySeed.has(r.seed)) bySeed.set(r.seed, []);
    if (Number.isFinite(v)) bySeed.get(r.seed)!.push(v);
  }
  return [...bySeed.keys()].sort((a, b) => a - b).map((s) => {
    const xs = bySeed.get(s)!;
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  });
}

export interface Comparison {
  metric: MetricKey;
  scenarios: string[];
  model: Estimate;
  baseline: Estimate;
  baseline_policy: string;
  /** Sums over all runs (counts for count metrics: how much evidence the relative change rests on). */
  model_sum: number;
  baseline_sum: number;
  /** (model − baseline) / baseline of the pooled means; null when the baseline is 0 or either is missing. */
  relative_change: number | null;
  /** Paired per-seed relative changes' mean and 95% CI (null when undefined). */
  paired: Estimate | null;
  claim: number;
  /** Whether the measured relative change reaches the claim (more negative = better). */
  meets_claim: boolean;
}

/**
 * Model vs baseline on `metric` over the scenarios passing `keep`: pooled means, relative change, and a
 * paired per-seed relative change with its CI (the same seeds ran both policies).
 */
export function compare(results: JobResult[], metric: MetricKey, modelId: string, baselineId: string, claim: number, keep: (s: string) => boolean): Comparison {
  const m = results.filter((r) => r.policyId === modelId && keep(r.scenario));
  const b = results.filter((r) => r.policyId === baselineId && keep(r.scenario));
  const ms = perSeedMeans(m, metric);
  const bs = perSeedMeans(b, metric);
  const me = est(ms);
  const be = est(bs);
  const rel = Number.isFinite(me.mean) && Number.isFinite(be.mean) && be.mean !== 0 ? (me.mean - be.mean) / be.mean : null;
  const pairs = ms.map((x, i) => (bs[i]! !== 0 ? (x - bs[i]!) / bs[i]! : NaN)).filter(Number.isFinite);
  const paired = pairs.length ? est(pairs) : null;
  return {
    metric, scenarios: [...new Set(m.map((r) => r.scenario))], model: me, baseline: be, baseline_policy: baselineId,
    model_sum: sumFinite(m.map((r) => r.metrics[metric])), baseline_sum: sumFinite(b.map((r) => r.metrics[metric])),
    relative_change: rel, paired, claim, meets_claim: rel !== null && rel <= claim,
  };
}

export interface SweepPoint {
  policy: string;
  label: string;
  family: string;
  param: string;
  value: number;
  failover_ms: Estimate;
  unnecessary_elections_per_hour: Estimate;
  commit_latency_mean_ms: Estimate;
  /** Whether no other point is at least as good on both axes and better on one (lower is better on both). */
  pareto_optimal: boolean;
}

export function sweepPoints(results: JobResult[], entries: Array<{ id: string; label: string; family: string; param: string; value: number }>): SweepPoint[] {
  const pts = entries.map((e) => {
    const rs = results.filter((r) => r.policyId === e.id);
    return {
      policy: e.id, label: e.label, family: e.family, param: e.param, value: e.value,
      failover_ms: est(perSeedMeans(rs, 'failover_ms')),
      unnecessary_elections_per_hour: est(perSeedMeans(rs, 'unnecessary_elections_per_hour')),
      commit_latency_mean_ms: est(perSeedMeans(rs, 'commit_latency_mean_ms')),
      pareto_optimal: false,
    };
  });
  // The oracle is the reference point, not a policy one could deploy: it is neither on the frontier nor
  // allowed to push real policies off it.
  const real = pts.filter((p) => p.family !== ORACLE_FAMILY);
  for (const p of real) {
    const x = p.failover_ms.mean;
    const y = p.unnecessary_elections_per_hour.mean;
    p.pareto_optimal = Number.isFinite(x) && Number.isFinite(y) && !real.some((q) => q !== p
      && q.failover_ms.mean <= x && q.unnecessary_elections_per_hour.mean <= y
      && (q.failover_ms.mean < x || q.unnecessary_elections_per_hour.mean < y));
  }
  return pts;
}

/** An estimate with JSON-safe numbers (NaN → null happens at serialization; see report.ts). */
function est(xs: number[]): Estimate {
  return estimate(xs);
}

function sumFinite(xs: number[]): number {
  return xs.reduce((a, x) => (Number.isFinite(x) ? a + x : a), 0);
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
