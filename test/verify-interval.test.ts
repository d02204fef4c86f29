import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUNDING, dotBias, mul, nextDown, nextUp, sigmoidIv, tanhIv } from '../pipeline/verify/interval.js';
import { makeRng } from '../pipeline/verify/net.js';

describe('outward rounding', () => {
  it('nextUp / nextDown move strictly outward by at most two ulps, across magnitudes and signs', () => {
    const rng = makeRng(1);
    for (let k = 0; k < 20000; k++) {
      const x = (rng() - 0.5) * 10 ** Math.floor(rng() * 40 - 20);
      const up = nextUp(x);
      const down = nextDown(x);
      expect(up).toBeGreaterThan(x);
      expect(down).toBeLessThan(x);
      // two ulps: the float halfway to 'up' is still above x or equal to the next float
      expect(nextDown(nextDown(up))).toBeLessThanOrEqual(x);
    }
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextDown(0)).toBe(-Number.MIN_VALUE);
    expect(nextUp(Infinity)).toBe(Infinity);
  });

  it('products keep exact zeros exact and contain every product of members', () => {
    expect(mul({ lo: 0, hi: 0 }, { lo: -3, hi: 7 })).toEqual({ lo: 0, hi: 0 });
    const rng = makeRng(2);
    for (let k = 0; k < 2000; k++) {
      const a = [rng() * 4 - 2, rng() * 4 - 2].sort((p, q) => p - q) as [number, number];
      const b = [rng() * 4 - 2, rng() * 4 - 2].sort((p, q) => p - q) as [number, number];
      const m = mul({ lo: a[0], hi: a[1] }, { lo: b[0], hi: b[1] });
      const x = a[0] + (a[1] - a[0]) * rng();
      const y = b[0] + (b[1] - b[0]) * rng();
      expect(x * y).toBeGreaterThanOrEqual(m.lo);
      expect(x * y).toBeLessThanOrEqual(m.hi);
    }
  });

  it('a dot product contains float32-accumulated and float64-accumulated sums in any order', () => {
    const rng = makeRng(3);
    const n = 69;
    for (let k = 0; k < 300; k++) {
      const w = Float64Array.from({ length: n }, () => Math.fround(rng() * 2 - 1));
      const lo = Float64Array.from({ length: n }, () => rng() * 2 - 1);
      const hi = lo.map((v) => v + rng() * 0.01);
      const iv = dotBias(lo, hi, w, 0, 1, n, 0.3, DEFAULT_ROUNDING);
      const x = lo.map((v, i) => v + (hi[i]! - v) * rng());
      let s64 = 0.3;
      let s32 = Math.fround(0.3);
      for (let i = n - 1; i >= 0; i--) {
        s64 += x[i]! * w[i]!;
        s32 = Math.fround(s32 + Math.fround(Math.fround(x[i]!) * w[i]!));
      }
      expect(s64).toBeGreaterThanOrEqual(iv.lo);
      expect(s64).toBeLessThanOrEqual(iv.hi);
      expect(s32).toBeGreaterThanOrEqual(iv.lo);
      expect(s32).toBeLessThanOrEqual(iv.hi);
    }
  });

  it('sigmoid and tanh enclosures contain the runtime formulas, also where they saturate', () => {
    for (const z of [-800, -100, -40, -1e-9, 0, 3, 37, 800]) {
      const s = sigmoidIv({ lo: z, hi: z }, DEFAULT_ROUNDING);
      const t = tanhIv({ lo: z, hi: z }, DEFAULT_ROUNDING);
      const sig = 1 / (1 + Math.exp(-z));
      expect(sig).toBeGreaterThanOrEqual(s.lo);
      expect(sig).toBeLessThanOrEqual(s.hi);
      expect(Math.fround(sig)).toBeLessThanOrEqual(s.hi);
      expect(Math.tanh(z)).toBeGreaterThanOrEqual(t.lo);
      expect(Math.tanh(z)).toBeLessThanOrEqual(t.hi);
    }
  });
});
