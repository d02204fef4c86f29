/**
 * `raft-ns run [--fresh] [--seed n] [--source auto|simulate|sample] [--cache-dir dir] [--registry dir]
 * [--model-version semver] [--report file] [--json] [--quiet]`: the main job. Set SOURCE_DATE_EPOCH for
 * byte-reproducible manifests.
 */
import type { Command } from 'commander';
import { parseIntIn, parseOneOf, parseSemver } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { DEFAULT_RUN_CONFIG, type RunConfig } from './pipeline.js';
import { runMainJob } from './run.js';

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('the main job end to end: simulate → ingest → window → train → quantize → verify → publish → infer smoke test; cached stages are skipped')
    .option('--fresh', 'ignore cached stage outputs and run every stage')
    .option('--seed <n>', 'master seed', parseIntIn(0), DEFAULT_RUN_CONFIG.seed)
    .option('--source <kind>', 'auto | simulate | sample', parseOneOf('auto', 'simulate', 'sample'), DEFAULT_RUN_CONFIG.source)
    .option('--cache-dir <dir>', 'content-addressed stage outputs', '.cache/run')
    .option('--registry <dir>', 'registry to publish into', DEFAULT_RUN_CONFIG.registry)
    .option('--model-version <semver>', 'version to publish the model as (published versions are immutable)', parseSemver, DEFAULT_RUN_CONFIG.model.version)
    .option('--report <file>', 'also write the run report JSON here');
  addOutputOptions(cmd, 'the run report').action(async (o: OutputFlags & { fresh?: boolean; seed: number; source: RunConfig['source']; cacheDir: string; registry: string; modelVersion: string; report?: string }) => {
    const out = makeOutput(o);
    const config: RunConfig = { ...DEFAULT_RUN_CONFIG, seed: o.seed, source: o.source, registry: o.registry, model: { ...DEFAULT_RUN_CONFIG.model, version: o.modelVersion } };
    const report = await runMainJob({
      config,
      cacheDir: o.cacheDir,
      fresh: o.fresh ?? false,
      ...(o.report !== undefined ? { reportPath: o.report } : {}),
      write: (t) => out.info(t),
    });
    out.result(report);
    // 0 complete, 1 a stage failed, 75 incomplete (EX_TEMPFAIL: a stage has not landed yet; 2 is a usage error).
    process.exitCode = report.result === 'complete' ? 0 : report.result === 'failed' ? 1 : 75;
  });
}
