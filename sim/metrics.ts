/**
 * The run summary: what the evaluation and `raft-ns simulate` report (DESIGN.md, "Evaluation vocabulary").
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
  failovers: Failover[];
  failover_ms: Distribution;
  open_outage: { cause: string; start_ms: number } | null;
  availability: number;
  requests: { submitted: number; committed: number; pending: number };
  commit_latency_ms: Distribution;
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
  failovers: Failover[];
  openOutage: { cause: string; start_ms: number } | null;
  availability: number;
  latenciesMs: number[];
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
    failovers: m.failovers,
    failover_ms: distribution(m.failovers.map((f) => f.duration_ms)),
    open_outage: m.openOutage,
    availability: Math.round(m.availability * 1e6) / 1e6,
    requests: { submitted: m.submitted, committed: m.latenciesMs.length, pending: m.submitted - m.latenciesMs.length },
    commit_latency_ms: distribution(m.latenciesMs),
    messages: { sent: m.messagesSent, dropped: m.messagesDropped },
    committed_entries: m.committedEntries,
    telemetry_rows: m.telemetryRows,
    final_terms: m.finalTerms,
    // A violation aborts the run with SafetyViolation, so a summary that exists has none.
    safety_violations: 0,
  };
}
