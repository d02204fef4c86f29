import { describe, expect, it } from 'vitest';
import { roundUs } from '../sim/round.js';
import { makePrng } from '../sim/prng.js';

describe('roundUs', () => {
  it('equals Math.round on edge values', () => {
    const edges = [
      0, -0, 0.5, -0.5, 0.49999999999999994, 0.5000000000000001, 1, 1.5, 2.5, -1.5, -2.5, 0.1, -0.1, 1e-300,
      2 ** 52 - 0.5, 2 ** 52 - 1.5, 2 ** 52, 2 ** 52 + 1, 2 ** 53, 2 ** 31 - 0.5, 2 ** 31 + 0.5, 2 ** 32 + 0.5,
      Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN,
    ];
    for (let e = 1; e < 53; e++) {
      const b = 2 ** e;
      edges.push(b - 0.5, b + 0.5, b - 0.5 - b * 2 ** -53, b - 0.5 + b * 2 ** -52, b - 1 + 0.5, b * (1 - 2 ** -53));
    }
    for (const x of edges) expect(Object.is(roundUs(x), Math.round(x)), `x=${x}`).toBe(true);
  });

  it('equals Math.round on random values across magnitudes', () => {
    const rng = makePrng(7);
    for (let i = 0; i < 200_000; i++) {
      const x = (rng.next() - 0.1) * 2 ** Math.floor(rng.next() * 60 - 4);
      const y = Math.floor(x) + 0.5 + (rng.next() < 0.5 ? 0 : (rng.next() - 0.5) * 1e-9);
      expect(Object.is(roundUs(x), Math.round(x))).toBe(true);
      expect(Object.is(roundUs(y), Math.round(y))).toBe(true);
    }
  });
});
