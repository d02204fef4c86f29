import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTrainConfig, type TrainConfig } from '../pipeline/train/config.js';
import { PARAM_COUNT, UNITS } from '../pipeline/train/engine.js';
import { makeEngine } from '../pipeline/train/engines.js';
import { assembleBatch, forwardSplit, planLanes, streamsOf } from '../pipeline/train/lanes.js';
import { lossOf } from '../pipeline/train/metrics.js';
import { initParams, Rng } from '../pipeline/train/optim.js';
import { synthesizeSplits } from '../pipeline/train/synthetic.js';
import { train, type TrainInput } from '../pipeline/train/train.js';
import { referenceForward, weightsFromFlat } from '../pipeline/quantize/reference.js';
import { RaftNsError } from '../pipeline/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'raftns-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// 24 streams × 3 chunks of 16 ticks: small enough for seconds on the wasm backend, with carried state.
const splits = synthesizeSplits(24, 3, 11, 16);
const input: TrainInput = {
  splits,
  info: { dir: null, sha256: 'synthetic-24x3x16-seed11', datasetSha256: null, tickMs: 10, normalization: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1], clip: 5 } },
};
const cfg = (o: Partial<TrainConfig> = {}): TrainConfig =>
  resolveTrainConfig({ epochs: 4, batch_size: 12, lr: 0.01, warmup_steps: 2, patience: 0, engine: 'tfjs', backend: 'wasm', eval_batch_size: 64, ...o }, 'test');
const weightsOf = (dir: string): Buffer => readFileSync(join(dir, 'weights.bin'));

describe('train (tfjs engine)', () => {
  it('prints the exact parameter count of CONTRACTS.md §3', () => {
    expect(PARAM_COUNT).toBe(17_794);
  });

  it('lowers the loss and beats the constant baseline on a learnable synthetic split', async () => {
    const lines: string[] = [];
    const { manifest } = await train(input, { config: cfg(), outDir: join(tmp, 'a'), log: (l) => lines.push(l) });
    const h = manifest.history;
    expect(h).toHaveLength(4);
    expect(h[3]!.val_loss).toBeLessThan(h[0]!.val_loss);
    expect(h[3]!.train_loss).toBeLessThan(h[0]!.train_loss);
    expect(manifest.test.model.loss).toBeLessThan(manifest.test.constant.loss);
    expect(manifest.test.model.aucLost).toBeGreaterThan(0.8);
    expect(manifest.backend).toBe('tfjs-wasm');
    expect(lines.join('\n')).toContain('17,794 parameters');
    expect(readFileSync(join(tmp, 'a', 'metrics.csv'), 'utf8').split('\n')[0]).toContain('val_loss');
  });

  it('gives the same weights for the same seed, different weights for another seed', async () => {
    await train(input, { config: cfg(), outDir: join(tmp, 'b'), quiet: true });
    await train(input, { config: cfg({ seed: 2 }), outDir: join(tmp, 'c'), quiet: true });
    expect(weightsOf(join(tmp, 'b')).equals(weightsOf(join(tmp, 'a')))).toBe(true);
    expect(weightsOf(join(tmp, 'c')).equals(weightsOf(join(tmp, 'a')))).toBe(false);
  });

  it('resumes from a checkpoint to the same weights as an uninterrupted run', async () => {
    // A run that "crashed" after epoch 2: the full run's folder minus the later checkpoints.
    const dir = join(tmp, 'd');
    await train(input, { config: cfg(), outDir: dir, quiet: true });
    for (const e of ['0003', '0004']) for (const ext of ['json', 'bin']) rmSync(join(dir, 'checkpoints', `epoch-${e}.${ext}`));
    rmSync(join(dir, 'weights.bin'));
    const { manifest } = await train(input, { config: cfg(), outDir: dir, resume: true, quiet: true });
    expect(manifest.history.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    expect(weightsOf(dir).equals(weightsOf(join(tmp, 'a')))).toBe(true);
  });

  it('refuses to overwrite a run without --resume, and resuming on other windows', async () => {
    await expect(train(input, { config: cfg(), outDir: join(tmp, 'a'), quiet: true })).rejects.toThrow(/already holds a run/);
    const other = { ...input, info: { ...input.info, sha256: 'other' } };
    await expect(train(other, { config: cfg(), outDir: join(tmp, 'a'), resume: true, quiet: true })).rejects.toThrow(/checkpoint was trained on windows/);
  });

  it('rejects unknown and wrongly typed config keys, naming them', () => {
    expect(() => resolveTrainConfig({ epochs: 3, learning_rate: 0.1 }, 'cfg.json')).toThrow(/cfg\.json.*unknown key "learning_rate"/);
    expect(() => resolveTrainConfig({ batch_size: 'big' }, 'cfg.json')).toThrow(RaftNsError);
  });

  it('runs the logistic-sigmoid LSTM of CONTRACTS.md §3 with state carried across chunks (parity with the plain reference)', async () => {
    const engine = await makeEngine('tfjs', { backend: 'wasm' });
    try {
      const params = initParams(new Rng(5));
      const test = splits.test;
      const y = await forwardSplit(engine, params, test, 4);
      // Stream 0 through the float64 reference from zero state, all its chunks in a row.
      const chunks = [...Array(test.count).keys()].filter((k) => test.streamId[k] === 0);
      const xs = new Float32Array(chunks.length * test.T * 4);
      chunks.forEach((k, i) => xs.set(test.x.subarray(k * test.T * 4, (k + 1) * test.T * 4), i * test.T * 4));
      const ref = referenceForward(weightsFromFlat(params), xs, chunks.length * test.T);
      let maxDiff = 0;
      chunks.forEach((k, i) => {
        for (let j = 0; j < test.T * 2; j++) maxDiff = Math.max(maxDiff, Math.abs(y[k * test.T * 2 + j]! - ref[i * test.T * 2 + j]!));
      });
      expect(maxDiff).toBeLessThan(1e-4);
      expect(UNITS).toBe(64);
    } finally {
      await engine.dispose();
    }
  });

  it('computes exactly the loss of CONTRACTS.md §4 on its own outputs, and leaks no tensors', async () => {
    const engine = await makeEngine('tfjs', { backend: 'wasm' });
    try {
      const params = initParams(new Rng(9), 4.5);
      const split = splits.val;
      const plan = planLanes(streamsOf(split), 64);
      const batch = assembleBatch(split, plan, 0, { h: new Float32Array(plan.B * UNITS), c: new Float32Array(plan.B * UNITS) });
      const before = tf.memory().numTensors;
      const step = await engine.lossAndGrads(params, batch, { tau: 0.9, lambdaLost: 0.5 });
      const fwd = await engine.forward(params, batch);
      expect(tf.memory().numTensors).toBe(before);
      // The same chunks as a split of their own, scored by the plain-TS loss.
      const asSplit = { ...split, count: plan.B, x: batch.x, gapLn: batch.gapLn, censored: batch.censored, lost: batch.lost, wGap: batch.wGap, wLost: batch.wLost };
      const ts = lossOf(fwd.y, asSplit, { tau: 0.9, lambdaLost: 0.5 });
      expect(step.loss).toBeCloseTo(ts.loss, 5);
      expect(step.lossGap).toBeCloseTo(ts.lossGap, 5);
      expect(step.lossLost).toBeCloseTo(ts.lossLost, 5);
      expect(step.grads.some((g) => g !== 0)).toBe(true);
    } finally {
      await engine.dispose();
    }
  });
});

describe('train metrics and baselines', () => {
  it('fits the constant quantile that minimizes the censoring-aware pinball loss', async () => {
    const { fitConstantBaseline, constantOutputs, lossOf: loss } = await import('../pipeline/train/metrics.js');
    const s = splits.train;
    const c = fitConstantBaseline(s, 0.9);
    const at = (q: number): number => loss(constantOutputs(s, { q, logit: c.logit }), s, { tau: 0.9, lambdaLost: 0 }).loss;
    expect(at(c.q)).toBeLessThanOrEqual(at(c.q + 0.05));
    expect(at(c.q)).toBeLessThanOrEqual(at(c.q - 0.05));
  });

  it('computes AUC by ranks, ties counted half', async () => {
    const { auc } = await import('../pipeline/train/metrics.js');
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([1, 2], [1, 1])).toBeNaN();
  });
});

describe('lanes', () => {
  it('refuses a stream whose chunks are not consecutive, naming split, stream and chunk', async () => {
    const { streamsOf: streams } = await import('../pipeline/train/lanes.js');
    const broken = { ...splits.val, chunkIndex: splits.val.chunkIndex.map((c, k) => (k === 1 ? c + 1 : c)) };
    expect(() => streams(broken)).toThrow(/train: val split, stream 0: chunk 1 has chunkIndex 2, expected 1/);
  });

  it('puts every chunk in exactly one lane slot, in stream order, starting each stream from zero state', () => {
    const s = splits.train;
    const plan = planLanes(streamsOf(s), 5, new Rng(1));
    const seen = new Map<number, number>();
    for (let b = 0; b < plan.B; b++) {
      let prev = -1;
      for (let st = 0; st < plan.steps; st++) {
        const k = plan.chunk[st * plan.B + b]!;
        if (k < 0) continue;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        const starts = plan.starts[st * plan.B + b] === 1;
        expect(starts).toBe(s.chunkIndex[k] === 0);
        if (!starts) expect(s.streamId[prev]).toBe(s.streamId[k]), expect(s.chunkIndex[prev]).toBe(s.chunkIndex[k]! - 1);
        prev = k;
      }
    }
    expect(seen.size).toBe(s.count);
    expect([...seen.values()].every((v) => v === 1)).toBe(true);
  });
});
