/**
 * pipeline/train/monotone.ts: the monotonicity penalty and the soft cell bound add the exact gradient of the
 * value they return (central finite differences over lstm/kernel, lstm/recurrent_kernel, lstm/bias and the
 * q head), a head monotone by construction costs nothing, and probe states are reproducible.
 */
import { describe, expect, it } from 'vitest';
import { FEATURES, GATES, PARAM_COUNT, PARAM_LAYOUT, UNITS } from '../pipeline/train/engine.js';
import { addMonotonePenalty, probeStates, type MonotoneConfig, type MonotoneSample } from '../pipeline/train/monotone.js';
import { initParams, Rng } from '../pipeline/train/optim.js';

const H = UNITS;
const OFF = {
  W: PARAM_LAYOUT[0]!.offset, // [F, 4H]
  U: PARAM_LAYOUT[1]!.offset, // [H, 4H]
  b: PARAM_LAYOUT[2]!.offset, // [4H]
  Wd: PARAM_LAYOUT[3]!.offset, // [H, 2]
  bd: PARAM_LAYOUT[4]!.offset, // [2]
};
const DOMAIN = { lo: [-1.3, -0.4, -0.2, -5], hi: [2, 5, 5, 0.9] };
const SEED = 1234;

function config(over: Partial<MonotoneConfig>): MonotoneConfig {
  return { weight: 1, features: [0, 1, 2, 3], margin: 0, delta: 0.05, domain: DOMAIN, samples: 8, cellBound: 1, cellWeight: 0, ...over };
}

/** Parameter indices across every block the penalty reaches, every gate (i, f, g, o) of the LSTM included. */
const INDICES: Array<[string, number]> = [
  ['W[0, i3]', OFF.W + 0 * GATES + 3],
  ['W[1, f5]', OFF.W + 1 * GATES + H + 5],
  ['W[2, g7]', OFF.W + 2 * GATES + 2 * H + 7],
  ['W[3, o9]', OFF.W + 3 * GATES + 3 * H + 9],
  ['W[0, g1]', OFF.W + 0 * GATES + 2 * H + 1],
  ['W[3, i30]', OFF.W + 3 * GATES + 30],
  ['U[2, i4]', OFF.U + 2 * GATES + 4],
  ['U[10, f11]', OFF.U + 10 * GATES + H + 11],
  ['U[20, g20]', OFF.U + 20 * GATES + 2 * H + 20],
  ['U[33, o33]', OFF.U + 33 * GATES + 3 * H + 33],
  ['U[63, g0]', OFF.U + 63 * GATES + 2 * H + 0],
  ['b[i1]', OFF.b + 1],
  ['b[f2]', OFF.b + H + 2],
  ['b[g3]', OFF.b + 2 * H + 3],
  ['b[o4]', OFF.b + 3 * H + 4],
  ['Wd[0, q]', OFF.Wd + 0 * 2],
  ['Wd[5, q]', OFF.Wd + 5 * 2],
  ['Wd[17, q]', OFF.Wd + 17 * 2],
  ['Wd[40, q]', OFF.Wd + 40 * 2],
  ['bd[q]', OFF.bd],
];

function baseParams(): Float32Array {
  return initParams(new Rng(77), 5);
}

/**
 * Samples with fixed states: h uniform in (−0.9, 0.9) (large, so U's gradient is well exercised) and c in
 * (−2, 2), or c = ±cellMag·(1 … 2) so the cell bound is active. Half carry a lane input, half draw x from
 * the domain.
 */
function makeSamples(cellMag: number | null): MonotoneSample[] {
  const n = 8;
  const rng = new Rng(6);
  const out: MonotoneSample[] = [];
  for (let s = 0; s < n; s++) {
    const h = Float64Array.from({ length: H }, () => 1.8 * rng.next() - 0.9);
    const c = Float64Array.from({ length: H }, () => (cellMag === null ? 4 * rng.next() - 2 : (rng.next() < 0.5 ? -1 : 1) * cellMag * (1 + rng.next())));
    const x = s % 2 === 0 ? Array.from({ length: FEATURES }, (_, i) => DOMAIN.lo[i]! + rng.next() * (DOMAIN.hi[i]! - DOMAIN.lo[i]!)) : null;
    out.push({ h, c, x });
  }
  return out;
}

function evaluate(params: Float32Array, samples: MonotoneSample[], cfg: MonotoneConfig): { value: ReturnType<typeof addMonotonePenalty>; grads: Float32Array } {
  const grads = new Float32Array(PARAM_COUNT);
  const value = addMonotonePenalty(params, samples, cfg, new Rng(SEED), grads);
  return { value, grads };
}

/**
 * Central differences of `pick(value)` at every index in INDICES against the gradient the call added.
 * The step actually taken is measured in float64 (float32 rounding of p ± h does not bias the quotient).
 */
function gradientCheck(params: Float32Array, samples: MonotoneSample[], cfg: MonotoneConfig, pick: (v: ReturnType<typeof addMonotonePenalty>) => number): void {
  const { grads } = evaluate(params, samples, cfg);
  const step = 1e-3;
  const numeric: number[] = [];
  for (const [, i] of INDICES) {
    const pp = params.slice();
    const pm = params.slice();
    pp[i] = params[i]! + step;
    pm[i] = params[i]! - step;
    const dp = pp[i]! - params[i]!;
    const dm = pm[i]! - params[i]!;
    const fp = pick(evaluate(pp, samples, cfg).value);
    const fm = pick(evaluate(pm, samples, cfg).value);
    numeric.push((fp - fm) / (dp - dm));
  }
  const scale = Math.max(...numeric.map(Math.abs));
  expect(scale).toBeGreaterThan(1e-3);
  const mismatches: string[] = [];
  INDICES.forEach(([name, i], n) => {
    const num = numeric[n]!;
    const ana = grads[i]!;
    if (!(Math.abs(ana - num) <= 1e-2 * Math.abs(num) + 1e-4 * scale)) mismatches.push(`${name}: analytic ${ana}, numeric ${num}`);
  });
  expect(mismatches).toEqual([]);
}

describe('addMonotonePenalty: gradient of the monotonicity term', () => {
  it('equals central finite differences of the returned penalty (every sample violating)', () => {
    const params = baseParams();
    const cfg = config({ weight: 0.7, margin: 50, cellWeight: 0 });
    const samples = makeSamples(null);
    const { value, grads } = evaluate(params, samples, cfg);
    expect(value.violating).toBe(1);
    expect(value.penalty).toBeGreaterThan(0);
    expect(value.cell).toBe(0);
    // Most of the tested gradient entries are clearly nonzero: the check is not comparing zeros.
    const gmax = Math.max(...INDICES.map(([, i]) => Math.abs(grads[i]!)));
    expect(INDICES.filter(([, i]) => Math.abs(grads[i]!) > 1e-3 * gmax).length).toBe(INDICES.length - 1);
    // The one exception: the q bias shifts q(x) and q(x + δ) alike, so the slope does not depend on it.
    expect(grads[OFF.bd]).toBe(0);
    gradientCheck(params, samples, cfg, (v) => v.penalty);
  });

  it('is linear in the weight and adds to (does not overwrite) the gradient it is given', () => {
    const params = baseParams();
    const cfg = config({ weight: 1, margin: 50 });
    const samples = makeSamples(null);
    const one = evaluate(params, samples, cfg);
    const three = evaluate(params, samples, { ...cfg, weight: 3 });
    expect(three.value.penalty).toBeCloseTo(3 * one.value.penalty, 9);
    const acc = new Float32Array(PARAM_COUNT).fill(0.5);
    addMonotonePenalty(params, samples, cfg, new Rng(SEED), acc);
    for (const [, i] of INDICES) {
      expect(three.grads[i]!).toBeCloseTo(3 * one.grads[i]!, 4);
      expect(acc[i]!).toBeCloseTo(0.5 + one.grads[i]!, 5);
    }
  });
});

describe('addMonotonePenalty: gradient of the soft cell bound', () => {
  it('equals central finite differences of the returned cell term (hinge active)', () => {
    const params = baseParams();
    const cfg = config({ weight: 0, margin: 0, cellBound: 1, cellWeight: 1 });
    const samples = makeSamples(6);
    const { value } = evaluate(params, samples, cfg);
    expect(value.cell).toBeGreaterThan(0);
    expect(value.penalty).toBe(0);
    gradientCheck(params, samples, cfg, (v) => v.cell);
  });

  it('both terms together: the gradient is that of penalty + cell', () => {
    const params = baseParams();
    const cfg = config({ weight: 0.5, margin: 50, cellBound: 1, cellWeight: 2 });
    const samples = makeSamples(6);
    const { value } = evaluate(params, samples, cfg);
    expect(value.cell).toBeGreaterThan(0);
    expect(value.penalty).toBeGreaterThan(0);
    gradientCheck(params, samples, cfg, (v) => v.penalty + v.cell);
  });

  it('cells inside the bound cost nothing and add no gradient', () => {
    const params = baseParams();
    const cfg = config({ weight: 0, cellBound: 1e6, cellWeight: 1 });
    const samples = makeSamples(6);
    const { value, grads } = evaluate(params, samples, cfg);
    expect(value.cell).toBe(0);
    expect(grads.every((g) => g === 0)).toBe(true);
  });
});

/**
 * A head monotone by construction in feature 0: W is zero except x_0 → g gate of unit 0, so only unit 0's
 * candidate depends on x, and q grows with tanh(x_0) through a positive head weight (U, b and every other
 * weight random: the state and the history cannot change the sign of the slope).
 */
function monotoneParams(headSign: 1 | -1): Float32Array {
  const p = initParams(new Rng(31), 5);
  for (let i = 0; i < FEATURES * GATES; i++) p[OFF.W + i] = 0;
  p[OFF.W + 0 * GATES + 2 * H + 0] = 1;
  p[OFF.Wd + 0] = headSign * 0.5;
  return p;
}

describe('addMonotonePenalty: behaviour', () => {
  it('a head monotone in feature 0 by construction has penalty 0 at margin 0, and its mirror image is penalized everywhere', () => {
    const cfg = config({ weight: 1, features: [0], margin: 0 });
    const up = monotoneParams(1);
    const samples = makeSamples(null);
    const ok = evaluate(up, samples, cfg);
    expect(ok.value.penalty).toBe(0);
    expect(ok.value.violating).toBe(0);
    expect(ok.grads.every((g) => g === 0)).toBe(true);

    const down = monotoneParams(-1);
    const bad = evaluate(down, makeSamples(null), cfg);
    expect(bad.value.violating).toBe(1);
    expect(bad.value.penalty).toBeGreaterThan(0);
    // Descending the penalty raises the head weight that made q decrease.
    expect(bad.grads[OFF.Wd + 0]!).toBeLessThan(0);
  });

  it('is deterministic for a given rng state', () => {
    const params = baseParams();
    const cfg = config({ weight: 1, margin: 0.5, cellWeight: 0.3 });
    const samples = makeSamples(2);
    const a = evaluate(params, samples, cfg);
    const b = evaluate(params, samples, cfg);
    expect(b.value).toEqual(a.value);
    expect(Buffer.compare(Buffer.from(b.grads.buffer), Buffer.from(a.grads.buffer))).toBe(0);
  });

  it('is a no-op with both weights 0 or no samples', () => {
    const params = baseParams();
    const cfg = config({ weight: 0, cellWeight: 0, margin: 50 });
    const samples = makeSamples(6);
    const r = evaluate(params, samples, cfg);
    expect(r.value).toEqual({ penalty: 0, cell: 0, violating: 0 });
    expect(r.grads.every((g) => g === 0)).toBe(true);
    expect(evaluate(params, [], config({ margin: 50 })).value).toEqual({ penalty: 0, cell: 0, violating: 0 });
  });
});

describe('probeStates', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const params = baseParams();
    const cfg = config({});
    const a = probeStates(params, cfg, new Rng(42), 16);
    const b = probeStates(params, cfg, new Rng(42), 16);
    const c = probeStates(params, cfg, new Rng(43), 16);
    expect(a.h.length).toBe(16 * H);
    expect(a.c.length).toBe(16 * H);
    expect(Buffer.compare(Buffer.from(a.h.buffer), Buffer.from(b.h.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.c.buffer), Buffer.from(b.c.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.h.buffer), Buffer.from(c.h.buffer))).not.toBe(0);
  });

  it('returns reachable LSTM states: h = o·tanh(c) so |h| ≤ tanh|c| < 1, none left at zero', () => {
    const params = baseParams();
    const { h, c } = probeStates(params, config({}), new Rng(8), 16);
    for (let i = 0; i < h.length; i++) {
      expect(Math.abs(h[i]!)).toBeLessThanOrEqual(Math.tanh(Math.abs(c[i]!)) + 1e-12);
    }
    for (let n = 0; n < 16; n++) expect(h.slice(n * H, (n + 1) * H).some((v) => v !== 0)).toBe(true);
  });

  it('runs with the weights it is given: other weights, other states', () => {
    const cfg = config({});
    const a = probeStates(baseParams(), cfg, new Rng(9), 4);
    const b = probeStates(initParams(new Rng(78), 5), cfg, new Rng(9), 4);
    expect(Buffer.compare(Buffer.from(a.c.buffer), Buffer.from(b.c.buffer))).not.toBe(0);
  });
});
