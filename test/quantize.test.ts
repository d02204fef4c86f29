import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAgainst } from '../pipeline/schemas.js';
import { resolveTrainConfig } from '../pipeline/train/config.js';
import { makeEngine } from '../pipeline/train/engines.js';
import { forwardSplit } from '../pipeline/train/lanes.js';
import { synthesizeSplits } from '../pipeline/train/synthetic.js';
import { train, type RunManifest } from '../pipeline/train/train.js';
import { readArtifactWeights } from '../pipeline/quantize/artifact.js';
import { featureRows, type GoldenFile } from '../pipeline/quantize/golden.js';
import { dequantizeMatrix, quantizeMatrix } from '../pipeline/quantize/int8.js';
import { quantizeRun, type ArtifactManifest } from '../pipeline/quantize/quantize.js';
import { referenceStep, zeroState } from '../pipeline/quantize/reference.js';
import { PARAM_LAYOUT } from '../pipeline/train/engine.js';

const tmp = mkdtempSync(join(tmpdir(), 'raftns-quantize-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const splits = synthesizeSplits(16, 3, 21, 16);
const norm = { transforms: ['a', 'b', 'c', 'd'], mean: [0.4, 0.1, 0.05, 0.8], std: [0.3, 0.5, 0.2, 0.1], clip: 5 };
let run: RunManifest;
let params: Float32Array;
let manifest: ArtifactManifest;
const art = join(tmp, 'artifact');

beforeAll(async () => {
  const config = resolveTrainConfig({ epochs: 2, batch_size: 8, lr: 0.01, warmup_steps: 1, patience: 0, backend: 'wasm' }, 'test');
  const r = await train(
    { splits, info: { dir: null, sha256: 'synthetic', datasetSha256: null, tickMs: 10, normalization: norm } },
    { config, outDir: join(tmp, 'run'), quiet: true },
  );
  run = r.manifest;
  params = r.params;
  ({ manifest } = await quantizeRun(run, params, splits.test, { outDir: art, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 6, goldenTicks: 40, heartbeatIntervalMs: 100 }));
});

describe('int8 symmetric per-output-channel quantization', () => {
  it('uses scale = max|w|/127 per column, zero point 0, and rounds to within half a step', () => {
    const w = Float32Array.from([0.5, -2, 0, 0.25, 1, 0, -0.5, 0.003, 0]); // [3, 3], last column all zero
    const q = quantizeMatrix(w, 3, 3);
    expect(Array.from(q.scale)).toEqual([Math.fround(0.5 / 127), Math.fround(2 / 127), 1]);
    expect(q.q[0]).toBe(127);
    expect(q.q[1]).toBe(-127);
    expect(Array.from(q.q.filter((_, i) => i % 3 === 2))).toEqual([0, 0, 0]);
    const back = dequantizeMatrix(q);
    w.forEach((v, i) => expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(q.scale[i % 3]! / 2 + 1e-9));
  });
});

describe('quantize → artifact', () => {
  it('writes a manifest that satisfies its schema and the contract’s tensor table', () => {
    const onDisk = JSON.parse(readFileSync(join(art, 'manifest.json'), 'utf8')) as ArtifactManifest;
    const v = validateAgainst('artifact-manifest', onDisk);
    expect(v.ok ? [] : v.issues).toEqual([]);
    expect(onDisk.tensors.map((t) => t.name)).toEqual([
      'lstm/kernel', 'lstm/kernel.q', 'lstm/kernel.scale', 'lstm/recurrent_kernel', 'lstm/recurrent_kernel.q',
      'lstm/recurrent_kernel.scale', 'lstm/bias', 'head/kernel', 'head/kernel.q', 'head/kernel.scale', 'head/bias',
    ]);
    expect(onDisk.tensors.every((t) => t.offset % 8 === 0)).toBe(true);
    expect(onDisk.architecture.recurrent_activation).toBe('sigmoid');
    expect(onDisk.architecture.outputs[0].tau).toBe(0.99);
    expect(onDisk.normalization.mean).toEqual(norm.mean);
    expect(onDisk.seed).toBe(run.seed);
    expect(onDisk.heartbeat_interval_ms).toBe(100); // the timing assumptions a host must match (ARTIFACT.md §3.3)
    expect(onDisk.tick_ms).toBe(run.windows.tickMs);
    expect(readFileSync(join(art, 'ARTIFACT.md'), 'utf8')).toContain('format_version 1');
  });

  it('keeps the float tensors bit-exact and detects a flipped byte in weights.bin via sha256', () => {
    const { float } = readArtifactWeights(art);
    const k = PARAM_LAYOUT[1]!;
    expect(Buffer.from(float.recurrentKernel.buffer).equals(Buffer.from(params.slice(k.offset, k.offset + k.size).buffer))).toBe(true);
    const copy = join(tmp, 'flipped');
    mkdirSync(copy, { recursive: true });
    for (const f of ['manifest.json', 'weights.bin']) writeFileSync(join(copy, f), readFileSync(join(art, f)), { flag: 'w' });
    const bytes = readFileSync(join(copy, 'weights.bin'));
    bytes[1234] ^= 0x01;
    writeFileSync(join(copy, 'weights.bin'), bytes);
    expect(() => readArtifactWeights(copy)).toThrow(/weights\.bin: sha256 .* expected weights_sha256/);
  });

  it('int8 stays within the reported error of the float model on the test split (measured independently with tfjs)', async () => {
    const e = manifest.quantization_error;
    expect(e.ticks).toBeGreaterThan(150);
    expect(e.timeout_ms.p99).toBeLessThanOrEqual(e.timeout_ms.max);
    const { int8 } = readArtifactWeights(art);
    const int8Flat = new Float32Array(params.length);
    [int8.kernel, int8.recurrentKernel, int8.bias, int8.headKernel, int8.headBias].forEach((a, i) => int8Flat.set(a, PARAM_LAYOUT[i]!.offset));
    const engine = await makeEngine('tfjs', { backend: 'wasm' });
    try {
      const yf = await forwardSplit(engine, params, splits.test, 8);
      const yi = await forwardSplit(engine, int8Flat, splits.test, 8);
      let maxDt = 0;
      let maxDp = 0;
      const sig = (z: number): number => 1 / (1 + Math.exp(-z));
      for (let i = 0; i < yf.length; i += 2) {
        if (splits.test.wGap[i / 2] === 0 && splits.test.wLost[i / 2] === 0) continue;
        maxDt = Math.max(maxDt, Math.abs(Math.exp(yf[i]!) - Math.exp(yi[i]!)));
        maxDp = Math.max(maxDp, Math.abs(sig(yf[i + 1]!) - sig(yi[i + 1]!)));
      }
      expect(maxDt).toBeGreaterThan(0); // int8 is not a silent copy of the float weights
      expect(maxDt).toBeLessThanOrEqual(e.timeout_ms.max * 1.01 + 1e-3);
      expect(maxDp).toBeLessThanOrEqual(e.p_leader_lost.max * 1.01 + 1e-6);
    } finally {
      await engine.dispose();
    }
  });

  it('golden vectors reproduce from the artifact files alone', () => {
    const golden = JSON.parse(readFileSync(join(art, 'golden.json'), 'utf8')) as GoldenFile;
    const { manifest: m, float, int8 } = readArtifactWeights(art);
    const n = m.normalization as { mean: number[]; std: number[]; clip: number };
    expect(golden.sequences.length).toBeGreaterThanOrEqual(8);
    expect(golden.sequences.some((s) => s.rows.some((r) => r[0] === null))).toBe(true);
    let worst = 0;
    for (const s of golden.sequences) {
      const xs = featureRows(s.rows, n);
      for (const [path, w] of [['float32', float], ['int8', int8]] as const) {
        const st = zeroState();
        xs.forEach((x, t) => {
          const y = referenceStep(w, st, x);
          worst = Math.max(worst, Math.abs(y[0] - s.expected[path][t]![0]), Math.abs(y[1] - s.expected[path][t]![1]));
        });
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-12);
    // The float and int8 expectations differ (they test different paths) but only by quantization error.
    const s0 = golden.sequences[0]!;
    expect(s0.expected.float32).not.toEqual(s0.expected.int8);
  });

  it('exports a tfjs LayersModel that computes the float path', async () => {
    const modelJson = JSON.parse(readFileSync(join(art, 'model', 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
    const weightData = new Uint8Array(readFileSync(join(art, 'model', 'weights.bin'))).buffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0]!.weights, weightData }));
    const { float } = readArtifactWeights(art);
    const x = featureRows(JSON.parse(readFileSync(join(art, 'golden.json'), 'utf8')).sequences[0].rows, norm);
    const flat = new Float32Array(x.length * 4);
    x.forEach((r, t) => flat.set(r, t * 4));
    const y = model.predict(tf.tensor3d(flat, [1, x.length, 4])) as tf.Tensor;
    const got = (await y.data()) as Float32Array;
    const st = zeroState();
    let maxDiff = 0;
    x.forEach((row, t) => {
      const r = referenceStep(float, st, row);
      maxDiff = Math.max(maxDiff, Math.abs(r[0] - got[2 * t]!), Math.abs(r[1] - got[2 * t + 1]!));
    });
    expect(maxDiff).toBeLessThan(1e-4);
    model.dispose();
  });

  it('is deterministic: the same run gives the same weights.bin and golden.json', async () => {
    const again = join(tmp, 'artifact2');
    await quantizeRun(run, params, splits.test, { outDir: again, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 6, goldenTicks: 40, heartbeatIntervalMs: 100 });
    for (const f of ['weights.bin', 'golden.json', 'manifest.json', 'model/weights.bin']) {
      expect(readFileSync(join(again, f)).equals(readFileSync(join(art, f)))).toBe(true);
    }
    await expect(quantizeRun(run, params, splits.test, { outDir: again, createdAt: 'x' })).rejects.toThrow(/already exists/);
  });
});

describe('artifact ↔ runtime loader (CONTRACTS.md §6 conformance)', () => {
  it('the runtime loads the artifact and reproduces golden.json on both paths', async () => {
    const { artifactFromBytes } = await import('../runtime/artifact.js');
    const { parseGolden, checkGolden } = await import('../runtime/golden.js');
    const loaded = artifactFromBytes(readFileSync(join(art, 'manifest.json'), 'utf8'), new Uint8Array(readFileSync(join(art, 'weights.bin'))));
    const { cases, tolerance } = parseGolden(readFileSync(join(art, 'golden.json'), 'utf8'));
    const report = checkGolden(loaded, cases, tolerance ?? 1e-4);
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('quantize from a run folder', () => {
  it('reads the run through its schema and checks the run weights', async () => {
    const { quantize } = await import('../pipeline/quantize/quantize.js');
    const out = join(tmp, 'from-folder');
    const { manifest: m } = await quantize(join(tmp, 'run'), { outDir: out, test: splits.test, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 2, goldenTicks: 8 });
    expect(m.weights_sha256).toBe(manifest.weights_sha256);
    expect(m.heartbeat_interval_ms).toBeNull(); // not given: unknown, never guessed
    const bad = join(tmp, 'bad-run');
    mkdirSync(bad, { recursive: true });
    const rm = JSON.parse(readFileSync(join(tmp, 'run', 'run-manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(bad, 'run-manifest.json'), JSON.stringify({ ...rm, extra: 1 }));
    await expect(quantize(bad, { outDir: join(tmp, 'x'), test: splits.test, createdAt: 'x' })).rejects.toThrow(/run-manifest\.json at \/: unknown key "extra"/);
    writeFileSync(join(bad, 'run-manifest.json'), JSON.stringify(rm));
    writeFileSync(join(bad, 'weights.bin'), new Uint8Array(17_794 * 4));
    await expect(quantize(bad, { outDir: join(tmp, 'x'), test: splits.test, createdAt: 'x' })).rejects.toThrow(/weights\.bin: sha256\/size do not match/);
  });
});
