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
import { ingest } from '../ingest/ingest.js';
import { publishArtifact } from '../publish/publish.js';
import { quantize } from '../quantize/quantize.js';
import { loadTrainInput } from '../train/command.js';
import { resolveTrainConfig } from '../train/config.js';
import { train } from '../train/train.js';
import { jsonText, writeFileAtomic } from '../util/fs.js';
import { REPORT_FILE, verifyArtifact, writeVerification } from '../verify/verify.js';
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
    {
      name: 'ingest',
      deps: ['source'],
      // Simulator ids (c0, n1, …) are synthetic, so they are kept as they are (ingest --no-anonymize).
      config: { anonymize: false },
      async run(ctx) {
        const src = ctx.inputs.source!;
        const files = (src.summary.telemetry_files as string[]).map((f) => join(src.dir, f));
        const { manifest } = await ingest(files, { out: ctx.outDir, anonKey: null, createdAt: createdAt() });
        return {
          figure: `${fmtInt(manifest.row_count)} rows, tick ${manifest.tick_ms} ms, ${manifest.parts.length} part(s)`,
          summary: { row_count: manifest.row_count, tick_ms: manifest.tick_ms },
        };
      },
    },
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
    {
      name: 'train',
      deps: ['window'],
      config: { train: cfg.train, seed: cfg.seed },
      async run(ctx) {
        const config = resolveTrainConfig(cfg.train, 'raft-ns run config (train)', { seed: cfg.seed });
        const input = loadTrainInput(ctx.inputs.window!.dir);
        const { manifest: m } = await train(input, { config, outDir: ctx.outDir, quiet: true });
        const t = m.test.model;
        return {
          figure: `best val loss ${m.best_val_loss.toFixed(4)} (epoch ${m.best_epoch}/${m.epochs_run}, ${m.engine}/${m.backend}); test exceed ${(t.exceedRate * 100).toFixed(2)}% vs target ${(t.targetExceedRate * 100).toFixed(2)}%`,
          summary: { best_val_loss: m.best_val_loss, best_epoch: m.best_epoch, epochs_run: m.epochs_run, engine: m.engine, backend: m.backend, weights_sha256: m.weights_sha256 },
        };
      },
    },
    {
      name: 'quantize',
      deps: ['train'],
      config: { model: cfg.model },
      async run(ctx) {
        const { manifest: m } = await quantize(ctx.inputs.train!.dir, { outDir: ctx.outDir, name: cfg.model.name, version: cfg.model.version, createdAt: createdAt() });
        const e = m.quantization_error;
        return {
          figure: `int8 |Δ timeout| max ${e.timeout_ms.max.toFixed(3)} ms on ${fmtInt(e.ticks)} test ticks; weights ${fmtInt(m.weights_byte_length)} B`,
          summary: { weights_sha256: m.weights_sha256, name: m.name, version: m.version },
        };
      },
    },
    {
      name: 'verify',
      deps: ['quantize', 'window'],
      config: { rules: 'embedded default' },
      async run(ctx) {
        const report = await verifyArtifact(ctx.inputs.quantize!.dir, { windowsDir: ctx.inputs.window!.dir });
        mkdirSync(ctx.outDir, { recursive: true });
        writeVerification(report, ctx.outDir);
        const checks = report.checks.map((c) => `${c.id.split('-')[0]} ${c.status}`).join(', ');
        const failing = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.reason ?? 'failed'}`);
        return {
          figure: `${report.passed ? 'passed' : 'NOT passed'} (${checks})`,
          summary: { passed: report.passed, weights_sha256: report.weights_sha256 },
          ...(report.passed ? {} : { failed: `verification did not pass: ${failing.join('; ') || 'no check passed'}` }),
        };
      },
    },
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

/** Creation time for manifests: SOURCE_DATE_EPOCH (seconds) when set, for reproducible bytes; else the clock. */
function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : new Date().toISOString();
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}
