/**
 * The deterministic numeric pieces of training shared by every engine: a seeded PRNG whose state is a
 * single uint32 (saved in checkpoints), the initializer of docs/CONTRACTS.md §3, the learning-rate
 * schedule, global-norm gradient clipping and Adam over the flat Float32Array parameter vector.
 * Plain TypeScript in a fixed order of operations, so same inputs → same bytes on every machine.
 */
import { PARAM_COUNT, PARAM_LAYOUT, UNITS } from './engine.js';

/** mulberry32: tiny, fast, and its whole state is one uint32 (easy to checkpoint). */
export class Rng {
  state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

/**
 * Seeded initial parameters: Glorot-uniform W, U and Wd (limit √(6 / (fan_in + fan_out))), zero biases
 * except the unit forget bias (b[64:128] = 1). `headBiasQ` starts the quantile head at a sensible value
 * (the train split's best constant ln-gap quantile) so early epochs are not spent walking the bias there.
 */
export function initParams(rng: Rng, headBiasQ = 0): Float32Array {
  const p = new Float32Array(PARAM_COUNT);
  for (const t of PARAM_LAYOUT) {
    if (t.shape.length === 2) {
      const [fanIn, fanOut] = t.shape as [number, number];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < t.size; i++) p[t.offset + i] = (2 * rng.next() - 1) * limit;
    }
  }
  const bias = PARAM_LAYOUT[2]!;
  for (let u = 0; u < UNITS; u++) p[bias.offset + UNITS + u] = 1; // unit forget bias
  p[PARAM_LAYOUT[4]!.offset] = headBiasQ;
  return p;
}

/** Linear warmup to `lr`, then cosine decay to `lr · minLrRatio` at `totalSteps`. */
export function learningRate(step: number, cfg: { lr: number; warmupSteps: number; minLrRatio: number; totalSteps: number }): number {
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  const span = Math.max(1, cfg.totalSteps - cfg.warmupSteps);
  const progress = Math.min(1, (step - cfg.warmupSteps) / span);
  const minLr = cfg.lr * cfg.minLrRatio;
  return minLr + 0.5 * (cfg.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Scales `grads` in place so their global L2 norm is at most `maxNorm` (0 = off); returns the norm before. */
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  let sq = 0;
  for (let i = 0; i < grads.length; i++) sq += grads[i]! * grads[i]!;
  const norm = Math.sqrt(sq);
  if (maxNorm > 0 && norm > maxNorm) {
    const k = maxNorm / norm;
    for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! * k;
  }
  return norm;
}

export interface AdamState {
  /** Number of updates applied so far (bias correction uses t + 1). */
  t: number;
  m: Float64Array;
  v: Float64Array;
}

export function makeAdamState(n = PARAM_COUNT): AdamState {
  return { t: 0, m: new Float64Array(n), v: new Float64Array(n) };
}

/** One Adam update of `params` in place (float64 moments, AdamW-style decoupled weight decay if > 0). */
export function adamStep(
  params: Float32Array,
  grads: Float32Array,
  st: AdamState,
  h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number },
): void {
  st.t += 1;
  const bc1 = 1 - Math.pow(h.beta1, st.t);
  const bc2 = 1 - Math.pow(h.beta2, st.t);
  for (let i = 0; i < params.length; i++) {
    const g = grads[i]!;
    const m = (st.m[i] = h.beta1 * st.m[i]! + (1 - h.beta1) * g);
    const v = (st.v[i] = h.beta2 * st.v[i]! + (1 - h.beta2) * g * g);
    let p = params[i]!;
    if (h.weightDecay > 0) p -= h.lr * h.weightDecay * p;
    params[i] = p - (h.lr * (m / bc1)) / (Math.sqrt(v / bc2) + h.eps);
  }
}
