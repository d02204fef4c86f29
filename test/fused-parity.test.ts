/**
 * The fused engine trains the same model as the tfjs reference engine and computes the same function the
 * runtime serves: Adam from the same seeded initialization reaches the same validation loss with either
 * engine, and chunked training-side forward with carried state matches the runtime tick by tick.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LstmModel } from '../runtime/engine.js';
import { FEATURES, PARAM_LAYOUT, UNITS, type Batch, type LossConfig, type TrainEngine } from '../pipeline/train/engine.js';
import { createFusedEngine } from '../pipeline/train/fused/index.js';
import { adamStep, initParams, makeAdamState, Rng } from '../pipeline/train/optim.js';
import { makeTfjsEngine } from '../pipeline/train/tfjs-engine.js';
import { randomParams, rngOf } from './fused-support.js';

const LOSS: LossConfig = { tau: 0.9, lambdaLost: 0.5 };
const open: TrainEngine[] = [];
afterAll(async () => {
  await Promise.all(open.map((e) => e.dispose()));
});

/** A learnable toy task: the gap grows with feature 0 and the recent history of feature 1; lost follows feature 2. */
function toyBatch(seed: number, B: number, T: number): Batch {
  const r = rngOf(seed);
  const n = B * T;
  const x = Float32Array.from({ length: n * FEATURES }, () => r() * 2 - 1);
  const gapLn = new Float32Array(n);
  const lost = new Float32Array(n);
  for (let s = 0; s < B; s++) {
    let trace = 0;
    for (let t = 0; t < T; t++) {
      const i = s * T + t;
      trace = 0.7 * trace + x[i * FEATURES + 1]!;
      gapLn[i] = 4.6 + 0.5 * x[i * FEATURES]! + 0.3 * trace + 0.1 * (r() - 0.5);
      lost[i] = x[i * FEATURES + 2]! + 0.3 * (r() - 0.5) > 0.4 ? 1 : 0;
    }
  }
  return {
    B,
    T,
    x,
    gapLn,
    censored: Float32Array.from({ length: n }, () => (r() < 0.1 ? 1 : 0)),
    lost,
    wGap: new Float32Array(n).fill(1),
    wLost: new Float32Array(n).fill(1),
    h0: new Float32Array(B * UNITS),
    c0: new Float32Array(B * UNITS),
  };
}

async function trainWith(engine: TrainEngine, steps: number): Promise<{ before: number; after: number; params: Float32Array }> {
  const params = initParams(new Rng(7), 4.6);
  const adam = makeAdamState();
  const train = [1, 2, 3, 4].map((k) => toyBatch(100 + k, 16, 8));
  const val = toyBatch(999, 32, 8);
  const before = (await engine.lossAndGrads(params, val, LOSS)).loss;
  for (let step = 0; step < steps; step++) {
    const { grads } = await engine.lossAndGrads(params, train[step % train.length]!, LOSS);
    adamStep(params, grads, adam, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  }
  return { before, after: (await engine.lossAndGrads(params, val, LOSS)).loss, params };
}

describe('fused engine vs the tfjs reference engine', () => {
  it('Adam from the same seed reaches the same validation loss with either engine', async () => {
    const tfjs = await makeTfjsEngine({ backend: 'cpu' });
    const fused = await createFusedEngine({ threads: 2 });
    open.push(tfjs, fused);
    const a = await trainWith(tfjs, 40);
    const b = await trainWith(fused, 40);
    expect(b.before).toBeCloseTo(a.before, 5);
    expect(a.after).toBeLessThan(0.8 * a.before); // the task is learnable: both really trained
    expect(Math.abs(b.after - a.after) / a.after).toBeLessThan(1e-3);
    for (const t of PARAM_LAYOUT) {
      let num = 0;
      let den = 0;
      for (let i = t.offset; i < t.offset + t.size; i++) {
        num = Math.max(num, Math.abs(b.params[i]! - a.params[i]!));
        den = Math.max(den, Math.abs(a.params[i]!));
      }
      expect(num / den, t.name).toBeLessThan(1e-3);
    }
  });
});

describe('fused forward vs the runtime engine (train/serve parity)', () => {
  it('chunks of T = 16 with carried (h, c) reproduce the runtime output tick by tick over 96 ticks', async () => {
    const params = randomParams(201, 0.25);
    const slice = (name: string) => {
      const t = PARAM_LAYOUT.find((p) => p.name === name)!;
      return params.slice(t.offset, t.offset + t.size);
    };
    const model = LstmModel.fromDense({
      kernel: slice('lstm/kernel'),
      recurrentKernel: slice('lstm/recurrent_kernel'),
      bias: slice('lstm/bias'),
      headKernel: slice('head/kernel'),
      headBias: slice('head/bias'),
    });
    const r = rngOf(202);
    const ticks = 96;
    const xs = Float32Array.from({ length: ticks * FEATURES }, () => r() * 4 - 2);
    const served = model.forward(xs);

    const fused = await createFusedEngine({ threads: 1 });
    open.push(fused);
    let h0: Float32Array = new Float32Array(UNITS);
    let c0: Float32Array = new Float32Array(UNITS);
    const T = 16;
    let worst = 0;
    for (let k = 0; k < ticks / T; k++) {
      const out = await fused.forward(params, { B: 1, T, x: xs.slice(k * T * FEATURES, (k + 1) * T * FEATURES), h0, c0 });
      for (let i = 0; i < T * 2; i++) worst = Math.max(worst, Math.abs(out.y[i]! - served[k * T * 2 + i]!));
      h0 = out.hT;
      c0 = out.cT;
    }
    expect(worst).toBeLessThan(1e-5);
  });
});
