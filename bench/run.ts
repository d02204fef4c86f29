/**
 * `npm run bench -- run [--source simulate|sample] [--seed n]`: the main job's wall time per stage on this
 * machine, fresh (empty cache, temporary registry) against the 5-minute goal, then the same job re-run on the
 * warm cache (the baseline every re-run gets: only publish, which is idempotent, runs again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RUN_CONFIG, type RunConfig } from '../pipeline/run/pipeline.js';
import { runMainJob } from '../pipeline/run/run.js';
import { fmtMs } from '../pipeline/run/display.js';

const GOAL_MS = 5 * 60_000; // the main job's goal: ≤ 5 minutes on this 2-core machine

export async function run(args: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const root = mkdtempSync(join(tmpdir(), 'raft-ns-bench-run-'));
  const config: RunConfig = {
    ...DEFAULT_RUN_CONFIG,
    seed: Number(opt('--seed') ?? DEFAULT_RUN_CONFIG.seed),
    source: (opt('--source') ?? DEFAULT_RUN_CONFIG.source) as RunConfig['source'],
    registry: join(root, 'artifacts'),
  };
  try {
    const cacheDir = join(root, 'cache');
    const fresh = await runMainJob({ config, cacheDir });
    const warm = await runMainJob({ config, cacheDir });
    process.stdout.write(`bench run: source ${config.source}, seed ${config.seed}, cores 2 (shared)\n\n`);
    process.stdout.write(`${'stage'.padEnd(10)} ${'status'.padEnd(12)} ${'fresh'.padStart(9)} ${'re-run'.padStart(9)}  figure\n`);
    for (const [i, r] of fresh.stages.entries()) {
      const w = warm.stages[i]!;
      process.stdout.write(`${r.name.padEnd(10)} ${r.status.padEnd(12)} ${fmtMs(r.duration_ms).padStart(9)} ${fmtMs(w.duration_ms).padStart(9)}  ${(r.figure || r.reason || '').slice(0, 120)}\n`);
    }
    process.stdout.write(
      `\nfresh total ${fmtMs(fresh.total_ms)} (${fresh.result}) = ${(fresh.total_ms / GOAL_MS).toFixed(2)}× the 5-minute goal\n` +
        `re-run total ${fmtMs(warm.total_ms)} (${warm.stages.filter((s) => s.status === 'cached').length} stages cached) = ${(fresh.total_ms / Math.max(warm.total_ms, 1)).toFixed(0)}× faster than fresh\n`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
