/**
 * `raft-ns run`: the main job end to end with a content-addressed stage cache (stage.ts), a stage-by-stage
 * display (display.ts) and a run report JSON recording config, seed, per-stage keys, output hashes and times.
 */
import { join } from 'node:path';
import { jsonText, sha256Hex, writeFileAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { makeDisplay, summaryText, fmtMs } from './display.js';
import { mainJobStages, type RunConfig } from './pipeline.js';
import { canonicalJson, runStages, type Stage, type StageRecord } from './stage.js';

export interface RunOptions {
  config: RunConfig;
  /** Cache root, e.g. `.cache/run`. */
  cacheDir: string;
  /** Ignore cached stage outputs. */
  fresh?: boolean;
  /** Extra path to write the run report to (it is always written to `<cacheDir>/run-report.json`). */
  reportPath?: string;
  /** Where the display goes (stdout in the CLI); silent when omitted. */
  write?: (text: string) => void;
  /** The stages to run; default the main job for `config` (tests pass their own). */
  stages?: Stage[];
}

export interface RunReport {
  format: 'raft-ns-run-report';
  format_version: 1;
  tool_version: string;
  seed: number;
  config: RunConfig;
  config_sha256: string;
  cache_dir: string;
  fresh: boolean;
  /** `complete` = every stage ran or was cached; `incomplete` = some not available yet / blocked; `failed`. */
  result: 'complete' | 'incomplete' | 'failed';
  total_ms: number;
  stages: StageRecord[];
}

/**
 * Runs the main job and returns its report (also written to disk). Never throws for a failing stage: the
 * report says which one failed and why.
 *
 * @example
 * const report = await runMainJob({ config: DEFAULT_RUN_CONFIG, cacheDir: '.cache/run', write: (t) => process.stdout.write(t) });
 * report.result; // 'complete'
 */
export async function runMainJob(opts: RunOptions): Promise<RunReport> {
  const write = opts.write ?? (() => undefined);
  const stages = opts.stages ?? mainJobStages(opts.config);
  const configSha256 = sha256Hex(canonicalJson(opts.config));
  write(`raft-ns run · tool ${TOOL_VERSION} · seed ${opts.config.seed} · config ${configSha256.slice(0, 12)} · cache ${opts.cacheDir}${opts.fresh ? ' (fresh)' : ''}\n`);
  const t0 = performance.now();
  const records = await runStages(stages, {
    cacheDir: opts.cacheDir,
    toolVersion: TOOL_VERSION,
    fresh: opts.fresh ?? false,
    onEvent: makeDisplay(write, stages.map((s) => s.name)),
  });
  const totalMs = performance.now() - t0;
  const result: RunReport['result'] = records.some((r) => r.status === 'failed')
    ? 'failed'
    : records.every((r) => r.status === 'ran' || r.status === 'cached')
      ? 'complete'
      : 'incomplete';
  const report: RunReport = {
    format: 'raft-ns-run-report',
    format_version: 1,
    tool_version: TOOL_VERSION,
    seed: opts.config.seed,
    config: opts.config,
    config_sha256: configSha256,
    cache_dir: opts.cacheDir,
    fresh: opts.fresh ?? false,
    result,
    total_ms: Math.round(totalMs),
    stages: records.map((r) => ({ ...r, duration_ms: Math.round(r.duration_ms) })),
  };
  const reportFile = join(opts.cacheDir, 'run-report.json');
  writeFileAtomic(reportFile, jsonText(report));
  if (opts.reportPath) writeFileAtomic(opts.reportPath, jsonText(report));
  write(`${summaryText(records, totalMs)}\n`);
  const verdict = result === 'complete' ? 'complete' : result === 'failed' ? 'FAILED' : 'INCOMPLETE (stages skipped as not available yet, see above)';
  write(`result: ${verdict} in ${fmtMs(totalMs)}; report ${opts.reportPath ?? reportFile}\n`);
  return report;
}
