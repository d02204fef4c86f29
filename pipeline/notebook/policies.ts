/**
 * The policy comparison for notebooks/compare-policies.ipynb: runs the evaluation stage (pipeline/evaluate)
 * and turns its report into tables, the Pareto chart, the timeline and sentences computed from the numbers,
 * so the notebook's prose cannot drift from its figures. Tested in test/notebooks-analysis.test.ts.
 */
import type { VegaLiteSpec } from '../report/charts.js';
import type { EvaluationReport } from '../evaluate/evaluate.js';
import { BASELINE_POLICY_ID, ORACLE_FAMILY, ORACLE_POLICY_ID } from '../evaluate/policies.js';
import { GOAL_NAMES, goalsMet } from '../evaluate/goals.js';
import { fmtExcess, type SweepPoint } from '../evaluate/aggregate.js';
import { DEFAULT_RULES, survivedSilenceFloorOf } from '../../runtime/index.js';

export interface ComparePoliciesOptions {
  /** Artifact folder, or null for the baselines only. */
  model: string | null;
  /** Built-in suite (`short` by default: 2 scenarios × 2 seeds, seconds) or a suite file. */
  suite?: string;
  seeds?: number;
  workers?: number;
}

/**
 * Runs `evaluate` (closed loop, identical seeds per policy, Pareto sweep and timeline). created_at is pinned
 * so the report is the same bytes for the same model and suite.
 * @example const report = await comparePolicies({ model: m.artifactDir });
 */
export async function comparePolicies(opts: ComparePoliciesOptions): Promise<EvaluationReport> {
  // Loaded on first use: the evaluation imports vega (top-level await), which tslab's require() cannot load.
  const { evaluate } = await import('../evaluate/evaluate.js');
  const { report } = await evaluate({
    model: opts.model, suite: opts.suite ?? 'short', createdAt: '1970-01-01T00:00:00.000Z',
    ...(opts.seeds === undefined ? {} : { seeds: opts.seeds }), ...(opts.workers === undefined ? {} : { workers: opts.workers }),
  });
  return report;
}

/** One row per policy: pooled means ± 95% CI over seeds, as numbers and as display strings. */
export function pooledRows(report: EvaluationReport): Array<Record<string, string | number>> {
  const f = (e: { mean: number; ci95: number }, d: number): string => (Number.isFinite(e.mean) ? `${e.mean.toFixed(d)}${Number.isFinite(e.ci95) ? ` ± ${e.ci95.toFixed(d)}` : ''}` : '—');
  const c = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
  return report.pooled.map((p) => ({
    policy: p.policy,
    'latency ms': f(p.estimates.commit_latency_mean_ms, 1),
    'waiting for a leader ms': f(p.estimates.commit_latency_downtime_mean_ms, 1),
    'failover ms': f(p.estimates.failover_ms, 0),
    'leaderless s / h': f(p.estimates.leaderless_s_per_hour, 0),
    'unnecessary elections / run': f(p.estimates.unnecessary_elections, 2),
    availability: f(p.estimates.availability, 4),
    'capture: latency': c(p.capture.commit_latency_mean_ms),
    'capture: failover': c(p.capture.failover_ms),
    'safety violations': p.safety_violations_total,
    runs: p.runs,
  }));
}

/**
 * Sentences that say what the numbers show: the best policy per metric, the model against static etcd,
 * the Pareto frontier and safety. Computed, so they stay true whatever model is evaluated.
 */
export function comparisonFindings(report: EvaluationReport): string[] {
  const out: string[] = [];
  // The oracle is the reference, not a contender: "lowest" is among the policies one could deploy.
  const rows = report.pooled.filter((p) => p.runs > 0 && p.policy !== ORACLE_POLICY_ID);
  const best = (key: 'commit_latency_mean_ms' | 'failover_ms' | 'unnecessary_elections', label: string, unit: string, d: number): void => {
    const ok = rows.filter((p) => Number.isFinite(p.estimates[key].mean));
    if (!ok.length) return;
    const b = ok.reduce((a, p) => (p.estimates[key].mean < a.estimates[key].mean ? p : a));
    out.push(`Lowest ${label}: ${b.policy} (${b.estimates[key].mean.toFixed(d)}${unit}).`);
  };
  best('commit_latency_mean_ms', 'mean consensus latency', ' ms', 1);
  best('failover_ms', 'failover time', ' ms', 0);
  best('unnecessary_elections', 'unnecessary elections per run', '', 2);
  // Capture of the downtime-attributable latency: the part of the mean a timeout policy can change.
  const oracle = report.pooled.find((p) => p.policy === ORACLE_POLICY_ID);
  const etcd = report.pooled.find((p) => p.policy === 'static-etcd');
  const captured = rows.filter((p) => p.policy !== 'static-etcd' && p.capture.commit_latency_downtime_mean_ms !== null);
  if (oracle && etcd && captured.length) {
    const b = captured.reduce((a, p) => (p.capture.commit_latency_downtime_mean_ms! > a.capture.commit_latency_downtime_mean_ms! ? p : a));
    const down = (p: typeof oracle): string => p.estimates.commit_latency_downtime_mean_ms.mean.toFixed(1);
    out.push(`Waiting for a leader costs static etcd ${down(etcd)} ms per request and the oracle (a perfect failure detector) ${down(oracle)} ms; `
      + `of that gap ${b.policy} captures the most: ${(100 * b.capture.commit_latency_downtime_mean_ms!).toFixed(0)}%.`);
  }
  const c = report.claims.latency_vs_static_etcd;
  if (c && c.relative_change !== null && Number.isFinite(c.relative_change)) {
    out.push(`The model's mean consensus latency is ${pct(c.relative_change)} against static etcd (the seed system claimed −34.5%: ${c.meets_claim ? 'met' : 'not met'} on this suite).`);
  }
  const j = report.claims.jitter_unnecessary_vs_static_etcd;
  if (j && j.relative_change !== null && Number.isFinite(j.relative_change)) {
    out.push(`Under jitter the model has ${pct(j.relative_change)} unnecessary elections against static etcd (claimed −62%: ${j.meets_claim ? 'met' : 'not met'}).`);
  } else if (j) {
    out.push(`Under jitter static etcd had no unnecessary election to remove, so the relative change is undefined (model ${j.model.mean.toFixed(2)}, static ${j.baseline.mean.toFixed(2)} per run).`);
  }
  if (report.sweep) {
    const front = report.sweep.filter((p) => p.pareto_optimal).map((p) => p.label);
    out.push(`Pareto frontier of the sweep (failover vs unnecessary elections): ${front.join(', ') || 'none'}.`);
  }
  for (const d of report.model_diagnostics) {
    const acts = Object.entries(d.rule_activations).filter(([, n]) => n > 0).map(([id, n]) => `${id} ${((100 * n) / Math.max(1, d.ticks)).toFixed(1)}%`);
    out.push(`${d.policy}: fallback on ${(100 * d.fallback_rate).toFixed(2)}% of ${d.ticks} ticks; rules acted on ${acts.join(', ') || 'no tick'}.`);
  }
  out.push(`Safety violations: ${report.safety.violations} in ${report.safety.runs} runs${report.safety.violations ? ` — ${report.safety.messages[0]}` : ''}.`);
  return out;
}

/**
 * Goals 1–5 (pipeline/evaluate/goals.ts) as a table: one row per policy, the oracle included, each goal's
 * figure and ✓ / ✗ (— where not measured: Pareto for a family the sweep does not turn).
 */
export function goalRows(report: EvaluationReport): Array<Record<string, string>> {
  const mark = (m: boolean | null): string => (m === null ? '—' : m ? '✓' : '✗');
  return (report.goals?.policies ?? []).map((g) => ({
    policy: g.policy,
    '1. failover ms (capture)': `${mark(g.failover.met)} ${Number.isFinite(g.failover.mean_ms) ? g.failover.mean_ms.toFixed(0) : '—'} (${g.failover.capture === null ? '—' : g.failover.capture.toFixed(2)})`,
    '2. unnecessary (jitter)': `${mark(g.unnecessary.met)} ${g.unnecessary.total} (${g.unnecessary.jitter}) vs ${g.unnecessary.etcd_total} (${g.unnecessary.etcd_jitter})${g.policy === BASELINE_POLICY_ID ? '' : `; excess ${fmtExcess(g.unnecessary.excess_vs_etcd.total)}, 95%`}`,
    '3. latency; waiting vs etcd': `${mark(g.latency.met)} ${g.latency.downtime_share_of_etcd === null ? '—' : `${(100 * g.latency.downtime_share_of_etcd).toFixed(0)}%`}`,
    '4. Pareto': g.pareto === null ? '—' : `${mark(g.pareto.met)} ${g.pareto.baseline_frontier_points - g.pareto.unmatched.length} of ${g.pareto.baseline_frontier_points}`,
    '5. safety': mark(g.safety.met),
  }));
}

/** Which goals the model and the oracle meet on this suite, said in sentences computed from the report. */
export function goalFindings(report: EvaluationReport): string[] {
  const gs = report.goals?.policies ?? [];
  const list = (g: (typeof gs)[number], want: boolean): string => GOAL_NAMES.filter((_, i) => goalsMet(g)[i] === want).join(', ') || 'none';
  const out: string[] = [];
  const model = gs.find((g) => g.policy === 'neuro-symbolic');
  const oracle = gs.find((g) => g.policy === ORACLE_POLICY_ID);
  if (model) out.push(`The model meets: ${list(model, true)}; misses: ${list(model, false)}.`);
  if (oracle) {
    const missed = list(oracle, false);
    out.push(missed === 'none'
      ? 'The oracle (a perfect failure detector) meets every goal it is checked on: each is within a timeout policy\'s reach on this suite.'
      : `Even the oracle (a perfect failure detector) misses: ${missed} — out of any timeout policy's reach on this suite as written.`);
  }
  return out;
}

function pct(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
}

/** The sweep parameter of the model's serving knob (pipeline/evaluate/policies.ts sweepPolicies). */
const KNOB_PARAM = 'survived_margin';

/** The margin the default rules serve the model with (rule survived-silence-floor; 0 when they have none). */
export function defaultSurvivedMargin(): number {
  return survivedSilenceFloorOf(DEFAULT_RULES)?.margin ?? 0;
}

/** The model's points of the sweep, by increasing margin; empty when the evaluation ran without a model. */
function knobPoints(report: EvaluationReport): SweepPoint[] {
  return (report.sweep ?? []).filter((p) => p.param === KNOB_PARAM).sort((a, b) => a.value - b.value);
}

/**
 * The model's serving knob as the sweep measured it: one row per survived-silence margin (a follower's
 * timeout is at least margin × the longest silence a live leader survived recently), with the same axes as
 * the Pareto chart, whether the point is on the frontier of all the swept policies, and which margin the
 * default rules serve.
 */
export function modelKnobRows(report: EvaluationReport): Array<Record<string, string | number>> {
  const f = (e: { mean: number; ci95: number }, d: number): string => (Number.isFinite(e.mean) ? `${e.mean.toFixed(d)}${Number.isFinite(e.ci95) ? ` ± ${e.ci95.toFixed(d)}` : ''}` : '—');
  const served = defaultSurvivedMargin();
  return knobPoints(report).map((p) => ({
    margin: String(p.value), // as swept (0.5, not a table's fixed digits)
    'failover ms': f(p.failover_ms, 0),
    'unnecessary elections / h': f(p.unnecessary_elections_per_hour, 1),
    'latency ms': f(p.commit_latency_mean_ms, 1),
    frontier: p.pareto_optimal ? 'on the frontier' : 'dominated',
    served: p.value === served ? 'default rules' : '',
  }));
}

/** What the knob's curve shows, computed from the sweep: its two ends, the served margin and the frontier. */
export function modelKnobFindings(report: EvaluationReport): string[] {
  const pts = knobPoints(report);
  if (pts.length === 0) return ['The sweep has no model points: the evaluation ran without a model.'];
  const at = (p: SweepPoint): string => `${p.failover_ms.mean.toFixed(0)} ms failover, ${p.unnecessary_elections_per_hour.mean.toFixed(1)} unnecessary elections per hour`;
  const lo = pts[0]!;
  const hi = pts.at(-1)!;
  // A small sweep (the short suite's: two scenarios, one seed) can have no election that the floor moves.
  const same = pts.every((p) => at(p) === at(lo));
  const out = [same
    ? `Every survived-silence margin (${lo.value}–${hi.value}) gives the same point on this sweep, ${at(lo)}: no election in its runs depended on the floor.`
    : `Survived-silence margin ${lo.value} → ${hi.value}: ${at(lo)} → ${at(hi)}.`];
  const served = pts.find((p) => p.value === defaultSurvivedMargin());
  if (served) out.push(`The default rules serve margin ${served.value}: ${at(served)}${served.pareto_optimal ? ', on the frontier' : ', dominated by another swept point'}.`);
  const front = pts.filter((p) => p.pareto_optimal).map((p) => p.value);
  out.push(front.length ? `The model's margins on the frontier of every swept policy: ${front.join(', ')}.` : 'No margin of the model is on the frontier of the swept policies.');
  return out;
}

/** The Pareto sweep: mean failover time against unnecessary elections per hour, filled points on the frontier. */
export function paretoSpec(report: EvaluationReport): VegaLiteSpec {
  const all = (report.sweep ?? []).filter((p) => Number.isFinite(p.failover_ms.mean) && Number.isFinite(p.unnecessary_elections_per_hour.mean)).map((p) => ({
    family: p.family, label: p.label, value: p.value, failover_ms: p.failover_ms.mean, unnecessary_per_hour: p.unnecessary_elections_per_hour.mean,
    frontier: p.pareto_optimal ? 'on the frontier' : 'dominated',
  }));
  const values = all.filter((p) => p.family !== ORACLE_FAMILY);
  const oracle = all.filter((p) => p.family === ORACLE_FAMILY).map((p) => ({ ...p, label: 'oracle (physical limit)' }));
  const x = { field: 'failover_ms', type: 'quantitative', title: 'mean failover time (ms)', scale: { zero: false } } as const;
  const y = { field: 'unnecessary_per_hour', type: 'quantitative', title: 'unnecessary elections per hour' } as const;
  return {
    background: 'white', width: 560, height: 340, data: { values },
    title: `Pareto sweep (${report.config.suite.name} suite): lower-left is better`,
    layer: [
      { data: { values: oracle }, mark: { type: 'point', shape: 'cross', filled: true, size: 140, color: 'black' }, encoding: { x, y } },
      { data: { values: oracle }, mark: { type: 'text', dx: 9, dy: 11, fontSize: 10, fontWeight: 'bold', align: 'left' }, encoding: { x, y, text: { field: 'label' } } },
      { mark: { type: 'line', opacity: 0.4 }, encoding: { x, y, color: { field: 'family', type: 'nominal' }, order: { field: 'value', type: 'quantitative' } } },
      { mark: { type: 'point', size: 80, strokeWidth: 2 }, encoding: { x, y, color: { field: 'family', type: 'nominal', title: 'policy family' }, shape: { field: 'frontier', type: 'nominal', title: null } } },
      // Labels on the frontier and on the model only: every label at once is unreadable.
      { transform: [{ filter: "datum.frontier === 'on the frontier' || datum.family === 'neuro-symbolic'" }], mark: { type: 'text', dx: 7, dy: -7, fontSize: 10, align: 'left' }, encoding: { x, y, text: { field: 'label' } } },
    ],
  } as VegaLiteSpec;
}

/** The timeline: the timeout each policy armed on one follower over the run, the faults, and P(leader lost). */
export function timelineSpec(report: EvaluationReport): VegaLiteSpec {
  const t = report.timeline;
  if (!t) throw new Error('notebook: the evaluation report has no timeline (run with timeline enabled)');
  const pts = t.points.map((p) => ({ ...p, t_s: p.t_ms / 1000 }));
  const oracleArmed = pts.filter((p) => p.policy === ORACLE_POLICY_ID && p.timeout_ms !== null); // a few ticks per loss: dots
  const model = pts.filter((p) => p.p_leader_lost !== null);
  const elections = t.elections.map((e) => ({ ...e, t_s: e.t_ms / 1000 }));
  const faults = t.faults.map((f) => ({ kind: f.kind, t_s: f.at_ms / 1000 }));
  const x = { field: 't_s', type: 'quantitative', title: 'time (s)' } as const;
  const faultRule = { data: { values: faults }, mark: { type: 'rule', strokeDash: [4, 3], color: '#999' }, encoding: { x } };
  return {
    background: 'white',
    title: `${t.scenario}, seed ${t.seed}: follower ${t.node}`,
    vconcat: [
      {
        width: 640, height: 220,
        layer: [
          { data: { values: pts }, mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after' }, encoding: { x, y: { field: 'timeout_ms', type: 'quantitative', scale: { type: 'log' }, title: 'armed timeout (ms, log)' }, color: { field: 'policy', type: 'nominal' } } },
          { data: { values: oracleArmed }, mark: { type: 'point', filled: true, size: 30 }, encoding: { x, y: { field: 'timeout_ms', type: 'quantitative' }, color: { field: 'policy', type: 'nominal' } } },
          { data: { values: elections }, mark: { type: 'point', filled: true, size: 50, shape: 'triangle-up' }, encoding: { x, y: { datum: 60 }, color: { field: 'policy', type: 'nominal' } } },
          faultRule,
        ],
      },
      {
        width: 640, height: 100,
        layer: [
          { data: { values: model }, mark: { type: 'line', strokeWidth: 1 }, encoding: { x, y: { field: 'p_leader_lost', type: 'quantitative', scale: { domain: [0, 1] }, title: 'P(leader lost)' }, color: { field: 'policy', type: 'nominal' } } },
          faultRule,
        ],
      },
    ],
  } as VegaLiteSpec;
}
