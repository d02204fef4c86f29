/**
 * Looking inside a model for notebooks/inspect-model.ipynb: what the timeout does as one signal moves with
 * the others held fixed, how the leader-lost head and the timeout respond when a leader goes silent in a
 * real trace, where the guardrails clamp, and the interval bounds `verify` proved. Every figure comes from
 * the runtime's own NeuroSymbolicTimeout (the code a Raft node embeds) and from verifyArtifact, so the
 * notebook shows the served function, not a re-implementation. Tested in test/notebooks-analysis.test.ts.
 */
import type { TelemetryRow } from '../ingest/telemetry.js';
import type { VegaLiteSpec } from '../report/charts.js';
import type { VerificationReport } from '../verify/verify.js';
import { makeSharedModel, NeuroSymbolicTimeout, type SharedModel, type TimeoutObservation } from '../../runtime/index.js';
import { loadArtifactFromDir } from '../../runtime/node-loader.js';
import { shortId, SIGNALS, type DatasetExploration, type Signal } from './analysis.js';

/** Raw signal values of one tick (the model's four inputs before the feature transforms). */
export type SignalValues = Record<Signal, number>;

/**
 * Loads an artifact folder for the runtime (int8 path: the one verify proves things about).
 * @example const model = await loadSharedModel(m.artifactDir);
 */
export async function loadSharedModel(artifactDir: string, precision: 'int8' | 'float32' = 'int8'): Promise<SharedModel> {
  return makeSharedModel(await loadArtifactFromDir(artifactDir), precision);
}

/** The median of each signal over all streams of a dataset: the "others held fixed" point of a sweep. */
export function typicalSignals(ex: DatasetExploration): SignalValues {
  const out = {} as SignalValues;
  for (const sig of SIGNALS) {
    const medians = ex.signals.filter((s) => s.signal === sig && s.n > 0).map((s) => s.p50).sort((a, b) => a - b);
    out[sig] = medians.length ? medians[Math.floor(medians.length / 2)]! : 0;
  }
  return out;
}

export interface SweepOptions {
  /** The values of the other signals. */
  base: SignalValues;
  signal: Signal;
  values: readonly number[];
  tickMs: number;
  /** Heartbeat period the follower sees (one heartbeat every this many ms). */
  heartbeatIntervalMs: number;
  /** Steady ticks fed before reading the timeout (the LSTM state settles; carried state starts at zero). */
  warmTicks?: number;
  clusterSize?: number;
}

export interface SweepPoint {
  signal: Signal;
  value: number;
  /** exp(q): the network's proposal before the guardrails. */
  raw_proposal_ms: number;
  /** What the runtime arms: after the leader-lost drop and the rules. */
  timeout_ms: number;
  p_leader_lost: number;
  /** Rules that changed the value on the last tick, by id. */
  rules: string;
  source: 'model' | 'fallback';
}

/**
 * The timeout against one signal with the others held fixed: for each value, a fresh follower that sees a
 * healthy leader (a heartbeat every heartbeatIntervalMs) with these signals for `warmTicks` ticks.
 * Deterministic (no randomness anywhere on this path).
 */
export function signalSweep(model: SharedModel, opts: SweepOptions): SweepPoint[] {
  const warm = opts.warmTicks ?? 64;
  const everyTicks = Math.max(1, Math.round(opts.heartbeatIntervalMs / opts.tickMs));
  return opts.values.map((value) => {
    const sig = { ...opts.base, [opts.signal]: value };
    const p = new NeuroSymbolicTimeout({ model, randomization: { spread: 0 } });
    for (let t = 0; t < warm; t++) {
      // The last tick carries a heartbeat so that silence is zero when the timeout is read.
      const beat = (warm - 1 - t) % everyTicks === 0;
      p.observe(observation(t * opts.tickMs, opts.tickMs, sig, beat, opts.heartbeatIntervalMs, opts.clusterSize ?? 5));
    }
    const e = p.explain();
    return {
      signal: opts.signal, value, raw_proposal_ms: e.rawProposalMs, timeout_ms: e.timeoutMs, p_leader_lost: e.pLeaderLost,
      rules: e.rules.map((r) => r.id).join(' '), source: e.source,
    };
  });
}

function observation(nowMs: number, tickMs: number, s: SignalValues, beat: boolean, heartbeatIntervalMs: number, clusterSize: number): TimeoutObservation {
  return {
    nowMs, tickMs, role: 'follower', term: 1, leaderId: 'leader', heartbeatLatencyMs: s.heartbeat_latency_ms, logReplicationGap: s.log_replication_gap,
    rpcRetries: s.rpc_retries, cpuIdlePct: s.cpu_idle_pct, heartbeatReceived: beat, clusterSize, peersReachable: clusterSize - 1, heartbeatIntervalMs,
  };
}

export interface ReplayTick {
  ts_ms: number;
  role: string;
  term: number;
  heartbeat_received: boolean;
  heartbeat_latency_ms: number | null;
  raw_proposal_ms: number;
  /** After the leader-lost drop, before the rules. */
  composed_ms: number;
  timeout_ms: number;
  p_leader_lost: number;
  confidence: number;
  silence_ms: number;
  source: 'model' | 'fallback';
  /** Rules that changed the value this tick, by id ('' when none). */
  rules: string;
}

export interface ReplayOptions {
  tickMs: number;
  heartbeatIntervalMs: number;
  /** Telemetry does not record how many peers a node hears; assumed all (clusterSize − 1). */
  clusterSize: number;
}

/**
 * Feeds one node's telemetry rows (in time order) to a fresh NeuroSymbolicTimeout, as the node would have,
 * and records what it armed each tick.
 */
export function replayStream(model: SharedModel, rows: readonly TelemetryRow[], opts: ReplayOptions): ReplayTick[] {
  const p = new NeuroSymbolicTimeout({ model, randomization: { spread: 0 } });
  return rows.map((r) => {
    p.observe({
      nowMs: r.ts_ms, tickMs: opts.tickMs, role: r.role, term: r.term, leaderId: r.leader_id, heartbeatLatencyMs: r.heartbeat_latency_ms,
      logReplicationGap: r.log_replication_gap, rpcRetries: r.rpc_retries, cpuIdlePct: r.cpu_idle_pct, heartbeatReceived: r.heartbeat_received,
      clusterSize: opts.clusterSize, peersReachable: opts.clusterSize - 1, heartbeatIntervalMs: opts.heartbeatIntervalMs,
    });
    const e = p.explain();
    return {
      ts_ms: r.ts_ms, role: r.role, term: r.term, heartbeat_received: r.heartbeat_received, heartbeat_latency_ms: r.heartbeat_latency_ms,
      raw_proposal_ms: e.rawProposalMs, composed_ms: e.composedMs, timeout_ms: e.timeoutMs, p_leader_lost: e.pLeaderLost, confidence: e.confidence, silence_ms: e.silenceMs,
      source: e.source, rules: e.rules.map((x) => x.id).join(' '),
    };
  });
}

/** Groups rows into per-node streams in time order, keyed `cluster_id/node_id`. */
export function streamsOf(rows: readonly TelemetryRow[]): Map<string, TelemetryRow[]> {
  const out = new Map<string, TelemetryRow[]>();
  for (const r of rows) {
    const k = `${r.cluster_id}/${r.node_id}`;
    let s = out.get(k);
    if (!s) out.set(k, (s = []));
    s.push(r);
  }
  for (const s of out.values()) s.sort((a, b) => a.ts_ms - b.ts_ms);
  return out;
}

export interface LeaderLoss {
  /** Index in the stream of the last heartbeat from the lost leader. */
  last_beat_index: number;
  last_beat_ts_ms: number;
  /** First tick the node is in a later term. */
  next_term_ts_ms: number;
  term: number;
  leader_id: string;
}

/**
 * Where a follower lost its leader: the last heartbeat it received from (leader, term) before its term
 * changed — the "leader crash" moments of a trace, found from the telemetry alone (no ground truth).
 */
export function leaderLosses(stream: readonly TelemetryRow[]): LeaderLoss[] {
  const out: LeaderLoss[] = [];
  let last: { i: number; ts: number; term: number; leader: string } | null = null;
  for (let i = 0; i < stream.length; i++) {
    const r = stream[i]!;
    if (last && r.term > last.term) {
      out.push({ last_beat_index: last.i, last_beat_ts_ms: last.ts, next_term_ts_ms: r.ts_ms, term: last.term, leader_id: last.leader });
      last = null;
    }
    if (r.role === 'follower' && r.leader_id !== null && r.heartbeat_received) last = { i, ts: r.ts_ms, term: r.term, leader: r.leader_id };
  }
  return out;
}

export interface GuardrailSummary {
  ticks: number;
  /** Follower ticks where at least one rule changed the model's value. */
  clamped_ticks: number;
  /** Follower ticks where the symbolic layer's leader-lost drop lowered the proposal (before the rules). */
  dropped_ticks: number;
  fallback_ticks: number;
  by_rule: Array<{ rule: string; ticks: number; share: number }>;
}

/** How often each guardrail changed the model's value over replayed follower ticks. */
export function guardrailSummary(ticks: readonly ReplayTick[]): GuardrailSummary {
  const followers = ticks.filter((t) => t.role === 'follower');
  const by = new Map<string, number>();
  let clamped = 0;
  let dropped = 0;
  let fallback = 0;
  for (const t of followers) {
    if (t.source === 'fallback') fallback++;
    if (t.source === 'model' && t.composed_ms < t.raw_proposal_ms) dropped++;
    if (!t.rules) continue;
    clamped++;
    for (const id of t.rules.split(' ')) by.set(id, (by.get(id) ?? 0) + 1);
  }
  const n = followers.length;
  return {
    ticks: n, clamped_ticks: clamped, dropped_ticks: dropped, fallback_ticks: fallback,
    by_rule: [...by.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([rule, k]) => ({ rule, ticks: k, share: n ? k / n : 0 })),
  };
}

export interface ProvedBound {
  rule: string;
  kind: string;
  status: string;
  claim: string;
  /** The sound interval IBP reached (null: unbounded on that side). */
  bound_lo: number | null;
  bound_hi: number | null;
  threshold: number;
  /** The most extreme value the counterexample search saw: the truth lies between it and the bound. */
  observed: number | null;
}

/** The output claims of a verification report, flattened for a table and a chart. */
export function provedBounds(report: VerificationReport): ProvedBound[] {
  return (report.proof?.claims ?? []).map((c) => ({
    rule: c.rule_id, kind: c.kind, status: c.status, claim: c.claim,
    bound_lo: finiteOrNull(c.bound.lo), bound_hi: finiteOrNull(c.bound.hi), threshold: c.threshold, observed: finiteOrNull(c.observed ?? null),
  }));
}

function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

// ---- Vega-Lite specs -------------------------------------------------------------------------------------

/** One panel per signal: the raw proposal exp(q) (dashed) and the armed timeout (solid) against the signal. */
export function sweepSpec(points: readonly SweepPoint[]): VegaLiteSpec {
  const values = points.flatMap((p) => [
    { signal: p.signal, value: p.value, what: 'raw proposal exp(q)', ms: p.raw_proposal_ms },
    { signal: p.signal, value: p.value, what: 'armed timeout (guardrails)', ms: p.timeout_ms },
  ]).filter((v) => Number.isFinite(v.ms) && v.ms > 0);
  return {
    background: 'white', data: { values },
    facet: { column: { field: 'signal', type: 'nominal', title: null } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 190, height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'value', type: 'quantitative', title: 'signal value (raw units)' },
        y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms (log scale)' },
        color: { field: 'what', type: 'nominal', title: null, legend: { labelLimit: 320 } },
        strokeDash: { field: 'what', type: 'nominal', title: null },
      },
    },
  } as VegaLiteSpec;
}

/** Around a leader loss: silence, the raw proposal and the armed timeout (ms), and P(leader lost). */
export function leaderLossSpec(ticks: readonly ReplayTick[], loss: LeaderLoss, before = 20, after = 30): VegaLiteSpec {
  const i0 = Math.max(0, loss.last_beat_index - before);
  const window = ticks.slice(i0, loss.last_beat_index + after);
  const t0 = loss.last_beat_ts_ms;
  const ms = window.flatMap((t) => [
    { t_ms: t.ts_ms - t0, what: 'silence since last heartbeat', ms: t.silence_ms },
    { t_ms: t.ts_ms - t0, what: 'raw proposal exp(q)', ms: t.raw_proposal_ms },
    { t_ms: t.ts_ms - t0, what: 'armed timeout', ms: t.timeout_ms },
  ]).filter((v) => Number.isFinite(v.ms));
  const p = window.map((t) => ({ t_ms: t.ts_ms - t0, p: t.p_leader_lost, role: t.role })).filter((v) => Number.isFinite(v.p));
  const x = { field: 't_ms', type: 'quantitative', title: 'ms after the last heartbeat from the lost leader' } as const;
  const marker = { data: { values: [{ t_ms: 0, label: 'last heartbeat' }, { t_ms: loss.next_term_ts_ms - t0, label: 'new term' }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#999' }, encoding: { x } };
  return {
    background: 'white',
    title: `leader ${shortId(loss.leader_id)} lost in term ${loss.term}`,
    vconcat: [
      { width: 560, height: 200, layer: [{ data: { values: ms }, mark: { type: 'line', interpolate: 'step-after' }, encoding: { x, y: { field: 'ms', type: 'quantitative', title: 'ms' }, color: { field: 'what', type: 'nominal', title: null, legend: { labelLimit: 320 } } } }, marker] },
      { width: 560, height: 110, layer: [{ data: { values: p }, mark: { type: 'line', interpolate: 'step-after', color: '#8e44ad' }, encoding: { x, y: { field: 'p', type: 'quantitative', scale: { domain: [0, 1] }, title: 'P(leader lost)' } } }, marker] },
    ],
  } as VegaLiteSpec;
}

/** Raw proposal against armed timeout for every replayed follower tick, coloured by the rule that acted. */
export function clampSpec(ticks: readonly ReplayTick[]): VegaLiteSpec {
  const values = ticks.filter((t) => t.role === 'follower' && Number.isFinite(t.raw_proposal_ms) && t.raw_proposal_ms > 0)
    .map((t) => ({ raw: t.raw_proposal_ms, armed: t.timeout_ms, rule: actedBy(t) }));
  return {
    background: 'white', width: 420, height: 320, data: { values },
    title: 'where the guardrails act (each point a follower tick; on the diagonal = unchanged)',
    mark: { type: 'point', opacity: 0.5, size: 16 },
    encoding: {
      x: { field: 'raw', type: 'quantitative', scale: { type: 'log' }, title: 'raw proposal exp(q) (ms)' },
      y: { field: 'armed', type: 'quantitative', scale: { type: 'log' }, title: 'armed timeout (ms)' },
      color: { field: 'rule', type: 'nominal', title: 'what acted', legend: { labelLimit: 320 } },
    },
  } as VegaLiteSpec;
}

function actedBy(t: ReplayTick): string {
  if (t.source === 'fallback') return 'static fallback';
  if (t.rules) return `rule ${t.rules.split(' ')[0]}`;
  return t.composed_ms < t.raw_proposal_ms ? 'leader-lost drop (no rule)' : 'unchanged';
}

/** The verify claims on timeouts (ms): sound bound (bar), the search's observed extreme (point), threshold (tick). */
export function boundsSpec(bounds: readonly ProvedBound[]): VegaLiteSpec {
  const ms = bounds.filter((b) => b.kind !== 'monotonic');
  // Unbounded sides are drawn at the plot's edge: a bound that reaches the edge proved nothing on that side.
  const finite = ms.flatMap((b) => [b.bound_lo, b.bound_hi, b.threshold, b.observed]).filter((v): v is number => v !== null && v > 0);
  const lo = Math.min(...finite, 1);
  const hi = Math.max(...finite, 10);
  const values = ms.map((b) => ({ ...b, lo: Math.max(b.bound_lo ?? lo, lo), hi: Math.min(b.bound_hi ?? hi, hi) }));
  const y = { field: 'rule', type: 'nominal', title: null, axis: { labelLimit: 260 } } as const;
  return {
    background: 'white', width: 520, height: { step: 26 }, data: { values },
    title: 'verify: sound interval bounds on the raw proposal (bar), observed extreme (circle), rule threshold (tick)',
    layer: [
      { mark: { type: 'bar', size: 10, opacity: 0.5 }, encoding: { y, x: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'ms (log scale)' }, x2: { field: 'hi' }, color: { field: 'status', type: 'nominal' } } },
      { mark: { type: 'point', filled: true, color: 'black' }, encoding: { y, x: { field: 'observed', type: 'quantitative' } } },
      { mark: { type: 'tick', color: '#c0392b', thickness: 2, size: 18 }, encoding: { y, x: { field: 'threshold', type: 'quantitative' } } },
    ],
  } as VegaLiteSpec;
}

/** `n` evenly spaced values of a signal from its smallest to its largest value in the dataset (all streams). */
export function sweepValues(ex: DatasetExploration, signal: Signal, n = 12): number[] {
  const s = ex.signals.filter((x) => x.signal === signal && x.n > 0);
  const lo = Math.min(...s.map((x) => x.min));
  const hi = Math.max(...s.map((x) => x.max));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}
