/**
 * Raft messages between simulated endpoints. One object shape for every kind keeps the hot path
 * monomorphic; fields a kind does not use hold neutral values.
 */
export const PRE_VOTE = 0;
export const PRE_VOTE_RESP = 1;
export const VOTE = 2;
export const VOTE_RESP = 3;
export const APP = 4;
export const APP_RESP = 5;
export const CLIENT_REQ = 6;
export const CLIENT_RESP = 7;

export const MSG_NAMES = ['PreVote', 'PreVoteResp', 'Vote', 'VoteResp', 'App', 'AppResp', 'ClientReq', 'ClientResp'] as const;

export interface Msg {
  type: number;
  from: number;
  to: number;
  term: number;
  /** PreVote/Vote: candidate's last log index; App: prevLogIndex; AppResp: matched index (or the rejected prevLogIndex). */
  index: number;
  /** PreVote/Vote: candidate's last log term; App: prevLogTerm. */
  logTerm: number;
  /**
   * App: the entries' terms and client request ids (0 = leader no-op) are entryTerms[entryFrom + k] and
   * entryReqs[entryFrom + k] for k < entryCount: the sender's log, shared read-only; null when none.
   */
  entryTerms: Int32Array | null;
  entryReqs: Int32Array | null;
  entryFrom: number;
  entryCount: number;
  /** App: leader's commit index. */
  commit: number;
  reject: boolean;
  /** AppResp reject: follower's hint for the next probe; ClientResp: leader hint (-1 none). */
  hint: number;
  /** App: leader's send time (µs), echoed by AppResp to measure the round trip; -1 otherwise. */
  sentUs: number;
  /** App: leader's latest measured RTT to this follower (ms), echoed to followers; -1 when none. */
  rttMs: number;
  /** App: leader's last log index (followers derive their replication gap from it). */
  lastIndex: number;
  /** App: a resend after a rejection or a missed acknowledgement. */
  retry: boolean;
  /** ClientReq / ClientResp: request ids. */
  reqIds: number[] | null;
  /** ClientResp: no process answered — the connection was refused or reset (reqIds null: every request on it). */
  refused: boolean;
}

/** Handled messages are recycled (a run sends millions); see releaseMsg. */
const pool: Msg[] = [];

export function makeMsg(type: number, from: number, to: number, term: number): Msg {
  const m = pool.pop();
  if (m === undefined) {
    return {
      type, from, to, term, index: 0, logTerm: 0, entryTerms: null, entryReqs: null, entryFrom: 0, entryCount: 0, commit: 0, reject: false,
      hint: -1, sentUs: -1, rttMs: -1, lastIndex: 0, retry: false, reqIds: null, refused: false,
    };
  }
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  m.index = 0;
  m.logTerm = 0;
  m.entryTerms = null;
  m.entryReqs = null;
  m.entryFrom = 0;
  m.entryCount = 0;
  m.commit = 0;
  m.reject = false;
  m.hint = -1;
  m.sentUs = -1;
  m.rttMs = -1;
  m.lastIndex = 0;
  m.retry = false;
  m.reqIds = null;
  m.refused = false;
  return m;
}

/**
 * Returns a message nobody references any more (delivered and handled, or dropped) to the pool.
 * Invariant: receivers never keep a Msg, only the arrays it points to.
 */
export function releaseMsg(m: Msg): void {
  m.entryTerms = null;
  m.entryReqs = null;
  m.reqIds = null;
  if (pool.length < 4096) pool.push(m);
}
