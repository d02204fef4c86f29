/**
 * What the training loop does to the parameters besides Adam, for `verify`.
 *
 * The q-head range constraint (like a Keras kernel constraint, applied after every optimizer step).
 *    The quantile head is linear over h, and h = o·tanh(c) lies in [−1, 1] for every input and every state,
 *    so q = b + Σ w_k·h_k lies in [b − ‖w‖₁, b + ‖w‖₁] whatever the network sees. Keeping
 *    |b − m| + ‖w‖₁ ≤ r, with m, r the centre and half-width of [ln lo, ln hi], keeps the raw proposal exp(q)
 *    inside [lo, hi] ms for EVERY input — a fact interval bound propagation proves from h ∈ [−1, 1] alone,
 *    so the rules' absolute floor and ceiling hold by construction, not by luck of the data.
 *    The set is an L1 ball in (b − m, w); the step is the Euclidean projection onto it (Duchi et al. 2008).
 */
import { PARAM_LAYOUT, UNITS } from './engine.js';

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
  if (!(r > 0)) throw new Error(`train: q_range_ms [${rangeMs.join(', ')}] is narrower than the constraint's margin; expected hi/lo ≥ 1.001`);
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
