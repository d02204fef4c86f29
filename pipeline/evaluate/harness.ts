/**
 * The closed-loop harness: one job = one scenario on one seed under one policy, run in the simulator with
 * pre-vote and check-quorum forced on. Every policy of a comparison gets the same (scenario, seed), so the
 * network, client and fault randomness is identical until the policies' decisions diverge the runs.
 * Jobs are independent, so they spread over worker threads; the results are the same bytes whatever the
 * worker count (each job's result depends only on its inputs).
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runClosedLoop, SafetyViolation, type RunSummary, type Scenario } from '../../sim/index.js';
import type { LoadedArtifact, SharedModel } from '../../runtime/index.js';
import { makePolicyFactory, sharedModelOf, type ModelDiagnostics, type PolicySpec } from './policies.js';

export interface Job {
  /** Index into the caller's job list (results come back in any order from workers). */
  index: number;
  scenario: Scenario;
  seed: number;
  policyId: string;
  spec: PolicySpec;
}

/** The per-run metrics (docs/EVALUATION.md, "What runs"); NaN where a run has nothing to measure. */
export interface RunMetrics {
  commit_latency_mean_ms: number;
  /** The mean split in two (they sum to it): time spent while a leader could commit, and while none could. */
  commit_latency_with_leader_mean_ms: number;
  commit_latency_downtime_mean_ms: number;
  commit_latency_p99_ms: number;
  /** Mean failover time of the run; an outage still open at the end counts with its length so far (a lower bound). */
  failover_ms: number;
  failovers: number;
  /**
   * Seconds without a leader per hour of run: every failover's length summed (the open one included), over
   * the run's length. The failover mean is per episode, and policies do not have the same episodes: one that
   * waits out a jitter silence the leader survives has no failover there at all, so its mean is over the
   * harder episodes only; this sum counts what clients wait either way.
   */
  leaderless_s_per_hour: number;
  unnecessary_elections: number;
  elections: number;
  elections_per_hour: number;
  unnecessary_elections_per_hour: number;
  availability: number;
  safety_violations: number;
  requests_submitted: number;
  requests_committed: number;
}

export const METRIC_KEYS = [
  'commit_latency_mean_ms', 'commit_latency_with_leader_mean_ms', 'commit_latency_downtime_mean_ms', 'commit_latency_p99_ms', 'failover_ms', 'leaderless_s_per_hour', 'unnecessary_elections', 'elections_per_hour',
  'unnecessary_elections_per_hour', 'availability', 'safety_violations',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export interface JobResult {
  index: number;
  scenario: string;
  seed: number;
  policyId: string;
  metrics: RunMetrics;
  /** The safety violation's message when there was one. */
  violation: string | null;
  model: ModelDiagnostics | null;
}

/** Forces the evaluation's cluster settings: pre-vote and check-quorum on for every policy. */
export function evaluationScenario(s: Scenario): Scenario {
  return { ...s, cluster: { ...s.cluster, pre_vote: true, check_quorum: true } };
}

/** Runs one job in this thread; `batched` false steps each node's model alone (the same results, slower). */
export function runJob(job: Job, model: SharedModel | null, batched = true): JobResult {
  const { factory, diagnostics } = makePolicyFactory(job.spec, model, batched);
  let summary: RunSummary | null = null;
  let violation: string | null = null;
  try {
    summary = runClosedLoop(evaluationScenario(job.scenario), job.seed, factory);
  } catch (err) {
    if (!(err instanceof SafetyViolation)) throw err;
    violation = err.message;
  }
  return { index: job.index, scenario: job.scenario.name, seed: job.seed, policyId: job.policyId, metrics: metricsOf(summary, job.scenario), violation, model: diagnostics() };
}

/** The run's metrics from its summary (null summary = the run stopped at a safety violation). */
export function metricsOf(s: RunSummary | null, scenario: Scenario): RunMetrics {
  if (!s) {
    return {
      commit_latency_mean_ms: NaN, commit_latency_with_leader_mean_ms: NaN, commit_latency_downtime_mean_ms: NaN, commit_latency_p99_ms: NaN, failover_ms: NaN, failovers: 0, leaderless_s_per_hour: NaN, unnecessary_elections: NaN,
      elections: NaN, elections_per_hour: NaN, unnecessary_elections_per_hour: NaN, availability: NaN, safety_violations: 1,
      requests_submitted: 0, requests_committed: 0,
    };
  }
  const durations = s.failovers.map((f) => f.duration_ms);
  if (s.open_outage) durations.push(s.simulated_ms - s.open_outage.start_ms);
  const hours = (s.simulated_ms || scenario.duration_ms) / 3_600_000;
  const leaderlessMs = durations.reduce((a, b) => a + b, 0);
  return {
    commit_latency_mean_ms: s.commit_latency_ms.mean ?? NaN,
    commit_latency_with_leader_mean_ms: s.commit_latency_with_leader_ms.mean ?? NaN,
    commit_latency_downtime_mean_ms: s.commit_latency_downtime_ms.mean ?? NaN,
    commit_latency_p99_ms: s.commit_latency_ms.p99 ?? NaN,
    failover_ms: durations.length ? leaderlessMs / durations.length : NaN,
    failovers: durations.length,
    leaderless_s_per_hour: leaderlessMs / 1000 / hours,
    unnecessary_elections: s.unnecessary_elections,
    elections: s.elections,
    elections_per_hour: s.elections / hours,
    unnecessary_elections_per_hour: s.unnecessary_elections / hours,
    availability: s.availability,
    safety_violations: s.safety_violations,
    requests_submitted: s.requests.submitted,
    requests_committed: s.requests.committed,
  };
}

export interface RunJobsOptions {
  /** Worker threads: 0 = this thread. Default: min(jobs, cpus) when running from the built JavaScript, else 0. */
  workers?: number;
  /** The artifact as its two files' bytes (workers load it themselves). */
  artifactBytes?: { manifest: Uint8Array; weights: Uint8Array } | null;
  artifact?: LoadedArtifact | null;
  /** Step the model policies' nodes alone, as before the batch (the baseline `npm run bench -- evaluate` measures against). */
  perNodeSteps?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Runs every job; results in job order. */
export async function runJobs(jobs: Job[], opts: RunJobsOptions): Promise<JobResult[]> {
  const fromSource = import.meta.url.endsWith('.ts'); // vitest runs the sources; workers need the built .js
  const workers = Math.min(jobs.length, opts.workers ?? (fromSource ? 0 : Math.max(1, cpus().length)));
  const results: JobResult[] = new Array(jobs.length);
  let done = 0;
  const batched = opts.perNodeSteps !== true;
  if (workers <= 1 || fromSource) {
    const model = opts.artifact ? sharedModelOf(opts.artifact) : null;
    for (const job of jobs) {
      results[job.index] = runJob(job, model, batched);
      opts.onProgress?.(++done, jobs.length);
    }
    return results;
  }
  // Longest jobs first (more nodes, longer runs) spread the load evenly over the threads; each thread takes a
  // chunk at a time, smaller as the queue drains (a message per run cost more than a short run's tail).
  const queue = [...jobs].sort((a, b) => cost(b) - cost(a) || a.index - b.index);
  const pool = await warmPool(workers, opts.artifactBytes ?? null);
  try {
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      const next = (): void => {
        const size = Math.max(1, Math.min(8, Math.floor(queue.length / (3 * workers))));
        const chunk = queue.splice(0, size);
        if (chunk.length === 0) { resolve(); return; }
        w.run(chunk, batched).then((rs) => {
          for (const r of rs) {
            results[r.index] = r;
            opts.onProgress?.(++done, jobs.length);
          }
          next();
        }, reject);
      };
      next();
    })));
  } finally {
    for (const w of pool) w.idle();
  }
  return results;
}

/**
 * A worker thread kept between runJobs calls (warm: modules loaded, code optimized, model packed), so short
 * lists and repeated calls (tune, the bench) pay the start-up once per process. Idle workers are unref'd:
 * they never keep the process alive.
 */
class PooledWorker {
  private readonly w: Worker;
  private modelKey: { manifest: Uint8Array; weights: Uint8Array } | null | undefined = undefined;
  private pending: { resolve: (r: JobResult[]) => void; reject: (e: Error) => void } | null = null;
  failed = false;

  constructor() {
    this.w = new Worker(new URL('./worker.js', import.meta.url));
    this.w.on('message', (rs: JobResult[]) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(rs);
    });
    this.w.on('error', (e) => {
      this.failed = true;
      const p = this.pending;
      this.pending = null;
      p?.reject(e);
    });
    this.w.unref();
  }

  /** Loads the artifact in the worker unless it holds the same bytes already (compared by content). */
  useModel(bytes: { manifest: Uint8Array; weights: Uint8Array } | null): void {
    const k = this.modelKey;
    if (k !== undefined && (k === bytes || (k && bytes && sameBytes(k.manifest, bytes.manifest) && sameBytes(k.weights, bytes.weights)))) return;
    this.w.postMessage({ kind: 'model', artifactBytes: bytes });
    this.modelKey = bytes;
  }

  run(jobs: Job[], batched: boolean): Promise<JobResult[]> {
    this.w.ref();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.w.postMessage({ kind: 'jobs', jobs, batched });
    });
  }

  idle(): void {
    this.w.unref();
  }

  terminate(): void {
    void this.w.terminate();
  }
}

const warm: PooledWorker[] = [];

async function warmPool(n: number, bytes: { manifest: Uint8Array; weights: Uint8Array } | null): Promise<PooledWorker[]> {
  for (let i = warm.length - 1; i >= 0; i--) if (warm[i]!.failed) warm.splice(i, 1)[0]!.terminate();
  while (warm.length < n) warm.push(new PooledWorker());
  const pool = warm.slice(0, n);
  for (const w of pool) w.useModel(bytes);
  return pool;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function cost(j: Job): number {
  return j.scenario.duration_ms * j.scenario.cluster.size * (j.spec.kind === 'model' ? 3 : 1);
}
