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
  lostRaces: number;
  requestsCommitted: number;
  meanCommitLatencyMs: number;
}

/**
 * Why an election started, from what only the simulation knows: `spurious` — a live leader could still
 * reach a quorum and the candidate's term is above its (an unnecessary election); `startup` — no leader has been elected yet; `leader down` — no up node leads;
 * `leader cut off` — a node leads but cannot reach a quorum; `lost race` — a live leader reaches a quorum but
 * the candidate's term is no higher than its: every vote it needs went to the leader, so it can neither win
 * nor depose it (it has not heard the leader yet: on WAN, at startup or just after a failover).
 */
export type ElectionCause = 'spurious' | 'startup' | 'leader down' | 'leader cut off' | 'lost race';

/** A term increment (a node became a candidate), classified with the ground truth. */
export interface ElectionEvent {
  tMs: number;
  node: string;
  term: number;
  cause: ElectionCause;
}
