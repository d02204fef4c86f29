/**
 * `raft-ns run [--fresh] [--seed n] [--source auto|simulate|sample] [--cache-dir dir] [--registry dir]
 * [--model-version semver] [--report file]`: the main job. Set SOURCE_DATE_EPOCH for byte-reproducible manifests.
 */
import type { Command } from 'commander';
import { checkVersion } from '../publish/names.js';
import { RaftNsError } from '../util/errors.js';
import { DEFAULT_RUN_CONFIG, type RunConfig } from './pipeline.js';
import { runMainJob } from './run.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('the main job end to end: simulate → ingest → window → train → quantize → verify → publish → infer smoke test; cached stages are skipped')
    .option('--fresh', 'ignore cached stage outputs and run every stage')
    .option('--seed <n>', 'master seed', String(DEFAULT_RUN_CONFIG.seed))
    .option('--source <kind>', 'auto | simulate | sample', DEFAULT_RUN_CONFIG.source)
    .option('--cache-dir <dir>', 'content-addressed stage outputs', '.cache/run')
    .option('--registry <dir>', 'registry to publish into', DEFAULT_RUN_CONFIG.registry)
    .option('--model-version <semver>', 'version to publish the model as (published versions are immutable)', DEFAULT_RUN_CONFIG.model.version)
    .option('--report <file>', 'also write the run report JSON here')
    .action(async (o: { fresh?: boolean; seed: string; source: string; cacheDir: string; registry: string; modelVersion: string; report?: string }) => {
      const seed = Number(o.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new RaftNsError('run.bad-option', `run: --seed ${o.seed}: expected a non-negative integer`);
      if (!['auto', 'simulate', 'sample'].includes(o.source)) throw new RaftNsError('run.bad-option', `run: --source ${o.source}: expected auto, simulate or sample`);
      const version = checkVersion(o.modelVersion, '--model-version');
      const config: RunConfig = { ...DEFAULT_RUN_CONFIG, seed, source: o.source as RunConfig['source'], registry: o.registry, model: { ...DEFAULT_RUN_CONFIG.model, version } };
      const report = await runMainJob({
        config,
        cacheDir: o.cacheDir,
        fresh: o.fresh ?? false,
        ...(o.report !== undefined ? { reportPath: o.report } : {}),
        write: (t) => process.stdout.write(t),
      });
      // 0 complete, 1 a stage failed, 2 incomplete (a stage has not landed yet).
      process.exitCode = report.result === 'complete' ? 0 : report.result === 'failed' ? 1 : 2;
    });
}
