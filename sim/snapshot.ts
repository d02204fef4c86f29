/**
 * What `Simulation.snapshot()` returns: the state a browser demo draws each frame (nodes, roles, terms,
 * the leader, messages in flight with their send and delivery times, active faults, running metrics);
 * and the election events `SimulationOptions.onElection` receives.
 */
import type { RoleName } from './node-host.js';

export interface NodeSnapshot {
  id: string;
  up: boolean;
  paused: boolean;
  role: RoleName;
  term: number;
  leaderId: string | null;
  votedFor: string | null;
  commitIndex: number;
  lastIndex: number;
  electionTimeoutMs: number;
  msSinceLeaderContact: number;
  cpuLoadPct: number;
  region: number;
}

export interface MessageSnapshot {
  type: string;
  from: string;
  to: string;
  term: number;
  sentMs: number;
  deliverMs: number;
  entries: number;
}

export interface ClusterSnapshot {
  nowMs: number;
  nodes: NodeSnapshot[];
  leaderId: string | null;
  leaderAlive: boolean;
  leaderQuorumConnected: boolean;
  messagesInFlight: MessageSnapshot[];
  activeFaults: string[];
  links: { latencyScale: number; jitterMs: number; loss: number };
  committedEntries: number;
  elections: number;
  unnecessaryElections: number;
  requestsCommitted: number;
  meanCommitLatencyMs: number;
}

/**
 * Why an election started, from what only the simulation knows: `spurious` — a live leader could still
 * reach a quorum; `startup` — no leader has been elected yet; `leader down` — no up node leads;
 * `leader cut off` — a node leads but cannot reach a quorum.
 */
export type ElectionCause = 'spurious' | 'startup' | 'leader down' | 'leader cut off';

/** A term increment (a node became a candidate), classified with the ground truth. */
export interface ElectionEvent {
  tMs: number;
  node: string;
  term: number;
  cause: ElectionCause;
}
