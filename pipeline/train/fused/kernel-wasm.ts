/**
 * The WebAssembly SIMD build of the fused LSTM kernel (source: wasm/lstm.c, bytes: lstm-wasm.generated.ts).
 * Same contract and numbers as kernel-ts.ts up to float32 rounding and the polynomial exp; each instance
 * owns its own module memory, so one instance per thread.
 */
import { PARAM_COUNT, UNITS, type Batch, type LossConfig } from '../engine.js';
import type { FusedKernel } from './kernel-ts.js';
import { lossAndDy, type ShardLoss } from './loss.js';
import { LSTM_WASM_BASE64 } from './lstm-wasm.generated.js';

interface LstmExports {
  memory: WebAssembly.Memory;
  lstm_layout(B: number, T: number): number;
  lstm_params(): number;
  lstm_grads(): number;
  lstm_x(): number;
  lstm_h0(): number;
  lstm_c0(): number;
  lstm_y(): number;
  lstm_hT(): number;
  lstm_cT(): number;
  lstm_forward(): void;
  lstm_backward(): void;
  lstm_peak_probe(iters: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** True when this JavaScript engine runs WebAssembly SIMD (Node ≥ 16.4, current browsers). */
export function wasmSimdAvailable(): boolean {
  try {
    moduleBytesToModule();
    return true;
  } catch {
    return false;
  }
}

function moduleBytesToModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(LSTM_WASM_BASE64.replace(/\s+/g, ''), 'base64'));
  return compiled;
}

/**
 * Runs the arithmetic-peak probe of wasm/lstm.c: `iters` × 96 f32 flops in registers. For benchmarks
 * (the caller times it); returns the probe's checksum.
 */
export function wasmPeakProbe(iters: number): number {
  const ex = new WebAssembly.Instance(moduleBytesToModule(), {}).exports as unknown as LstmExports;
  return ex.lstm_peak_probe(iters);
}

/** Flops per iteration of wasmPeakProbe. */
export const PEAK_PROBE_FLOPS_PER_ITER = 96;

export class FusedKernelWasm implements FusedKernel {
  readonly kind = 'wasm-simd' as const;
  private readonly ex: LstmExports;
  private B = -1;
  private T = -1;

  constructor() {
    this.ex = new WebAssembly.Instance(moduleBytesToModule(), {}).exports as unknown as LstmExports;
  }

  /** Lays out the arena for (B, T), growing memory when needed; returns Float32Array views into it. */
  private views(B: number, T: number) {
    const ex = this.ex;
    if (B !== this.B || T !== this.T) {
      const end = ex.lstm_layout(B, T);
      const have = ex.memory.buffer.byteLength;
      if (end > have) ex.memory.grow(Math.ceil((end - have) / 65536));
      this.B = B;
      this.T = T;
    }
    const buf = ex.memory.buffer; // re-read: grow() detaches the old buffer
    const f = (ptr: number, n: number) => new Float32Array(buf, ptr, n);
    return {
      params: f(ex.lstm_params(), PARAM_COUNT),
      grads: f(ex.lstm_grads(), PARAM_COUNT),
      x: f(ex.lstm_x(), B * T * 4),
      h0: f(ex.lstm_h0(), B * UNITS),
      c0: f(ex.lstm_c0(), B * UNITS),
      y: f(ex.lstm_y(), B * T * 2),
      hT: f(ex.lstm_hT(), B * UNITS),
      cT: f(ex.lstm_cT(), B * UNITS),
    };
  }

  private runForward(params: Float32Array, b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>) {
    const v = this.views(b.B, b.T);
    v.params.set(params.subarray(0, PARAM_COUNT));
    v.x.set(b.x.subarray(0, b.B * b.T * 4));
    v.h0.set(b.h0.subarray(0, b.B * UNITS));
    v.c0.set(b.c0.subarray(0, b.B * UNITS));
    this.ex.lstm_forward();
    return v;
  }

  forward(params: Float32Array, b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>, y: Float32Array, hT: Float32Array, cT: Float32Array): void {
    const v = this.runForward(params, b);
    y.set(v.y);
    hT.set(v.hT);
    cT.set(v.cT);
  }

  lossAndGrads(params: Float32Array, b: Batch, loss: LossConfig, invGap: number, invLost: number, grads: Float32Array, hT: Float32Array, cT: Float32Array): ShardLoss {
    const v = this.runForward(params, b);
    hT.set(v.hT);
    cT.set(v.cT);
    const part = lossAndDy(v.y, b, loss, invGap, invLost, v.y);
    this.ex.lstm_backward();
    grads.set(v.grads);
    return part;
  }
}
