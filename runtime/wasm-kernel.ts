/**
 * The WebAssembly SIMD step kernel (runtime/wasm/step.c, embedded as base64 by runtime/wasm/build.sh):
 * float32, 4-lane SIMD, ~4× less work per step than the JS kernel. Optional: `wasmStepAvailable()` is false
 * where WebAssembly or its SIMD proposal is missing, and the JS kernel (engine.ts) computes the same
 * function (float64; the two agree within 1e-5, tested).
 *
 * Two builds of the same kernel: float32 weights (2 pages = 128 KB of linear memory), and the int8 codes with
 * per-column scales applied once per sum (1 page = 64 KB), used for the int8 path.
 *
 * One instance per model holds the weights (shared by every node using the model). Each node's (h, c) stays
 * in its own LstmState on the JS side and is copied in and out around the call — 128 numbers each way,
 * which keeps node states independent and the kernel free of per-node memory management.
 */
import type { DenseParams, QuantizedParams } from './artifact.js';
import type { LstmState } from './lstm-state.js';
import { BATCH_WASM_F32_BASE64, BATCH_WASM_I8_BASE64, STEP_WASM_F32_BASE64, STEP_WASM_I8_BASE64 } from './wasm-step.generated.js';

const H = 64;
const F = 4;
const R = F + H;
const NB = H / 4;
const BLOCK = (R + 1) * 16;

interface StepExports {
  memory: WebAssembly.Memory;
  rt_sx?(): number;
  rt_sh?(): number;
  rt_bias?(): number;
  rt_weights(): number;
  rt_head(): number;
  rt_in(): number;
  rt_c(): number;
  rt_y(): number;
  rt_step(): void;
}

/** The per-node kernels (step.c) and the batched ones (batch.c, runtime/batch.ts), float32 or int8 weights. */
export type KernelVariant = 'f32' | 'i8' | 'batch-f32' | 'batch-i8';
const SOURCES: Record<KernelVariant, string> = {
  f32: STEP_WASM_F32_BASE64, i8: STEP_WASM_I8_BASE64, 'batch-f32': BATCH_WASM_F32_BASE64, 'batch-i8': BATCH_WASM_I8_BASE64,
};
const moduleCache: Partial<Record<KernelVariant, WebAssembly.Module | null>> = {};

/** The compiled module, or null where WebAssembly SIMD is unavailable. Compiled once per process. */
export function stepModule(variant: KernelVariant): WebAssembly.Module | null {
  const cached = moduleCache[variant];
  if (cached !== undefined) return cached;
  let mod: WebAssembly.Module | null = null;
  try {
    if (typeof WebAssembly === 'object') {
      const bytes = base64ToBytes(SOURCES[variant]);
      // validate() is false when the engine lacks SIMD; each module is under 4 KB, browsers' limit for
      // synchronous compilation on the main thread.
      if (WebAssembly.validate(bytes)) mod = new WebAssembly.Module(bytes);
    }
  } catch {
    mod = null;
  }
  moduleCache[variant] = mod;
  return mod;
}

/** True when the SIMD kernel can run here. */
export function wasmStepAvailable(): boolean {
  return stepModule('f32') !== null && stepModule('i8') !== null;
}

export class WasmStepKernel {
  private readonly ex: StepExports;
  private readonly inp: Float32Array; // [68]: x, then h
  private readonly c: Float32Array; // [64]
  private readonly y: Float32Array; // [2]

  /** Which weights the instance holds: float32, or int8 codes with scales. */
  readonly weights: 'float32' | 'int8';

  private constructor(ex: StepExports, weights: 'float32' | 'int8') {
    this.ex = ex;
    this.weights = weights;
    const buf = ex.memory.buffer;
    this.inp = new Float32Array(buf, ex.rt_in(), R);
    this.c = new Float32Array(buf, ex.rt_c(), H);
    this.y = new Float32Array(buf, ex.rt_y(), 2);
  }

  /**
   * Instantiates the kernel with these weights, or returns null if WebAssembly SIMD is unavailable. With
   * `quantized` (the int8 codes behind `p`), the int8 build is used; `p` then supplies biases and the head.
   */
  static create(p: DenseParams, quantized?: QuantizedParams): WasmStepKernel | null {
    const mod = stepModule(quantized ? 'i8' : 'f32');
    if (!mod) return null;
    const ex = new WebAssembly.Instance(mod, {}).exports as unknown as StepExports;
    const buf = ex.memory.buffer;
    if (quantized) {
      WasmStepKernel.packInt8(
        new Int8Array(buf, ex.rt_weights(), NB * R * 16), new Float32Array(buf, ex.rt_sx!(), NB * 16),
        new Float32Array(buf, ex.rt_sh!(), NB * 16), new Float32Array(buf, ex.rt_bias!(), NB * 16), p, quantized,
      );
    } else {
      WasmStepKernel.packFloat(new Float32Array(buf, ex.rt_weights(), NB * BLOCK), p);
    }
    const head = new Float32Array(buf, ex.rt_head(), 2 * H + 2);
    head.set(p.headKernel, 0);
    head.set(p.headBias, 2 * H);
    return new WasmStepKernel(ex, quantized ? 'int8' : 'float32');
  }

  /**
   * int8 codes in step.c's block order (W[block][row][16]) with the per-column scales and biases beside them.
   * `w` may be a Float32Array: batch.c takes each code widened to the float32 it is (exact).
   */
  static packInt8(w: Int8Array | Float32Array, sx: Float32Array, sh: Float32Array, bias: Float32Array, p: DenseParams, quantized: QuantizedParams): void {
    for (let b = 0; b < NB; b++) {
      for (let g = 0; g < 4; g++) {
        for (let l = 0; l < 4; l++) {
          const col = g * H + 4 * b + l;
          const lane = g * 4 + l;
          for (let k = 0; k < F; k++) w[(b * R + k) * 16 + lane] = quantized.kernelQ[k * 4 * H + col]!;
          for (let k = 0; k < H; k++) w[(b * R + F + k) * 16 + lane] = quantized.recurrentQ[k * 4 * H + col]!;
          sx[b * 16 + lane] = quantized.kernelScale[col]!;
          sh[b * 16 + lane] = quantized.recurrentScale[col]!;
          bias[b * 16 + lane] = p.bias[col]!;
        }
      }
    }
  }

  /** float32 weights in step.c's block order: W[block][row][16], then the block's 16 biases. */
  static packFloat(w: Float32Array, p: DenseParams): void {
    for (let b = 0; b < NB; b++) {
      for (let g = 0; g < 4; g++) {
        for (let l = 0; l < 4; l++) {
          const col = g * H + 4 * b + l; // contract column: gate·64 + unit
          const lane = g * 4 + l;
          for (let k = 0; k < F; k++) w[b * BLOCK + k * 16 + lane] = p.kernel[k * 4 * H + col]!;
          for (let k = 0; k < H; k++) w[b * BLOCK + (F + k) * 16 + lane] = p.recurrentKernel[k * 4 * H + col]!;
          w[b * BLOCK + R * 16 + lane] = p.bias[col]!;
        }
      }
    }
  }

  /** Bytes of the instance's linear memory (weights and scratch; shared by the nodes using the model). */
  get byteLength(): number {
    return this.ex.memory.buffer.byteLength;
  }

  step(s: LstmState, x: ArrayLike<number>, y: Float64Array | Float32Array): void {
    const inp = this.inp;
    const c = this.c;
    const h = s.h;
    const sc = s.c;
    inp[0] = x[0]!;
    inp[1] = x[1]!;
    inp[2] = x[2]!;
    inp[3] = x[3]!;
    for (let k = 0; k < H; k++) {
      inp[F + k] = h[k]!;
      c[k] = sc[k]!;
    }
    this.ex.rt_step();
    for (let k = 0; k < H; k++) {
      h[k] = inp[F + k]!;
      sc[k] = c[k]!;
    }
    y[0] = this.y[0]!;
    y[1] = this.y[1]!;
  }
}

/** RFC 4648 base64 → bytes, without atob/Buffer (runs in any JS host). */
function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lut = new Uint8Array(128).fill(255);
  for (let i = 0; i < alphabet.length; i++) lut[alphabet.charCodeAt(i)] = i;
  const clean = b64.replace(/[^A-Za-z0-9+/]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i + 1 < clean.length; i += 4) {
    const a = lut[clean.charCodeAt(i)]!, b = lut[clean.charCodeAt(i + 1)]!;
    const c = i + 2 < clean.length ? lut[clean.charCodeAt(i + 2)]! : 0;
    const d = i + 3 < clean.length ? lut[clean.charCodeAt(i + 3)]! : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = (n >> 16) & 255;
    if (i + 2 < clean.length && o < out.length) out[o++] = (n >> 8) & 255;
    if (i + 3 < clean.length && o < out.length) out[o++] = n & 255;
  }
  return out.slice(0, o);
}
