/**
 * `npm run bench -- evaluate [artifact dir] [runs]`: closed-loop evaluation throughput, scenarios per second.
 * Baseline measured in the same run: the static etcd policy in this thread (the simulator alone). Then the
 * neuro-symbolic policy in this thread (what the model costs per run), and the worker-thread pool over the
 * same mixed job list (what the parallel harness buys on this machine).
 * Goal (issue 7): the default suite (584 runs: 24 scenarios × 3 seeds × 6 policies + the sweep) ≤ 10 min.
 * Without an artifact dir a seeded random artifact (the runtime tests' fixture writer) stands in.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinScenario } from '../sim/index.js';
import { artifactFromBytes } from '../runtime/index.js';
import { runJobs, type Job } from '../pipeline/evaluate/harness.js';
import { MAIN_POLICIES } from '../pipeline/evaluate/policies.js';
import { buildFixtureArtifact, writeFixtureArtifact } from '../test/runtime-fixtures/artifact-writer.js';

export async function run(args: string[]): Promise<void> {
  let dir = args[0];
  const runs = Number(args[1] ?? 12);
  let tmp: string | null = null;
  if (!dir) {
    tmp = mkdtempSync(join(tmpdir(), 'raftns-bench-eval-'));
    dir = join(tmp, 'artifact');
    writeFixtureArtifact(dir, buildFixtureArtifact(7, { qBias: Math.log(1000) }));
  }
  const manifest = new Uint8Array(readFileSync(join(dir, 'manifest.json')));
  const weights = new Uint8Array(readFileSync(join(dir, 'weights.bin')));
  const artifact = artifactFromBytes(manifest, weights);
  const scenario = builtinScenario('lan-5-jitter')!;
  const jobsOf = (ids: string[]): Job[] => {
    const jobs: Job[] = [];
    for (let i = 0; i < runs; i++) {
      const p = MAIN_POLICIES.find((x) => x.id === ids[i % ids.length])!;
      jobs.push({ index: i, scenario, seed: 1 + Math.floor(i / ids.length), policyId: p.id, spec: p.spec });
    }
    return jobs;
  };
  const time = async (label: string, jobs: Job[], workers: number): Promise<number> => {
    const t0 = performance.now();
    await runJobs(jobs, { workers, artifact, artifactBytes: { manifest, weights } });
    const s = (performance.now() - t0) / 1000;
    const rate = jobs.length / s;
    process.stdout.write(`${label.padEnd(44)} ${jobs.length} runs of ${scenario.name} (60 s simulated) in ${s.toFixed(1)} s: ${rate.toFixed(2)} scenarios/s\n`);
    return rate;
  };
  await runJobs(jobsOf(['static-etcd']).slice(0, 1), { workers: 0, artifact }); // JIT warm-up
  const base = await time('static etcd, this thread (baseline)', jobsOf(['static-etcd']), 0);
  const model = await time('neuro-symbolic, this thread', jobsOf(['neuro-symbolic']), 0);
  const mixedIds = MAIN_POLICIES.map((p) => p.id);
  const mixed1 = await time('all six policies, this thread', jobsOf(mixedIds), 0);
  const workers = cpus().length;
  const mixedN = await time(`all six policies, ${workers} worker threads`, jobsOf(mixedIds), workers);
  process.stdout.write(`model/static cost per run: ${(base / model).toFixed(2)}×; worker pool speed-up on the mixed list: ${(mixedN / mixed1).toFixed(2)}×\n`);
  process.stdout.write(`projected default suite (584 runs, mixed): ${(584 / mixedN / 60).toFixed(1)} min at the pool's rate\n`);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
