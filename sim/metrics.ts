/**
 * The run summary: what the evaluation and `raft-ns simulate` report (docs/EVALUATION.md, "What runs").
 * Percentiles use the nearest-rank method on sorted values, so they are actual observed latencies.
 */
import type { ResolvedScenario } from './scenario.js';

export interface Failover {
  /** What started the outage: leader-crash, leader-isolation, or leader-lost (deposed or cut off otherwise). */
  cause: string;
  start_ms: number;
  end_ms: number;
  /** Leader crash or isolation → first commit under a leader of a later term. */
  duration_ms: number;
}

export interface Distribution {
  count: number;
  mean: number | null;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface RunSummary {
  scenario: ResolvedScenario;
  cluster_id: string;
  seed: number;
  simulated_ms: number;
  elections: number;
  pre_vote_rounds: number;
  leader_changes: number;
  unnecessary_elections: number;
  /** Candidacies that could not depose the live leader: its term or an older one (ElectionCause 'lost race'). */
  lost_races: number;
  failovers: Failover[];
  failover_ms: Distribution;
  open_outage: { cause: string; start_ms: number } | null;
  availability: number;
  requests: { submitted: number; committed: number; pending: number };
  commit_latency_ms: Distribution;
  /** Each committed request's latency split in two (per request, they sum to its latency): the part spent
   * while a leader could commit, and the part spent while none could (downtime-attributable, the part a
   * timeout policy can change). */
  commit_latency_with_leader_ms: Distribution;
  commit_latency_downtime_ms: Distribution;
  messages: { sent: number; dropped: number };
  committed_entries: number;
  telemetry_rows: number;
  final_terms: number[];
  safety_violations: number;
}

export interface RawMetrics {
  clusterId: string;
  simulatedMs: number;
  elections: number;
  preVoteRounds: number;
  leaderChanges: number;
  unnecessaryElections: number;
  lostRaces: number;
  failovers: Failover[];
  openOutage: { cause: string; start_ms: number } | null;
  availability: number;
  latenciesMs: number[];
  /** latenciesMs split per request (splitLatencies), in the same order. */
  latencySplitMs: { withLeader: number[]; downtime: number[] };
  submitted: number;
  messagesSent: number;
  messagesDropped: number;
  committedEntries: number;
  telemetryRows: number;
  finalTerms: number[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[k]!;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, mean: null, min: null, p50: null, p90: null, p99: null, max: null };
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    count: s.length, mean: r(sum / s.length), min: r(s[0]!), p50: r(percentile(s, 0.5)), p90: r(percentile(s, 0.9)),
    p99: r(percentile(s, 0.99)), max: r(s[s.length - 1]!),
  };
}

export function summarize(cfg: ResolvedScenario, m: RawMetrics): RunSummary {
  return {
    scenario: cfg,
    cluster_id: m.clusterId,
    seed: cfg.seed,
    simulated_ms: m.simulatedMs,
    elections: m.elections,
    pre_vote_rounds: m.preVoteRounds,
    leader_changes: m.leaderChanges,
    unnecessary_elections: m.unnecessaryElections,
    lost_races: m.lostRaces,
    failovers: m.failovers,
    failover_ms: distribution(m.failovers.map((f) => f.duration_ms)),
    open_outage: m.openOutage,
    availability: Math.round(m.availability * 1e6) / 1e6,
    requests: { submitted: m.submitted, committed: m.latenciesMs.length, pending: m.submitted - m.latenciesMs.length },
    commit_latency_ms: distribution(m.latenciesMs),
    commit_latency_with_leader_ms: distribution(m.latencySplitMs.withLeader),
    commit_latency_downtime_ms: distribution(m.latencySplitMs.downtime),
    messages: { sent: m.messagesSent, dropped: m.messagesDropped },
    committed_entries: m.committedEntries,
    telemetry_rows: m.telemetryRows,
    final_terms: m.finalTerms,
    // A violation aborts the run with SafetyViolation, so a summary that exists has none.
    safety_violations: 0,
  };
}

/**
 * Splits each completed request's latency [submit, done] into the time no leader could commit (its overlap
 * with the downtime intervals) and the rest. Requests are in submission order; those with done < 0 are
 * pending and skipped, as in Client.latenciesMs. Downtime intervals [starts[k], ends[k]) are sorted and
 * disjoint; a last start without an end is open until `nowUs`. Prefix sums of the interval lengths and a
 * binary search give the downtime before any instant, so the split costs O((n + m) log m).
 */
export function splitLatencies(
  submitUs: ArrayLike<number>, doneUs: ArrayLike<number>, starts: readonly number[], ends: readonly number[], nowUs: number,
): { withLeader: number[]; downtime: number[] } {
  const m = starts.length;
  const endOf = (k: number): number => (k < ends.length ? ends[k]! : nowUs);
  const before = new Float64Array(m + 1); // before[k]: total downtime of intervals 0..k-1
  for (let k = 0; k < m; k++) before[k + 1] = before[k]! + (endOf(k) - starts[k]!);
  /** Downtime in [0, t]: the intervals wholly before the last start ≤ t, plus that one's part up to t. */
  const downBefore = (t: number): number => {
    let lo = 0;
    let hi = m; // first start > t
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const k = lo - 1;
    return k < 0 ? 0 : before[k]! + Math.min(t, endOf(k)) - starts[k]!;
  };
  const withLeader: number[] = [];
  const downtime: number[] = [];
  for (let i = 0; i < submitUs.length; i++) {
    const done = doneUs[i]!;
    if (done < 0) continue;
    const down = downBefore(done) - downBefore(submitUs[i]!);
    downtime.push(down / 1000);
    withLeader.push((done - submitUs[i]! - down) / 1000);
  }
  return { withLeader, downtime };
}
