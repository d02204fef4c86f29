/**
 * Dataset exploration for notebooks/explore-dataset.ipynb: one pass over a dataset folder (readDataset)
 * that summarizes what a person checks before training on new traces — the four model signals per cluster
 * and node, the heartbeat gaps followers actually saw, missing data, and leader changes over time — plus
 * the Vega-Lite specs that draw them. Plain functions, tested in test/notebooks-analysis.test.ts; the
 * notebook only calls and displays them.
 *
 * Memory: keeps every signal value per stream (quantiles need them), so it is meant for datasets that fit
 * in memory — the exploration of a sample, not of a fleet.
 */
import type { Dataset } from '../ingest/read.js';
import type { TelemetryRow } from '../ingest/telemetry.js';
import { quantile } from '../report/stats.js';
import type { VegaLiteSpec } from '../report/charts.js';

/** The four model inputs (docs/CONTRACTS.md §3), by telemetry column. */
export const SIGNALS = ['heartbeat_latency_ms', 'log_replication_gap', 'rpc_retries', 'cpu_idle_pct'] as const;
export type Signal = (typeof SIGNALS)[number];

export interface SignalSummary {
  cluster_id: string;
  node_id: string;
  signal: Signal;
  /** Non-null values. */
  n: number;
  nulls: number;
  min: number;
  p01: number;
  p25: number;
  p50: number;
  p75: number;
  p99: number;
  max: number;
  mean: number;
}

export interface StreamGaps {
  cluster_id: string;
  node_id: string;
  rows: number;
  /** Rows whose ts_ms is more than one tick after the previous row of the same node (ticks absent). */
  missing_ticks: number;
  heartbeat_latency_nulls: number;
  /** Follower ticks with no known leader (leader_id null). */
  leaderless_follower_ticks: number;
}

export interface LeaderChange {
  cluster_id: string;
  ts_ms: number;
  term: number;
  /** The node that became leader (first tick it reports role `leader` in `term`). */
  leader_id: string;
  /** Time since the previous leader change of the cluster (null for the first). */
  since_previous_ms: number | null;
}

export interface DatasetExploration {
  dataset: { dir: string; tick_ms: number; row_count: number; clusters: number; streams: number; part_sha256: string[]; tool_version: string };
  signals: SignalSummary[];
  /**
   * Heartbeat gaps seen by followers: the time between two consecutive received heartbeats from the same
   * leader in the same term (the `gap` of docs/CONTRACTS.md §4, observed gaps only), in ms.
   */
  heartbeat_gaps_ms: number[];
  /** The same gaps' quantiles, for prose. */
  heartbeat_gap_quantiles: { p50: number; p90: number; p99: number; p999: number; max: number };
  streams: StreamGaps[];
  leader_changes: LeaderChange[];
}

interface StreamState {
  cluster_id: string;
  node_id: string;
  values: Record<Signal, number[]>;
  nulls: Record<Signal, number>;
  rows: number;
  missing_ticks: number;
  leaderless_follower_ticks: number;
  lastTs: number | null;
  /** Last received heartbeat: (leader, term, ts). */
  lastBeat: { leader: string; term: number; ts: number } | null;
}

/**
 * Reads a dataset once and summarizes it.
 * @example const ex = await exploreDataset(await readDataset('datasets/sample')); ex.heartbeat_gap_quantiles.p99
 */
export async function exploreDataset(ds: Dataset): Promise<DatasetExploration> {
  const tickMs = ds.manifest.tick_ms;
  const streams = new Map<string, StreamState>();
  const gaps: number[] = [];
  const leaderSeen = new Map<string, Set<string>>(); // cluster → "term leader" already counted
  const changes: LeaderChange[] = [];
  for await (const batch of ds.batches) {
    for (const r of batch) {
      const key = `${r.cluster_id}\u0000${r.node_id}`;
      let s = streams.get(key);
      if (!s) {
        s = newStream(r);
        streams.set(key, s);
      }
      addRow(s, r, tickMs, gaps);
      if (r.role === 'leader') {
        let seen = leaderSeen.get(r.cluster_id);
        if (!seen) leaderSeen.set(r.cluster_id, (seen = new Set()));
        const k = `${r.term} ${r.node_id}`;
        if (!seen.has(k)) {
          seen.add(k);
          changes.push({ cluster_id: r.cluster_id, ts_ms: r.ts_ms, term: r.term, leader_id: r.node_id, since_previous_ms: null });
        }
      }
    }
  }
  // Rows come per part in file order, not globally by time: order the changes, then measure the intervals.
  changes.sort((a, b) => (a.cluster_id < b.cluster_id ? -1 : a.cluster_id > b.cluster_id ? 1 : a.ts_ms - b.ts_ms || a.term - b.term));
  for (let i = 1; i < changes.length; i++) {
    if (changes[i]!.cluster_id === changes[i - 1]!.cluster_id) changes[i]!.since_previous_ms = changes[i]!.ts_ms - changes[i - 1]!.ts_ms;
  }
  const ordered = [...streams.values()].sort((a, b) => (a.cluster_id + a.node_id < b.cluster_id + b.node_id ? -1 : 1));
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  return {
    dataset: {
      dir: ds.dir, tick_ms: tickMs, row_count: ds.manifest.row_count, clusters: new Set(ordered.map((s) => s.cluster_id)).size, streams: ordered.length,
      part_sha256: ds.manifest.parts.map((p) => p.sha256), tool_version: ds.manifest.tool_version,
    },
    signals: ordered.flatMap((s) => SIGNALS.map((sig) => summarize(s, sig))),
    heartbeat_gaps_ms: gaps,
    heartbeat_gap_quantiles: {
      p50: quantileSorted(sortedGaps, 0.5), p90: quantileSorted(sortedGaps, 0.9), p99: quantileSorted(sortedGaps, 0.99),
      p999: quantileSorted(sortedGaps, 0.999), max: sortedGaps.length ? sortedGaps[sortedGaps.length - 1]! : Number.NaN,
    },
    streams: ordered.map((s) => ({
      cluster_id: s.cluster_id, node_id: s.node_id, rows: s.rows, missing_ticks: s.missing_ticks,
      heartbeat_latency_nulls: s.nulls.heartbeat_latency_ms, leaderless_follower_ticks: s.leaderless_follower_ticks,
    })),
    leader_changes: changes,
  };
}

function newStream(r: TelemetryRow): StreamState {
  return {
    cluster_id: r.cluster_id, node_id: r.node_id, rows: 0, missing_ticks: 0, leaderless_follower_ticks: 0, lastTs: null, lastBeat: null,
    values: { heartbeat_latency_ms: [], log_replication_gap: [], rpc_retries: [], cpu_idle_pct: [] },
    nulls: { heartbeat_latency_ms: 0, log_replication_gap: 0, rpc_retries: 0, cpu_idle_pct: 0 },
  };
}

function addRow(s: StreamState, r: TelemetryRow, tickMs: number, gaps: number[]): void {
  s.rows++;
  // Invariant (ingest): per-node ts_ms strictly increases, so a step of k ticks means k − 1 absent ticks.
  if (s.lastTs !== null && r.ts_ms - s.lastTs > tickMs) s.missing_ticks += Math.round((r.ts_ms - s.lastTs) / tickMs) - 1;
  s.lastTs = r.ts_ms;
  for (const sig of SIGNALS) {
    const v = r[sig];
    if (v === null || !Number.isFinite(v)) s.nulls[sig]++;
    else s.values[sig].push(v);
  }
  if (r.role === 'follower' && r.leader_id === null) s.leaderless_follower_ticks++;
  if (r.role === 'follower' && r.leader_id !== null && r.heartbeat_received) {
    const b = s.lastBeat;
    if (b && b.leader === r.leader_id && b.term === r.term) gaps.push(r.ts_ms - b.ts);
    s.lastBeat = { leader: r.leader_id, term: r.term, ts: r.ts_ms };
  }
}

function summarize(s: StreamState, sig: Signal): SignalSummary {
  const xs = [...s.values[sig]].sort((a, b) => a - b);
  const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
  return {
    cluster_id: s.cluster_id, node_id: s.node_id, signal: sig, n: xs.length, nulls: s.nulls[sig],
    min: xs.length ? xs[0]! : Number.NaN, p01: quantileSorted(xs, 0.01), p25: quantileSorted(xs, 0.25), p50: quantileSorted(xs, 0.5),
    p75: quantileSorted(xs, 0.75), p99: quantileSorted(xs, 0.99), max: xs.length ? xs[xs.length - 1]! : Number.NaN, mean,
  };
}

function quantileSorted(xs: readonly number[], q: number): number {
  // stats.quantile sorts a copy; the inputs here are sorted already, and it is the same interpolation.
  return quantile(xs, q);
}

/** Short ids for charts: pseudonyms are 16 hex digits; the first 6 tell nodes apart in a legend. */
export function shortId(id: string): string {
  const m = /^([a-z]-)?([0-9a-f]{6})[0-9a-f]*$/.exec(id);
  return m ? `${m[1] ?? ''}${m[2]}` : id;
}

// ---- Vega-Lite specs -------------------------------------------------------------------------------------

/** Per-node distribution of each signal: whiskers p01–p99, box p25–p75, tick at the median; one row per signal. */
export function signalDistributionSpec(ex: DatasetExploration): VegaLiteSpec {
  // Labelled cluster/node so that the alphabetical order groups each cluster's nodes together.
  const values = ex.signals.filter((s) => s.n > 0).map((s) => ({ ...s, cluster: shortId(s.cluster_id), node: `${shortId(s.cluster_id)}/${shortId(s.node_id)}` }));
  const y = { field: 'node', type: 'nominal', title: null } as const;
  return {
    background: 'white',
    data: { values },
    facet: { row: { field: 'signal', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 420, height: { step: 14 },
      layer: [
        { mark: { type: 'rule' }, encoding: { y, x: { field: 'p01', type: 'quantitative', title: 'value (p01–p99, box p25–p75, tick median)', scale: { zero: false } }, x2: { field: 'p99' }, color: { field: 'cluster', type: 'nominal' } } },
        { mark: { type: 'bar', size: 9 }, encoding: { y, x: { field: 'p25', type: 'quantitative' }, x2: { field: 'p75' }, color: { field: 'cluster', type: 'nominal', title: 'cluster' } } },
        { mark: { type: 'tick', color: 'black', size: 11 }, encoding: { y, x: { field: 'p50', type: 'quantitative' } } },
      ],
    },
  } as VegaLiteSpec;
}

/** Histogram of the heartbeat gaps followers saw, in ticks of the dataset (log count axis: the tail matters). */
export function heartbeatGapSpec(ex: DatasetExploration): VegaLiteSpec {
  const counts = new Map<number, number>();
  for (const g of ex.heartbeat_gaps_ms) counts.set(g, (counts.get(g) ?? 0) + 1);
  const values = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([gap_ms, count]) => ({ gap_ms, count }));
  const q = ex.heartbeat_gap_quantiles;
  const rules = [{ q: 'p50', ms: q.p50 }, { q: 'p99', ms: q.p99 }, { q: 'p99.9', ms: q.p999 }].filter((r) => Number.isFinite(r.ms));
  return {
    background: 'white', width: 560, height: 220,
    title: `heartbeat gaps seen by followers (${ex.heartbeat_gaps_ms.length} gaps, tick ${ex.dataset.tick_ms} ms)`,
    layer: [
      { data: { values }, mark: { type: 'bar', size: 6 }, encoding: { x: { field: 'gap_ms', type: 'quantitative', title: 'gap (ms)' }, y: { field: 'count', type: 'quantitative', scale: { type: 'symlog' }, title: 'gaps (symlog scale)' } } },
      { data: { values: rules }, mark: { type: 'rule', strokeDash: [4, 3], color: '#c0392b' }, encoding: { x: { field: 'ms', type: 'quantitative' } } },
      { data: { values: rules }, mark: { type: 'text', align: 'left', dx: 3, y: 8, color: '#c0392b' }, encoding: { x: { field: 'ms', type: 'quantitative' }, text: { field: 'q' } } },
    ],
  } as VegaLiteSpec;
}

/** Missing data per node: absent ticks, null heartbeat latency, follower ticks without a leader. */
export function missingDataSpec(ex: DatasetExploration): VegaLiteSpec {
  const values = ex.streams.flatMap((s) => [
    { node: shortId(s.node_id), cluster: shortId(s.cluster_id), kind: 'absent ticks', count: s.missing_ticks },
    { node: shortId(s.node_id), cluster: shortId(s.cluster_id), kind: 'null heartbeat_latency_ms', count: s.heartbeat_latency_nulls },
    { node: shortId(s.node_id), cluster: shortId(s.cluster_id), kind: 'follower without leader', count: s.leaderless_follower_ticks },
  ]);
  return {
    background: 'white', data: { values },
    facet: { column: { field: 'kind', type: 'nominal', title: null } },
    spec: { width: 200, height: { step: 14 }, mark: 'bar', encoding: { y: { field: 'node', type: 'nominal', title: null }, x: { field: 'count', type: 'quantitative', title: 'rows' }, color: { field: 'cluster', type: 'nominal' } } },
  } as VegaLiteSpec;
}

/** Leader changes over time: the term of each cluster as a step line, a point per new leader. */
export function leaderChangesSpec(ex: DatasetExploration): VegaLiteSpec {
  const t0 = Math.min(...ex.leader_changes.map((c) => c.ts_ms));
  const values = ex.leader_changes.map((c) => ({ cluster: shortId(c.cluster_id), leader: shortId(c.leader_id), term: c.term, t_s: (c.ts_ms - t0) / 1000 }));
  const x = { field: 't_s', type: 'quantitative', title: 'time since the first leader (s)' } as const;
  return {
    background: 'white', width: 560, height: 200, data: { values },
    title: `leader changes (${ex.leader_changes.length} leaders elected)`,
    layer: [
      { mark: { type: 'line', interpolate: 'step-after' }, encoding: { x, y: { field: 'term', type: 'quantitative' }, color: { field: 'cluster', type: 'nominal' } } },
      { mark: { type: 'point', filled: true }, encoding: { x, y: { field: 'term', type: 'quantitative' }, color: { field: 'cluster', type: 'nominal' }, tooltip: [{ field: 'leader' }] } },
    ],
  } as VegaLiteSpec;
}

/**
 * All rows of a dataset in one array (small datasets only). Also keeps notebooks free of top-level
 * `for await` loops, after which tslab 1.0.22 forgets the cell's later declarations.
 */
export async function readAllRows(ds: Dataset): Promise<TelemetryRow[]> {
  const rows: TelemetryRow[] = [];
  for await (const batch of ds.batches) for (const r of batch) rows.push(r);
  return rows;
}
