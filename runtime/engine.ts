/**
 * The LSTM step of docs/CONTRACTS.md §3, for serving: one tick in, (q, ℓ) out, state carried.
 *
 * Layout (why it is fast): the contract stores U as [64, 256] with column j = gate·64 + unit. Here the
 * weights are repacked once per model into P[unit][k][gate] — for each hidden unit, the 4 gate columns of
 * every input row sit next to each other. One pass over P computes the four gate pre-activations of one
 * unit in four independent accumulators (one h[k] load feeds 4 multiply-adds, one linear read of memory),
 * then the unit's activations and its (c, h) update happen while those values are still in registers. No
 * z[256] round trip through memory, no second pass. Sums run in float64 over float32 weights; (h, c) are
 * float64, like the pipeline's reference forward (pipeline/quantize/reference.ts) that computes the golden
 * vectors — so the runtime reproduces them to ~1e-12, not just 1e-5.
 *
 * A `LstmModel` is immutable and shared by every node of a process; each node owns one `LstmState`
 * (≈ 0.8 KB). `step` allocates nothing.
 */
import { NUM_FEATURES } from './features.js';
import { GATES, OUTPUTS, UNITS, type DenseParams, type QuantizedParams } from './artifact.js';
import { LstmState } from './lstm-state.js';
import { WasmStepKernel } from './wasm-kernel.js';

export { LstmState } from './lstm-state.js';

/**
 * Which kernel computes the step. `js`: float64 sums over float32 weights — exactly the pipeline's reference
 * forward, what golden vectors and `verify` are computed for; the default for LstmModel. `wasm`: the float32
 * SIMD kernel (runtime/wasm-kernel.ts), ~1e-6 from `js`, several times faster; throws if unavailable.
 * `auto`: wasm where available, else js.
 */
export type KernelChoice = 'js' | 'wasm' | 'auto';

const H = UNITS;
const F = NUM_FEATURES;
/** Per unit: 4 gates × (F input rows + H recurrent rows + 1 bias). */
const UNIT_STRIDE = 4 * (F + H + 1);

/** Immutable packed weights of one precision path. Share between nodes. */
export class LstmModel {
  /** [H][F + H + 1][4]: input rows, recurrent rows, bias, gate-interleaved per unit. */
  private readonly packed: Float32Array;
  /** [H][2] head kernel, then [2] head bias. */
  private readonly head: Float32Array;

  private readonly wasm: WasmStepKernel | null;

  private constructor(packed: Float32Array, head: Float32Array, wasm: WasmStepKernel | null) {
    this.packed = packed;
    this.head = head;
    this.wasm = wasm;
  }

  /** The kernel this model runs on. */
  get kernel(): 'js' | 'wasm' {
    return this.wasm ? 'wasm' : 'js';
  }

  /**
   * Packs dense contract-layout parameters (row-major [in, 4·64], column j = gate·64 + unit). With
   * `quantized` (the int8 codes behind `p`), a wasm kernel keeps the 17 KB of codes instead of 70 KB of floats.
   */
  static fromDense(p: DenseParams, options: { kernel?: KernelChoice; quantized?: QuantizedParams } = {}): LstmModel {
    const choice = options.kernel ?? 'js';
    if (choice !== 'js') {
      const wasm = WasmStepKernel.create(p, options.quantized);
      if (wasm) return new LstmModel(new Float32Array(0), new Float32Array(0), wasm);
      if (choice === 'wasm') throw new Error('runtime: the WebAssembly SIMD kernel is not available in this JS engine; use kernel "js" or "auto"');
    }
    const packed = new Float32Array(H * UNIT_STRIDE);
    for (let u = 0; u < H; u++) {
      const base = u * UNIT_STRIDE;
      for (let g = 0; g < 4; g++) {
        const col = g * H + u;
        for (let k = 0; k < F; k++) packed[base + k * 4 + g] = p.kernel[k * GATES + col]!;
        for (let k = 0; k < H; k++) packed[base + (F + k) * 4 + g] = p.recurrentKernel[k * GATES + col]!;
        packed[base + (F + H) * 4 + g] = p.bias[col]!;
      }
    }
    const head = new Float32Array(H * OUTPUTS + OUTPUTS);
    head.set(p.headKernel, 0);
    head.set(p.headBias, H * OUTPUTS);
    return new LstmModel(packed, head, null);
  }

  /** Bytes of the packed weights (shared by all nodes using this model). */
  get byteLength(): number {
    return this.wasm ? this.wasm.byteLength : this.packed.byteLength + this.head.byteLength;
  }

  /**
   * One tick: x (4 normalized features) → y[0] = q (ln-ms quantile), y[1] = ℓ (leader-lost logit);
   * advances `s`. Allocation-free.
   */
  step(s: LstmState, x: ArrayLike<number>, y: Float64Array | Float32Array): void {
    if (this.wasm) {
      this.wasm.step(s, x, y);
      return;
    }
    const P = this.packed;
    const h = s.h;
    const c = s.c;
    const hn = s.scratch();
    const x0 = x[0]!, x1 = x[1]!, x2 = x[2]!, x3 = x[3]!;
    for (let u = 0; u < H; u++) {
      let p = u * UNIT_STRIDE;
      // bias + x·W for the 4 gates of unit u
      const bp = p + (F + H) * 4;
      let zi = P[bp]! + x0 * P[p]! + x1 * P[p + 4]! + x2 * P[p + 8]! + x3 * P[p + 12]!;
      let zf = P[bp + 1]! + x0 * P[p + 1]! + x1 * P[p + 5]! + x2 * P[p + 9]! + x3 * P[p + 13]!;
      let zg = P[bp + 2]! + x0 * P[p + 2]! + x1 * P[p + 6]! + x2 * P[p + 10]! + x3 * P[p + 14]!;
      let zo = P[bp + 3]! + x0 * P[p + 3]! + x1 * P[p + 7]! + x2 * P[p + 11]! + x3 * P[p + 15]!;
      p += F * 4;
      // + h·U, two rows per iteration
      for (let k = 0; k < H; k += 2) {
        const a = h[k]!;
        const b = h[k + 1]!;
        zi += a * P[p]! + b * P[p + 4]!;
        zf += a * P[p + 1]! + b * P[p + 5]!;
        zg += a * P[p + 2]! + b * P[p + 6]!;
        zo += a * P[p + 3]! + b * P[p + 7]!;
        p += 8;
      }
      const ig = 1 / (1 + Math.exp(-zi));
      const fg = 1 / (1 + Math.exp(-zf));
      const gg = Math.tanh(zg);
      const og = 1 / (1 + Math.exp(-zo));
      const cu = fg * c[u]! + ig * gg;
      c[u] = cu;
      hn[u] = og * Math.tanh(cu);
    }
    h.set(hn);
    const W = this.head;
    let q = W[H * OUTPUTS]!;
    let l = W[H * OUTPUTS + 1]!;
    for (let k = 0; k < H; k++) {
      const hk = h[k]!;
      q += hk * W[k * 2]!;
      l += hk * W[k * 2 + 1]!;
    }
    y[0] = q;
    y[1] = l;
  }

  /**
   * Runs a whole sequence from `state` (fresh zero state if omitted): xs is [T, 4] normalized features,
   * returns [T, 2] outputs. For parity tests against the training-side model and for golden vectors.
   */
  forward(xs: ArrayLike<number>, state: LstmState = new LstmState()): Float64Array {
    const T = Math.floor(xs.length / F);
    const out = new Float64Array(T * OUTPUTS);
    const x = new Float64Array(F);
    const y = new Float64Array(OUTPUTS);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < F; i++) x[i] = xs[t * F + i]!;
      this.step(state, x, y);
      out[t * 2] = y[0]!;
      out[t * 2 + 1] = y[1]!;
    }
    return out;
  }
}

/**
 * The contract's LSTM step written the obvious way (z[256] = x·W + h·U + b, then gates) in float64 with
 * float64 state — the reference the packed kernel is tested against, and the naive baseline in the bench.
 */
export function referenceStep(p: DenseParams, h: Float64Array, c: Float64Array, x: ArrayLike<number>, y: Float64Array, z = new Float64Array(GATES)): void {
  for (let j = 0; j < GATES; j++) {
    let s = p.bias[j]!;
    for (let k = 0; k < F; k++) s += x[k]! * p.kernel[k * GATES + j]!;
    for (let k = 0; k < H; k++) s += h[k]! * p.recurrentKernel[k * GATES + j]!;
    z[j] = s;
  }
  for (let u = 0; u < H; u++) {
    const i = sig(z[u]!);
    const f = sig(z[H + u]!);
    const g = Math.tanh(z[2 * H + u]!);
    const o = sig(z[3 * H + u]!);
    c[u] = f * c[u]! + i * g;
    h[u] = o * Math.tanh(c[u]!);
  }
  for (let o = 0; o < OUTPUTS; o++) {
    let s = p.headBias[o]!;
    for (let k = 0; k < H; k++) s += h[k]! * p.headKernel[k * OUTPUTS + o]!;
    y[o] = s;
  }
}

function sig(v: number): number {
  return 1 / (1 + Math.exp(-v));
}
