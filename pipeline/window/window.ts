/**
 * The `window` stage: a dataset folder in, a windows folder out (docs/CONTRACTS.md §5). This file is the thin
 * shell (files, progress); the deterministic work is in build.ts, labels.ts and split.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jsonText, sha256Hex, writeDirAtomic, writeFileAtomic } from '../util/fs.js';
import { makeProgress } from '../util/progress.js';
import { validateAgainst } from '../schemas.js';
import { SPLIT_NAMES } from './types.js';
import {
  buildWindows, checkConfig, DEFAULT_CLIP, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_WINDOW_LEN, type LabelFloorConfig, type WindowConfig, type WindowsBuild,
} from './build.js';
import { loadRulesFile } from '../util/rules-file.js';
import { checkFractions, DEFAULT_FRACTIONS, type SplitFractions } from './split.js';
import { openDataset } from './source.js';
import { StreamCollector } from './streams.js';
import type { WindowsManifest } from './format.js';
import { RaftNsError } from '../util/errors.js';

export interface WindowDatasetOptions {
  /** Dataset folder written by `raft-ns ingest`. */
  dataset: string;
  /** Windows folder to write. */
  out: string;
  /** Ticks per chunk T (default 32). */
  windowLen?: number;
  /** Ticks between chunk starts (default T: consecutive chunks, so training can carry state). */
  stride?: number;
  /** Seed of the cluster split (default 0). */
  seed?: number;
  fractions?: SplitFractions;
  /**
   * Floor the gap labels at the Raft timing floor of these rules (build.ts WindowConfig.labelFloor: why):
   * a rules file, or 'default' (the embedded default rules), or null for raw gaps. Default 'default'.
   */
  labelFloorRules?: string | null;
  /** Which ticks carry the gap label (labels.ts GapVotes; default 'per-tick'). */
  gapVotes?: 'per-tick' | 'per-gap';
  /** Heartbeat interval of the traced cluster, for the timing floor (default 100 ms). */
  heartbeatIntervalMs?: number;
  /** Replace an existing `out`. */
  force?: boolean;
  quiet?: boolean;
}

/**
 * Windows a dataset: per node stream, consecutive chunks of T ticks with features, labels and weights;
 * split by cluster (≥ 3 clusters) or time block; normalization fitted on train. Writes atomically.
 *
 * @example
 *   const { manifest } = await windowDataset({ dataset: 'datasets/default', out: 'windows/default', seed: 1 });
 *   console.log(manifest.splits.train.chunks);
 */
export async function windowDataset(opts: WindowDatasetOptions): Promise<{ manifest: WindowsManifest; outDir: string }> {
  const windowLen = opts.windowLen ?? DEFAULT_WINDOW_LEN;
  const hb = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (!(Number.isFinite(hb) && hb > 0 && hb <= 60000)) throw new RaftNsError('window.config', `window: --heartbeat-interval-ms ${hb}; expected a number of ms in (0, 60000]`);
  const floorRules = opts.labelFloorRules === undefined ? 'default' : opts.labelFloorRules;
  const loaded = floorRules === null ? null : loadRulesFile('window', floorRules === 'default' ? undefined : floorRules);
  const labelFloor: LabelFloorConfig | null = loaded
    ? { rules: loaded.rules, rulesName: loaded.rulesInfo.name, rulesSha256: loaded.rulesInfo.sha256, heartbeatIntervalMs: hb }
    : null;
  const config = (tickMs: number): WindowConfig => ({
    labelFloor,
    gapVotes: opts.gapVotes ?? 'per-tick',
    windowLen,
    stride: opts.stride ?? windowLen,
    seed: opts.seed ?? 0,
    fractions: opts.fractions ?? DEFAULT_FRACTIONS,
    clip: DEFAULT_CLIP,
    tickMs,
  });
  // Fail on options and on an existing --out before reading a possibly large dataset.
  checkConfig(config(1));
  checkFractions(config(1).fractions);
  if (existsSync(opts.out) && !opts.force) {
    throw new RaftNsError('window.exists', `window: ${opts.out} already exists; pass --force to replace it`);
  }
  const source = await openDataset(opts.dataset);
  const collector = new StreamCollector(opts.dataset);
  const readBar = makeProgress({ label: 'window: read', unit: 'rows', quiet: opts.quiet ?? false, total: source.info.rowCount });
  for await (const batch of source.batches) {
    for (const row of batch) collector.add(row);
    readBar.update(collector.rowCount);
  }
  readBar.done();
  const info = { ...source.info, rowCount: collector.rowCount };
  const streams = collector.finish();
  const buildBar = makeProgress({ label: 'window: build', unit: 'ticks', quiet: opts.quiet ?? false, total: collector.rowCount });
  const build = buildWindows(streams, config(source.tickMs), info, (done) => buildBar.update(done));
  buildBar.done();
  const manifest = await writeWindows(opts.out, build, opts.force ?? false);
  return { manifest, outDir: opts.out };
}

/**
 * Writes a built windows folder atomically: split files, then the manifest with their sha256s, validated
 * against schemas/windows-manifest.schema.json before anything is renamed into place.
 */
export async function writeWindows(outDir: string, build: WindowsBuild, force: boolean): Promise<WindowsManifest> {
  const manifest = build.manifest;
  for (const name of SPLIT_NAMES) manifest.splits[name].sha256 = sha256Hex(build.files[name]);
  const v = validateAgainst<WindowsManifest>('windows-manifest', manifest);
  if (!v.ok) {
    // A manifest we built that fails its own schema is a bug, not bad input.
    throw new Error(`window: internal: manifest fails its schema at ${v.issues[0]!.path}: ${v.issues[0]!.message}`);
  }
  await writeDirAtomic('window', outDir, force, (tmp) => {
    for (const name of SPLIT_NAMES) writeFileAtomic(join(tmp, manifest.splits[name].file), build.files[name]);
    writeFileAtomic(join(tmp, 'manifest.json'), jsonText(manifest));
  });
  return manifest;
}

/** Parses `--split 0.7,0.15,0.15`. */
export function parseFractions(text: string): SplitFractions {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) {
    throw new RaftNsError('window.config', `window: --split ${text}; expected three numbers train,val,test such as 0.7,0.15,0.15`);
  }
  return { train: parts[0]!, val: parts[1]!, test: parts[2]! };
}
