/**
 * Error-compensating rounding for the LSTM's two int8 matrices (GPTQ, Frantar et al. 2023, "GPTQ: Accurate
 * Post-Training Quantization for Generative Pre-trained Transformers", at int8 and this model's size).
 *
 * The format does not change: the same codes q ∈ [−127, 127] and the same per-output-column scales
 * (scale[c] = max_r |w[r][c]| / 127, int8.ts) that every loader dequantizes. Only which code each weight gets
 * changes. Round-to-nearest treats every weight alone; here the rows (inputs) of the combined matrix
 * [W; U] (4 + 64 inputs → 256 gate pre-activations) are rounded one at a time, and each row's rounding
 * error is pushed onto the rows not yet rounded, weighted by how those inputs co-vary with it on real data:
 * the pre-activation error E‖(Ŵ − W)ᵀ a‖² over the calibration inputs a = [x_t; h_{t−1}] shrinks, not
 * just each |ŵ − w|.
 *
 * Why it matters here: the model carries its state forever, so a small systematic pre-activation error
 * accumulates into a timing shift of the slow units; verify's check c measured p99 |int8 − float| 0.03–0.055
 * in ln-gap with round-to-nearest.
 *
 * Calibration data: the TRAIN split (never the held-out split verify measures on), every tick, each stream
 * from h = c = 0 with state carried, through the float model.
 */
import { LstmModel, LstmState } from '../../runtime/engine.js';
import type { DenseParams } from '../../runtime/artifact.js';
import { streamsOf } from '../train/lanes.js';
import type { WindowSplit } from '../window/types.js';
import { quantizeMatrix, roundHalfAway, type QuantizedMatrix } from './int8.js';

const F = 4;
const H = 64;
const G = 256;
const N = F + H;

/** E[a aᵀ] for a = [x_t; h_{t−1}] over every tick of `split` (float model, carried state); [N, N] row-major. */
export function inputSecondMoment(p: DenseParams, split: WindowSplit, maxTicks = 400_000): { H: Float64Array; ticks: number } {
  const model = LstmModel.fromDense(p);
  const Hm = new Float64Array(N * N);
  const a = new Float64Array(N);
  const y = new Float64Array(2);
  let ticks = 0;
  const T = split.T;
  outer: for (const stream of streamsOf(split)) {
    const st = new LstmState();
    for (const k of stream) {
      for (let t = 0; t < T; t++) {
        const i = k * T + t;
        const x = split.x.subarray(i * F, i * F + F);
        for (let j = 0; j < F; j++) a[j] = x[j]!;
        for (let j = 0; j < H; j++) a[F + j] = st.h[j]!;
        for (let r = 0; r < N; r++) {
          const ar = a[r]!;
          if (ar === 0) continue;
          for (let c = r; c < N; c++) Hm[r * N + c]! += ar * a[c]!;
        }
        model.step(st, x, y);
        if (++ticks >= maxTicks) break outer;
      }
    }
  }
  for (let r = 0; r < N; r++) {
    for (let c = r; c < N; c++) {
      const v = Hm[r * N + c]! / Math.max(ticks, 1);
      Hm[r * N + c] = v;
      Hm[c * N + r] = v;
    }
  }
  return { H: Hm, ticks };
}

/** Upper Cholesky factor R of a symmetric positive definite [n, n] matrix: A = Rᵀ R. */
function choleskyUpper(A: Float64Array, n: number): Float64Array {
  const R = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let d = A[i * n + i]!;
    for (let k = 0; k < i; k++) d -= R[k * n + i]! ** 2;
    if (!(d > 0)) throw new Error('gptq: calibration matrix is not positive definite');
    const rii = Math.sqrt(d);
    R[i * n + i] = rii;
    for (let j = i + 1; j < n; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < i; k++) s -= R[k * n + i]! * R[k * n + j]!;
      R[i * n + j] = s / rii;
    }
  }
  return R;
}

/** Inverse of a symmetric positive definite matrix via its Cholesky factor. */
function spdInverse(A: Float64Array, n: number): Float64Array {
  const R = choleskyUpper(A, n); // A = RᵀR → A⁻¹ = R⁻¹ R⁻ᵀ
  const Rinv = new Float64Array(n * n);
  for (let i = n - 1; i >= 0; i--) {
    Rinv[i * n + i] = 1 / R[i * n + i]!;
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += R[i * n + k]! * Rinv[k * n + j]!;
      Rinv[i * n + j] = -s / R[i * n + i]!;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = j; k < n; k++) s += Rinv[i * n + k]! * Rinv[j * n + k]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * Codes for W [4, 256] and U [64, 256] with the standard per-column scales, rounded GPTQ-style against the
 * input second moment `Hm` ([68, 68], from inputSecondMoment). `dampening` (relative to the mean diagonal)
 * keeps the inverse well conditioned, as in GPTQ.
 */
export function gptqLstmKernels(W: Float32Array, U: Float32Array, Hm: Float64Array, dampening = 0.01): { kernel: QuantizedMatrix; recurrent: QuantizedMatrix } {
  // The standard per-column scales (int8.ts), so loaders dequantize exactly as for round-to-nearest.
  const sW = quantizeMatrix(W, F, G).scale;
  const sU = quantizeMatrix(U, H, G).scale;
  // Dampened H, then the upper Cholesky factor of its inverse (GPTQ's update weights).
  const A = Hm.slice();
  let meanDiag = 0;
  for (let i = 0; i < N; i++) meanDiag += A[i * N + i]! / N;
  for (let i = 0; i < N; i++) A[i * N + i]! += dampening * meanDiag + 1e-12;
  const R = choleskyUpper(spdInverse(A, N), N);
  // Working copy of the combined matrix [N, G] in float64.
  const w = new Float64Array(N * G);
  for (let i = 0; i < F * G; i++) w[i] = W[i]!;
  for (let i = 0; i < H * G; i++) w[F * G + i] = U[i]!;
  const qW = new Int8Array(F * G);
  const qU = new Int8Array(H * G);
  const err = new Float64Array(G);
  for (let r = 0; r < N; r++) {
    const s = r < F ? sW : sU;
    const d = R[r * N + r]!;
    for (let c = 0; c < G; c++) {
      const v = w[r * G + c]!;
      const q = Math.max(-127, Math.min(127, roundHalfAway(v / s[c]!)));
      if (r < F) qW[r * G + c] = q;
      else qU[(r - F) * G + c] = q;
      err[c] = (v - Math.fround(q * s[c]!)) / d;
    }
    // Push this row's error onto the rows not yet rounded.
    for (let r2 = r + 1; r2 < N; r2++) {
      const k = R[r * N + r2]!;
      if (k === 0) continue;
      for (let c = 0; c < G; c++) w[r2 * G + c]! -= err[c]! * k;
    }
  }
  return { kernel: { rows: F, cols: G, q: qW, scale: sW }, recurrent: { rows: H, cols: G, q: qU, scale: sU } };
}
