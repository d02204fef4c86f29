import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactFromBytes } from '../runtime/artifact.js';
import { LstmModel } from '../runtime/engine.js';
import { resolveTrainConfig } from '../pipeline/train/config.js';
import { synthesizeSplits } from '../pipeline/train/synthetic.js';
import { train } from '../pipeline/train/train.js';
import { quantizeRun } from '../pipeline/quantize/quantize.js';
import { validateAgainst } from '../pipeline/schemas.js';
import type { MonotoneCounterexample, SequenceCounterexample } from '../pipeline/verify/search.js';
import { reportText, verifyArtifact, type VerificationReport } from '../pipeline/verify/verify.js';

// The whole chain on a trained network: synthetic windows → train (2 epochs) → quantize → verify with the
// held-out windows, so every check a–f runs on real pipeline outputs.
const tmp = mkdtempSync(join(tmpdir(), 'raftns-verify-trained-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const splits = synthesizeSplits(16, 3, 21, 16);
const norm = { transforms: ['a', 'b', 'c', 'd'], mean: [0.4, 0.1, 0.05, 0.8], std: [0.3, 0.5, 0.2, 0.1], clip: 5 };
const art = join(tmp, 'artifact');
const windows = { dir: 'synthetic', manifestSha256: 'a'.repeat(64), manifest: {}, splits };
const fast = { splitBudget: 64, searchBudget: 60, searchTicks: 32, seed: 5 };
let report: VerificationReport;

beforeAll(async () => {
  const config = resolveTrainConfig({ epochs: 2, batch_size: 8, lr: 0.01, warmup_steps: 1, patience: 0, engine: 'fused' }, 'test');
  const r = await train({ splits, info: { dir: null, sha256: 'synthetic', datasetSha256: null, tickMs: 10, normalization: norm } }, { config, outDir: join(tmp, 'run'), quiet: true });
  await quantizeRun(r.manifest, r.params, splits.test, { outDir: art, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 4, goldenTicks: 32 });
  report = await verifyArtifact(art, { windows, prove: fast });
});

describe('verify on a trained, quantized artifact with held-out windows', () => {
  it('runs every check a–f, each with its figures, and writes a schema-valid report', () => {
    expect(report.checks.map((c) => c.id)).toEqual(['a-integrity', 'b-golden', 'c-int8-vs-float', 'd-rules-on-data', 'e-sound-bounds', 'f-evaluation']);
    for (const c of report.checks) {
      expect(c.status, `${c.id}: ${c.reason ?? ''}`).not.toBe('not-run');
      expect(Object.keys(c.figures).length).toBeGreaterThan(0);
    }
    expect(report.checks[0]!.status).toBe('pass');
    expect(report.checks[1]!.status).toBe('pass'); // golden vectors: quantize's reference and the runtime agree
    const d = report.checks[3]!;
    expect(d.figures.scored_ticks as number).toBeGreaterThan(0);
    expect(d.figures.clamp_rate as number).toBeGreaterThanOrEqual(0);
    expect(String(report.checks[5]!.figures.source)).toContain('int8');
    expect(validateAgainst('verification-report', JSON.parse(reportText(report))).ok).toBe(true);
    expect(report.passed).toBe(report.checks.every((c) => c.status === 'pass'));
  });

  it('every refuted claim carries a counterexample that the runtime engine reproduces', () => {
    const loaded = artifactFromBytes(readFileSync(join(art, 'manifest.json'), 'utf8'), new Uint8Array(readFileSync(join(art, 'weights.bin'))));
    const model = LstmModel.fromDense(loaded.int8!);
    const run = (xs: number[][]): Float64Array => model.forward(Float64Array.from(xs.flat()));
    const rules = new Map([['raft-timing-floor', 50], ['prevote-partition-floor', 150]]);
    for (const c of report.proof!.claims.filter((x) => x.status === 'refuted')) {
      if (c.kind === 'monotonic') {
        const cx = c.counterexample as MonotoneCounterexample;
        const lo = run([...cx.prefix, cx.low]).at(-2)!;
        const hi = run([...cx.prefix, cx.high]).at(-2)!;
        expect(hi - lo, c.rule_id).toBeLessThan(0);
      } else {
        const cx = c.counterexample as SequenceCounterexample;
        const q = run(cx.inputs)[2 * cx.tick]!;
        if (c.kind === 'ceiling') expect(Math.exp(q)).toBeGreaterThan(c.threshold);
        else expect(Math.exp(q), c.rule_id).toBeLessThan(rules.get(c.rule_id) ?? c.threshold);
      }
    }
  });

  it('its domain-wide sound timeout range contains every runtime proposal on a long sequence', () => {
    const loaded = artifactFromBytes(readFileSync(join(art, 'manifest.json'), 'utf8'), new Uint8Array(readFileSync(join(art, 'weights.bin'))));
    const model = LstmModel.fromDense(loaded.int8!);
    const b = report.proof!.domainBounds.timeout_ms;
    let x = [0, 0, 0, 0];
    const xs = new Float64Array(3000 * 4);
    for (let t = 0; t < 3000; t++) {
      if (t % 30 === 0) x = x.map((_, i) => Math.sin(t * (i + 1) * 0.37) * 5);
      xs.set(x, t * 4);
    }
    const y = model.forward(xs);
    for (let t = 0; t < 3000; t++) {
      expect(Math.exp(y[2 * t]!)).toBeGreaterThanOrEqual(b.lo);
      expect(Math.exp(y[2 * t]!)).toBeLessThanOrEqual(b.hi);
    }
  });
});

describe('raft-ns verify --windows <folder> on the pipeline chain window → train → quantize', () => {
  it('reads the held-out split from the windows folder, names its manifest hash, and runs checks d and f', async () => {
    const { syntheticRows, writeDatasetFolder } = await import('./window-fixtures.js');
    const { windowDataset } = await import('../pipeline/window/window.js');
    const { loadTrainInput } = await import('../pipeline/train/command.js');
    const { sha256Hex } = await import('../pipeline/util/fs.js');
    const dataset = join(tmp, 'ds');
    writeDatasetFolder(dataset, syntheticRows(['a', 'b', 'c', 'd'], 160, 3));
    const wdir = join(tmp, 'windows');
    await windowDataset({ dataset, out: wdir, seed: 11, quiet: true });
    const input = loadTrainInput(wdir);
    const config = resolveTrainConfig({ epochs: 1, batch_size: 8, lr: 0.01, warmup_steps: 1, patience: 0, engine: 'fused' }, 'test');
    const r = await train(input, { config, outDir: join(tmp, 'run2'), quiet: true });
    const art2 = join(tmp, 'artifact2');
    await quantizeRun(r.manifest, r.params, input.splits.test.count > 0 ? input.splits.test : input.splits.val, { outDir: art2, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 2, goldenTicks: 16 });
    const rep = await verifyArtifact(art2, { windowsDir: wdir, prove: fast });
    expect(rep.windows).toEqual({ dir: wdir, manifest_sha256: sha256Hex(readFileSync(join(wdir, 'manifest.json'))) });
    const byId = Object.fromEntries(rep.checks.map((c) => [c.id, c]));
    expect(byId['d-rules-on-data']!.status).not.toBe('not-run');
    expect(byId['d-rules-on-data']!.figures.scored_ticks as number).toBeGreaterThan(0);
    expect(byId['f-evaluation']!.status).not.toBe('not-run');
  });
});
