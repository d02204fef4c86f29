/**
 * The notebooks' setup cell: which model and which data they look at. A notebook never trains or picks a
 * model on its own; it calls `notebookModel()`, which resolves, in this order:
 *
 *   1. `RAFT_NS_MODEL=<artifact dir>` (manifest.json + weights.bin, e.g. from `raft-ns quantize`);
 *   2. the committed default model, `artifacts/raft-ns-default` (latest version in artifacts/index.json);
 *   3. a small model made with the real stages on the bundled sample (window → train (fused) → quantize),
 *      cached under the OS temp folder keyed by the sample's sha256 and the config, so the three notebooks
 *      of one CI run train it once (≈ 10 s) and a fresh clone needs nothing else.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openPublished } from '../publish/registry.js';
import { quantize } from '../quantize/quantize.js';
import { loadTrainInput } from '../train/command.js';
import { resolveTrainConfig } from '../train/config.js';
import { train } from '../train/train.js';
import { RaftNsError } from '../util/errors.js';
import { sha256File, sha256Hex } from '../util/fs.js';
import { PACKAGE_ROOT, TOOL_VERSION } from '../version.js';
import { windowDataset } from '../window/window.js';

/** The bundled sample dataset (datasets/sample). */
export const SAMPLE_DATASET_DIR = join(PACKAGE_ROOT, 'datasets', 'sample');
/** The registry the default model is published into, and its name. */
export const DEFAULT_REGISTRY_DIR = join(PACKAGE_ROOT, 'artifacts');
export const DEFAULT_MODEL_NAME = 'raft-ns-default';
/** Environment variable naming an artifact folder to inspect instead. */
export const MODEL_ENV = 'RAFT_NS_MODEL';
/** Environment variable naming the folder the fallback model is cached in. */
export const CACHE_ENV = 'RAFT_NS_NOTEBOOK_CACHE';

export interface NotebookModelOptions {
  /** Training epochs of the fallback model (small: the sample has 5,000 rows). */
  epochs?: number;
  /** Window split and training seed of the fallback model. */
  seed?: number;
  /** Where the fallback model is cached (default: $RAFT_NS_NOTEBOOK_CACHE, else `<os tmp>/raft-ns-notebooks`). */
  cacheDir?: string;
  /** Environment to read RAFT_NS_MODEL from (tests pass their own). */
  env?: Record<string, string | undefined>;
  /** Registry to look for the default model in. */
  registryDir?: string;
  log?: (line: string) => void;
}

export interface NotebookModel {
  /** Artifact folder: manifest.json + weights.bin (docs/CONTRACTS.md §6). */
  artifactDir: string;
  source: 'env' | 'registry' | 'sample-built';
  /** Windows folder the model was trained from, when known here (the verify data checks use it). */
  windowsDir: string | null;
  /** What the notebook prints under its setup cell: seeds, config and input hashes, tool version. */
  provenance: { tool_version: string; source: string; artifact_dir: string; weights_sha256: string; seed: number | null; config: Record<string, unknown> | null; dataset_sha256: string | null };
}

const DEFAULT_EPOCHS = 6; // enough for a model with a shape on 5,000 rows; seconds, not minutes
const DEFAULT_SEED = 1;

/**
 * @example const m = await notebookModel(); m.artifactDir // '/tmp/raft-ns-notebooks/sample-1a2b…/artifact'
 */
export async function notebookModel(opts: NotebookModelOptions = {}): Promise<NotebookModel> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromEnv = env[MODEL_ENV];
  if (fromEnv) {
    const dir = resolve(fromEnv);
    checkArtifactDir(dir, `${MODEL_ENV}=${fromEnv}`);
    return described(dir, 'env', null, null, null, null);
  }
  const registryDir = opts.registryDir ?? DEFAULT_REGISTRY_DIR;
  if (existsSync(join(registryDir, 'index.json'))) {
    try {
      const dir = openPublished(registryDir, DEFAULT_MODEL_NAME);
      checkArtifactDir(dir, `${registryDir} (${DEFAULT_MODEL_NAME})`);
      return described(dir, 'registry', null, null, null, null);
    } catch (err) {
      if (!(err instanceof RaftNsError && err.code === 'publish.not-found')) throw err;
    }
  }
  return sampleModel(opts, log);
}

async function sampleModel(opts: NotebookModelOptions, log: (line: string) => void): Promise<NotebookModel> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const config = { engine: 'fused', epochs: opts.epochs ?? DEFAULT_EPOCHS };
  const datasetSha = await sha256File(join(SAMPLE_DATASET_DIR, 'part-00000.arrow'));
  // The cache key covers everything the model depends on, so a stale cache can never be used.
  const key = sha256Hex(JSON.stringify({ datasetSha, seed, config, TOOL_VERSION })).slice(0, 16);
  const cache = opts.cacheDir ?? (opts.env ?? process.env)[CACHE_ENV] ?? join(tmpdir(), 'raft-ns-notebooks');
  const root = join(cache, `sample-${key}`);
  const windowsDir = join(root, 'windows');
  const runDir = join(root, 'run');
  const artifactDir = join(root, 'artifact');
  if (!existsSync(join(artifactDir, 'weights.bin'))) {
    log(`notebook: no ${MODEL_ENV} and no committed ${DEFAULT_MODEL_NAME}; making a small model from datasets/sample in ${root}`);
    // Each stage writes its folder atomically, so an interrupted run leaves no half folder to reuse.
    await windowDataset({ dataset: SAMPLE_DATASET_DIR, out: windowsDir, seed, force: true, quiet: true });
    const trainConfig = resolveTrainConfig(config, 'notebook train config', { seed });
    rmSync(runDir, { recursive: true, force: true }); // a run interrupted before quantize: start it again
    await train(loadTrainInput(windowsDir), { config: trainConfig, outDir: runDir, quiet: true });
    await quantize(runDir, { outDir: artifactDir, name: 'raft-ns-notebook-sample', version: '0.0.0', createdAt: '2026-01-01T00:00:00.000Z', force: true });
  }
  return described(artifactDir, 'sample-built', windowsDir, seed, config, datasetSha);
}

function described(
  dir: string, source: NotebookModel['source'], windowsDir: string | null, seed: number | null, config: Record<string, unknown> | null, datasetSha: string | null,
): NotebookModel {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { weights_sha256?: string; seed?: number };
  return {
    artifactDir: dir,
    source,
    windowsDir,
    provenance: {
      tool_version: TOOL_VERSION, source, artifact_dir: dir, weights_sha256: manifest.weights_sha256 ?? '', seed: seed ?? manifest.seed ?? null, config, dataset_sha256: datasetSha,
    },
  };
}

function checkArtifactDir(dir: string, what: string): void {
  for (const f of ['manifest.json', 'weights.bin']) {
    if (!existsSync(join(dir, f))) {
      throw new RaftNsError('notebook.model', `notebook: ${what}: ${join(dir, f)} not found; expected an artifact folder (manifest.json + weights.bin, from raft-ns quantize)`);
    }
  }
}
