/**
 * The Raft paper's leader-election experiment (Ongaro & Ousterhout 2014, §9.3, Figure 16): a cluster with
 * a stable leader and logs of different lengths; right after a synchronized heartbeat broadcast the leader
 * crashes at a uniformly random moment within its heartbeat interval (half the minimum timeout), and we
 * measure the time until a new leader is elected. No pre-vote, no check-quorum, as in the paper.
 * Expected shape: no randomness (min = max) → repeated split votes and long tails; a little randomness
 * already cuts the tail; smaller timeouts elect faster.
 *
 * Where the broadcast time goes. The paper gives only the total (about 15 ms on a LAN); the wire takes
 * little of it (the LAN profile's links, 0.1–0.5 ms one way), so the rest is disk. We take the disk part
 * as the fsyncs on the critical path of an election round in LogCabin, the implementation the paper
 * measured: the candidate durably updates its metadata file (term and vote) before it sends RequestVote,
 * and a voter behind in term updates it twice, once for the new term and once for the vote; each update
 * is a write followed by an fsync of the file and one of its directory — six fsyncs. Everything else is
 * the LAN scenario's default (jitter, timer slack, message cost): nothing here is tuned to the figures.
 */
import { makePrng } from './prng.js';
import { Simulation } from './cluster.js';
import { distribution, type Distribution } from './metrics.js';
import { LAN_ONE_WAY_MS } from './network.js';
import type { Scenario } from './scenario.js';

/** fsyncs on the critical path of one LogCabin election round: candidate 2, voter 2 + 2 (see above). */
const ELECTION_ROUND_FSYNCS = 6;

/** What the paper states about one range of Figure 16 (5 servers, ~15 ms broadcast; 1000 trials, 100 for 150–150). */
export interface PaperFigure {
  timeoutMinMs: number;
  timeoutMaxMs: number;
  /** p10 stands for "consistently": nine trials in ten took at least this long. */
  statistic: 'p10' | 'p50' | 'max' | 'mean';
  valueMs: number;
  /** The paper's sentence, abridged. */
  quote: string;
}

/** The figures §9.3 states in its text (the graphs themselves give only shapes). */
export const PAPER_FIGURES: readonly PaperFigure[] = [
  { timeoutMinMs: 150, timeoutMaxMs: 150, statistic: 'p10', valueMs: 10_000, quote: 'without randomness, consistently longer than 10 s (split votes)' },
  { timeoutMinMs: 150, timeoutMaxMs: 155, statistic: 'p50', valueMs: 287, quote: '5 ms of randomness: median downtime 287 ms' },
  { timeoutMinMs: 150, timeoutMaxMs: 200, statistic: 'max', valueMs: 513, quote: '50 ms of randomness: worst of 1000 trials 513 ms' },
  { timeoutMinMs: 12, timeoutMaxMs: 24, statistic: 'mean', valueMs: 35, quote: '12–24 ms: 35 ms on average' },
  { timeoutMinMs: 12, timeoutMaxMs: 24, statistic: 'max', valueMs: 152, quote: '12–24 ms: the longest trial took 152 ms' },
];

/** The paper's figures for one timeout range (none for most ranges). */
export function paperFiguresFor(timeoutMinMs: number, timeoutMaxMs: number): PaperFigure[] {
  return PAPER_FIGURES.filter((f) => f.timeoutMinMs === timeoutMinMs && f.timeoutMaxMs === timeoutMaxMs);
}

/**
 * A statistic of the trials as the paper would report it: a trial that gave up counts as longer than any
 * other (Infinity), so it raises p10, p50, max and the mean instead of vanishing from them.
 */
export function electionStatistic(timesMs: readonly number[], statistic: PaperFigure['statistic']): number {
  if (timesMs.length === 0) return Number.NaN;
  if (statistic === 'mean') return timesMs.reduce((a, x) => a + x, 0) / timesMs.length;
  const s = [...timesMs].sort((a, b) => a - b);
  if (statistic === 'max') return s[s.length - 1]!;
  const q = statistic === 'p10' ? 0.1 : 0.5;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export interface ElectionTimeOptions {
  servers: number;
  timeoutMinMs: number;
  timeoutMaxMs: number;
  /** Broadcast time (ms): the LAN's two one-way delays plus the disk time of an election round (see above). */
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
  const meanOneWayMs = (LAN_ONE_WAY_MS[0] + LAN_ONE_WAY_MS[1]) / 2;
  const fsyncMs = Math.max(0, opts.broadcastMs - 2 * meanOneWayMs) / ELECTION_ROUND_FSYNCS;
  const scenario: Scenario = {
    schema_version: 1,
    name: `election-time-${opts.servers}-${opts.timeoutMinMs}-${opts.timeoutMaxMs}`,
    duration_ms: Number.MAX_SAFE_INTEGER,
    // 1 ms ticks: the 12–24 ms range heartbeats every 6 ms, below the default 10 ms tick.
    tick_ms: 1,
    cluster: {
      size: opts.servers, heartbeat_interval_ms: heartbeatMs, election_timeout_ms: opts.timeoutMinMs,
      pre_vote: false, check_quorum: false, policy: { kind: 'fixed-range', min_ms: opts.timeoutMinMs, max_ms: opts.timeoutMaxMs },
    },
    network: { profile: 'lan' },
    nodes: { fsync_ms: fsyncMs },
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

