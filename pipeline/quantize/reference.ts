/**
 * The plain-TypeScript reference forward of the model (docs/CONTRACTS.md §3), independent of TensorFlow.js.
 * Arithmetic is float64 throughout (JS numbers); only the weights are float32 values (the float path's
 * `<name>` tensors, or the int8 path's dequantized `fround(q · scale)`). Golden vectors and the
 * int8-vs-float error report come from here, so a loader in any language can reproduce them to ~1e-6.
 */
import { FEATURES, OUTPUTS, PARAM_LAYOUT, UNITS } from '../train/engine.js';

const G = 4 * UNITS;

/** The model's weights as float32 arrays in the flat layout (row-major, [in, out]). */
export interface ModelWeights {
  kernel: Float32Array; // [4, 256]
  recurrentKernel: Float32Array; // [64, 256]
  bias: Float32Array; // [256]
  headKernel: Float32Array; // [64, 2]
  headBias: Float32Array; // [2]
}

/** Splits a flat PARAM_LAYOUT vector into named views (no copy). */
export function weightsFromFlat(params: Float32Array): ModelWeights {
  const view = (k: number): Float32Array => {
    const t = PARAM_LAYOUT[k]!;
    return params.subarray(t.offset, t.offset + t.size);
  };
  return { kernel: view(0), recurrentKernel: view(1), bias: view(2), headKernel: view(3), headBias: view(4) };
}

/** Carried LSTM state (float64). */
export interface ReferenceState {
  h: Float64Array; // [64]
  c: Float64Array; // [64]
}

export function zeroState(): ReferenceState {
  return { h: new Float64Array(UNITS), c: new Float64Array(UNITS) };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * One tick: consumes x (4 normalized features), updates `state` in place, returns [q, ℓ].
 * z = x·W + h·U + b; gates i, f, g, o; c' = f·c + i·g; h' = o·tanh(c'); y = h'·Wd + bd.
 */
export function referenceStep(w: ModelWeights, state: ReferenceState, x: ArrayLike<number>): [number, number] {
  const z = new Float64Array(G);
  for (let j = 0; j < G; j++) z[j] = w.bias[j]!;
  for (let i = 0; i < FEATURES; i++) {
    const xi = x[i]!;
    const row = i * G;
    for (let j = 0; j < G; j++) z[j]! += xi * w.kernel[row + j]!;
  }
  for (let u = 0; u < UNITS; u++) {
    const hu = state.h[u]!;
    const row = u * G;
    for (let j = 0; j < G; j++) z[j]! += hu * w.recurrentKernel[row + j]!;
  }
  for (let u = 0; u < UNITS; u++) {
    const ig = sigmoid(z[u]!);
    const fg = sigmoid(z[UNITS + u]!);
    const gg = Math.tanh(z[2 * UNITS + u]!);
    const og = sigmoid(z[3 * UNITS + u]!);
    const c = fg * state.c[u]! + ig * gg;
    state.c[u] = c;
    state.h[u] = og * Math.tanh(c);
  }
  const y: [number, number] = [w.headBias[0]!, w.headBias[1]!];
  for (let u = 0; u < UNITS; u++) {
    const hu = state.h[u]!;
    for (let o = 0; o < OUTPUTS; o++) y[o]! += hu * w.headKernel[u * OUTPUTS + o]!;
  }
  return y;
}

/** Runs a whole sequence of normalized feature rows from `state` (zero by default); returns [n, 2] outputs. */
export function referenceForward(
  w: ModelWeights,
  xs: ArrayLike<number>,
  n: number,
  state: ReferenceState = zeroState(),
): Float64Array {
  const out = new Float64Array(n * OUTPUTS);
  for (let t = 0; t < n; t++) {
    const y = referenceStep(w, state, subarrayLike(xs, t * FEATURES));
    out[t * OUTPUTS] = y[0];
    out[t * OUTPUTS + 1] = y[1];
  }
  return out;
}

function subarrayLike(a: ArrayLike<number>, start: number): ArrayLike<number> {
  if (a instanceof Float32Array || a instanceof Float64Array) return a.subarray(start, start + FEATURES);
  return Array.from({ length: FEATURES }, (_, i) => a[start + i]!);
}
