/**
 * Lanes: how chunks of many streams become batches while LSTM state is carried chunk to chunk
 * (docs/CONTRACTS.md §3). Each of the B lanes of a batch works through a queue of whole streams, one chunk
 * per step; lane b of step s+1 starts from lane b's final (h, c) of step s (detached: values only), or from
 * zeros when a new stream begins there. Lanes that run out early get padding chunks (all weights 0).
 */
import { RaftNsError } from '../util/errors.js';
import type { WindowSplit } from '../window/types.js';
import { FEATURES, OUTPUTS, UNITS, type Batch, type TrainEngine } from './engine.js';
import type { Rng } from './optim.js';

/** Chunk indices of one stream, in time order. */
export type Stream = number[];

/** Groups a split's chunks into streams (ordered by chunkIndex); checks each stream's chunks are 0, 1, 2, …. */
export function streamsOf(split: WindowSplit, segmentChunks = 0): Stream[] {
  const byId = new Map<number, Stream>();
  for (let k = 0; k < split.count; k++) {
    const id = split.streamId[k]!;
    let s = byId.get(id);
    if (!s) byId.set(id, (s = []));
    s.push(k);
  }
  const ids = [...byId.keys()].sort((a, b) => a - b);
  const streams: Stream[] = [];
  for (const id of ids) {
    const s = byId.get(id)!.sort((a, b) => split.chunkIndex[a]! - split.chunkIndex[b]!);
    s.forEach((k, i) => {
      if (split.chunkIndex[k] !== i) {
        throw new RaftNsError(
          'train.windows',
          `train: ${split.name} split, stream ${id}: chunk ${k} has chunkIndex ${split.chunkIndex[k]}, expected ${i} (chunks of a stream must be consecutive)`,
        );
      }
    });
    // Optional segmentation: a long stream becomes several that start from zero state, which the runtime
    // also sees after a restart; it buys more lanes (parallelism) when there are few, long streams.
    if (segmentChunks > 0) for (let i = 0; i < s.length; i += segmentChunks) streams.push(s.slice(i, i + segmentChunks));
    else streams.push(s);
  }
  return streams;
}

/** A lane plan: for each lane, the chunk per step (−1 = padding) and whether that chunk starts a stream. */
export interface LanePlan {
  B: number;
  steps: number;
  chunk: Int32Array; // [steps, B]
  starts: Uint8Array; // [steps, B]
}

/**
 * Assigns streams to `maxLanes` lanes, longest-first to the least-loaded lane (ties: lowest lane), after an
 * optional seeded shuffle (training) that varies which streams share a step from epoch to epoch.
 */
export function planLanes(streams: Stream[], maxLanes: number, rng?: Rng): LanePlan {
  const order = streams.map((_, i) => i);
  if (rng) rng.shuffle(order);
  // Stable sort by length keeps the shuffled order among equal lengths.
  order.sort((a, b) => streams[b]!.length - streams[a]!.length);
  const B = Math.max(1, Math.min(maxLanes, streams.length));
  const lanes: number[][] = Array.from({ length: B }, () => []);
  const laneStarts: number[][] = Array.from({ length: B }, () => []);
  for (const si of order) {
    let best = 0;
    for (let b = 1; b < B; b++) if (lanes[b]!.length < lanes[best]!.length) best = b;
    streams[si]!.forEach((k, i) => {
      lanes[best]!.push(k);
      laneStarts[best]!.push(i === 0 ? 1 : 0);
    });
  }
  const steps = Math.max(0, ...lanes.map((l) => l.length));
  const chunk = new Int32Array(steps * B).fill(-1);
  const starts = new Uint8Array(steps * B);
  for (let b = 0; b < B; b++) {
    lanes[b]!.forEach((k, s) => {
      chunk[s * B + b] = k;
      starts[s * B + b] = laneStarts[b]![s]!;
    });
  }
  return { B, steps, chunk, starts };
}

/**
 * Assembles step `s` of a plan into a Batch; h0/c0 come from `carry` (the previous step's hT/cT), zeroed
 * for lanes that start a stream or pad.
 */
export function assembleBatch(split: WindowSplit, plan: LanePlan, s: number, carry: { h: Float32Array; c: Float32Array }): Batch {
  const { B } = plan;
  const T = split.T;
  const batch: Batch = {
    B,
    T,
    x: new Float32Array(B * T * FEATURES),
    gapLn: new Float32Array(B * T),
    censored: new Float32Array(B * T),
    lost: new Float32Array(B * T),
    wGap: new Float32Array(B * T),
    wLost: new Float32Array(B * T),
    h0: new Float32Array(B * UNITS),
    c0: new Float32Array(B * UNITS),
  };
  for (let b = 0; b < B; b++) {
    const k = plan.chunk[s * B + b]!;
    if (k >= 0) {
      batch.x.set(split.x.subarray(k * T * FEATURES, (k + 1) * T * FEATURES), b * T * FEATURES);
      batch.gapLn.set(split.gapLn.subarray(k * T, (k + 1) * T), b * T);
      batch.censored.set(split.censored.subarray(k * T, (k + 1) * T), b * T);
      batch.lost.set(split.lost.subarray(k * T, (k + 1) * T), b * T);
      batch.wGap.set(split.wGap.subarray(k * T, (k + 1) * T), b * T);
      batch.wLost.set(split.wLost.subarray(k * T, (k + 1) * T), b * T);
    }
    if (k >= 0 && plan.starts[s * B + b] === 0) {
      batch.h0.set(carry.h.subarray(b * UNITS, (b + 1) * UNITS), b * UNITS);
      batch.c0.set(carry.c.subarray(b * UNITS, (b + 1) * UNITS), b * UNITS);
    }
  }
  return batch;
}

/**
 * Runs the model over every stream of a split with carried state (no gradients); returns y [count, T, 2]
 * in chunk order: exactly what the runtime would output tick by tick from each stream's start.
 */
export async function forwardSplit(engine: TrainEngine, params: Float32Array, split: WindowSplit, maxLanes: number): Promise<Float32Array> {
  const T = split.T;
  const y = new Float32Array(split.count * T * OUTPUTS);
  const plan = planLanes(streamsOf(split), maxLanes);
  let carry: { h: Float32Array; c: Float32Array } = { h: new Float32Array(plan.B * UNITS), c: new Float32Array(plan.B * UNITS) };
  for (let s = 0; s < plan.steps; s++) {
    const batch = assembleBatch(split, plan, s, carry);
    const out = await engine.forward(params, batch);
    for (let b = 0; b < plan.B; b++) {
      const k = plan.chunk[s * plan.B + b]!;
      if (k >= 0) y.set(out.y.subarray(b * T * OUTPUTS, (b + 1) * T * OUTPUTS), k * T * OUTPUTS);
    }
    carry = { h: out.hT, c: out.cT };
  }
  return y;
}
