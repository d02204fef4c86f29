/**
 * The runtime against the real exporter (pipeline/quantize, CONTRACTS.md §6): a tiny trained run is
 * quantized into an artifact folder, then loaded by the runtime's Node loader, checked by `infer` on both
 * kernels at 1e-5, and served by NeuroSymbolicTimeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infer } from '../pipeline/infer/infer.js';
import { quantizeRun } from '../pipeline/quantize/quantize.js';
import { resolveTrainConfig } from '../pipeline/train/config.js';
import { synthesizeSplits } from '../pipeline/train/synthetic.js';
import { train } from '../pipeline/train/train.js';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { makeSharedModel, NeuroSymbolicTimeout } from '../runtime/timeout.js';

const tmp = mkdtempSync(join(tmpdir(), 'raft-ns-rt-exporter-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const art = join(tmp, 'artifact');

beforeAll(async () => {
  const splits = synthesizeSplits(16, 3, 21, 16);
  const norm = { transforms: ['a', 'b', 'c', 'd'], mean: [0.4, 0.1, 0.05, 0.8], std: [0.3, 0.5, 0.2, 0.1], clip: 5 };
  const config = resolveTrainConfig({ epochs: 1, batch_size: 8, lr: 0.01, warmup_steps: 1, patience: 0, backend: 'wasm' }, 'test');
  const r = await train(
    { splits, info: { dir: null, sha256: 'synthetic', datasetSha256: null, tickMs: 10, normalization: norm } },
    { config, outDir: join(tmp, 'run'), quiet: true },
  );
  await quantizeRun(r.manifest, r.params, splits.test, { outDir: art, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 4, goldenTicks: 40 });
});

describe('runtime × real exporter', () => {
  it('infer reproduces the exporter’s golden vectors within 1e-5 on the JS and the wasm kernel', async () => {
    const rep = await infer(art, {});
    expect(rep.failures).toEqual([]);
    expect(rep.golden!.map((g) => [g.kernel, g.ok])).toEqual([['js', true], ['wasm', true]]);
    for (const g of rep.golden!) {
      expect(g.maxAbsError.float32).toBeLessThan(1e-5);
      expect(g.maxAbsError.int8).toBeLessThan(1e-5);
      expect(g.ticks).toBeGreaterThan(100);
    }
  });

  it('serves the exported int8 model within the rules', async () => {
    const a = await loadArtifactFromDir(art);
    const p = new NeuroSymbolicTimeout({ model: makeSharedModel(a, 'int8') });
    for (let t = 1; t <= 200; t++) {
      p.observe({
        nowMs: t * 10, tickMs: 10, role: 'follower', term: 1, leaderId: 'n1', heartbeatLatencyMs: 1 + (t % 5), logReplicationGap: t % 3,
        rpcRetries: 0, cpuIdlePct: 70, heartbeatReceived: t % 10 !== 0, clusterSize: 3, peersReachable: 2, heartbeatIntervalMs: 10,
      });
      expect(p.electionTimeoutMs()).toBeGreaterThanOrEqual(50);
      expect(p.electionTimeoutMs()).toBeLessThanOrEqual(10_000);
    }
    expect(p.explain()).toMatchObject({ source: 'model', fallbackCount: 0, model: { precision: 'int8', kernel: 'wasm' } });
  });
});
