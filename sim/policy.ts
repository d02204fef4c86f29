/**
 * The election-timeout policy interface (docs/CONTRACTS.md §7), shared by the simulator and the runtime
 * engine (which satisfies it structurally), plus the two static built-ins every learned policy is judged
 * against. A node campaigns when `nowMs − lastLeaderContactMs ≥ policy.electionTimeoutMs()`; randomization,
 * if any, is the policy's job, so the built-ins draw from a Prng passed in (never the global random number generator).
 */
import type { GroundTruthView } from './types.js';
import type { Prng } from './prng.js';

/**
 * What a real node sees at the end of each tick. The simulator reuses one object per node and refills it
 * at the node's next tick: a policy reads it during willObserve/observe, and copies what it keeps longer.
 */
export interface TimeoutObservation {
  nowMs: number; tickMs: number;
  role: 'follower' | 'pre-candidate' | 'candidate' | 'leader';
  term: number; leaderId: string | null;
  heartbeatLatencyMs: number | null; logReplicationGap: number; rpcRetries: number; cpuIdlePct: number;
  heartbeatReceived: boolean;
  clusterSize: number; peersReachable: number;   // peers this node heard from within the last election timeout
  heartbeatIntervalMs: number;
  /**
   * The leader of this node's current term asked it for a (pre-)vote in a later term: it gave the term up.
   * Optional as in runtime/types.ts (false when absent); the simulator always sets it.
   */
  leaderResigned?: boolean;
}

export interface TimeoutPolicy {
  observe(o: TimeoutObservation): void;  // every tick, before the node decides whether to campaign
  electionTimeoutMs(): number;           // the timeout to arm now, measured from the last leader contact
  /**
   * Optional: this tick's observation ahead of observe(o) (the same object). The simulator gives it to every
   * node's policy before any node ticks, so the nodes' models can step in one batch (runtime/batch.ts). A
   * policy must compute the same timeouts with it as without; one whose observe reads more than `o` (the
   * oracle) must not have it.
   */
  willObserve?(o: TimeoutObservation): void;
}

/**
 * Makes the policy of one node. `rng` is that node's own stream: identical across policies for a seed.
 * `truth` is the simulation's read-only ground truth (sim/ground-truth.ts), for the evaluation's oracle
 * only; it is absent outside the simulator, and a policy meant for real nodes must not need it.
 */
export type PolicyFactory = (nodeId: string, rng: Prng, truth?: GroundTruthView) => TimeoutPolicy;

/**
 * A timeout drawn uniformly from [lo, hi) and held until the node's term or role changes, as etcd's
 * `resetRandomizedElectionTimeout` does on every `reset(term)`. Redrawing on each call instead would make
 * the effective timeout the minimum of many draws.
 */
class HeldRandomTimeout implements TimeoutPolicy {
  private term = -1;
  private role = '';
  private timeoutMs: number;
  constructor(private readonly loMs: number, private readonly hiMs: number, private readonly rng: Prng) {
    this.timeoutMs = this.draw();
  }
  observe(o: TimeoutObservation): void {
    if (o.term !== this.term || o.role !== this.role) {
      this.term = o.term;
      this.role = o.role;
      this.timeoutMs = this.draw();
    }
  }
  electionTimeoutMs(): number {
    return this.timeoutMs;
  }
  private draw(): number {
    return this.hiMs > this.loMs ? this.rng.uniform(this.loMs, this.hiMs) : this.loMs;
  }
}

/**
 * etcd style: election timeout randomized in [T, 2T) (etcd's default T = 1000 ms with 100 ms heartbeats).
 * @example const p = staticRandomizedTimeout(1000, makePrng(7));
 */
export function staticRandomizedTimeout(baseMs: number, rng: Prng): TimeoutPolicy {
  return new HeldRandomTimeout(baseMs, 2 * baseMs, rng);
}

/**
 * Raft paper style: uniform in [min, max] (the paper recommends 150–300 ms). min = max means no randomness,
 * which the election-time experiment uses to reproduce repeated split votes.
 */
export function fixedRangeTimeout(minMs: number, maxMs: number, rng: Prng): TimeoutPolicy {
  return new HeldRandomTimeout(minMs, maxMs, rng);
}

/** The policy named in a scenario's `cluster.policy`. */
export type PolicySpec = { kind: 'static-randomized'; base_ms: number } | { kind: 'fixed-range'; min_ms: number; max_ms: number };

export function policyFactoryFromSpec(spec: PolicySpec): PolicyFactory {
  if (spec.kind === 'static-randomized') return (_id, rng) => staticRandomizedTimeout(spec.base_ms, rng);
  return (_id, rng) => fixedRangeTimeout(spec.min_ms, spec.max_ms, rng);
}
