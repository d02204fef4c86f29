/**
 * Makes a model to evaluate with the real stages: simulate (the default suite's scenarios × its training
 * seeds, each checked by assertNotHeldOut) → ingest → window → train (fused engine) → quantize. Each stage
 * writes its folder under `outDir`; the artifact is `<outDir>/artifact`. Used by the evaluation tests'
 * helpers and by `raft-ns evaluate make-model`; `trainAndQuantize` is shared with `raft-ns evaluate tune`.
 *
 * Why not the stage runner (pipeline/run/): the runner's folders are a content-addressed cache, while these
 * are a work folder that `evaluate tune` and docs/EVALUATION.md name (`<out>/windows`, `<out>/artifact`); and
 * its data is a suite's scenarios × training seeds (optionally shortened), which the main job's RunConfig
 * (built-in names × sim_seeds) does not express.
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
  /**
   * Which ticks teach the gap quantile. `contract` (default): docs/CONTRACTS.md §4 as the windows carry it.
   * `alive-leader`: gap loss masked where the leader was lost (leader_lost = 1), so outages — whose
   * censored "gaps" are as long as the outage — stop pulling the quantile (and the timeout) up exactly when
   * the timeout should be short. An experiment of the evaluation (docs/EVALUATION.md), not a contract change.
   */
  gapLabels?: 'contract' | 'alive-leader';
  /** Window options (pipeline/window/window.ts): which ticks carry the gap label, and the label floor's rules (null = raw gaps). */
  gapVotes?: 'per-tick' | 'per-gap';
  labelFloorRules?: string | null;
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
  await windowDataset({
    dataset: join(outDir, 'dataset'), out: join(outDir, 'windows'), seed, force: true, quiet: true,
    ...(opts.gapVotes ? { gapVotes: opts.gapVotes } : {}), ...(opts.labelFloorRules !== undefined ? { labelFloorRules: opts.labelFloorRules } : {}),
  });
  const t = await trainAndQuantize(join(outDir, 'windows'), outDir, { ...opts, seed, createdAt, log });
  return { artifactDir: t.artifactDir, scenarios: scenarios.map((s) => s.name), seeds, rows: ds.row_count, trainSummary: t.trainSummary };
}

/** train (fused) → quantize from an existing windows folder into `<outDir>/run` and `<outDir>/artifact`. */
export async function trainAndQuantize(
  windowsDir: string, outDir: string,
  opts: { train?: Record<string, unknown>; seed: number; createdAt: string; gapLabels?: 'contract' | 'alive-leader'; log: (line: string) => void },
): Promise<{ artifactDir: string; trainSummary: MadeModel['trainSummary'] }> {
  // alive-leader gap labels are a training option (train config gap_labels, pipeline/train/train.ts).
  const config = resolveTrainConfig({ engine: 'fused', ...(opts.gapLabels ? { gap_labels: opts.gapLabels } : {}), ...(opts.train ?? {}) }, 'make-model train config', { seed: opts.seed });
  const input = loadTrainInput(windowsDir);
  opts.log(`make-model: train (fused) ${JSON.stringify(opts.train ?? {})}`);
  const { manifest: m } = await train(input, { config, outDir: join(outDir, 'run'), quiet: true, log: opts.log });
  opts.log(`make-model: best val loss ${m.best_val_loss} at epoch ${m.best_epoch}/${m.epochs_run}; quantize`);
  const artifactDir = join(outDir, 'artifact');
  await quantize(join(outDir, 'run'), { outDir: artifactDir, name: 'raft-ns-eval', version: '0.1.0', createdAt: opts.createdAt, force: true });
  return { artifactDir, trainSummary: { best_val_loss: m.best_val_loss, best_epoch: m.best_epoch, epochs_run: m.epochs_run } };
}
