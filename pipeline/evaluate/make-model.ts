/**
 * Makes a model to evaluate with the real stages: simulate (the default suite's scenarios × its training
 * seeds, each checked by assertNotHeldOut) → ingest → window → train (fused engine) → quantize. Each stage
 * writes its folder under `outDir`; the artifact is `<outDir>/artifact`. Used by the evaluation tests'
 * helpers and by `raft-ns evaluate make-model`.
 */
import { join } from 'node:path';
import { ingest } from '../ingest/ingest.js';
import { quantize } from '../quantize/quantize.js';
import { writeSimulatedTraceSet } from '../simulate/write.js';
import { loadTrainInput } from '../train/command.js';
import { resolveTrainConfig } from '../train/config.js';
import { train } from '../train/train.js';
import { windowDataset } from '../window/window.js';
import type { Scenario } from '../../sim/index.js';
import { assertNotHeldOut, loadSuite } from './suites.js';

export interface MakeModelOptions {
  /** Suite whose scenarios and training_seeds make the data (default `default`). */
  suite?: string;
  /** Override the suite's training seeds. */
  seeds?: number[];
  /** Override the scenarios (names of the suite's scenarios). */
  scenarios?: string[];
  /** Shorten every scenario to this many ms (tests). */
  durationMs?: number;
  /** Training config overrides (schemas/train-config.schema.json). */
  train?: Record<string, unknown>;
  seed?: number;
  createdAt?: string;
  log?: (line: string) => void;
}

export interface MadeModel {
  artifactDir: string;
  scenarios: string[];
  seeds: number[];
  rows: number;
  trainSummary: { best_val_loss: number; best_epoch: number; epochs_run: number };
}

/**
 * @example const { artifactDir } = await makeEvaluationModel('out/model', { train: { epochs: 8 } });
 */
export async function makeEvaluationModel(outDir: string, opts: MakeModelOptions = {}): Promise<MadeModel> {
  const log = opts.log ?? (() => {});
  const suite = loadSuite(opts.suite ?? 'default');
  const seeds = opts.seeds ?? suite.trainingSeeds;
  let scenarios: Scenario[] = suite.scenarios.map((s) => s.scenario);
  if (opts.scenarios) scenarios = scenarios.filter((s) => opts.scenarios!.includes(s.name));
  if (opts.durationMs !== undefined) scenarios = scenarios.map((s) => ({ ...s, duration_ms: opts.durationMs!, faults: (s.faults ?? []).filter((f) => f.at_ms < opts.durationMs!) }));
  // The leakage guard: held-out seeds and scenarios never become training data.
  for (const s of scenarios) for (const seed of seeds) assertNotHeldOut(s, seed);
  const createdAt = opts.createdAt ?? '2026-01-01T00:00:00.000Z';
  const seed = opts.seed ?? 1;

  log(`make-model: simulating ${scenarios.length} scenarios × ${seeds.length} seeds`);
  const traces = join(outDir, 'traces');
  const { runs } = await writeSimulatedTraceSet(traces, { scenarios, seeds, format: 'ndjson', force: true });
  const files = runs.map((r) => join(r.dir, 'telemetry.ndjson'));
  log('make-model: ingest');
  const { manifest: ds } = await ingest(files, { out: join(outDir, 'dataset'), anonKey: null, createdAt, force: true });
  log(`make-model: window (${ds.row_count} rows)`);
  await windowDataset({ dataset: join(outDir, 'dataset'), out: join(outDir, 'windows'), seed, force: true, quiet: true });
  log('make-model: train (fused)');
  const config = resolveTrainConfig({ engine: 'fused', ...(opts.train ?? {}) }, 'make-model train config', { seed });
  const input = loadTrainInput(join(outDir, 'windows'));
  const { manifest: m } = await train(input, { config, outDir: join(outDir, 'run'), quiet: true, log });
  log(`make-model: best val loss ${m.best_val_loss} at epoch ${m.best_epoch}/${m.epochs_run}; quantize`);
  const artifactDir = join(outDir, 'artifact');
  await quantize(join(outDir, 'run'), { outDir: artifactDir, name: 'raft-ns-eval', version: '0.1.0', createdAt, force: true });
  return {
    artifactDir, scenarios: scenarios.map((s) => s.name), seeds, rows: ds.row_count,
    trainSummary: { best_val_loss: m.best_val_loss, best_epoch: m.best_epoch, epochs_run: m.epochs_run },
  };
}
