/**
 * The fused LSTM sequence kernel in plain TypeScript: the whole sequence forward (storing what BPTT needs)
 * and the whole-sequence backward in one call each, over preallocated Float32Array buffers, with the head
 * and the exact loss of pipeline/train/engine.ts. Deterministic (fixed loop order, no randomness).
 *
 * It is the portable fallback and the readable statement of the math; the WebAssembly SIMD kernel
 * (kernel-wasm.ts, source in wasm/lstm.c) computes the same thing with the same buffer layout and is what
 * the fused engine runs by default. Measured on the 2-core build machine: see bench/train-fused.ts.
 *
 * Layout (batch-major per time step so each step is a small GEMM with contiguous inner loops):
 *   params: PARAM_LAYOUT — W [4,256] and U [64,256] are adjacent, so rows 0..67 at offset 0 are the
 *           stacked [W; U] matrix WU [68,256] that multiplies the step input [x_t, h_{t-1}] (68 wide).
 *   inp   [T, B, 68]  step inputs [x_t, h_{t-1}]; keeps h_{t-1} for the U gradient
 *   gate  [T, B, 256] activated gates i, f, g, o
 *   cell  [T+1, B, 64] c_t (cell[0] = c0)
 *   tanhC [T, B, 64]   tanh(c_t)
 *   hid   [T, B, 64]   h_t
 * Labels and outputs keep the caller's sample-major layout [B, T, ·].
 */
import { FEATURES, GATES, OUTPUTS, PARAM_COUNT, UNITS, type Batch, type LossConfig } from '../engine.js';
import { lossAndDy, type ShardLoss } from './loss.js';

export type { ShardLoss };

const H = UNITS;
const G = GATES;
const F = FEATURES;
const IN = F + H; // 68: width of the stacked step input
/** Offsets in the flat parameter vector (PARAM_LAYOUT order). */
export const OFF_WU = 0;
export const OFF_B = IN * G; // 17408
export const OFF_WD = OFF_B + G; // 17664
export const OFF_BD = OFF_WD + H * OUTPUTS; // 17792

/**
 * The kernel's contract, shared by the TypeScript and the WebAssembly implementations. `invGap`/`invLost`
 * are 1/max(Σ wGap, 1) and 1/max(Σ wLost, 1) over the WHOLE batch, so that shards of a batch computed on
 * different threads add up to exactly the loss of engine.ts.
 */
export interface FusedKernel {
  readonly kind: 'ts' | 'wasm-simd';
  /** y [B,T,2], hT/cT [B,64]. */
  forward(params: Float32Array, b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>, y: Float32Array, hT: Float32Array, cT: Float32Array): void;
  /** Overwrites grads [PARAM_COUNT] with this shard's share of d loss / d params; fills hT, cT. */
  lossAndGrads(params: Float32Array, b: Batch, loss: LossConfig, invGap: number, invLost: number, grads: Float32Array, hT: Float32Array, cT: Float32Array): ShardLoss;
}

export class FusedKernelTs implements FusedKernel {
  readonly kind = 'ts' as const;
  private cap = 0; // capacity in B·T
  private capB = 0;
  private inp = new Float32Array(0);
  private gate = new Float32Array(0);
  private cell = new Float32Array(0);
  private tanhC = new Float32Array(0);
  private hid = new Float32Array(0);
  private dy = new Float32Array(0); // [B, T, 2]
  private dh = new Float32Array(0); // [B, 64]
  private dc = new Float32Array(0); // [B, 64]
  private dz = new Float32Array(0); // [B, 256]

  private ensure(B: number, T: number): void {
    if (B * T <= this.cap && B <= this.capB) return;
    this.cap = Math.max(this.cap, B * T);
    this.capB = Math.max(this.capB, B);
    const n = this.cap;
    this.inp = new Float32Array(n * IN);
    this.gate = new Float32Array(n * G);
    this.cell = new Float32Array((n + this.capB) * H);
    this.tanhC = new Float32Array(n * H);
    this.hid = new Float32Array(n * H);
    this.dy = new Float32Array(n * OUTPUTS);
    this.dh = new Float32Array(this.capB * H);
    this.dc = new Float32Array(this.capB * H);
    this.dz = new Float32Array(this.capB * G);
  }

  forward(params: Float32Array, b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>, y: Float32Array, hT: Float32Array, cT: Float32Array): void {
    this.runForward(params, b.B, b.T, b.x, b.h0, b.c0);
    this.head(params, b.B, b.T, y);
    this.finalState(b.B, b.T, hT, cT);
  }

  lossAndGrads(params: Float32Array, b: Batch, loss: LossConfig, invGap: number, invLost: number, grads: Float32Array, hT: Float32Array, cT: Float32Array): ShardLoss {
    const { B, T } = b;
    this.runForward(params, B, T, b.x, b.h0, b.c0);
    const y = this.dy; // reuse: head output first, then overwritten in place by dL/dy
    this.head(params, B, T, y);
    this.finalState(B, T, hT, cT);
    const part = lossAndDy(y, b, loss, invGap, invLost, y);
    this.backward(params, B, T, grads);
    return part;
  }

  /** Whole-sequence forward from (h0, c0); fills inp, gate, cell, tanhC, hid. */
  private runForward(params: Float32Array, B: number, T: number, x: Float32Array, h0: Float32Array, c0: Float32Array): void {
    this.ensure(B, T);
    const { inp, gate, cell, tanhC, hid } = this;
    cell.set(c0.subarray(0, B * H), 0);
    for (let t = 0; t < T; t++) {
      const inT = t * B * IN;
      // Step input rows [x_t, h_{t-1}].
      for (let s = 0; s < B; s++) {
        const r = inT + s * IN;
        const xr = (s * T + t) * F;
        for (let k = 0; k < F; k++) inp[r + k] = x[xr + k]!;
        const hp = t === 0 ? h0 : hid;
        const ho = t === 0 ? s * H : ((t - 1) * B + s) * H;
        for (let k = 0; k < H; k++) inp[r + F + k] = hp[ho + k]!;
      }
      // z = inp · WU + b, 4 rows × 4 columns per block (16 accumulators, 8 loads per 16 multiply-adds).
      const gT = t * B * G;
      for (let s = 0; s < B; s += 4) {
        const rows = Math.min(4, B - s);
        const r0 = inT + s * IN;
        const r1 = rows > 1 ? r0 + IN : r0;
        const r2 = rows > 2 ? r0 + 2 * IN : r0;
        const r3 = rows > 3 ? r0 + 3 * IN : r0;
        for (let j = 0; j < G; j += 4) {
          const b0 = params[OFF_B + j]!, b1 = params[OFF_B + j + 1]!, b2 = params[OFF_B + j + 2]!, b3 = params[OFF_B + j + 3]!;
          let a00 = b0, a01 = b1, a02 = b2, a03 = b3;
          let a10 = b0, a11 = b1, a12 = b2, a13 = b3;
          let a20 = b0, a21 = b1, a22 = b2, a23 = b3;
          let a30 = b0, a31 = b1, a32 = b2, a33 = b3;
          for (let k = 0; k < IN; k++) {
            const w = k * G + j;
            const w0 = params[w]!, w1 = params[w + 1]!, w2 = params[w + 2]!, w3 = params[w + 3]!;
            const v0 = inp[r0 + k]!, v1 = inp[r1 + k]!, v2 = inp[r2 + k]!, v3 = inp[r3 + k]!;
            a00 += v0 * w0; a01 += v0 * w1; a02 += v0 * w2; a03 += v0 * w3;
            a10 += v1 * w0; a11 += v1 * w1; a12 += v1 * w2; a13 += v1 * w3;
            a20 += v2 * w0; a21 += v2 * w1; a22 += v2 * w2; a23 += v2 * w3;
            a30 += v3 * w0; a31 += v3 * w1; a32 += v3 * w2; a33 += v3 * w3;
          }
          const o = gT + s * G + j;
          gate[o] = a00; gate[o + 1] = a01; gate[o + 2] = a02; gate[o + 3] = a03;
          if (rows > 1) { gate[o + G] = a10; gate[o + G + 1] = a11; gate[o + G + 2] = a12; gate[o + G + 3] = a13; }
          if (rows > 2) { gate[o + 2 * G] = a20; gate[o + 2 * G + 1] = a21; gate[o + 2 * G + 2] = a22; gate[o + 2 * G + 3] = a23; }
          if (rows > 3) { gate[o + 3 * G] = a30; gate[o + 3 * G + 1] = a31; gate[o + 3 * G + 2] = a32; gate[o + 3 * G + 3] = a33; }
        }
      }
      // Activations and the cell update.
      for (let s = 0; s < B; s++) {
        const g0 = gT + s * G;
        const cp = (t * B + s) * H;
        const cn = cp + B * H;
        const hn = (t * B + s) * H;
        for (let u = 0; u < H; u++) {
          const i = 1 / (1 + Math.exp(-gate[g0 + u]!));
          const f = 1 / (1 + Math.exp(-gate[g0 + H + u]!));
          const g = Math.tanh(gate[g0 + 2 * H + u]!);
          const o = 1 / (1 + Math.exp(-gate[g0 + 3 * H + u]!));
          gate[g0 + u] = i;
          gate[g0 + H + u] = f;
          gate[g0 + 2 * H + u] = g;
          gate[g0 + 3 * H + u] = o;
          const c = Math.fround(f * cell[cp + u]! + i * g);
          cell[cn + u] = c;
          const tc = Math.tanh(c);
          tanhC[hn + u] = tc;
          hid[hn + u] = o * tc;
        }
      }
    }
  }

  /** y[b, t, :] = h_t · Wd + bd. */
  private head(params: Float32Array, B: number, T: number, y: Float32Array): void {
    const hid = this.hid;
    for (let t = 0; t < T; t++) {
      for (let s = 0; s < B; s++) {
        const h = (t * B + s) * H;
        let q = params[OFF_BD]!;
        let l = params[OFF_BD + 1]!;
        for (let u = 0; u < H; u++) {
          const v = hid[h + u]!;
          q += v * params[OFF_WD + 2 * u]!;
          l += v * params[OFF_WD + 2 * u + 1]!;
        }
        y[2 * (s * T + t)] = q;
        y[2 * (s * T + t) + 1] = l;
      }
    }
  }

  private finalState(B: number, T: number, hT: Float32Array, cT: Float32Array): void {
    hT.set(this.hid.subarray((T - 1) * B * H, T * B * H));
    cT.set(this.cell.subarray(T * B * H, (T + 1) * B * H));
  }

  /** BPTT over the stored forward; this.dy holds dL/dy [B,T,2]. No gradient flows into h0/c0. */
  private backward(params: Float32Array, B: number, T: number, grads: Float32Array): void {
    const { inp, gate, cell, tanhC, hid, dy, dh, dc, dz } = this;
    grads.fill(0, 0, PARAM_COUNT);
    dh.fill(0, 0, B * H);
    dc.fill(0, 0, B * H);
    for (let t = T - 1; t >= 0; t--) {
      // Head: dWd += h_tᵀ dy_t, dbd += dy_t, dh += dy_t · Wdᵀ; then the cell and gate derivatives.
      for (let s = 0; s < B; s++) {
        const n = 2 * (s * T + t);
        const dq = dy[n]!;
        const dl = dy[n + 1]!;
        grads[OFF_BD] += dq;
        grads[OFF_BD + 1] += dl;
        const h = (t * B + s) * H;
        const d = s * H;
        const g0 = (t * B + s) * G;
        const z0 = s * G;
        const cp = (t * B + s) * H;
        for (let u = 0; u < H; u++) {
          const hv = hid[h + u]!;
          grads[OFF_WD + 2 * u] += hv * dq;
          grads[OFF_WD + 2 * u + 1] += hv * dl;
          const dhu = dh[d + u]! + dq * params[OFF_WD + 2 * u]! + dl * params[OFF_WD + 2 * u + 1]!;
          const i = gate[g0 + u]!, f = gate[g0 + H + u]!, g = gate[g0 + 2 * H + u]!, o = gate[g0 + 3 * H + u]!;
          const tc = tanhC[h + u]!;
          const dcu = dc[d + u]! + dhu * o * (1 - tc * tc);
          dz[z0 + u] = dcu * g * i * (1 - i);
          dz[z0 + H + u] = dcu * cell[cp + u]! * f * (1 - f);
          dz[z0 + 2 * H + u] = dcu * i * (1 - g * g);
          dz[z0 + 3 * H + u] = dhu * tc * o * (1 - o);
          dc[d + u] = dcu * f;
        }
      }
      // dWU += inp_tᵀ · dz (4 input rows × 4 gate columns per block), db += Σ_s dz.
      const inT = t * B * IN;
      for (let k = 0; k < IN; k += 4) {
        for (let j = 0; j < G; j += 4) {
          let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
          let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
          for (let s = 0; s < B; s++) {
            const r = inT + s * IN + k;
            const z = s * G + j;
            const v0 = inp[r]!, v1 = inp[r + 1]!, v2 = inp[r + 2]!, v3 = inp[r + 3]!;
            const d0 = dz[z]!, d1 = dz[z + 1]!, d2 = dz[z + 2]!, d3 = dz[z + 3]!;
            a00 += v0 * d0; a01 += v0 * d1; a02 += v0 * d2; a03 += v0 * d3;
            a10 += v1 * d0; a11 += v1 * d1; a12 += v1 * d2; a13 += v1 * d3;
            a20 += v2 * d0; a21 += v2 * d1; a22 += v2 * d2; a23 += v2 * d3;
            a30 += v3 * d0; a31 += v3 * d1; a32 += v3 * d2; a33 += v3 * d3;
          }
          const o = k * G + j;
          grads[o] += a00; grads[o + 1] += a01; grads[o + 2] += a02; grads[o + 3] += a03;
          grads[o + G] += a10; grads[o + G + 1] += a11; grads[o + G + 2] += a12; grads[o + G + 3] += a13;
          grads[o + 2 * G] += a20; grads[o + 2 * G + 1] += a21; grads[o + 2 * G + 2] += a22; grads[o + 2 * G + 3] += a23;
          grads[o + 3 * G] += a30; grads[o + 3 * G + 1] += a31; grads[o + 3 * G + 2] += a32; grads[o + 3 * G + 3] += a33;
        }
      }
      for (let s = 0; s < B; s++) {
        for (let j = 0; j < G; j++) grads[OFF_B + j] += dz[s * G + j]!;
      }
      if (t === 0) break; // dh into h0 is not needed: the initial state is detached
      // dh_{t-1} = dz · Uᵀ (4 samples × 4 units per block; U row k is params[(F + k)·G …]).
      for (let s = 0; s < B; s += 4) {
        const rows = Math.min(4, B - s);
        const z0 = s * G;
        const z1 = rows > 1 ? z0 + G : z0;
        const z2 = rows > 2 ? z0 + 2 * G : z0;
        const z3 = rows > 3 ? z0 + 3 * G : z0;
        for (let k = 0; k < H; k += 4) {
          const u0 = (F + k) * G;
          let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
          let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
          for (let j = 0; j < G; j++) {
            const w0 = params[u0 + j]!, w1 = params[u0 + G + j]!, w2 = params[u0 + 2 * G + j]!, w3 = params[u0 + 3 * G + j]!;
            const d0 = dz[z0 + j]!, d1 = dz[z1 + j]!, d2 = dz[z2 + j]!, d3 = dz[z3 + j]!;
            a00 += d0 * w0; a01 += d0 * w1; a02 += d0 * w2; a03 += d0 * w3;
            a10 += d1 * w0; a11 += d1 * w1; a12 += d1 * w2; a13 += d1 * w3;
            a20 += d2 * w0; a21 += d2 * w1; a22 += d2 * w2; a23 += d2 * w3;
            a30 += d3 * w0; a31 += d3 * w1; a32 += d3 * w2; a33 += d3 * w3;
          }
          const o = s * H + k;
          dh[o] = a00; dh[o + 1] = a01; dh[o + 2] = a02; dh[o + 3] = a03;
          if (rows > 1) { dh[o + H] = a10; dh[o + H + 1] = a11; dh[o + H + 2] = a12; dh[o + H + 3] = a13; }
          if (rows > 2) { dh[o + 2 * H] = a20; dh[o + 2 * H + 1] = a21; dh[o + 2 * H + 2] = a22; dh[o + 2 * H + 3] = a23; }
          if (rows > 3) { dh[o + 3 * H] = a30; dh[o + 3 * H + 1] = a31; dh[o + 3 * H + 2] = a32; dh[o + 3 * H + 3] = a33; }
        }
      }
    }
  }
}
