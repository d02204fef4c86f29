/**
 * The fused LSTM kernels (TypeScript and WebAssembly SIMD) compute the model and loss of docs/CONTRACTS.md
 * §3–4: forward against a float64 reference, gradients against TensorFlow.js autodiff of the same model
 * built from tf ops (sigmoid gates, not tfjs's hardSigmoid default) and against float64 finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, PARAM_COUNT, PARAM_LAYOUT, UNITS, type Batch, type LossConfig } from '../pipeline/train/engine.js';
import { FusedKernelTs, type FusedKernel } from '../pipeline/train/fused/kernel-ts.js';
import { FusedKernelWasm } from '../pipeline/train/fused/kernel-wasm.js';
import { randomBatch, randomParams, referenceForward, referenceLoss, relErr } from './fused-support.js';

const LOSS: LossConfig = { tau: 0.9, lambdaLost: 0.5 };
const kernels: Array<[string, () => FusedKernel]> = [
  ['ts', () => new FusedKernelTs()],
  ['wasm-simd', () => new FusedKernelWasm()],
];

/** Runs a kernel over a whole batch as one shard; returns loss, grads, hT, cT. */
function kernelStep(k: FusedKernel, params: Float32Array, b: Batch) {
  let gw = 0;
  let lw = 0;
  for (let n = 0; n < b.B * b.T; n++) {
    gw += b.wGap[n]!;
    lw += b.wLost[n]!;
  }
  const grads = new Float32Array(PARAM_COUNT);
  const hT = new Float32Array(b.B * UNITS);
  const cT = new Float32Array(b.B * UNITS);
  const part = k.lossAndGrads(params, b, LOSS, 1 / Math.max(gw, 1), 1 / Math.max(lw, 1), grads, hT, cT);
  return { loss: part.lossGap + LOSS.lambdaLost * part.lossLost, grads, hT, cT };
}

/** Loss and gradients by TensorFlow.js autodiff over the same model built from tf ops. */
function tfjsLossAndGrads(params: Float32Array, b: Batch): { loss: number; grads: Float32Array } {
  const slice = (name: string) => {
    const t = PARAM_LAYOUT.find((p) => p.name === name)!;
    return tf.tensor(params.subarray(t.offset, t.offset + t.size), t.shape);
  };
  const vars = ['lstm/kernel', 'lstm/recurrent_kernel', 'lstm/bias', 'head/kernel', 'head/bias'].map(slice);
  const x = tf.tensor3d(b.x, [b.B, b.T, FEATURES]);
  const h0 = tf.tensor2d(b.h0, [b.B, UNITS]);
  const c0 = tf.tensor2d(b.c0, [b.B, UNITS]);
  const lab = (a: Float32Array) => tf.tensor2d(a, [b.B, b.T]);
  const [gapLn, censored, lost, wGap, wLost] = [b.gapLn, b.censored, b.lost, b.wGap, b.wLost].map(lab) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const lossFn = (W: tf.Tensor, U: tf.Tensor, bias: tf.Tensor, Wd: tf.Tensor, bd: tf.Tensor): tf.Scalar => {
    let h: tf.Tensor = h0;
    let c: tf.Tensor = c0;
    const ys: tf.Tensor[] = [];
    for (let t = 0; t < b.T; t++) {
      const xt = x.slice([0, t, 0], [b.B, 1, FEATURES]).reshape([b.B, FEATURES]);
      const z = tf.add(tf.add(tf.matMul(xt, W as tf.Tensor2D), tf.matMul(h as tf.Tensor2D, U as tf.Tensor2D)), bias);
      const [zi, zf, zg, zo] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      c = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zg)));
      h = tf.mul(tf.sigmoid(zo), tf.tanh(c));
      ys.push(tf.add(tf.matMul(h as tf.Tensor2D, Wd as tf.Tensor2D), bd));
    }
    const y = tf.stack(ys, 1); // [B, T, 2]
    const q = y.slice([0, 0, 0], [b.B, b.T, 1]).reshape([b.B, b.T]);
    const l = y.slice([0, 0, 1], [b.B, b.T, 1]).reshape([b.B, b.T]);
    const u = tf.sub(gapLn, q);
    const pinObserved = tf.maximum(tf.mul(LOSS.tau, u), tf.mul(LOSS.tau - 1, u));
    const pin = tf.where(tf.greater(censored, 0.5), tf.mul(LOSS.tau, tf.relu(u)), pinObserved);
    const bce = tf.sub(tf.softplus(l), tf.mul(lost, l));
    const lossGap = tf.div(tf.sum(tf.mul(wGap, pin)), tf.maximum(tf.sum(wGap), 1));
    const lossLost = tf.div(tf.sum(tf.mul(wLost, bce)), tf.maximum(tf.sum(wLost), 1));
    return tf.add(lossGap, tf.mul(LOSS.lambdaLost, lossLost)) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(lossFn as (...a: tf.Tensor[]) => tf.Scalar)(vars);
  const flat = new Float32Array(PARAM_COUNT);
  grads.forEach((g, i) => flat.set(g.dataSync(), PARAM_LAYOUT[i]!.offset));
  return { loss: value.dataSync()[0]!, grads: flat };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(kernels)('fused kernel (%s)', (_name, make) => {
  it('forward matches a float64 reference step by step, carried state included', () => {
    const params = randomParams(11);
    const b = randomBatch(12, 6, 9); // B = 6: one 4-row block and a 2-row tail
    const ref = referenceForward(params, b);
    const y = new Float32Array(b.B * b.T * 2);
    const hT = new Float32Array(b.B * UNITS);
    const cT = new Float32Array(b.B * UNITS);
    make().forward(params, b, y, hT, cT);
    expect(relErr(y, ref.y)).toBeLessThan(1e-5);
    expect(relErr(hT, ref.hT)).toBeLessThan(1e-5);
    expect(relErr(cT, ref.cT)).toBeLessThan(1e-5);
  });

  it('the smallest shapes (B = 1, T = 1) and a large-then-small call sequence give the reference values', () => {
    const params = randomParams(15);
    const k = make();
    for (const [B, T] of [[1, 1], [9, 40], [1, 3]] as const) {
      const b = randomBatch(16 + B + T, B, T);
      const ref = referenceForward(params, b);
      const y = new Float32Array(B * T * 2);
      k.forward(params, b, y, new Float32Array(B * UNITS), new Float32Array(B * UNITS));
      expect(relErr(y, ref.y), `B=${B} T=${T}`).toBeLessThan(1e-5);
      expect(kernelStep(k, params, b).loss).toBeCloseTo(referenceLoss(ref.y, b, LOSS), 5);
    }
  });

  it('two chunks with carried (h, c) equal one long chunk', () => {
    const params = randomParams(21);
    const whole = randomBatch(22, 5, 8);
    const k = make();
    const run = (b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>) => {
      const out = { y: new Float32Array(b.B * b.T * 2), hT: new Float32Array(b.B * UNITS), cT: new Float32Array(b.B * UNITS) };
      k.forward(params, b, out.y, out.hT, out.cT);
      return out;
    };
    const full = run(whole);
    const half = (from: number) => {
      const x = new Float32Array(whole.B * 4 * FEATURES);
      for (let s = 0; s < whole.B; s++) x.set(whole.x.subarray((s * 8 + from) * FEATURES, (s * 8 + from + 4) * FEATURES), s * 4 * FEATURES);
      return x;
    };
    const first = run({ B: whole.B, T: 4, x: half(0), h0: whole.h0, c0: whole.c0 });
    const second = run({ B: whole.B, T: 4, x: half(4), h0: first.hT, c0: first.cT });
    for (let s = 0; s < whole.B; s++) {
      for (let t = 0; t < 4; t++) {
        for (let o = 0; o < 2; o++) expect(second.y[(s * 4 + t) * 2 + o]).toBeCloseTo(full.y[(s * 8 + 4 + t) * 2 + o]!, 6);
      }
    }
    expect(relErr(second.hT, full.hT)).toBeLessThan(1e-6);
  });

  it('loss and gradients match TensorFlow.js autodiff (relative error < 1e-4 per tensor)', () => {
    const params = randomParams(31);
    const b = randomBatch(32, 7, 6);
    const ours = kernelStep(make(), params, b);
    const ref = tfjsLossAndGrads(params, b);
    expect(Math.abs(ours.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-5);
    expect(Math.abs(ours.loss - referenceLoss(referenceForward(params, b).y, b, LOSS))).toBeLessThan(1e-5);
    for (const t of PARAM_LAYOUT) {
      const err = relErr(ours.grads, ref.grads, t.offset, t.offset + t.size);
      expect(err, `${t.name}: ${err}`).toBeLessThan(1e-4);
    }
  });

  it('gradients match float64 central differences on sampled parameters of every tensor', () => {
    const params = randomParams(41);
    const b = randomBatch(42, 5, 6);
    const ours = kernelStep(make(), params, b);
    const p64 = Float64Array.from(params);
    const lossAt = () => referenceLoss(referenceForward(p64, b).y, b, LOSS);
    const r = (i: number) => (i * 7919) % 1000; // fixed, spread sample of entries
    let maxAbsGrad = 0;
    for (const g of ours.grads) maxAbsGrad = Math.max(maxAbsGrad, Math.abs(g));
    for (const t of PARAM_LAYOUT) {
      for (let k = 0; k < 6; k++) {
        const i = t.offset + (r(k + t.offset) % t.size);
        const eps = 1e-6;
        const keep = p64[i]!;
        p64[i] = keep + eps;
        const up = lossAt();
        p64[i] = keep - eps;
        const down = lossAt();
        p64[i] = keep;
        const fd = (up - down) / (2 * eps);
        expect(Math.abs(ours.grads[i]! - fd), `${t.name}[${i - t.offset}] fused ${ours.grads[i]} fd ${fd}`).toBeLessThan(1e-4 * maxAbsGrad + 1e-7);
      }
    }
  });

  it('masked ticks contribute nothing to the loss or the gradients', () => {
    const params = randomParams(51);
    const b = randomBatch(52, 4, 5);
    const base = kernelStep(make(), params, b);
    // Change the labels of fully masked ticks: loss and gradients must not move.
    const b2 = { ...b, gapLn: b.gapLn.slice(), lost: b.lost.slice() };
    for (let n = 0; n < b.B * b.T; n++) {
      if (b.wGap[n] === 0) b2.gapLn[n] = 99;
      if (b.wLost[n] === 0) b2.lost[n] = 1 - b.lost[n]!;
    }
    const moved = kernelStep(make(), params, b2);
    expect(moved.loss).toBe(base.loss);
    expect(Array.from(moved.grads)).toEqual(Array.from(base.grads));
  });
});

describe('fused kernels agree with each other', () => {
  it('TypeScript and WebAssembly SIMD gradients within 1e-5 relative on a training-size shard', () => {
    const params = randomParams(61, 0.2);
    const b = randomBatch(62, 33, 32);
    const a = kernelStep(new FusedKernelTs(), params, b);
    const w = kernelStep(new FusedKernelWasm(), params, b);
    expect(Math.abs(a.loss - w.loss)).toBeLessThan(1e-6);
    for (const t of PARAM_LAYOUT) expect(relErr(w.grads, a.grads, t.offset, t.offset + t.size), t.name).toBeLessThan(1e-5);
  });
});
