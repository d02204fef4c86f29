/**
 * Two things the training loop does to the parameters besides Adam, both for `verify`:
 *
 * 1. The q-head range constraint (like a Keras kernel constraint, applied after every optimizer step).
 *    The quantile head is linear over h, and h = o·tanh(c) lies in [−1, 1] for every input and every state,
 *    so q = b + Σ w_k·h_k lies in [b − ‖w‖₁, b + ‖w‖₁] whatever the network sees. Keeping
 *    |b − m| + ‖w‖₁ ≤ r, with m, r the centre and half-width of [ln lo, ln hi], keeps the raw proposal exp(q)
 *    inside [lo, hi] ms for EVERY input — a fact interval bound propagation proves from h ∈ [−1, 1] alone,
 *    so the rules' absolute floor and ceiling hold by construction, not by luck of the data.
 *    The set is an L1 ball in (b − m, w); the step is the Euclidean projection onto it (Duchi et al. 2008).
 *
 * 2. int8 noise (quantization-noise training, Fan et al. 2020 "Training with Quantization Noise"): the
 *    forward/backward of a step sees the two quantized matrices (input and recurrent kernels) perturbed by
 *    uniform noise of ±½ of their int8 step per output column — the size of the rounding the artifact will
 *    apply. Adam still updates the clean weights. The network learns to be insensitive to perturbations of
 *    that size, which is what `verify` check c (int8 within the budget of float) measures.
 */
import { PARAM_LAYOUT, UNITS } from './engine.js';
import { Rng } from './optim.js';

/** Slack (ln units) between the constraint and [ln lo, ln hi]: float32 storage and outward rounding fit inside. */
export const Q_RANGE_MARGIN_LN = 1e-4;

const HEAD_KERNEL = PARAM_LAYOUT[3]!; // [UNITS, 2], column 0 = q
const HEAD_BIAS = PARAM_LAYOUT[4]!; // [2], index 0 = q

/**
 * Projects the q head of `params` (in place) onto {|b − m| + Σ|w_k| ≤ r − margin} for q ∈ [ln lo, ln hi].
 * Returns true when the parameters were moved. Deterministic: a fixed order of operations.
 */
export function projectQHead(params: Float32Array, rangeMs: readonly [number, number]): boolean {
  const lnLo = Math.log(rangeMs[0]);
  const lnHi = Math.log(rangeMs[1]);
  const m = (lnLo + lnHi) / 2;
  const r = (lnHi - lnLo) / 2 - Q_RANGE_MARGIN_LN;
  // v = (b − m, w_0 … w_63)
  const v = new Float64Array(UNITS + 1);
  v[0] = params[HEAD_BIAS.offset]! - m;
  for (let k = 0; k < UNITS; k++) v[k + 1] = params[HEAD_KERNEL.offset + k * 2]!;
  let l1 = 0;
  for (let i = 0; i < v.length; i++) l1 += Math.abs(v[i]!);
  if (l1 <= r) return false;
  // Duchi: θ such that Σ max(|v_i| − θ, 0) = r; then soft-threshold.
  const mu = Array.from(v, Math.abs).sort((a, b) => b - a);
  let cum = 0;
  let theta = 0;
  for (let j = 0; j < mu.length; j++) {
    cum += mu[j]!;
    const t = (cum - r) / (j + 1);
    if (mu[j]! - t > 0) theta = t;
  }
  const shrink = (x: number): number => Math.sign(x) * Math.max(Math.abs(x) - theta, 0);
  params[HEAD_BIAS.offset] = m + shrink(v[0]!);
  for (let k = 0; k < UNITS; k++) params[HEAD_KERNEL.offset + k * 2] = shrink(v[k + 1]!);
  return true;
}

/** The interval the q head can reach for h ∈ [−1, 1]^64: [b − ‖w‖₁, b + ‖w‖₁] (ln ms). */
export function qHeadRangeLn(params: Float32Array): [number, number] {
  const b = params[HEAD_BIAS.offset]!;
  let l1 = 0;
  for (let k = 0; k < UNITS; k++) l1 += Math.abs(params[HEAD_KERNEL.offset + k * 2]!);
  return [b - l1, b + l1];
}

/**
 * dst = params with the input and recurrent kernels perturbed by strength × U(−½, ½) × int8 step of their
 * column (step = max|column| / 127, the scale pipeline/quantize/int8.ts will use). The noise of a step is a
 * function of (seed, step) only, so a resumed run draws the same noise.
 */
export function int8NoiseInto(dst: Float32Array, params: Float32Array, strength: number, seed: number, step: number): Float32Array {
  dst.set(params);
  if (strength <= 0) return dst;
  const rng = new Rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35)) >>> 0);
  for (const t of [PARAM_LAYOUT[0]!, PARAM_LAYOUT[1]!]) {
    const [rows, cols] = t.shape as [number, number];
    for (let c = 0; c < cols; c++) {
      let maxAbs = 0;
      for (let r = 0; r < rows; r++) maxAbs = Math.max(maxAbs, Math.abs(params[t.offset + r * cols + c]!));
      const amp = (strength * maxAbs) / 127;
      for (let r = 0; r < rows; r++) dst[t.offset + r * cols + c] = params[t.offset + r * cols + c]! + amp * (rng.next() - 0.5);
    }
  }
  return dst;
}
