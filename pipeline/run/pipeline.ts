/**
 * The main job as a list of stages: source (simulate, or the bundled sample) → ingest → window → train →
 * quantize → verify → publish → infer smoke test. Each adapter calls the stage's exported function — never
 * the CLI — with its inputs taken from the upstream stages' cached output folders.
 *
 * A stage whose code has not landed is declared with `notLanded(...)`: it reports "not available yet" and
 * everything downstream reports "blocked". Nothing is faked.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { publishArtifact, REPORT_FILE } from '../publish/publish.js';
import { jsonText, writeFileAtomic } from '../util/fs.js';
import { windowDataset } from '../window/window.js';
import type { Stage } from './stage.js';

/** The embedded default configuration of `raft-ns run`. Every key is recorded in the run report. */
export interface RunConfig {
  /** Master seed: simulator, split and training initialization derive from it. */
  seed: number;
  /** Where traces come from: `auto` = the simulator if available, else the bundled `datasets/sample`. */
  source: 'auto' | 'simulate' | 'sample';
  /** Registry name and semver of the model this run publishes. */
  model: { name: string; version: string };
  /** Ticks per chunk T (docs/CONTRACTS.md §3: 32). */
  window_len: number;
  /** Overrides of the training config (schemas/train-config.schema.json), kept small for the 5-minute goal. */
  train: Record<string, unknown>;
  /** Registry root to publish into. */
  registry: string;
}

export const DEFAULT_RUN_CONFIG: RunConfig = {
  seed: 1, // one seed for the whole job; stage seeds are derived from it
  source: 'auto', // simulator first, bundled sample as the fallback
  model: { name: 'raft-ns-default', version: '1.0.0' }, // the committed default model
  window_len: 32, // T from docs/CONTRACTS.md §3
  train: {}, // the training defaults (schemas/train-config.schema.json)
  registry: 'artifacts', // the repository's registry, so `raft-ns infer` works after install
};

/** A stage whose code has not landed yet: reported, never faked. */
function notLanded(name: string, deps: string[], what: string): Stage {
  return {
    name,
    deps,
    config: {},
    unavailable: () => `not available yet: ${what} has not landed`,
    run: () => Promise.reject(new Error(`run: internal: ${name} is not available`)),
  };
}

export function mainJobStages(cfg: RunConfig): Stage[] {
  return [
    notLanded('source', [], 'neither the simulator stage (pipeline/simulate) nor the bundled datasets/sample'),
    notLanded('ingest', ['source'], 'the ingest entry point (pipeline/ingest)'),
    {
      name: 'window',
      deps: ['ingest'],
      config: { window_len: cfg.window_len, seed: cfg.seed },
      async run(ctx) {
        const { manifest } = await windowDataset({ dataset: ctx.inputs.ingest!.dir, out: ctx.outDir, windowLen: cfg.window_len, seed: cfg.seed, quiet: true });
        const s = manifest.splits;
        return {
          figure: `${s.train.chunks}/${s.val.chunks}/${s.test.chunks} chunks (train/val/test), ${manifest.split.mode} split`,
          summary: { chunks: { train: s.train.chunks, val: s.val.chunks, test: s.test.chunks }, split_mode: manifest.split.mode },
        };
      },
    },
    notLanded('train', ['window'], 'the train entry point (pipeline/train)'),
    notLanded('quantize', ['train'], 'the quantize entry point (pipeline/quantize)'),
    notLanded('verify', ['quantize'], 'the verify entry point (pipeline/verify)'),
    {
      name: 'publish',
      deps: ['quantize', 'verify'],
      config: { registry: cfg.registry, model: cfg.model },
      cache: false, // writes into the registry; idempotent (same bytes = no-op), so it runs every time
      async run(ctx) {
        const r = await publishArtifact(ctx.inputs.quantize!.dir, { registryDir: cfg.registry, reportPath: join(ctx.inputs.verify!.dir, REPORT_FILE) });
        mkdirSync(ctx.outDir, { recursive: true });
        // Only what identifies the published bytes goes in the output (not the status), so the smoke test's
        // cache key changes exactly when the published model does.
        writeFileAtomic(join(ctx.outDir, 'published.json'), jsonText({ model: r.model, version: r.version, dir: r.dir, weights_sha256: r.weightsSha256, files: r.files }));
        return {
          figure: `${r.model} ${r.version} ${r.status === 'published' ? 'published' : 'unchanged (same bytes)'} → ${r.dir}`,
          summary: { status: r.status, dir: r.dir, weights_sha256: r.weightsSha256 },
        };
      },
    },
    notLanded('infer', ['publish'], 'the infer entry point (pipeline/infer)'),
  ];
}
