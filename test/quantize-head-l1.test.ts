/**
 * pipeline/quantize/int8.ts capColumnL1: the int8 q column of the head never has a larger L1 norm than the
 * float column (the bound verify's floor/ceiling proof rests on), while every code stays within one
 * quantization step of w/scale and the other column is left alone.
 */
import { describe, expect, it } from 'vitest';
import { capColumnL1, dequantizeMatrix, quantizeMatrix, roundHalfAway, type QuantizedMatrix } from '../pipeline/quantize/int8.js';
import { Rng } from '../pipeline/train/optim.js';

const ROWS = 64;
const COLS = 2;

function columnL1(w: ArrayLike<number>, c: number): number {
  let s = 0;
  for (let r = 0; r < ROWS; r++) s += Math.abs(w[r * COLS + c]!);
  return s;
}

/** Column 1: arbitrary values that must come out untouched. */
function fillColumn1(w: Float32Array, rng: Rng): void {
  for (let r = 0; r < ROWS; r++) w[r * COLS + 1] = (2 * rng.next() - 1) * 0.8;
}

/**
 * Column 0 whose every code but the max is rounded UP by `frac` of a step (frac > 0.5 → round-to-nearest
 * adds |w| everywhere) or down (frac < 0.5). Row 0 = 1.27 sets scale ≈ 0.01; signs alternate.
 */
function fractionalColumn(frac: number, seed: number): Float32Array {
  const w = new Float32Array(ROWS * COLS);
  w[0] = 1.27;
  const scale = Math.fround(1.27 / 127);
  for (let r = 1; r < ROWS; r++) {
    const k = 1 + ((r * 37) % 120); // integer part 1 … 120, never reaching the max
    w[r * COLS] = (r % 2 === 0 ? 1 : -1) * (k + frac) * scale;
  }
  fillColumn1(w, new Rng(seed));
  return w;
}

/** Checks every property a cap must keep; returns the dequantized column-0 L1 norm. */
function checkCapped(w: Float32Array, before: QuantizedMatrix, after: QuantizedMatrix): number {
  const s0 = after.scale[0]!;
  // Scales are not touched.
  expect(Array.from(after.scale)).toEqual(Array.from(before.scale));
  for (let r = 0; r < ROWS; r++) {
    const q = after.q[r * COLS]!;
    const exact = w[r * COLS]! / s0;
    const nearest = Math.max(-127, Math.min(127, roundHalfAway(exact)));
    expect(Math.abs(q - nearest)).toBeLessThanOrEqual(1);
    expect(Math.abs(q - exact)).toBeLessThan(1 + 1e-6); // within one step of w/scale itself
    // Column 1 untouched.
    expect(after.q[r * COLS + 1]).toBe(before.q[r * COLS + 1]);
  }
  const deq = dequantizeMatrix(after);
  const qL1 = columnL1(deq, 0);
  expect(qL1).toBeLessThanOrEqual(columnL1(w, 0));
  return qL1;
}

describe('capColumnL1 on a [64, 2] head', () => {
  it('fixes a column where round-to-nearest exceeds the float L1 norm, moving no more codes than needed', () => {
    const w = fractionalColumn(0.6, 1);
    const m = quantizeMatrix(w, ROWS, COLS);
    const before: QuantizedMatrix = { ...m, q: m.q.slice(), scale: m.scale.slice() };
    const floatL1 = columnL1(w, 0);
    const roundedL1 = columnL1(dequantizeMatrix(m), 0);
    // The constructed case really is broken by round-to-nearest (≈ 63 × 0.4 steps too long).
    expect(roundedL1 - floatL1).toBeGreaterThan(20 * m.scale[0]!);

    const moved = capColumnL1(m, w, 0);
    expect(moved).toBeGreaterThan(0);
    const qL1 = checkCapped(w, before, m);

    // Each move shortens the column by one step: the count is the minimum, and the result is not over-cut.
    let changed = 0;
    for (let r = 0; r < ROWS; r++) if (m.q[r * COLS] !== before.q[r * COLS]) changed++;
    expect(changed).toBe(moved);
    expect(moved).toBe(Math.ceil((roundedL1 - floatL1) / m.scale[0]! - 1e-6));
    expect(qL1).toBeGreaterThan(floatL1 - m.scale[0]! * (1 + 1e-6));
    // Every moved code went toward zero (it was rounded up, now rounded down).
    for (let r = 0; r < ROWS; r++) {
      const a = m.q[r * COLS]!;
      const b = before.q[r * COLS]!;
      if (a !== b) expect(Math.abs(a)).toBe(Math.abs(b) - 1);
    }
  });

  it('codes that round to ±1 from just above half a step may go to 0, but never past it', () => {
    const w = new Float32Array(ROWS * COLS);
    w[0] = 1.27;
    const scale = Math.fround(1.27 / 127);
    for (let r = 1; r < ROWS; r++) w[r * COLS] = (r % 2 === 0 ? 1 : -1) * 0.55 * scale;
    fillColumn1(w, new Rng(2));
    const m = quantizeMatrix(w, ROWS, COLS);
    const before: QuantizedMatrix = { ...m, q: m.q.slice(), scale: m.scale.slice() };
    expect(capColumnL1(m, w, 0)).toBeGreaterThan(0);
    checkCapped(w, before, m);
    for (let r = 1; r < ROWS; r++) {
      const q = m.q[r * COLS]!;
      expect(q === 0 || q === before.q[r * COLS]).toBe(true);
    }
  });

  it('leaves a column alone when round-to-nearest does not exceed the float L1 norm (returns 0)', () => {
    for (const frac of [0.4, 0.1, 0]) {
      const w = fractionalColumn(frac, 3);
      const m = quantizeMatrix(w, ROWS, COLS);
      const q0 = m.q.slice();
      expect(columnL1(dequantizeMatrix(m), 0)).toBeLessThanOrEqual(columnL1(w, 0));
      expect(capColumnL1(m, w, 0)).toBe(0);
      expect(Array.from(m.q)).toEqual(Array.from(q0));
    }
  });

  it('random seeded heads: the int8 column-0 L1 norm never exceeds the float one', () => {
    let fixed = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(seed);
      const w = new Float32Array(ROWS * COLS);
      const spread = 0.05 + rng.next();
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * spread;
      const m = quantizeMatrix(w, ROWS, COLS);
      const before: QuantizedMatrix = { ...m, q: m.q.slice(), scale: m.scale.slice() };
      const over = columnL1(dequantizeMatrix(m), 0) > columnL1(w, 0);
      const moved = capColumnL1(m, w, 0);
      expect(moved > 0).toBe(over);
      if (over) fixed++;
      checkCapped(w, before, m);
    }
    // Round-to-nearest overshoots on a fair share of random columns: the property is exercised.
    expect(fixed).toBeGreaterThan(20);
  });

  it('an all-zero column is left alone', () => {
    const w = new Float32Array(ROWS * COLS);
    fillColumn1(w, new Rng(4));
    const m = quantizeMatrix(w, ROWS, COLS);
    expect(capColumnL1(m, w, 0)).toBe(0);
    for (let r = 0; r < ROWS; r++) expect(m.q[r * COLS]).toBe(0);
  });
});
