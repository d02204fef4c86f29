/**
 * Shared fixtures of the fused-engine tests: a seeded batch generator and a float64 reference of the model
 * and loss of docs/CONTRACTS.md §3–4, written plainly (one sample, one step at a time) so it is easy to
 * check by eye against the contract.
 */
import { FEATURES, GATES, PARAM_COUNT, UNITS, type Batch, type LossConfig } from '../pipeline/train/engine.js';
import { mulberry32 } from '../pipeline/util/prng.js';

/** mulberry32: a tiny seeded PRNG so fixtures are the same on every run. */
export const rngOf: (seed: number) => () => number = mulberry32;

/** Random parameters, uniform in ±scale (large enough that gates are neither linear nor saturated). */
export function randomParams(seed: number, scale = 0.3): Float32Array {
  const r = rngOf(seed);
  return Float32Array.from({ length: PARAM_COUNT }, () => (r() * 2 - 1) * scale);
}

/** A random batch with both label kinds, censoring, masked ticks and a non-zero carried state. */
export function randomBatch(seed: number, B: number, T: number): Batch {
  const r = rngOf(seed);
  const n = B * T;
  const f = (len: number, g: () => number) => Float32Array.from({ length: len }, g);
  return {
    B,
    T,
    x: f(n * FEATURES, () => r() * 4 - 2),
    gapLn: f(n, () => r() * 2 - 1),
    censored: f(n, () => (r() < 0.3 ? 1 : 0)),
    lost: f(n, () => (r() < 0.4 ? 1 : 0)),
    wGap: f(n, () => (r() < 0.15 ? 0 : 1)),
    wLost: f(n, () => (r() < 0.25 ? 0 : 1)),
    h0: f(B * UNITS, () => r() - 0.5),
    c0: f(B * UNITS, () => r() * 2 - 1),
  };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Float64 forward of one batch: y [B,T,2], hT, cT (as plain number arrays). */
export function referenceForward(params: ArrayLike<number>, b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>): { y: number[]; hT: number[]; cT: number[] } {
  const H = UNITS;
  const offU = FEATURES * GATES;
  const offB = offU + H * GATES;
  const offWd = offB + GATES;
  const offBd = offWd + H * 2;
  const y: number[] = new Array(b.B * b.T * 2).fill(0);
  const hT: number[] = [];
  const cT: number[] = [];
  for (let s = 0; s < b.B; s++) {
    let h = Array.from(b.h0.subarray(s * H, (s + 1) * H));
    let c = Array.from(b.c0.subarray(s * H, (s + 1) * H));
    for (let t = 0; t < b.T; t++) {
      const z: number[] = [];
      for (let j = 0; j < GATES; j++) {
        let acc = params[offB + j]!;
        for (let k = 0; k < FEATURES; k++) acc += b.x[(s * b.T + t) * FEATURES + k]! * params[k * GATES + j]!;
        for (let k = 0; k < H; k++) acc += h[k]! * params[offU + k * GATES + j]!;
        z.push(acc);
      }
      const c2: number[] = [];
      const h2: number[] = [];
      for (let u = 0; u < H; u++) {
        const i = sigmoid(z[u]!);
        const fg = sigmoid(z[H + u]!);
        const g = Math.tanh(z[2 * H + u]!);
        const o = sigmoid(z[3 * H + u]!);
        c2.push(fg * c[u]! + i * g);
        h2.push(o * Math.tanh(c2[u]!));
      }
      h = h2;
      c = c2;
      for (let k = 0; k < 2; k++) {
        let acc = params[offBd + k]!;
        for (let u = 0; u < H; u++) acc += h[u]! * params[offWd + 2 * u + k]!;
        y[(s * b.T + t) * 2 + k] = acc;
      }
    }
    hT.push(...h);
    cT.push(...c);
  }
  return { y, hT, cT };
}

/** The loss of engine.ts, in float64, from head outputs y [B,T,2]. */
export function referenceLoss(y: ArrayLike<number>, b: Batch, cfg: LossConfig): number {
  let gap = 0;
  let gapW = 0;
  let lost = 0;
  let lostW = 0;
  for (let n = 0; n < b.B * b.T; n++) {
    const u = b.gapLn[n]! - y[2 * n]!;
    const pin = b.censored[n]! > 0.5 ? cfg.tau * Math.max(u, 0) : Math.max(cfg.tau * u, (cfg.tau - 1) * u);
    const l = y[2 * n + 1]!;
    const softplus = Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l)));
    gap += b.wGap[n]! * pin;
    gapW += b.wGap[n]!;
    lost += b.wLost[n]! * (softplus - b.lost[n]! * l);
    lostW += b.wLost[n]!;
  }
  return gap / Math.max(gapW, 1) + cfg.lambdaLost * (lost / Math.max(lostW, 1));
}

/** max |a − b| / max |b|: the relative error of a whole tensor (robust to tiny individual entries). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = b.length): number {
  let num = 0;
  let den = 0;
  for (let i = from; i < to; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}
