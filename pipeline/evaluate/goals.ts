/**
 * The goals a learned timeout must meet to be worth deploying (docs/EVALUATION.md, "The goals"), checked for
 * every policy of a report, not only the model: a row for the oracle says whether even a perfect failure
 * detector meets a goal on this suite, and a goal the oracle misses is out of any timeout's reach there.
 * Pure functions of the run results and the sweep.
 *
 * 1. failover: pooled mean below every baseline's (the others', for a baseline) and a failover capture ≥ 0.8.
 * 2. unnecessary elections: no more than static etcd's, summed over all runs and over the jitter scenarios.
 * 3. commit latency: mean and p99 no higher than any baseline's and lower than static etcd's (the paired
 *    per-seed difference's mean; its 95% CI is reported beside it), and the downtime-attributable part at
 *    most half of static etcd's.
 * 4. Pareto (a swept family only): every point of every baseline family's frontier of (unnecessary
 *    elections per hour, failover) is matched or beaten on both axes by some point of the policy's family;
 *    the points the oracle's own point does not match either are listed apart (beyond a perfect detector).
 * 5. safety: no violation in the policy's runs (memory per node is the report's claims.memory_per_node).
 */
import { estimate, type Estimate } from '../report/stats.js';
import type { JobResult, MetricKey } from './harness.js';
import { perSeedMeans, unnecessaryExcessSplit, type PairedSum, type PooledRow, type SweepPoint } from './aggregate.js';
import { BASELINE_POLICY_ID, MODEL_POLICY_IDS, ORACLE_FAMILY, ORACLE_POLICY_ID } from './policies.js';

/** Goal 1's capture threshold: the share of the way from static etcd to the oracle. */
export const FAILOVER_CAPTURE_GOAL = 0.8;
/** Goal 3's downtime goal: at most this share of static etcd's downtime-attributable latency. */
export const DOWNTIME_SHARE_GOAL = 0.5;

/** A paired per-seed difference (policy − other) of a pooled metric, in its unit. */
export interface PairedDifference {
  other: string;
  difference: Estimate;
}

export interface PolicyGoals {
  policy: string;
  failover: { mean_ms: number; best_other: string | null; best_other_ms: number; capture: number | null; met: boolean };
  /** `excess_vs_etcd`: the same counts beyond etcd's, paired by run, with their noise (aggregate.ts PairedSum): a
   * goal met or missed by less than ~2 standard errors is a tie with etcd on these runs. */
  unnecessary: { total: number; jitter: number; etcd_total: number; etcd_jitter: number; excess_vs_etcd: { total: PairedSum; jitter: PairedSum }; met: boolean };
  latency: {
    mean: PairedDifference[];
    p99: PairedDifference[];
    downtime_share_of_etcd: number | null;
    met: boolean;
  };
  /** null when the policy's family was not swept. */
  /** `unmatched_by_oracle_too`: those of `unmatched` that the oracle's point on the same runs does not match
   * either (fewer unnecessary elections, or a faster failover, than a perfect failure detector gives there). */
  pareto: { family_points: number; baseline_frontier_points: number; unmatched: string[]; unmatched_by_oracle_too: string[]; met: boolean } | null;
  safety: { violations: number; met: boolean };
  /** Goals 1–5 all met (a goal without data, such as Pareto for an unswept policy, does not count). */
  all_met: boolean;
}

export interface Goals {
  /** The baselines the goals compare with (every main policy that is neither a model nor the oracle). */
  baselines: string[];
  policies: PolicyGoals[];
}

/** The goals' names, in order (as the report, the summary and the notebook list them). */
export const GOAL_NAMES = ['failover', 'unnecessary elections', 'latency', 'Pareto', 'safety'] as const;

/** A policy's goals met, in GOAL_NAMES order; null for a goal with nothing to measure (Pareto unswept). */
export function goalsMet(g: PolicyGoals): Array<boolean | null> {
  return [g.failover.met, g.unnecessary.met, g.latency.met, g.pareto?.met ?? null, g.safety.met];
}

/** A sweep point's family for a main policy id (the sweep names families by the main policies' ids). */
const SWEEP_FAMILY: Record<string, string> = {
  'static-etcd': 'static', 'static-raft-paper': 'static', 'jacobson-karels': 'jacobson-karels', 'phi-accrual': 'phi-accrual', 'neuro-symbolic': 'neuro-symbolic',
};

export function goalsOf(
  results: JobResult[], pooledRows: PooledRow[], policies: string[], jitter: ReadonlySet<string>, sweep: SweepPoint[] | null,
): Goals {
  const baselines = policies.filter((p) => !MODEL_POLICY_IDS.has(p) && p !== ORACLE_POLICY_ID);
  const row = (p: string): PooledRow | undefined => pooledRows.find((r) => r.policy === p);
  const mean = (p: string, k: MetricKey): number => row(p)?.estimates[k].mean ?? Number.NaN;
  const sum = (p: string, keep: (s: string) => boolean): number =>
    results.filter((r) => r.policyId === p && keep(r.scenario)).reduce((a, r) => a + (Number.isFinite(r.metrics.unnecessary_elections) ? r.metrics.unnecessary_elections : 0), 0);
  // Per-seed means by (policy, metric), computed once: every policy is paired with every other baseline.
  const seedMeans = new Map<string, number[]>();
  const bySeed = (p: string, k: MetricKey): number[] => {
    const key = `${p}\u0000${k}`;
    if (!seedMeans.has(key)) seedMeans.set(key, perSeedMeans(results.filter((r) => r.policyId === p), k));
    return seedMeans.get(key)!;
  };
  const paired = (p: string, o: string, k: MetricKey): PairedDifference => {
    const a = bySeed(p, k);
    const b = bySeed(o, k);
    return { other: o, difference: estimate(a.map((x, i) => x - b[i]!)) };
  };
  const etcdRuns = results.filter((r) => r.policyId === BASELINE_POLICY_ID);
  const etcdTotal = sum(BASELINE_POLICY_ID, () => true);
  const etcdJitter = sum(BASELINE_POLICY_ID, (s) => jitter.has(s));
  const etcdDowntime = mean(BASELINE_POLICY_ID, 'commit_latency_downtime_mean_ms');

  const out = policies.map((p): PolicyGoals => {
    const others = baselines.filter((b) => b !== p);
    let bestOther: string | null = null;
    for (const o of others) if (bestOther === null || mean(o, 'failover_ms') < mean(bestOther, 'failover_ms')) bestOther = o;
    const fo = mean(p, 'failover_ms');
    const bestMs = bestOther === null ? Number.NaN : mean(bestOther, 'failover_ms');
    const capture = row(p)?.capture.failover_ms ?? null;
    const failover = { mean_ms: fo, best_other: bestOther, best_other_ms: bestMs, capture, met: fo < bestMs && capture !== null && capture >= FAILOVER_CAPTURE_GOAL };

    const total = sum(p, () => true);
    const jit = sum(p, (s) => jitter.has(s));
    const excess = unnecessaryExcessSplit(results.filter((r) => r.policyId === p), etcdRuns, jitter);
    const unnecessary = { total, jitter: jit, etcd_total: etcdTotal, etcd_jitter: etcdJitter, excess_vs_etcd: excess, met: total <= etcdTotal && jit <= etcdJitter };

    const latMean = others.map((o) => paired(p, o, 'commit_latency_mean_ms'));
    const latP99 = others.map((o) => paired(p, o, 'commit_latency_p99_ms'));
    const share = etcdDowntime > 0 ? mean(p, 'commit_latency_downtime_mean_ms') / etcdDowntime : null;
    // "No higher than any baseline" is ≤ 0; "lower than static etcd" is < 0 (met trivially false for etcd itself).
    const noHigher = (ds: PairedDifference[]): boolean => ds.every((d) => d.difference.mean <= 0 && (d.other !== BASELINE_POLICY_ID || d.difference.mean < 0));
    const latency = {
      mean: latMean, p99: latP99, downtime_share_of_etcd: share,
      met: p !== BASELINE_POLICY_ID && noHigher(latMean) && noHigher(latP99) && share !== null && share <= DOWNTIME_SHARE_GOAL,
    };

    const violations = results.filter((r) => r.policyId === p && r.violation !== null).length;
    const pareto = sweep ? paretoOf(sweep, SWEEP_FAMILY[p] ?? null, baselines) : null;
    const g: PolicyGoals = { policy: p, failover, unnecessary, latency, pareto, safety: { violations, met: violations === 0 }, all_met: false };
    g.all_met = goalsMet(g).every((m) => m === true);
    return g;
  });
  return { baselines, policies: out };
}

/**
 * Goal 4 for a family: the frontier points of every other baseline family (non-dominated within their
 * family), and which of them no point of `family` matches or beats on both axes. null when `family` has no
 * sweep points (the oracle is a reference point, not a family that sweeps).
 */
function paretoOf(sweep: SweepPoint[], family: string | null, baselines: string[]): PolicyGoals['pareto'] {
  if (family === null || family === ORACLE_FAMILY) return null;
  const own = sweep.filter((s) => s.family === family);
  if (own.length === 0) return null;
  const baselineFamilies = new Set(baselines.map((b) => SWEEP_FAMILY[b]).filter((f): f is string => f !== undefined && f !== family));
  const fx = (s: SweepPoint): number => s.failover_ms.mean;
  const fy = (s: SweepPoint): number => s.unnecessary_elections_per_hour.mean;
  const frontier: SweepPoint[] = [];
  for (const f of baselineFamilies) {
    const pts = sweep.filter((s) => s.family === f && Number.isFinite(fx(s)) && Number.isFinite(fy(s)));
    for (const s of pts) {
      const dominated = pts.some((q) => q !== s && fx(q) <= fx(s) && fy(q) <= fy(s) && (fx(q) < fx(s) || fy(q) < fy(s)));
      if (!dominated) frontier.push(s);
    }
  }
  const matches = (o: SweepPoint, s: SweepPoint): boolean => fx(o) <= fx(s) && fy(o) <= fy(s);
  const unmatched = frontier.filter((s) => !own.some((o) => matches(o, s)));
  const oracle = sweep.find((s) => s.family === ORACLE_FAMILY);
  return {
    family_points: own.length, baseline_frontier_points: frontier.length, unmatched: unmatched.map((s) => s.label),
    unmatched_by_oracle_too: oracle ? unmatched.filter((s) => !matches(oracle, s)).map((s) => s.label) : [],
    met: frontier.length > 0 && unmatched.length === 0,
  };
}
