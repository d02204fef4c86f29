/**
 * golden.json: input sequences of raw signal samples with the expected per-tick outputs of the float and
 * int8 paths, computed by the plain-TS reference (reference.ts) — never by TensorFlow.js — so any loader in
 * any language can check itself against it. Features follow runtime/features.ts (the single implementation):
 * raw features and normalized z are stored as float32 values, as the runtime stores them; the LSTM itself
 * runs in float64 over the float32 weights.
 */
import { GOLDEN_ROW_CLOCK } from '../../runtime/golden.js';
import { FeatureState, FEATURE_NAMES, normalizeInPlace, type Normalization, type SignalSample } from '../../runtime/features.js';
import type { WindowSplit } from '../window/types.js';
import { streamsOf } from '../train/lanes.js';
import { FEATURES } from '../train/engine.js';
import { referenceStep, zeroState, type ModelWeights } from './reference.js';

/** One row: [heartbeat_latency_ms | null, log_replication_gap, rpc_retries, cpu_idle_pct]. */
export type RawRow = [number | null, number, number, number];

export interface GoldenSequence {
  name: string;
  source: string;
  rows: RawRow[];
  /** Normalized features per tick (float32 values), for debugging a loader's feature step. */
  x: number[][];
  expected: { float32: Array<[number, number]>; int8: Array<[number, number]> };
}

export interface GoldenFile {
  format: 'raft-ns-golden';
  format_version: 1;
  description: string;
  row_columns: ['heartbeat_latency_ms', 'log_replication_gap', 'rpc_retries', 'cpu_idle_pct'];
  feature_names: string[];
  output_names: ['log_gap_quantile', 'leader_lost_logit'];
  arithmetic: string;
  /** Largest |loader − expected| a conforming loader may show (float32 arithmetic included). */
  tolerance: number;
  sequences: GoldenSequence[];
}

export function buildGolden(w: { float: ModelWeights; int8: ModelWeights }, norm: Normalization, seqs: Array<{ name: string; source: string; rows: RawRow[] }>): GoldenFile {
  return {
    format: 'raft-ns-golden',
    format_version: 1,
    description: 'Each sequence starts from h = c = 0 with fresh feature state and carries both across its rows; each row is a tick with a heartbeat from one leader (silence 0), so heartbeat_latency_ms is the effective heartbeat delay of feature 0; expected holds [q, logit] per row.',
    row_columns: ['heartbeat_latency_ms', 'log_replication_gap', 'rpc_retries', 'cpu_idle_pct'],
    feature_names: [...FEATURE_NAMES],
    output_names: ['log_gap_quantile', 'leader_lost_logit'],
    arithmetic: 'features: float32 storage of raw and z (runtime/features.ts); LSTM and head: float64 over float32 weights (int8 path: fround(q·scale)); σ(z) = 1/(1+exp(−z))',
    tolerance: 1e-4,
    sequences: seqs.map((s) => goldenSequence(w, norm, s)),
  };
}

function goldenSequence(w: { float: ModelWeights; int8: ModelWeights }, norm: Normalization, s: { name: string; source: string; rows: RawRow[] }): GoldenSequence {
  const xs = featureRows(s.rows, norm);
  const run = (mw: ModelWeights): Array<[number, number]> => {
    const st = zeroState();
    return xs.map((x) => referenceStep(mw, st, x));
  };
  return { ...s, x: xs.map((x) => Array.from(x)), expected: { float32: run(w.float), int8: run(w.int8) } };
}

/** Raw rows → normalized float32 feature rows, with the runtime's feature state (null latency carried). */
export function featureRows(rows: RawRow[], norm: Normalization): Float32Array[] {
  const fs = new FeatureState();
  return rows.map((r, i) => {
    const x = new Float32Array(FEATURES);
    // Rows recovered from the windows carry feature 0 as a delay; a heartbeat every row (silence 0) makes the
    // transform return exactly log1p of it, as runtime/golden.ts reads a 4-column row.
    const sample: SignalSample = { ...GOLDEN_ROW_CLOCK, nowMs: i, heartbeatLatencyMs: r[0], logReplicationGap: r[1], rpcRetries: r[2], cpuIdlePct: r[3] };
    fs.rawInto(sample, x, 0);
    normalizeInPlace(x, 0, norm);
    return x;
  });
}

/**
 * Raw rows recovered from `count` test-split sequences of up to `ticks` ticks by inverting the normalization
 * and transforms (counts rounded to integers, latency to µs, CPU to 0.01 %). Sequences are stream segments
 * taken round-robin over the streams (first segments first), so a split with few long streams still yields
 * `count` of them; each starts from zero state, as a runtime does at its first observation. The golden
 * expectations are computed from these rows, so the file is self-consistent by construction.
 */
export function rowsFromSplit(split: WindowSplit, norm: Normalization, count: number, ticks: number): Array<{ name: string; source: string; rows: RawRow[] }> {
  const segChunks = Math.max(1, Math.ceil(ticks / split.T));
  const perStream = streamsOf(split).map((chunks) => {
    const segs: number[][] = [];
    for (let i = 0; i < chunks.length; i += segChunks) segs.push(chunks.slice(i, i + segChunks));
    return segs;
  });
  const picked: Array<{ stream: number; seg: number; chunks: number[] }> = [];
  for (let round = 0; picked.length < count; round++) {
    let any = false;
    perStream.forEach((segs) => {
      if (round < segs.length && picked.length < count) {
        picked.push({ stream: split.streamId[segs[round]![0]!]!, seg: round, chunks: segs[round]! });
        any = true;
      }
    });
    if (!any) break;
  }
  const out: Array<{ name: string; source: string; rows: RawRow[] }> = [];
  for (const p of picked) {
    const rows: RawRow[] = [];
    outer: for (const k of p.chunks) {
      for (let t = 0; t < split.T && rows.length < ticks; t++) {
        const i = k * split.T + t;
        const z = Array.from({ length: FEATURES }, (_, f) => split.x[i * FEATURES + f]!);
        if (z.every((v) => v === 0) && split.wGap[i] === 0 && split.wLost[i] === 0 && Number.isNaN(split.jkLn[i]!)) break outer; // padding
        const raw = z.map((v, f) => v * norm.std[f]! + norm.mean[f]!);
        rows.push([
          Math.round(Math.max(0, Math.expm1(raw[0]!)) * 1000) / 1000,
          Math.max(0, Math.round(Math.expm1(raw[1]!))),
          Math.max(0, Math.round(Math.expm1(raw[2]!))),
          Math.round(Math.min(100, Math.max(0, raw[3]! * 100)) * 100) / 100,
        ]);
      }
    }
    if (rows.length > 0) {
      out.push({
        name: `test-stream-${p.stream}-seg-${p.seg}`,
        source: `test split, stream ${p.stream}, ticks ${p.seg * segChunks * split.T}..${p.seg * segChunks * split.T + rows.length - 1} from zero state; raw values recovered from the normalized features`,
        rows,
      });
    }
  }
  return out;
}

/** Hand-made sequences that exercise the edges: nulls before and between latencies, clipping, zeros. */
export function edgeCaseRows(): Array<{ name: string; source: string; rows: RawRow[] }> {
  const len = 48;
  const nulls: RawRow[] = Array.from({ length: len }, (_, t) => [t < 5 || t % 4 === 2 ? null : 0.5 + 0.01 * t, t % 7, 0, 90 - (t % 10)]);
  const extreme: RawRow[] = Array.from({ length: len }, (_, t) => [t % 2 === 0 ? 5000 : 0, t < 24 ? 100000 : 0, t < 24 ? 50 : 0, t % 3 === 0 ? 0 : 100]);
  const quiet: RawRow[] = Array.from({ length: len }, () => [0, 0, 0, 100]);
  const burst: RawRow[] = Array.from({ length: len }, (_, t) => [t >= 20 && t < 30 ? 250 + 10 * t : 1.2, t >= 20 ? 40 : 1, t >= 25 ? 3 : 0, t >= 20 ? 15 : 85]);
  return [
    { name: 'edge-null-latency', source: 'hand-made: latency null for 5 ticks, then every 4th tick (carry-last rule)', rows: nulls },
    { name: 'edge-extreme', source: 'hand-made: values far outside the training range (clip = ±clip)', rows: extreme },
    { name: 'edge-quiet', source: 'hand-made: an idle, healthy follower', rows: quiet },
    { name: 'edge-burst', source: 'hand-made: a latency and retry burst under CPU pressure', rows: burst },
  ];
}
