/**
 * The Stage abstraction behind `raft-ns run` and its content-addressed cache.
 *
 * A stage is a name, the stages it reads from, a JSON config, and a `run` that writes its outputs into a
 * folder it is given. Its cache key is the sha256 of (stage name, tool version, config, extra input hashes,
 * and the *content* hash of every upstream stage's outputs). Outputs live in
 * `<cacheDir>/<name>-<key16>/out/` beside a `stage.json` receipt; the folder is built under a temporary name
 * and renamed only when the stage succeeded, so a receipt always describes complete outputs.
 *
 * Invariant: a stage whose key folder holds a receipt is skipped (unless `fresh`), because the same key means
 * the same inputs, config and code version. Because keys use the upstream *content* hash, a stage that re-runs
 * and produces the same bytes leaves everything downstream cached.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import { RaftNsError } from '../util/errors.js';
import { jsonText, sha256File, sha256Hex, writeFileAtomic } from '../util/fs.js';

/** What a finished stage hands downstream: its output folder and the content hash of that folder. */
export interface StageOutput {
  dir: string;
  sha256: string;
  /** The stage's own summary (from `StageDone.summary`), e.g. paths of things it wrote outside `dir`. */
  summary: Record<string, unknown>;
}

export interface StageContext {
  /** Folder to write outputs into; it does not exist yet (the stage, or a function it calls, creates it). */
  outDir: string;
  /** Outputs of the stages listed in `deps`, by stage name. */
  inputs: Record<string, StageOutput>;
  /** A line of progress for the display (printed indented under the stage line). */
  log: (line: string) => void;
}

export interface StageDone {
  /** The key figure shown on the stage line, e.g. `120,000 rows`. */
  figure: string;
  /** JSON facts recorded in the receipt and the run report. */
  summary?: Record<string, unknown>;
  /**
   * Set when the stage completed but its verdict is negative (verify found a failing check): its outputs
   * and receipt are kept (the same inputs give the same verdict), yet it counts as failed and blocks
   * what depends on it. The text is the one-line reason.
   */
  failed?: string;
}

export interface Stage {
  name: string;
  /** Upstream stages whose outputs this one reads. */
  deps: readonly string[];
  /** Everything besides upstream outputs that decides the result (options, seed); part of the cache key. */
  config: unknown;
  /** Returns null when the stage can run, or why it cannot (e.g. its code has not landed yet). */
  unavailable?: () => string | null;
  /** sha256s of inputs that are not stage outputs (bundled files); part of the cache key. */
  inputHashes?: () => Promise<Record<string, string>>;
  /** false for stages with effects outside their folder (publish): they run every time (and must be idempotent). */
  cache?: boolean;
  run(ctx: StageContext): Promise<StageDone>;
}

export type StageStatus = 'ran' | 'cached' | 'failed' | 'unavailable' | 'blocked';

export interface StageRecord {
  name: string;
  status: StageStatus;
  /** Cache key (sha256 hex) when it was computed. */
  key: string | null;
  dir: string | null;
  output_sha256: string | null;
  duration_ms: number;
  figure: string;
  summary: Record<string, unknown>;
  /** Why the stage did not run (unavailable, blocked, failed). */
  reason: string | null;
  /** sha256 of what the key was computed from: upstream stage outputs and non-stage input files. */
  inputs: { upstream: Record<string, string>; files: Record<string, string> } | null;
}

export interface RunStagesOptions {
  cacheDir: string;
  toolVersion: string;
  /** Ignore existing receipts: run every available stage. */
  fresh?: boolean;
  /** Display hook: a stage starts, logs a line, or ends. */
  onEvent?: (e: { kind: 'start'; stage: Stage; index: number; total: number } | { kind: 'end'; record: StageRecord; index: number; total: number } | { kind: 'log'; stage: Stage; line: string }) => void;
  /** Monotonic clock in ms (injected so the runner itself stays testable); default performance.now. */
  nowMs?: () => number;
}

export const RECEIPT_FILE = 'stage.json';

/**
 * Runs stages in order (each stage's deps must come before it), skipping those whose key already has a
 * receipt. Returns one record per stage; never throws for a stage failure (the record says `failed` and
 * the stages depending on it are `blocked`), so the caller can always print a summary and a report.
 */
export async function runStages(stages: readonly Stage[], opts: RunStagesOptions): Promise<StageRecord[]> {
  const now = opts.nowMs ?? (() => performance.now());
  const outputs = new Map<string, StageOutput>();
  const records: StageRecord[] = [];
  const seen = new Set<string>();
  for (const [index, stage] of stages.entries()) {
    for (const d of stage.deps) {
      if (!seen.has(d)) throw new Error(`run: internal: stage ${stage.name} depends on ${d}, which does not come before it`);
    }
    seen.add(stage.name);
    const total = stages.length;
    const base: StageRecord = { name: stage.name, status: 'blocked', key: null, dir: null, output_sha256: null, duration_ms: 0, figure: '', summary: {}, reason: null, inputs: null };
    const end = (r: StageRecord): void => {
      records.push(r);
      opts.onEvent?.({ kind: 'end', record: r, index, total });
    };
    const missing = stage.deps.filter((d) => !outputs.has(d));
    if (missing.length) {
      end({ ...base, status: 'blocked', reason: `needs ${missing.join(', ')}` });
      continue;
    }
    const why = stage.unavailable?.() ?? null;
    if (why !== null) {
      end({ ...base, status: 'unavailable', reason: why });
      continue;
    }
    const t0 = now();
    try {
      const inputs = Object.fromEntries(stage.deps.map((d) => [d, outputs.get(d)!]));
      const inputHashes = {
        upstream: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.sha256])),
        files: stage.inputHashes ? await stage.inputHashes() : {},
      };
      base.inputs = inputHashes;
      const key = sha256Hex(
        canonicalJson({
          stage: stage.name,
          tool_version: opts.toolVersion,
          config: stage.config ?? null,
          inputs: inputHashes.upstream,
          extra: inputHashes.files,
        }),
      );
      const dir = join(opts.cacheDir, `${stage.name}-${key.slice(0, 16)}`);
      const receiptPath = join(dir, RECEIPT_FILE);
      if (stage.cache !== false && !opts.fresh && existsSync(receiptPath)) {
        const receipt = JSON.parse(readFileSync(receiptPath, 'utf8')) as { key: string; output_sha256: string; figure: string; summary: Record<string, unknown>; failed?: string | null };
        if (receipt.key === key && receipt.failed) {
          end({ ...base, status: 'failed', key, dir, output_sha256: receipt.output_sha256, duration_ms: now() - t0, figure: receipt.figure, summary: receipt.summary, reason: `${receipt.failed} (cached verdict)` });
          continue;
        }
        if (receipt.key === key) {
          outputs.set(stage.name, { dir: join(dir, 'out'), sha256: receipt.output_sha256, summary: receipt.summary });
          end({ ...base, status: 'cached', key, dir, output_sha256: receipt.output_sha256, duration_ms: now() - t0, figure: receipt.figure, summary: receipt.summary });
          continue;
        }
      }
      opts.onEvent?.({ kind: 'start', stage, index, total }); // only stages that actually run announce themselves
      const done = await buildStageDir(dir, async (tmp) => {
        const outDir = join(tmp, 'out');
        const result = await stage.run({ outDir, inputs, log: (line) => opts.onEvent?.({ kind: 'log', stage, line }) });
        mkdirSync(outDir, { recursive: true }); // a stage with nothing to write still gets an (empty) folder
        const outputSha256 = await treeSha256(outDir);
        const summary = result.summary ?? {};
        writeFileAtomic(join(tmp, RECEIPT_FILE), jsonText({ stage: stage.name, key, tool_version: opts.toolVersion, config: stage.config ?? null, inputs: inputHashes, output_sha256: outputSha256, figure: result.figure, summary, failed: result.failed ?? null }));
        return { outputSha256, figure: result.figure, summary, failed: result.failed };
      });
      if (done.failed !== undefined) {
        end({ ...base, status: 'failed', key, dir, output_sha256: done.outputSha256, duration_ms: now() - t0, figure: done.figure, summary: done.summary, reason: done.failed });
        continue;
      }
      outputs.set(stage.name, { dir: join(dir, 'out'), sha256: done.outputSha256, summary: done.summary });
      end({ ...base, status: 'ran', key, dir, output_sha256: done.outputSha256, duration_ms: now() - t0, figure: done.figure, summary: done.summary });
    } catch (err) {
      const reason = err instanceof RaftNsError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      end({ ...base, status: 'failed', duration_ms: now() - t0, reason });
    }
  }
  return records;
}

/** Builds `dir` under a temporary sibling name and renames it into place (replacing a stale one) on success. */
async function buildStageDir<T>(dir: string, build: (tmp: string) => Promise<T>): Promise<T> {
  mkdirSync(dirname(dir), { recursive: true });
  const nonce = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${nonce}`);
  mkdirSync(tmp);
  try {
    const result = await build(tmp);
    if (existsSync(dir)) {
      const aside = join(dirname(dir), `.${basename(dir)}.old-${nonce}`);
      renameSync(dir, aside);
      renameSync(tmp, dir);
      rmSync(aside, { recursive: true, force: true });
    } else {
      renameSync(tmp, dir);
    }
    return result;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Content hash of a folder: sha256 over the sorted (relative path, file sha256) list. Names and bytes only. */
export async function treeSha256(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(dir);
  const rows: string[] = [];
  for (const p of files.map((f) => relative(dir, f).split(sep).join('/')).sort()) rows.push(`${p}\0${await sha256File(join(dir, p))}\n`);
  return sha256Hex(rows.join(''));
}

/** JSON with object keys sorted at every level, so equal configs hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}
