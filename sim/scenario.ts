/**
 * Scenario: the JSON a run is made from (schemas/scenario.schema.json is the boundary check; this file is
 * the TypeScript shape and the defaults). Node ids are `n1` … `nN`. A fault's `node` may name a node or
 * `"leader"`, resolved to the leader at the moment the fault starts (or n1 when there is none).
 */
import type { PolicySpec } from './policy.js';

export type NodeRef = string; // "n3" or "leader"

export type FaultSpec =
  | { kind: 'crash'; at_ms: number; node: NodeRef; restart_after_ms?: number }
  | { kind: 'partition'; at_ms: number; duration_ms: number; node: NodeRef; direction?: 'both' | 'outbound' | 'inbound' }
  | { kind: 'split'; at_ms: number; duration_ms: number; groups: string[][] }
  | { kind: 'degrade'; at_ms: number; duration_ms: number; nodes?: NodeRef[]; extra_latency_ms?: number; loss?: number }
  | { kind: 'jitter_burst'; at_ms: number; duration_ms: number; nodes?: NodeRef[]; jittery_mean_ms?: number }
  | { kind: 'cpu'; at_ms: number; duration_ms: number; node: NodeRef; busy_pct: number; stalls_per_s?: number; stall_mean_ms?: number }
  | { kind: 'gc_pause'; at_ms: number; node: NodeRef; pause_ms: number }
  | { kind: 'slow_disk'; at_ms: number; duration_ms: number; node: NodeRef; fsync_ms: number };

export interface JitterSpec {
  /** Mean extra one-way delay in the calm state (ms, exponential). */
  calm_mean_ms?: number;
  /** Mean extra one-way delay in the jittery state (ms, exponential). */
  jittery_mean_ms?: number;
  /** Rate at which a calm link turns jittery (per second). */
  enter_per_s?: number;
  /** Mean length of a jittery spell (ms). */
  mean_burst_ms?: number;
}

/** What a connection to a node does when the node cannot answer: fail at once, or stay silent. */
export type ConnectionFailure = 'refuse' | 'hang';

/** How the client retries (defaults follow etcd's clientv3; sim/README.md gives the sources). */
export interface ClientSpec {
  /** Wait after every round of quorum attempts of a request (ms). clientv3: defaultBackoffWaitBetween, 25 ms. */
  retry_backoff_ms?: number;
  /** The backoff is scaled by a uniform factor in [1 − f, 1 + f]. clientv3: defaultBackoffJitterFraction, 0.10. */
  retry_jitter_fraction?: number;
  /** A request neither answered nor refused within this is resent elsewhere (ms). Default 2000. */
  request_timeout_ms?: number;
  /** A node that refused a connection is not chosen again for this long (ms). clientv3's health balancer: 3000. */
  avoid_ms?: number;
  /** A crashed node's host: `refuse` (the process died, the kernel resets connections; default) or `hang` (the machine vanished). */
  crashed_node?: ConnectionFailure;
  /** A node the client cannot reach: `hang` (packets vanish; default) or `refuse` (the network reports it unreachable). */
  partitioned_node?: ConnectionFailure;
}

export interface Scenario {
  schema_version: 1;
  name: string;
  description?: string;
  duration_ms: number;
  /** Telemetry tick (ms); also the granularity of policy observations and heartbeats. */
  tick_ms?: number;
  seed?: number;
  cluster: {
    size: number;
    heartbeat_interval_ms?: number;
    /** Base election timeout T (ms): check-quorum period and the vote lease; the static policy's T. */
    election_timeout_ms?: number;
    pre_vote?: boolean;
    check_quorum?: boolean;
    policy?: PolicySpec;
    max_entries_per_append?: number;
  };
  network: {
    profile: 'lan' | 'wan';
    /** Overrides the profile: every link's base one-way delay is drawn from [lo, hi] ms. */
    one_way_ms?: [number, number];
    loss?: number;
    jitter?: JitterSpec;
  };
  nodes?: {
    /** Background CPU use (%) of a node outside Raft. */
    base_busy_pct?: number;
    /** CPU time (µs) to handle one message. */
    message_cost_us?: number;
    /** fsync latency (ms) before a follower acknowledges entries. */
    fsync_ms?: number;
    /** Mean scheduling delay (ms, exponential) between a timer's deadline and the node acting on it. */
    timer_slack_ms?: number;
  };
  workload?: {
    rate_per_s?: number;
    /** Alias of `client.request_timeout_ms` (the name before clients modelled failover); `client` wins. */
    client_timeout_ms?: number;
    arrival?: 'poisson' | 'uniform';
    client?: ClientSpec;
  };
  faults?: FaultSpec[];
}

/** A scenario with every default filled in (what the simulator actually runs and what summaries record). */
export interface ResolvedScenario {
  name: string;
  description: string;
  durationMs: number;
  tickMs: number;
  seed: number;
  size: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  preVote: boolean;
  checkQuorum: boolean;
  policy: PolicySpec;
  maxEntriesPerAppend: number;
  profile: 'lan' | 'wan';
  oneWayMs: [number, number] | null;
  loss: number;
  jitter: Required<JitterSpec>;
  baseBusyPct: number;
  messageCostUs: number;
  fsyncMs: number;
  timerSlackMs: number;
  ratePerS: number;
  client: ResolvedClient;
  arrival: 'poisson' | 'uniform';
  faults: FaultSpec[];
}

export interface ResolvedClient {
  retryBackoffMs: number;
  retryJitterFraction: number;
  requestTimeoutMs: number;
  avoidMs: number;
  crashedNode: ConnectionFailure;
  partitionedNode: ConnectionFailure;
}

/** Network profile defaults (one-way delays). LAN ≈ 0.1–1 ms; WAN: regions 30–40 ms apart (continental)
 * or 80–150 ms apart (intercontinental). */
export const PROFILE_JITTER: Record<'lan' | 'wan', Required<JitterSpec>> = {
  lan: { calm_mean_ms: 0.05, jittery_mean_ms: 8, enter_per_s: 0.02, mean_burst_ms: 300 },
  wan: { calm_mean_ms: 1, jittery_mean_ms: 60, enter_per_s: 0.02, mean_burst_ms: 500 },
};

export function resolveScenario(s: Scenario, seedOverride?: number): ResolvedScenario {
  const c = s.cluster;
  const electionTimeoutMs = c.election_timeout_ms ?? (c.policy?.kind === 'fixed-range' ? c.policy.min_ms : 1000);
  return {
    name: s.name,
    description: s.description ?? '',
    durationMs: s.duration_ms,
    tickMs: s.tick_ms ?? 10,
    seed: seedOverride ?? s.seed ?? 1,
    size: c.size,
    heartbeatIntervalMs: c.heartbeat_interval_ms ?? 100,
    electionTimeoutMs,
    preVote: c.pre_vote ?? true,
    checkQuorum: c.check_quorum ?? true,
    policy: c.policy ?? { kind: 'static-randomized', base_ms: electionTimeoutMs },
    maxEntriesPerAppend: c.max_entries_per_append ?? 256,
    profile: s.network.profile,
    oneWayMs: s.network.one_way_ms ?? null,
    loss: s.network.loss ?? 0,
    jitter: { ...PROFILE_JITTER[s.network.profile], ...(s.network.jitter ?? {}) },
    baseBusyPct: s.nodes?.base_busy_pct ?? 8,
    messageCostUs: s.nodes?.message_cost_us ?? 15,
    fsyncMs: s.nodes?.fsync_ms ?? (s.network.profile === 'lan' ? 0.3 : 1),
    timerSlackMs: s.nodes?.timer_slack_ms ?? 0.1,
    ratePerS: s.workload?.rate_per_s ?? 200,
    client: resolveClient(s.workload),
    arrival: s.workload?.arrival ?? 'poisson',
    faults: s.faults ?? [],
  };
}

function resolveClient(w: Scenario['workload']): ResolvedClient {
  const c = w?.client ?? {};
  return {
    retryBackoffMs: c.retry_backoff_ms ?? 25,
    retryJitterFraction: c.retry_jitter_fraction ?? 0.1,
    requestTimeoutMs: c.request_timeout_ms ?? w?.client_timeout_ms ?? 2000,
    avoidMs: c.avoid_ms ?? 3000,
    crashedNode: c.crashed_node ?? 'refuse',
    partitionedNode: c.partitioned_node ?? 'hang',
  };
}

/** The node id of index i (0-based). */
export function nodeIdOf(i: number): string {
  return `n${i + 1}`;
}
