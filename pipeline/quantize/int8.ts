/**
 * int8 symmetric per-output-channel quantization (docs/CONTRACTS.md §6), for a row-major [in, out] matrix:
 *   scale[c] = max_r |w[r][c]| / 127   (1 if the column is all zero)
 *   q[r][c]  = clamp(round(w[r][c] / scale[c]), −127, 127)          zero point 0
 *   w'[r][c] = fround(q[r][c] · scale[c])                          (dequantized, float32)
 * `round` is round-half-away-from-zero (C's `round`, Go's math.Round, Rust's f32::round), computed on the
 * float64 quotient of the float32 w and the float32 scale.
 */

export interface QuantizedMatrix {
  rows: number;
  cols: number;
  q: Int8Array; // [rows, cols]
  scale: Float32Array; // [cols]
}

export function quantizeMatrix(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const scale = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let maxAbs = 0;
    for (let r = 0; r < rows; r++) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + c]!));
    scale[c] = maxAbs > 0 ? maxAbs / 127 : 1; // stored as float32
  }
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      q[r * cols + c] = Math.max(-127, Math.min(127, roundHalfAway(w[r * cols + c]! / scale[c]!)));
    }
  }
  return { rows, cols, q, scale };
}

export function dequantizeMatrix(m: QuantizedMatrix): Float32Array {
  const w = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) w[r * m.cols + c] = Math.fround(m.q[r * m.cols + c]! * m.scale[c]!);
  return w;
}

/** Math.round rounds halves toward +∞; loaders in other languages round halves away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Keeps ‖column c‖₁ of the dequantized matrix at or below the float column's: while it is above, moves the
 * code that was rounded up the most one step toward zero (each code stays within one step of w/scale).
 * Why: training constrains the quantile head so that |b − m| + ‖w‖₁ ≤ r (pipeline/train/constraints.ts),
 * the fact verify's proof of the absolute floor and ceiling rests on; round-to-nearest can add up to 32
 * half-steps to ‖w‖₁ and break it on the int8 path. Mutates `m.q`; returns how many codes moved.
 */
export function capColumnL1(m: QuantizedMatrix, w: Float32Array, c: number): number {
  const { rows, cols, q, scale } = m;
  const deq = (r: number): number => Math.fround(q[r * cols + c]! * scale[c]!);
  let floatL1 = 0;
  let quantL1 = 0;
  for (let r = 0; r < rows; r++) {
    floatL1 += Math.abs(w[r * cols + c]!);
    quantL1 += Math.abs(deq(r));
  }
  let moved = 0;
  while (quantL1 > floatL1) {
    let best = -1;
    let bestUp = -Infinity;
    for (let r = 0; r < rows; r++) {
      if (q[r * cols + c] === 0) continue;
      const up = Math.abs(deq(r)) - Math.abs(w[r * cols + c]!);
      if (up > bestUp) {
        bestUp = up;
        best = r;
      }
    }
    if (best < 0) break;
    const before = Math.abs(deq(best));
    q[best * cols + c] = q[best * cols + c]! - Math.sign(q[best * cols + c]!);
    quantL1 -= before - Math.abs(deq(best));
    moved++;
  }
  return moved;
}
