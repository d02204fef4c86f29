/**
 * What `Simulation.snapshot()` returns: the state a browser demo draws each frame (nodes, roles, terms,
 * the leader, messages in flight with their send and delivery times, active faults, running metrics).
 */
import type { RoleName } from './node.js';

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
