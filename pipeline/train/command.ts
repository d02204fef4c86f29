/**
 * `raft-ns train`: parses options, reads the windows folder, calls `train`. No logic beyond that.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { sha256Hex } from '../util/fs.js';
import { parseExisting } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { readWindows } from '../window/format.js';
import type { WindowSplit } from '../window/types.js';
import { readTrainConfig, type TrainConfig } from './config.js';
import { train, type TrainInput } from './train.js';

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train the 17,794-parameter timeout LSTM on a windows folder into a run folder (weights, metrics, checkpoints, run-manifest.json)')
    .requiredOption('--windows <dir>', 'windows folder (output of `raft-ns window`)', parseExisting('dir'))
    .requiredOption('--out <dir>', 'run folder, e.g. runs/r1')
    .option('--config <file>', 'JSON config (schemas/train-config.schema.json); unknown keys are errors', parseExisting('file'))
    .addOption(new Option('--engine <name>', 'gradient engine').choices(['tfjs', 'fused']))
    .addOption(new Option('--backend <name>', 'tfjs backend (default: node, else wasm, else cpu)').choices(['auto', 'node', 'wasm', 'cpu']))
    .option('--seed <n>', 'seed of init and shuffling', parseUint)
    .option('--epochs <n>', 'maximum epochs', parseUint)
    .option('--resume', 'continue from the newest checkpoint in --out (with its config; --epochs may raise the budget)');
  addOutputOptions(cmd, 'the run manifest').action(async (o: OutputFlags & { windows: string; out: string; config?: string; engine?: TrainConfig['engine']; backend?: TrainConfig['backend']; seed?: number; epochs?: number; resume?: boolean }) => {
    const out = makeOutput(o);
    const overrides: Partial<TrainConfig> = {};
    if (o.engine !== undefined) overrides.engine = o.engine;
    if (o.backend !== undefined) overrides.backend = o.backend;
    if (o.seed !== undefined) overrides.seed = o.seed;
    if (o.epochs !== undefined) overrides.epochs = o.epochs;
    const config = readTrainConfig(o.config, overrides);
    const input = loadTrainInput(o.windows);
    const { manifest } = await train(input, { config, outDir: o.out, resume: o.resume ?? false, epochs: o.epochs, quiet: out.quiet });
    out.info(`train: wrote ${join(o.out, 'run-manifest.json')} (best epoch ${manifest.best_epoch}, val loss ${manifest.best_val_loss.toFixed(4)}, ${manifest.engine}/${manifest.backend})\n`);
    out.result(manifest);
  });
}

/**
 * Reads a windows folder into the train input: the three splits plus provenance (sha256 of the windows
 * manifest, which itself pins every split file's sha256), tick length and normalization.
 */
export function loadTrainInput(dir: string): TrainInput {
  const { manifest, splits } = readWindows(dir);
  const manifestSha = sha256Hex(readFileSync(join(dir, 'manifest.json')));
  // Overlapping windows (stride < T) cannot carry state: each chunk is then its own zero-state stream.
  const fixed = manifest.state === 'carried' ? splits : {
    train: asZeroState(splits.train), val: asZeroState(splits.val), test: asZeroState(splits.test),
  };
  return {
    splits: fixed,
    info: {
      dir: resolve(dir),
      sha256: manifestSha,
      datasetSha256: manifest.input.dataset_manifest_sha256,
      tickMs: manifest.config.tick_ms,
      normalization: {
        transforms: manifest.normalization.transforms,
        mean: manifest.normalization.mean,
        std: manifest.normalization.std,
        clip: manifest.normalization.clip,
      },
    },
  };
}

function asZeroState(s: WindowSplit): WindowSplit {
  return { ...s, streamId: Int32Array.from({ length: s.count }, (_, i) => i), chunkIndex: new Int32Array(s.count) };
}

export function parseUint(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${v}"`);
  return n;
}
