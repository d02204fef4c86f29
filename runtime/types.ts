/**
 * Shapes that more than one runtime/ file needs, kept apart from the files that build or consume them so
 * that neither has to import the other: the timeout provider (runtime/timeout.ts) makes a SharedModel, the
 * batch (runtime/batch.ts) steps one; the provider takes a TimeoutObservation, its contact tracker
 * (runtime/contact.ts) reads one. Invariant: this file imports types only, and none from its users.
 */
import type { LoadedArtifact, Precision } from './artifact.js';
import type { LstmModel } from './engine.js';
import type { Role } from './rules.js';

/** A loaded model of one precision path, shareable by every node of a process. */
export interface SharedModel {
  artifact: LoadedArtifact;
  precision: Precision;
  lstm: LstmModel;
}

/** What a node sees at the end of each tick (CONTRACTS.md §7; same shape as sim/policy.ts). */
export interface TimeoutObservation {
  nowMs: number;
  tickMs: number;
  role: Role;
  term: number;
  leaderId: string | null;
  heartbeatLatencyMs: number | null;
  logReplicationGap: number;
  rpcRetries: number;
  cpuIdlePct: number;
  heartbeatReceived: boolean;
  clusterSize: number;
  peersReachable: number;
  heartbeatIntervalMs: number;
  /**
   * Optional, false when absent: the leader of this node's current term asked it for a pre-vote or vote in a
   * later term (etcd: a MsgPreVote or MsgVote from `r.lead` with a higher term, which the node ignores while
   * in its lease but does see). That leader no longer leads this term; on a FIFO link the request arrives
   * behind every heartbeat it sent before it.
   */
  leaderResigned?: boolean;
}
