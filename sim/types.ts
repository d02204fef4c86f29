/**
 * Shapes sim/ files share that would otherwise make them import each other: a policy factory (sim/policy.ts)
 * receives the ground-truth view, and sim/ground-truth.ts builds that view over the nodes, which depend on
 * the policy interface. Invariant: this file imports nothing.
 */

/** The simulation's ground truth as a read-only view for policy factories (built by sim/ground-truth.ts). */
export interface GroundTruthView {
  /**
   * The leader that can serve `nodeId` now, or null when there is none: an up node leading in a term at
   * least the node's, exchanging messages both ways with it and with a quorum of up nodes. Null is what a
   * perfect failure detector reports when the leader has crashed, is cut off from the node or from a quorum,
   * or there is no leader at all. A paused leader (GC, stall) still counts: it is slow, not gone.
   */
  leaderFor(nodeId: string): string | null;
  /** Whether `nodeId` exchanges messages both ways with a quorum of up nodes (itself included): it could win. */
  reachesQuorum(nodeId: string): boolean;
  /**
   * Expected round trip (ms) of a vote from `nodeId` to the closest quorum: per reachable up peer, the
   * expected one-way delays both ways (base, fault extra and current jitter mean; no loss) plus the peer's
   * fsync (a voter persists its vote before replying, Raft Fig. 2); the (quorum − 1)-th smallest. 0 alone.
   */
  quorumRoundTripMs(nodeId: string): number;
  /** When the node's election timer last restarted (leader contact, granted vote, campaign or restart), ms. */
  electionTimerOriginMs(nodeId: string): number;
}
