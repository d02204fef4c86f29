/**
 * `npm run bench -- evaluate [artifact dir] [--runs N] [--against <older dist/>] [--no-suite]`: closed-loop
 * evaluation throughput in runs per second, measured in one process:
 * 1. each of the six compared policies alone on lan-5-jitter (60 s simulated, 5 nodes), then the six-policy
 *    mix, in this thread: the per-node model steps (the path before runtime/batch.ts, still reachable
 *    through RunJobsOptions.perNodeSteps) against the batched steps, and with `--against`, the same jobs on
 *    an older build's harness (e.g. a copy of dist/ from before a change): today's path as a whole;
 *    then the floor under the model policy's cost: the simulator (static etcd's runs) plus the kernel steps
 *    of a model run timed alone, as runs/s against the older build (needs `--against`);
 * 2. the mix on the warm worker pool, 2 threads against 1;
 * 3. unless --no-suite, the default suite's main grid on its first seed (24 scenarios × 6 policies + the
 *    oracle), 1 thread against 2, `--reps` times each: what `raft-ns evaluate` pays.
 * Runs/s are per wall second, and per CPU second of this process for the single-thread cases (the shared
 * two-core machine disturbs CPU time less). Every case is measured `--reps` times (default 3): the median, and
 * in brackets the lowest and highest rep's wall figure (the spread the machine's other jobs cause).
 * Goals (the issue "A closed loop fast enough to tune in"): model policy ≥ 3× today's runs/s, mix ≥ 2.5×,
 * 2 threads ≥ 1.7× one thread on the default suite. Without an artifact dir a seeded random artifact (the
 * runtime tests' fixture writer) stands in.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinScenario } from '../sim/index.js';
import { artifactFromBytes, LstmBatch } from '../runtime/index.js';
import { runJobs, type Job, type RunJobsOptions } from '../pipeline/evaluate/harness.js';
import { MAIN_POLICIES, ORACLE_POLICY_ID, sharedModelOf, sweepPolicies } from '../pipeline/evaluate/policies.js';
import { loadSuite } from '../pipeline/evaluate/suites.js';
import { buildFixtureArtifact, writeFixtureArtifact } from '../test/runtime-fixtures/artifact-writer.js';

type RunJobs = (jobs: Job[], opts: RunJobsOptions) => Promise<unknown[]>;
/** Median over the reps, and the spread of the wall figure (lowest, highest rep): the shared machine's noise. */
interface Rate { wall: number; cpu: number; wallMin: number; wallMax: number }

export async function run(args: string[]): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const runs = Number(flag('--runs') ?? 12);
  const reps = Number(flag('--reps') ?? 3);
  const against = flag('--against');
  const noSuite = args.includes('--no-suite');
  let dir = args.find((a) => !a.startsWith('--'));
  let tmp: string | null = null;
  if (!dir) {
    tmp = mkdtempSync(join(tmpdir(), 'raftns-bench-eval-'));
    dir = join(tmp, 'artifact');
    writeFixtureArtifact(dir, buildFixtureArtifact(7, { qBias: Math.log(1000) }));
  }
  const manifest = new Uint8Array(readFileSync(join(dir, 'manifest.json')));
  const weights = new Uint8Array(readFileSync(join(dir, 'weights.bin')));
  const artifact = artifactFromBytes(manifest, weights);
  const older = against ? await olderHarness(against) : null;
  const scenario = builtinScenario('lan-5-jitter')!;
  const compared = MAIN_POLICIES.filter((p) => p.id !== ORACLE_POLICY_ID);
  const jobsOf = (ids: string[]): Job[] => Array.from({ length: runs }, (_, i) => {
    const p = compared.find((x) => x.id === ids[i % ids.length])!;
    return { index: i, scenario, seed: 1 + Math.floor(i / ids.length), policyId: p.id, spec: p.spec };
  });
  const base: RunJobsOptions = { artifact, artifactBytes: { manifest, weights } };
  /** Median over reps of runs/s (wall, and per CPU second of the process). */
  const measure = async (runner: RunJobs, jobs: Job[], opts: RunJobsOptions, times = reps): Promise<Rate> => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < times; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await runner(jobs, opts);
      const s = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      wall.push(jobs.length / s);
      cpu.push(jobs.length / ((c.user + c.system) / 1e6));
    }
    return { wall: median(wall), cpu: median(cpu), wallMin: Math.min(...wall), wallMax: Math.max(...wall) };
  };
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  const fmt = (r: Rate): string => `${r.wall.toFixed(2).padStart(6)} runs/s [${r.wallMin.toFixed(2)}–${r.wallMax.toFixed(2)}] (${r.cpu.toFixed(2).padStart(6)} per CPU s)`;
  const ratio = (a: Rate, b: Rate): string => `${(a.wall / b.wall).toFixed(2)}× (CPU ${(a.cpu / b.cpu).toFixed(2)}×)`;

  out(`evaluate bench: ${runs} runs of ${scenario.name} per case, median of ${reps}; ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at start`);
  // JIT warm-up of both paths (and of the older build), so no case pays compile time.
  const warmJobs = jobsOf(compared.map((p) => p.id)).slice(0, compared.length);
  await runJobs(warmJobs, { ...base, workers: 0, perNodeSteps: true });
  await runJobs(warmJobs, { ...base, workers: 0 });
  if (older) await older(warmJobs, { ...base, workers: 0 });

  out(`\n1. this thread${older ? `; "older" = ${against}` : ''}`);
  out(`${'policy'.padEnd(20)} ${'per-node steps'.padEnd(48)} ${'batched (new)'.padEnd(48)} new/per-node${older ? `   ${'older build'.padEnd(48)} new/older` : ''}`);
  const rows: Array<[string, string[]]> = [...compared.map((p): [string, string[]] => [p.id, [p.id]]), ['six-policy mix', compared.map((p) => p.id)]];
  const measured = new Map<string, { batched: Rate; old: Rate | null }>();
  for (const [label, ids] of rows) {
    const jobs = jobsOf(ids);
    const perNode = await measure(runJobs, jobs, { ...base, workers: 0, perNodeSteps: true });
    const batched = await measure(runJobs, jobs, { ...base, workers: 0 });
    const old = older ? await measure(older, jobs, { ...base, workers: 0 }) : null;
    measured.set(label, { batched, old });
    out(`${label.padEnd(20)} ${fmt(perNode).padEnd(48)} ${fmt(batched).padEnd(48)} ${ratio(batched, perNode).padEnd(12)}${old ? `   ${fmt(old).padEnd(48)} ${ratio(batched, old)}` : ''}`);
  }

  // The floor under the model policy's cost on this machine: the same runs' simulator (static etcd's runs
  // above, which step no model) plus the kernel steps those runs make, timed alone (one 5-slot batch per
  // tick, as lan-5-jitter's nodes step), against the older build's model runs above. What is left above the
  // floor is the provider's JavaScript.
  const nodeTicks = (await runJobs(jobsOf(['neuro-symbolic']).slice(0, 1), { ...base, workers: 0 }))[0]!.model!.ticks;
  const batch = LstmBatch.create(sharedModelOf(artifact));
  const etcd = measured.get('static-etcd')!.batched;
  const oldModel = measured.get('neuro-symbolic')!.old;
  if (batch && oldModel) {
    const nodes = scenario.cluster.size;
    const slots = Array.from({ length: nodes }, () => batch.allocSlot());
    const flushes = 20_000;
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < flushes; i++) {
        for (const s of slots) batch.enqueue(s);
        batch.flush();
      }
      times.push((performance.now() - t0) / flushes);
    }
    const kernelMsPerRun = median(times) * (nodeTicks / nodes);
    const ceiling = 1000 / (1000 / etcd.wall + kernelMsPerRun);
    out(`floor under the model policy: simulator ${(1000 / etcd.wall).toFixed(1)} ms/run (static etcd's runs) + kernel ${kernelMsPerRun.toFixed(1)} ms/run (${nodeTicks} node steps, ${(median(times) * 1e6 / nodes).toFixed(0)} ns each, timed alone) = ${ceiling.toFixed(2)} runs/s with no provider JavaScript at all: ${(ceiling / oldModel.wall).toFixed(2)}× the older build's ${oldModel.wall.toFixed(2)} runs/s (goal 3×)`);
  }

  out('\n2. the six-policy mix on the warm worker pool (wall time)');
  const mix = jobsOf(compared.map((p) => p.id));
  await runJobs(mix.slice(0, 4), { ...base, workers: 2 }); // starts and warms the pool
  const one = await measure(runJobs, mix, { ...base, workers: 0 });
  const two = await measure(runJobs, mix, { ...base, workers: 2 });
  out(`1 thread ${fmt(one)}; 2 worker threads ${fmt(two)}: ${(two.wall / one.wall).toFixed(2)}× (goal ≥ 1.7× on the default suite)`);

  if (!noSuite) {
    const suite = loadSuite('default');
    const policies = MAIN_POLICIES;
    const jobs: Job[] = [];
    for (const s of suite.scenarios) for (const p of policies) jobs.push({ index: jobs.length, scenario: s.scenario, seed: suite.seeds[0]!, policyId: p.id, spec: p.spec });
    out(`\n3. the default suite's main grid on seed ${suite.seeds[0]} (${jobs.length} runs), median of ${reps} (wall time)`);
    const s1 = await measure(runJobs, jobs, { ...base, workers: 0 });
    const s2 = await measure(runJobs, jobs, { ...base, workers: 2 });
    // What `raft-ns evaluate --suite default` runs: every seed of the main grid, and the sweep on its own seeds.
    const suiteRuns = suite.scenarios.length * suite.seeds.length * policies.length + suite.sweep.scenarios.length * suite.sweep.seeds.length * sweepPolicies().length;
    out(`1 thread ${fmt(s1)}; 2 worker threads ${fmt(s2)}: ${(s2.wall / s1.wall).toFixed(2)}×; projected default suite (${suiteRuns} runs) on 2 threads: ${(suiteRuns / s2.wall).toFixed(0)} s`);
  }
  out(`\nload average at end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores shared: a load above 2 means the figures are disturbed)`);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

/** runJobs of an older build (its dist/ folder): the whole of today's path, simulator included. */
async function olderHarness(distDir: string): Promise<RunJobs> {
  const mod = (await import(pathToFileURL(resolve(distDir, 'pipeline/evaluate/harness.js')).href)) as { runJobs: RunJobs };
  return mod.runJobs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
