/**
 * The network `verify` reasons about: the LSTM of docs/CONTRACTS.md §3 with the weights the runtime uses
 * (dequantized int8 for the int8 path), as plain float64 arrays, and a float64 reference step that
 * computes what the runtime computes. Counterexamples are replayed on this step (and on the runtime
 * engine when one is available).
 */
import { mulberry32 } from '../util/prng.js';

export const H = 64;
export const F = 4;
export const G = 4 * H;

/** Weights of one network, row-major, exactly as the runtime multiplies them. */
export interface VerifyNet {
  /** Hidden units (64 for the shipped model; tests also use small networks). */
  units: number;
  /** Input features (4). */
  features: number;
  W: Float64Array; // [features, 4·units], column j = gate·units + unit, gates i, f, g, o
  U: Float64Array; // [units, 4·units]
  b: Float64Array; // [4·units]
  Wd: Float64Array; // [units, 2]
  bd: Float64Array; // [2]
}

/** The runtime's per-stream state: h and c, both starting at 0. */
export interface LstmState {
  h: Float64Array;
  c: Float64Array;
}

export function zeroState(net: VerifyNet): LstmState {
  return { h: new Float64Array(net.units), c: new Float64Array(net.units) };
}

/**
 * Dequantization exactly as the runtime does it: w[r][c] = fround(q[r][c] · scale[c]) (CONTRACTS.md §6).
 * `q` is [rows, cols] row-major, `scale` [cols].
 */
export function dequantize(q: Int8Array, scale: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.fround(q[r * cols + c]! * scale[c]!);
  }
  return out;
}

/** Quantizes float weights per output column as the exporter does (for tests and the planted-violation fixtures). */
export function quantizePerColumn(w: ArrayLike<number>, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m = Math.max(m, Math.abs(w[r * cols + c]!));
    scale[c] = m === 0 ? 1 : Math.fround(m / 127);
    for (let r = 0; r < rows; r++) {
      q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / scale[c]!)));
    }
  }
  return { q, scale };
}

/** A network from the flat float parameter vector (CONTRACTS.md §3 order: W, U, b, Wd, bd). */
export function netFromFlat(params: ArrayLike<number>, units = H, features = F): VerifyNet {
  const g = 4 * units;
  let o = 0;
  const take = (n: number): Float64Array => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = params[o + i]!;
    o += n;
    return a;
  };
  const net = { units, features, W: take(features * g), U: take(units * g), b: take(g), Wd: take(units * 2), bd: take(2) };
  if (o !== params.length) throw new Error(`verify: flat parameter vector has ${params.length} values, expected ${o}`);
  return net;
}

/** The same network with int8-dequantized W, U and Wd (biases stay float32), as the int8 runtime path sees it. */
export function netDequantized(net: VerifyNet): VerifyNet {
  const g = 4 * net.units;
  const dq = (w: Float64Array, rows: number, cols: number): Float64Array => {
    const { q, scale } = quantizePerColumn(w, rows, cols);
    return dequantize(q, scale, rows, cols);
  };
  return { ...net, W: dq(net.W, net.features, g), U: dq(net.U, net.units, g), Wd: dq(net.Wd, net.units, 2) };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * One runtime tick in float64: z = b + x·W + h·U; i, f, o = σ; g = tanh; c' = f·c + i·g; h' = o·tanh(c');
 * y = h'·Wd + bd. Updates `state` in place and returns y = [q, ℓ].
 */
export function referenceStep(net: VerifyNet, state: LstmState, x: ArrayLike<number>): [number, number] {
  const n = net.units;
  const g = 4 * n;
  const z = new Float64Array(g);
  for (let j = 0; j < g; j++) {
    let s = net.b[j]!;
    for (let i = 0; i < net.features; i++) s += x[i]! * net.W[i * g + j]!;
    for (let k = 0; k < n; k++) s += state.h[k]! * net.U[k * g + j]!;
    z[j] = s;
  }
  let q = net.bd[0]!;
  let l = net.bd[1]!;
  for (let u = 0; u < n; u++) {
    const ig = sigmoid(z[u]!);
    const fg = sigmoid(z[n + u]!);
    const gg = Math.tanh(z[2 * n + u]!);
    const og = sigmoid(z[3 * n + u]!);
    const c = fg * state.c[u]! + ig * gg;
    const h = og * Math.tanh(c);
    state.c[u] = c;
    state.h[u] = h;
    q += h * net.Wd[u * 2]!;
    l += h * net.Wd[u * 2 + 1]!;
  }
  return [q, l];
}

/** Runs a whole input sequence from h = c = 0; returns y per tick ([T][2]). */
export function referenceRun(net: VerifyNet, xs: ReadonlyArray<ArrayLike<number>>): Array<[number, number]> {
  const state = zeroState(net);
  return xs.map((x) => referenceStep(net, state, x));
}

/** A small seeded PRNG (mulberry32): verify's sampling is reproducible from the recorded seed. */
export const makeRng: (seed: number) => () => number = mulberry32;

/** A random network of the contract's shape (Glorot-like scales), for tests and benches. */
export function randomNet(seed: number, units = H, features = F, weightScale = 1): VerifyNet {
  const rng = makeRng(seed);
  const g = 4 * units;
  const fill = (n: number, s: number): Float64Array => Float64Array.from({ length: n }, () => Math.fround((rng() * 2 - 1) * s));
  const b = fill(g, 0.1 * weightScale);
  for (let u = 0; u < units; u++) b[units + u] = Math.fround(b[units + u]! + 1); // unit forget bias
  return {
    units,
    features,
    W: fill(features * g, weightScale * Math.sqrt(6 / (features + g))),
    U: fill(units * g, weightScale * Math.sqrt(6 / (units + g))),
    b,
    Wd: fill(units * 2, weightScale * Math.sqrt(6 / (units + 2))),
    bd: Float64Array.from([Math.fround(5 + rng()), Math.fround(-2 + rng())]),
  };
}
