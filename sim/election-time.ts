/**
 * The Raft paper's leader-election experiment (Ongaro & Ousterhout 2014, §9.3, Figure 16): a cluster with
 * a stable leader and logs of different lengths; right after a synchronized heartbeat broadcast the leader
 * crashes at a uniformly random moment within its heartbeat interval (half the minimum timeout), and we
 * measure the time until a new leader is elected. No pre-vote, no check-quorum, as in the paper.
 * Expected shape: no randomness (min = max) → repeated split votes and long tails; a little randomness
 * already cuts the tail; smaller timeouts elect faster.
 */
import { makePrng } from './prng.js';
import { Simulation } from './cluster.js';
import { distribution, type Distribution } from './metrics.js';
import type { Scenario } from './scenario.js';

export interface ElectionTimeOptions {
  servers: number;
  timeoutMinMs: number;
  timeoutMaxMs: number;
  /** Broadcast time: a round of RPCs to every server and back (ms); one-way delays are about half. */
  broadcastMs: number;
  trials: number;
  seed: number;
  /** Give up on a trial after this much simulated time without a leader (ms; default 30 s). */
  maxElectionMs?: number;
}

export interface ElectionTimeResult {
  options: ElectionTimeOptions;
  /** Time without a leader per trial (ms), in trial order; Infinity for a trial that gave up. */
  timesMs: number[];
  distribution: Distribution;
  gaveUp: number;
  /** Mean number of elections (term increments) per trial. */
  meanElections: number;
}

/**
 * Runs the experiment.
 * @example runElectionTime({ servers: 5, timeoutMinMs: 150, timeoutMaxMs: 300, broadcastMs: 15, trials: 1000, seed: 1 })
 */
export function runElectionTime(opts: ElectionTimeOptions): ElectionTimeResult {
  const rng = makePrng(opts.seed).fork('election-time');
  const heartbeatMs = opts.timeoutMinMs / 2;
  const oneWay = opts.broadcastMs / 2;
  const scenario: Scenario = {
    schema_version: 1,
    name: `election-time-${opts.servers}-${opts.timeoutMinMs}-${opts.timeoutMaxMs}`,
    duration_ms: Number.MAX_SAFE_INTEGER,
    tick_ms: 1,
    cluster: {
      size: opts.servers, heartbeat_interval_ms: heartbeatMs, election_timeout_ms: opts.timeoutMinMs,
      pre_vote: false, check_quorum: false, policy: { kind: 'fixed-range', min_ms: opts.timeoutMinMs, max_ms: opts.timeoutMaxMs },
    },
    network: {
      profile: 'lan', one_way_ms: [oneWay * 0.8, oneWay * 1.2],
      jitter: { calm_mean_ms: oneWay * 0.1, jittery_mean_ms: 0, enter_per_s: 0, mean_burst_ms: 1 },
    },
    nodes: { fsync_ms: 0, timer_slack_ms: opts.broadcastMs * 0.05 },
    workload: { rate_per_s: 0 },
  };
  const maxUs = (opts.maxElectionMs ?? 30_000) * 1000;
  const timesMs: number[] = [];
  let gaveUp = 0;
  let elections = 0;
  for (let t = 0; t < opts.trials; t++) {
    const sim = new Simulation(scenario, { seed: Math.floor(rng.next() * 2 ** 31), telemetry: false });
    // Logs of different lengths, so some servers cannot win; the leader's is the longest.
    const lengths = Array.from({ length: opts.servers }, () => 10 + rng.int(5));
    lengths[0] = 15;
    sim.bootstrapLeader('n1', lengths);
    // The leader's first heartbeat goes out at the first tick; let it land, then crash within the interval.
    sim.advanceTo(1);
    const crashMs = 1 + rng.uniform(0, heartbeatMs);
    sim.advanceTo(crashMs);
    sim.controls.crash('n1');
    const crashUs = sim.nowUs;
    let elected = false;
    while (sim.nowUs - crashUs < maxUs) {
      if (!sim.step()) break;
      if (sim.trueLeader() >= 0) {
        elected = true;
        break;
      }
    }
    elections += sim.elections;
    if (elected) timesMs.push((sim.nowUs - crashUs) / 1000);
    else {
      timesMs.push(Number.POSITIVE_INFINITY);
      gaveUp++;
    }
  }
  return {
    options: opts,
    timesMs,
    distribution: distribution(timesMs.filter((x) => Number.isFinite(x))),
    gaveUp,
    meanElections: elections / opts.trials,
  };
}

/** Empirical CDF rows (time ms, fraction of trials with a leader by then), one per distinct time. */
export function electionTimeCdf(timesMs: readonly number[]): Array<{ time_ms: number; cdf: number }> {
  const s = timesMs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const out: Array<{ time_ms: number; cdf: number }> = [];
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i + 1] === s[i]) continue;
    out.push({ time_ms: s[i]!, cdf: (i + 1) / timesMs.length });
  }
  return out;
}

