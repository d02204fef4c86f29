/**
 * pipeline/train/constraints.ts: the q-head range constraint. After projectQHead the quantile head can only
 * reach [ln lo, ln hi] for ANY h ∈ [−1, 1]^64, the projection touches nothing but the q column and q bias,
 * and it is the Euclidean projection onto the L1 ball {|b − m| + ‖w‖₁ ≤ r − margin}.
 */
import { describe, expect, it } from 'vitest';
import { projectQHead, qHeadRangeLn, Q_RANGE_MARGIN_LN } from '../pipeline/train/constraints.js';
import { PARAM_COUNT, PARAM_LAYOUT, UNITS } from '../pipeline/train/engine.js';
import { initParams, Rng } from '../pipeline/train/optim.js';

const HEAD_KERNEL = PARAM_LAYOUT[3]!;
const HEAD_BIAS = PARAM_LAYOUT[4]!;
const qWeightIndex = (k: number): number => HEAD_KERNEL.offset + k * 2;
const Q_BIAS = HEAD_BIAS.offset;

/** Indices projectQHead may write: head/kernel column 0 and head/bias[0]. */
const MAY_CHANGE = new Set<number>([Q_BIAS, ...Array.from({ length: UNITS }, (_, k) => qWeightIndex(k))]);

/** Seeded parameters whose q head is far outside any sensible range: head column 0 scaled, bias moved. */
function bigHead(seed: number, kernelScale: number, bias: number): Float32Array {
  const rng = new Rng(seed);
  const p = initParams(rng, bias);
  for (let k = 0; k < UNITS; k++) p[qWeightIndex(k)] = p[qWeightIndex(k)]! * kernelScale;
  // Also make column 1 and bias[1] nonzero, so "untouched" is not trivially true.
  p[HEAD_BIAS.offset + 1] = 0.75;
  return p;
}

/** v = (b − m, w_0 … w_63) in float64, the coordinates the constraint is an L1 ball in. */
function headVector(p: Float32Array, m: number): Float64Array {
  const v = new Float64Array(UNITS + 1);
  v[0] = p[Q_BIAS]! - m;
  for (let k = 0; k < UNITS; k++) v[k + 1] = p[qWeightIndex(k)]!;
  return v;
}

function l1(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.abs(v[i]!);
  return s;
}

function dist2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

/** q = b + Σ w_k h_k for the head in `p` (float64 over the float32 weights). */
function qOf(p: Float32Array, h: ArrayLike<number>): number {
  let q = p[Q_BIAS]!;
  for (let k = 0; k < UNITS; k++) q += p[qWeightIndex(k)]! * h[k]!;
  return q;
}

const RANGES: Array<readonly [number, number]> = [
  [50, 1000],
  [150, 300],
  [10, 60_000],
];
// (seed, kernel scale, bias): heads with a big kernel, a bias far above, far below, both.
const CASES: Array<[number, number, number]> = [
  [1, 4, 5],
  [2, 20, 0],
  [3, 1, 40],
  [4, 1, -30],
  [5, 50, 12],
  [6, 0.01, 25], // only the bias is out: the projection is mostly a bias move
];

describe('projectQHead: the reachable q interval lands inside [ln lo, ln hi]', () => {
  for (const range of RANGES) {
    for (const [seed, scale, bias] of CASES) {
      it(`range [${range.join(', ')}] ms, seed ${seed}, kernel ×${scale}, bias ${bias}`, () => {
        const lnLo = Math.log(range[0]);
        const lnHi = Math.log(range[1]);
        const p = bigHead(seed, scale, bias);
        const [beforeLo, beforeHi] = qHeadRangeLn(p);
        // Not vacuous: the head starts outside the range.
        expect(beforeLo < lnLo || beforeHi > lnHi).toBe(true);

        expect(projectQHead(p, range)).toBe(true);

        const [qLo, qHi] = qHeadRangeLn(p);
        expect(qLo).toBeGreaterThanOrEqual(lnLo);
        expect(qHi).toBeLessThanOrEqual(lnHi);
        // The margin is kept (up to float32 storage of 65 numbers).
        expect(qLo).toBeGreaterThanOrEqual(lnLo + Q_RANGE_MARGIN_LN - 1e-5);
        expect(qHi).toBeLessThanOrEqual(lnHi - Q_RANGE_MARGIN_LN + 1e-5);
        // A projection onto the ball lands on its boundary (it does not over-shrink).
        const m = (lnLo + lnHi) / 2;
        const r = (lnHi - lnLo) / 2 - Q_RANGE_MARGIN_LN;
        expect(Math.abs(l1(headVector(p, m)) - r)).toBeLessThan(1e-5);
      });
    }
  }

  it('a head already inside the range is left byte-for-byte unchanged (returns false)', () => {
    const range = [50, 1000] as const;
    const m = (Math.log(50) + Math.log(1000)) / 2;
    for (const seed of [11, 12, 13]) {
      const p = bigHead(seed, 0.05, m + 0.3); // ‖w‖₁ ≈ 0.5, |b − m| = 0.3 < r ≈ 1.5
      const before = Buffer.from(p.slice().buffer);
      expect(projectQHead(p, range)).toBe(false);
      expect(Buffer.compare(Buffer.from(p.buffer), before)).toBe(0);
    }
  });

  it('projecting a projected head again moves it by at most float32 rounding', () => {
    const range = [150, 300] as const;
    const p = bigHead(21, 10, 3);
    projectQHead(p, range);
    const once = p.slice();
    projectQHead(p, range);
    for (let i = 0; i < p.length; i++) expect(Math.abs(p[i]! - once[i]!)).toBeLessThan(1e-6);
  });
});

describe('projectQHead: touches only head/kernel column 0 and head/bias[0]', () => {
  it('every other parameter is byte-identical', () => {
    for (const [seed, scale, bias] of CASES) {
      const p = bigHead(seed, scale, bias);
      expect(p.length).toBe(PARAM_COUNT);
      const before = p.slice();
      projectQHead(p, [150, 300]);
      const a = new Uint32Array(p.buffer);
      const b = new Uint32Array(before.buffer);
      let changed = 0;
      for (let i = 0; i < p.length; i++) {
        if (MAY_CHANGE.has(i)) {
          if (a[i] !== b[i]) changed++;
        } else if (a[i] !== b[i]) {
          throw new Error(`parameter ${i} (outside the q head) changed: ${before[i]} → ${p[i]}`);
        }
      }
      expect(changed).toBeGreaterThan(0);
    }
  });
});

describe('projectQHead is the Euclidean projection onto the L1 ball', () => {
  const range = [50, 1000] as const;
  const lnLo = Math.log(range[0]);
  const lnHi = Math.log(range[1]);
  const m = (lnLo + lnHi) / 2;
  const r = (lnHi - lnLo) / 2 - Q_RANGE_MARGIN_LN;

  it('KKT: every coordinate kept nonzero shrank by the same θ toward zero, keeping its sign; every zeroed one had |v| ≤ θ', () => {
    for (const [seed, scale, bias] of CASES) {
      const p = bigHead(seed, scale, bias);
      const v = headVector(p, m);
      projectQHead(p, range);
      const x = headVector(p, m);
      const thetas: number[] = [];
      for (let i = 0; i < v.length; i++) {
        if (Math.abs(x[i]!) > 1e-6) {
          expect(sign(x[i]!)).toBe(sign(v[i]!));
          thetas.push(Math.abs(v[i]!) - Math.abs(x[i]!));
        }
      }
      expect(thetas.length).toBeGreaterThan(0);
      const theta = thetas[0]!;
      expect(theta).toBeGreaterThan(0);
      for (const t of thetas) expect(Math.abs(t - theta)).toBeLessThan(1e-5 * Math.max(1, theta));
      for (let i = 0; i < v.length; i++) {
        if (Math.abs(x[i]!) <= 1e-6) expect(Math.abs(v[i]!)).toBeLessThanOrEqual(theta + 1e-5);
      }
    }
  });

  it('no feasible point is closer to the input: 1,000 random ball points and 1,000 perturbations of the result', () => {
    const rng = new Rng(99);
    for (const [seed, scale, bias] of CASES.slice(0, 3)) {
      const p = bigHead(seed, scale, bias);
      const v = headVector(p, m);
      projectQHead(p, range);
      const x = headVector(p, m);
      const dx = dist2(x, v);
      const slack = 1e-9 + 1e-6 * Math.sqrt(dx); // float32 storage of the result
      const y = new Float64Array(v.length);
      for (let n = 0; n < 1000; n++) {
        // A random point of the ball: random signs and weights, scaled to L1 radius r·u.
        for (let i = 0; i < y.length; i++) y[i] = (2 * rng.next() - 1) * (rng.next() < 0.2 ? 10 : 1);
        const s = (r * rng.next() ** 0.1) / l1(y);
        for (let i = 0; i < y.length; i++) y[i] = y[i]! * s;
        expect(dist2(y, v)).toBeGreaterThanOrEqual(dx - slack);
      }
      for (let n = 0; n < 1000; n++) {
        // A feasible point near the result: perturb, then pull back into the ball by scaling.
        const eps = 10 ** (-1 - 3 * rng.next());
        for (let i = 0; i < y.length; i++) y[i] = x[i]! + eps * (2 * rng.next() - 1);
        const n1 = l1(y);
        if (n1 > r) for (let i = 0; i < y.length; i++) y[i] = (y[i]! * r) / n1;
        expect(dist2(y, v)).toBeGreaterThanOrEqual(dx - slack);
      }
    }
  });
});

describe('end to end: the projected head keeps q in [lo, hi] for every h ∈ [−1, 1]^64', () => {
  for (const range of RANGES) {
    it(`range [${range.join(', ')}] ms`, () => {
      const lnLo = Math.log(range[0]);
      const lnHi = Math.log(range[1]);
      const rng = new Rng(7);
      for (const [seed, scale, bias] of CASES) {
        const p = bigHead(seed, scale, bias);
        const hMax = new Float64Array(UNITS);
        const hMin = new Float64Array(UNITS);
        const setCorners = (): void => {
          for (let k = 0; k < UNITS; k++) {
            const s = p[qWeightIndex(k)]! >= 0 ? 1 : -1;
            hMax[k] = s;
            hMin[k] = -s;
          }
        };
        setCorners();
        // Not vacuous: before the projection some extreme corner leaves the range.
        expect(qOf(p, hMax) > lnHi || qOf(p, hMin) < lnLo).toBe(true);

        projectQHead(p, range);
        setCorners();
        const qMax = qOf(p, hMax);
        const qMin = qOf(p, hMin);
        expect(qMax).toBeLessThanOrEqual(lnHi);
        expect(qMin).toBeGreaterThanOrEqual(lnLo);
        expect(Math.exp(qMax)).toBeLessThanOrEqual(range[1]);
        expect(Math.exp(qMin)).toBeGreaterThanOrEqual(range[0]);
        // Random corners and interior points in between.
        const h = new Float64Array(UNITS);
        for (let n = 0; n < 200; n++) {
          const corner = n % 2 === 0;
          for (let k = 0; k < UNITS; k++) h[k] = corner ? (rng.next() < 0.5 ? -1 : 1) : 2 * rng.next() - 1;
          const q = qOf(p, h);
          expect(q).toBeGreaterThanOrEqual(lnLo);
          expect(q).toBeLessThanOrEqual(lnHi);
        }
      }
    });
  }
});
