/**
 * The oracle: a perfect failure detector as a timeout policy, the evaluation's physical limit
 * (docs/EVALUATION.md, "The physical limit: the oracle, capture and the latency split"). A follower campaigns as soon as the simulation's ground truth says
 * its leader is gone — crashed, cut off from it or from a quorum, or there is none — and never otherwise.
 * It reads the ground-truth view, so it runs only inside the simulator, never on a real node.
 *
 * It is not a strict lower bound on latency: it never moves leadership away from a live leader, so a policy
 * whose spurious elections happen to land the leader closer to the client, or away from a jittery node,
 * can beat it (docs/EVALUATION.md, "The physical limit").
 */
import type { GroundTruthView } from './ground-truth.js';
import type { TimeoutObservation, TimeoutPolicy } from './policy.js';
import type { Prng } from './prng.js';

export interface OracleOptions {
  /**
   * Floor of the election window W = max(windowFloorMs, 2 × the true vote round trip to a quorum): the first
   * campaign after a loss waits U[0, W), a retry U[1, 2) × W. W is what an election needs (a pre-vote and a
   * vote round); campaigns spread over less split the vote (Raft §9.3: randomization ≫ broadcast time).
   */
  windowFloorMs: number;
}

export const ORACLE_DEFAULTS: OracleOptions = { windowFloorMs: 50 };

/**
 * The node campaigns when now − timer origin ≥ electionTimeoutMs(); the oracle keeps an absolute campaign
 * time and returns it relative to the node's timer origin, so the node's precise timer fires exactly then
 * (not at the next tick boundary, where every follower would meet again), and +∞ while a leader serves.
 * @example new Simulation(scenario, { policyFactory: (id, rng, truth) => new OracleTimeout(id, truth!, rng) })
 */
export class OracleTimeout implements TimeoutPolicy {
  /** Absolute time (ms) of the next campaign; NaN while a leader serves this node. */
  private campaignAtMs = Number.NaN;
  /** Whether the node has campaigned since this loss was noticed. */
  private campaigned = false;
  /** The node's timer origin at the last observation. */
  private originMs = Number.NaN;
  private timeoutMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly nodeId: string,
    private readonly truth: GroundTruthView,
    private readonly rng: Prng,
    private readonly opts: OracleOptions = ORACLE_DEFAULTS,
  ) {}

  observe(o: TimeoutObservation): void {
    // A node that cannot reach a quorum could not win; campaigning there only adds pre-vote traffic.
    if (o.role === 'leader' || this.truth.leaderFor(this.nodeId) !== null || !this.truth.reachesQuorum(this.nodeId)) {
      this.campaignAtMs = Number.NaN;
      this.campaigned = false;
      this.timeoutMs = Number.POSITIVE_INFINITY;
      return;
    }
    const origin = this.truth.electionTimerOriginMs(this.nodeId);
    const following = o.role === 'follower' && o.leaderId !== null;
    if (Number.isNaN(this.campaignAtMs) || (this.campaigned && following)) {
      // News of the loss: the first tick that knows it, or a message the lost leader sent before the loss
      // pulled the node back under it after its campaign — its candidacy is over, and while it believes in
      // that leader it ignores everyone else's votes (the check-quorum lease), so waiting helps nobody.
      this.campaignAtMs = o.nowMs + this.rng.uniform(0, this.windowMs());
      this.campaigned = false;
    } else if (origin > this.originMs && (origin >= this.campaignAtMs || !o.heartbeatReceived)) {
      // The timer restarted since: this node campaigned, or granted a vote. Either way an election is in
      // flight; campaigning again before it can finish would only bump the term under it. (A heartbeat the
      // lost leader sent before the loss restarts it too; that changes nothing here.)
      if (origin >= this.campaignAtMs) this.campaigned = true;
      this.campaignAtMs = Math.max(this.campaignAtMs, origin + this.rng.uniform(1, 2) * this.windowMs());
    }
    this.originMs = origin;
    this.timeoutMs = this.campaignAtMs - origin;
  }

  electionTimeoutMs(): number {
    return this.timeoutMs;
  }

  private windowMs(): number {
    return Math.max(this.opts.windowFloorMs, 2 * this.truth.quorumRoundTripMs(this.nodeId));
  }
}
