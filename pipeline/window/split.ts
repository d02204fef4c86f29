/**
 * Train / validation / test assignment: by cluster when there are at least 3 clusters, else by contiguous
 * time blocks per cluster. Never by window: chunks of one stream are correlated, and overlapping or
 * adjacent windows in different splits leak. Deterministic: a function of the cluster ids, the times and the seed.
 */
import { createHash } from 'node:crypto';
import { RaftNsError } from '../util/errors.js';
import type { SPLIT_NAMES } from './types.js';
import { cmp, type NodeStream } from './streams.js';

export type SplitName = (typeof SPLIT_NAMES)[number];
export type SplitFractions = Record<SplitName, number>;

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };
/** Below this many clusters a cluster split leaves some split empty, so time blocks are used instead. */
export const MIN_CLUSTERS_FOR_CLUSTER_SPLIT = 3;

/** A half-open time range [from_ts_ms, to_ts_ms) of one cluster assigned to one split. */
export interface TimeBlock {
  cluster_id: string;
  split: SplitName;
  from_ts_ms: number;
  to_ts_ms: number;
}

export type SplitPlan =
  | { mode: 'cluster'; clusters: Array<{ cluster_id: string; split: SplitName; hash: string }> }
  | { mode: 'time'; blocks: TimeBlock[] };

/** A contiguous range [start, end) of one stream's ticks that belongs to one split. */
export interface Segment {
  stream: NodeStream;
  split: SplitName;
  start: number;
  end: number;
}

/** Throws unless the fractions are finite, non-negative, give train a share and sum to 1. */
export function checkFractions(f: SplitFractions): void {
  const sum = f.train + f.val + f.test;
  const ok = [f.train, f.val, f.test].every((x) => Number.isFinite(x) && x >= 0) && f.train > 0 && Math.abs(sum - 1) < 1e-9;
  if (!ok) {
    throw new RaftNsError('window.config',
      `window: split fractions train=${f.train} val=${f.val} test=${f.test}; expected non-negative numbers summing to 1 with train > 0`);
  }
}

/**
 * The split plan for these streams (sorted as StreamCollector.finish sorts them).
 *
 * @example
 *   const plan = planSplit(streams, DEFAULT_FRACTIONS, 7, 100);
 *   const segments = segmentStreams(streams, plan);
 */
export function planSplit(streams: readonly NodeStream[], fractions: SplitFractions, seed: number, tickMs: number): SplitPlan {
  checkFractions(fractions);
  const clusterIds = [...new Set(streams.map((s) => s.clusterId))].sort(cmp);
  if (clusterIds.length >= MIN_CLUSTERS_FOR_CLUSTER_SPLIT) {
    const hashed = clusterIds
      .map((id) => ({ id, hash: createHash('sha256').update(`raft-ns-window:${seed}:${id}`).digest('hex') }))
      .sort((a, b) => cmp(a.hash, b.hash) || cmp(a.id, b.id));
    const counts = splitCounts(hashed.length, fractions);
    const clusters = hashed.map(({ id, hash }, i) => ({
      cluster_id: id,
      hash,
      split: (i < counts.train ? 'train' : i < counts.train + counts.val ? 'val' : 'test') as SplitName,
    }));
    clusters.sort((a, b) => cmp(a.cluster_id, b.cluster_id));
    return { mode: 'cluster', clusters };
  }
  const blocks: TimeBlock[] = [];
  for (const id of clusterIds) {
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const s of streams) {
      if (s.clusterId !== id || s.length === 0) continue;
      t0 = Math.min(t0, s.tsMs[0]!);
      t1 = Math.max(t1, s.tsMs[s.length - 1]!);
    }
    const endMs = t1 + tickMs;
    // Cut points on whole ticks from the cluster's first tick, so every block holds whole ticks.
    const ticks = Math.round((endMs - t0) / tickMs);
    const c1 = t0 + Math.round(fractions.train * ticks) * tickMs;
    const c2 = Math.min(endMs, c1 + Math.round(fractions.val * ticks) * tickMs);
    blocks.push({ cluster_id: id, split: 'train', from_ts_ms: t0, to_ts_ms: c1 });
    blocks.push({ cluster_id: id, split: 'val', from_ts_ms: c1, to_ts_ms: c2 });
    blocks.push({ cluster_id: id, split: 'test', from_ts_ms: c2, to_ts_ms: Math.max(c2, endMs) });
  }
  return { mode: 'time', blocks };
}

/** Whole-cluster counts per split by largest remainder; with ≥ 3 clusters every split with a share gets ≥ 1. */
export function splitCounts(n: number, f: SplitFractions): Record<SplitName, number> {
  const names: SplitName[] = ['train', 'val', 'test'];
  const exact = names.map((k) => f[k] * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = names.map((_, i) => i).sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const i of order) if (left > 0) (counts[i]!++, left--);
  for (let i = 0; i < 3; i++) {
    if (counts[i] === 0 && f[names[i]!] > 0) {
      const donor = counts.indexOf(Math.max(...counts));
      if (counts[donor]! > 1) (counts[donor]!--, counts[i]!++);
    }
  }
  return { train: counts[0]!, val: counts[1]!, test: counts[2]! };
}

/**
 * Cuts streams into per-split segments: at its cluster's block boundaries (time mode) and where the node
 * restarted (`restarted` event): a restarted process runs a new runtime from a zero state, so training must
 * not carry state, features or labels across that point either.
 */
export function segmentStreams(streams: readonly NodeStream[], plan: SplitPlan): Segment[] {
  const out: Segment[] = [];
  if (plan.mode === 'cluster') {
    const byCluster = new Map(plan.clusters.map((c) => [c.cluster_id, c.split]));
    for (const s of streams) if (s.length > 0) pushLifetimes(out, s, byCluster.get(s.clusterId)!, 0, s.length);
    return out;
  }
  for (const s of streams) {
    for (const b of plan.blocks) {
      if (b.cluster_id !== s.clusterId) continue;
      const start = lowerBound(s.tsMs, s.length, b.from_ts_ms);
      const end = lowerBound(s.tsMs, s.length, b.to_ts_ms);
      if (end > start) pushLifetimes(out, s, b.split, start, end);
    }
  }
  return out;
}

/** Pushes [start, end) of `s` as one segment per process lifetime (a new one at each restart). */
function pushLifetimes(out: Segment[], s: NodeStream, split: SplitName, start: number, end: number): void {
  let from = start;
  for (let i = start + 1; i < end; i++) {
    if (s.restart[i]) {
      out.push({ stream: s, split, start: from, end: i });
      from = i;
    }
  }
  out.push({ stream: s, split, start: from, end });
}

/** First index i in [0, n) with a[i] >= x (n when none); a is increasing. */
function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
