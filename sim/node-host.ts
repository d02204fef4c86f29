/**
 * The contract between a Raft server (sim/node.ts) and the cluster that hosts it (sim/cluster.ts), in the manner
 * of etcd's RawNode: role and telemetry-event codes, the node's configuration, what it asks of its host
 * (`NodeHost`) and what the host may read and call (`RawNode`). The host never writes a node's state; the node
 * never reads the clock, the network or the machine except through `NodeHost`.
 */
import type { Msg } from './messages.js';
import type { TimeoutObservation, TimeoutPolicy } from './policy.js';

export const FOLLOWER = 0;
export const PRE_CANDIDATE = 1;
export const CANDIDATE = 2;
export const LEADER = 3;
export const ROLE_NAMES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Telemetry events, in the schema's enum order; a tick reports the one with the highest priority. */
export const EV_NONE = 0;
export const EV_NAMES = [null, 'term_changed', 'pre_vote_started', 'election_started', 'stepped_down', 'became_leader', 'restarted', 'crashed'] as const;
export const EV_TERM_CHANGED = 1;
export const EV_PRE_VOTE = 2;
export const EV_ELECTION = 3;
export const EV_STEPPED_DOWN = 4;
export const EV_BECAME_LEADER = 5;
export const EV_RESTARTED = 6;
export const EV_CRASHED = 7;

export interface NodeConfig {
  size: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Base election timeout (µs): check-quorum period and the vote lease. */
  electionTimeoutUs: number;
  heartbeatIntervalUs: number;
  tickUs: number;
  maxEntriesPerAppend: number;
  /** Log slots to start with (the log's arrays double when full). */
  logCapacity: number;
  /** Planted bug for the safety checker's own test: grant every vote, ignoring votedFor. */
  doubleVote: boolean;
}

/** What a node needs from the cluster around it; the `on*` calls are what it reports as they happen. */
export interface NodeHost {
  readonly nowUs: number;
  /** Sends now, or at `atUs` (after a local delay such as fsync). */
  send(m: Msg, atUs?: number): void;
  /** Arms a one-shot election check at `atUs` for `node` (ignored if the generation moved on). */
  armTimer(node: RawNode, atUs: number, gen: number): void;
  /** Queues one write (fsync) on `node`'s disk behind those already queued; returns when it is durable (µs). */
  persist(node: RawNode): number;
  onBecameLeader(node: RawNode): void;
  onElectionStarted(node: RawNode): void;
  onCommit(node: RawNode, index: number): void;
  /** The leader advanced its commit index from `previousCommit` to `node.commit` (after the `onCommit` calls). */
  onLeaderCommitted(node: RawNode, previousCommit: number): void;
  onTruncate(node: RawNode, fromIndex: number): void;
}

/** What a node saw during one telemetry tick; the host drains it once per tick. */
export interface TickReport {
  /** An AppendEntries (or heartbeat) from a leader arrived. */
  heartbeatReceived: boolean;
  /** Resent appends (leader) or appends marked as resends (follower). */
  retries: number;
  /** The highest-priority telemetry event (EV_*), EV_NONE for none. */
  event: number;
}

/**
 * The node as its host sees it, in the manner of etcd's RawNode: read-only Raft state for telemetry,
 * ground truth and snapshots, and the calls that drive it. The host never writes a node's state.
 */
export interface RawNode {
  readonly index: number;
  readonly id: string;
  readonly n: number;
  readonly quorum: number;
  readonly up: boolean;
  readonly term: number;
  readonly votedFor: number;
  readonly role: number;
  readonly leader: number;
  readonly commit: number;
  /** Entry i's term for i <= lastIndex (index 0: the sentinel, term 0); slots beyond are spare capacity. */
  readonly logTerms: Int32Array;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly policy: TimeoutPolicy;
  /** Last leader contact, granted vote, campaign start or restart (µs): the election timer's origin. */
  readonly timerBaseUs: number;
  /** Pre-vote rounds started (a metric; pre-votes do not change terms). */
  readonly preVoteRounds: number;
  /** The leader of the current term asked this node for a (pre-)vote in a later term (it gave the term up). */
  readonly leaderResigned: boolean;
  /** The report being accumulated for the current tick (what a telemetry row records before draining). */
  readonly tickReport: Readonly<TickReport>;
  step(m: Msg): void;
  tick(obs: TimeoutObservation): void;
  onTimer(gen: number): void;
  crash(): void;
  restart(policy: TimeoutPolicy): void;
  bootstrap(term: number, leader: number, logLength: number, commit: number): void;
  drainTickReport(): Readonly<TickReport>;
  peersHeardWithin(windowUs: number): number;
  replicationGap(): number;
  heartbeatLatency(): number;
}
