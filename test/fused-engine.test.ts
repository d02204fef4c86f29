/**
 * The fused TrainEngine: data parallelism over worker threads gives the whole batch's loss and gradients,
 * bit-identical run to run for a fixed thread count, and equal within float rounding across thread counts.
 * Workers run the compiled dist/ files: `npm test` builds first (`tsc` then `vitest run`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PARAM_COUNT, PARAM_LAYOUT, type LossConfig, type TrainEngine } from '../pipeline/train/engine.js';
import { createFusedEngine, shardStarts } from '../pipeline/train/fused/index.js';
import { RaftNsError } from '../pipeline/util/errors.js';
import { randomBatch, randomParams, referenceForward, referenceLoss, relErr } from './fused-support.js';

const LOSS: LossConfig = { tau: 0.99, lambdaLost: 0.5 };
const open: TrainEngine[] = [];
async function engine(threads: number, kernel?: 'wasm' | 'ts'): Promise<TrainEngine> {
  const e = await createFusedEngine({ threads, kernel });
  open.push(e);
  return e;
}
afterAll(async () => {
  await Promise.all(open.map((e) => e.dispose()));
});

describe('fused engine', () => {
  it('names what ran', async () => {
    expect((await engine(1)).backend).toBe('fused-wasm-simd x1 thread');
    expect((await engine(2, 'ts')).backend).toBe('fused-ts x2 threads');
  });

  it('1, 2 and 3 threads give the same loss and gradients (within 1e-6 relative) and the same state', async () => {
    const params = randomParams(71, 0.2);
    const b = randomBatch(72, 37, 32); // 37 rows: uneven shards, 4-row blocks and tails
    const one = await (await engine(1)).lossAndGrads(params, b, LOSS);
    for (const threads of [2, 3]) {
      const many = await (await engine(threads)).lossAndGrads(params, b, LOSS);
      expect(Math.abs(many.loss - one.loss) / one.loss).toBeLessThan(1e-6);
      for (const t of PARAM_LAYOUT) expect(relErr(many.grads, one.grads, t.offset, t.offset + t.size), `${t.name} x${threads}`).toBeLessThan(1e-6);
      expect(Array.from(many.hT)).toEqual(Array.from(one.hT));
      expect(Array.from(many.cT)).toEqual(Array.from(one.cT));
    }
  });

  it('the same inputs and thread count give bit-identical gradients run to run', async () => {
    const params = randomParams(81, 0.2);
    const b = randomBatch(82, 20, 16);
    const a = await (await engine(2)).lossAndGrads(params, b, LOSS);
    const again = await (await engine(2)).lossAndGrads(params, b, LOSS);
    expect(again.loss).toBe(a.loss);
    expect(Buffer.from(again.grads.buffer).equals(Buffer.from(a.grads.buffer))).toBe(true);
  });

  it('loss is the whole-batch loss of engine.ts and forward() the model output, across threads', async () => {
    const params = randomParams(91);
    const b = randomBatch(92, 9, 7);
    const e = await engine(2);
    const ref = referenceForward(params, b);
    const step = await e.lossAndGrads(params, b, LOSS);
    expect(step.loss).toBeCloseTo(referenceLoss(ref.y, b, LOSS), 5);
    expect(step.loss).toBeCloseTo(step.lossGap + LOSS.lambdaLost * step.lossLost, 12);
    const fwd = await e.forward(params, b);
    expect(relErr(fwd.y, ref.y)).toBeLessThan(1e-5);
    expect(relErr(fwd.hT, ref.hT)).toBeLessThan(1e-5);
    expect(step.grads.length).toBe(PARAM_COUNT);
  });

  it('a batch smaller than the thread count still works (idle threads skip)', async () => {
    const params = randomParams(101);
    const b = randomBatch(102, 1, 4);
    const one = await (await engine(1)).lossAndGrads(params, b, LOSS);
    const three = await (await engine(3)).lossAndGrads(params, b, LOSS);
    expect(Array.from(three.grads)).toEqual(Array.from(one.grads));
    expect(shardStarts(1, 3)).toEqual([0, 0, 0, 1]);
  });

  it('rejects bad parameters, batches and thread counts with a one-line train: error', async () => {
    const e = await engine(1);
    const b = randomBatch(111, 2, 3);
    await expect(e.lossAndGrads(new Float32Array(10), b, LOSS)).rejects.toThrow(/^train: fused engine expected 17794 parameters, got 10$/);
    await expect(e.forward(randomParams(1), { ...b, x: new Float32Array(3) })).rejects.toThrow(RaftNsError);
    await expect(createFusedEngine({ threads: 0 })).rejects.toThrow(/^train: --threads must be a positive integer/);
  });
});
