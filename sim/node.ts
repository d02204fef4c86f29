/**
 * One Raft server (Ongaro & Ousterhout 2014, with etcd's pre-vote and check-quorum). Sans-IO in etcd's
 * style: the node owns Raft state only, no clock, no timers and no machine. The host drives it through
 * `RawNode` (sim/node-host.ts): `step(msg)` on delivery, `tick(observation)` at the end of each telemetry tick,
 * `onTimer`, `crash`/`restart`, and `drainTickReport()` for what the node saw during the tick (etcd's
 * Ready/Advance). The node asks its host (`NodeHost`) for the time, to send, to arm a timer and when a
 * disk write is durable; the host's CPU, pauses and disk queue live in sim/machine.ts. Role behaviour is one function per
 * role message family; `become*` switch roles. The election timer is the policy's (docs/CONTRACTS.md §7):
 * a node campaigns when now − timerBase ≥ policy.electionTimeoutMs().
 */
import {
  APP, APP_RESP, CLIENT_REQ, CLIENT_RESP, PRE_VOTE, PRE_VOTE_RESP, VOTE, VOTE_RESP, makeMsg, type Msg,
} from './messages.js';
import type { TimeoutObservation, TimeoutPolicy } from './policy.js';
import {
  CANDIDATE, EV_BECAME_LEADER, EV_CRASHED, EV_ELECTION, EV_NONE, EV_PRE_VOTE, EV_RESTARTED, EV_STEPPED_DOWN, EV_TERM_CHANGED,
  FOLLOWER, LEADER, PRE_CANDIDATE, type NodeConfig, type NodeHost, type RawNode, type TickReport,
} from './node-host.js';
import { grown } from './grown.js';
import { roundUs } from './round.js';

export class RaftNode implements RawNode {
  readonly n: number;
  readonly quorum: number;
  up = true;

  // Persistent state (survives a crash).
  term = 0;
  votedFor = -1;
  /**
   * The log: entry i's term and client request id (0 = leader no-op) are logTerms[i] and logReqs[i] for
   * i <= lastIndex; index 0 is a sentinel (term 0), slots beyond lastIndex are spare capacity (typed arrays
   * of NodeConfig.logCapacity slots, doubled when full: a JS array's push costs several times more once it
   * is tens of thousands long).
   * Invariants: both arrays have the same length; an entry at or below lastIndex is never overwritten in
   * place (appends in flight read their entries from these arrays), so growing, a truncation or a
   * bootstrap replaces the arrays.
   */
  logTerms: Int32Array;
  logReqs: Int32Array;
  /** Entries held, the sentinel included: lastIndex + 1. */
  private logLength = 1;
  /** Term or vote changed since they were last written: the next message that depends on them waits for a write. */
  private hardStateDirty = false;
  /** When the latest term and vote are on disk (µs). */
  private hardStateDurableUs = 0;

  // Volatile state.
  role = FOLLOWER;
  leader = -1;
  commit = 0;
  /** Last leader contact or campaign start (µs): the election timer's origin. */
  timerBaseUs = 0;
  private timerGen = 0;
  private timerArmed = false;
  private votes: Int8Array;
  readonly next: Int32Array;
  readonly match: Int32Array;
  /** Last time any message from each peer arrived (µs; -inf never). */
  readonly lastHeardUs: Float64Array;
  /** Leader: latest measured RTT to each follower (ms; -1 none). */
  readonly rttMs: Float64Array;
  private lastHeartbeatUs = 0;
  /** Leader: when the last check-quorum ran; the next one counts the peers heard from since then. */
  private lastCheckQuorumUs = 0;
  /**
   * Leader: the time of the ticks this node processed since that check (µs). etcd counts check-quorum in
   * ticks (`electionElapsed`), and a paused process misses its ticks, so a leader that resumes from a GC
   * pause checks a whole period after its last check in ticks, not at once: it keeps leading when its
   * followers answered it in between, as etcd's leader does.
   */
  private checkQuorumElapsedUs = 0;
  /**
   * Leader: the first index it appended in this term. Invariant: the client requests it still owes an
   * answer are logReqs[i] for i in [max(pendingFrom, commit + 1), lastIndex] where logReqs[i] !== 0 (a
   * leader only appends, each request once at its index, and answers in index order as the commit index
   * passes them); +inf when it owes none. Reads happen only while it leads.
   */
  private pendingFrom = Number.POSITIVE_INFINITY;
  private readonly scratch: Int32Array;

  // Telemetry: the tick's report (double-buffered, so a drained report stays valid until the next drain).
  private report: TickReport = { heartbeatReceived: false, retries: 0, event: EV_NONE };
  private spareReport: TickReport = { heartbeatReceived: false, retries: 0, event: EV_NONE };
  private hbLatencyMs = -1;
  private leaderLastIndex = 0;
  private preVoteCount = 0;
  /** The term whose leader asked this node for a (pre-)vote in a later term (−1: none since the restart). */
  private resignedTerm = -1;

  constructor(
    readonly index: number,
    readonly id: string,
    private readonly cfg: NodeConfig,
    private readonly host: NodeHost,
    public policy: TimeoutPolicy,
  ) {
    this.n = cfg.size;
    this.quorum = Math.floor(cfg.size / 2) + 1;
    this.votes = new Int8Array(this.n);
    this.next = new Int32Array(this.n);
    this.match = new Int32Array(this.n);
    this.lastHeardUs = new Float64Array(this.n).fill(Number.NEGATIVE_INFINITY);
    this.rttMs = new Float64Array(this.n).fill(-1);
    this.scratch = new Int32Array(this.n);
    this.logTerms = new Int32Array(Math.max(1, cfg.logCapacity));
    this.logReqs = new Int32Array(Math.max(1, cfg.logCapacity));
  }

  get lastIndex(): number {
    return this.logLength - 1;
  }
  get lastTerm(): number {
    return this.logTerms[this.logLength - 1]!;
  }

  /** The leader of the current term asked this node for a (pre-)vote in a later term (it gave the term up). */
  get leaderResigned(): boolean {
    return this.resignedTerm === this.term;
  }
  get preVoteRounds(): number {
    return this.preVoteCount;
  }
  get tickReport(): Readonly<TickReport> {
    return this.report;
  }

  /**
   * Hands out the tick's report and starts a new one. A down node writes only its crash row: draining it
   * clears the event and keeps the counters of the tick it crashed in, which its first row after a
   * restart still reports.
   */
  drainTickReport(): Readonly<TickReport> {
    const out = this.report;
    const next = this.spareReport;
    next.heartbeatReceived = this.up ? false : out.heartbeatReceived;
    next.retries = this.up ? 0 : out.retries;
    next.event = EV_NONE;
    this.report = next;
    this.spareReport = out;
    return out;
  }

  private noteEvent(code: number): void {
    if (code > this.report.event) this.report.event = code;
  }

  // ---- lifecycle -------------------------------------------------------------------------------------

  crash(): void {
    if (this.role === LEADER) this.abandonClients();
    this.up = false;
    this.role = FOLLOWER;
    this.leader = -1;
    this.commit = 0;
    this.pendingFrom = Number.POSITIVE_INFINITY;
    this.cancelTimer();
    this.noteEvent(EV_CRASHED);
  }

  /** Restart from persistent state (term, vote, log) with fresh volatile state and a fresh policy. */
  restart(policy: TimeoutPolicy): void {
    const now = this.host.nowUs;
    this.up = true;
    this.policy = policy;
    this.role = FOLLOWER;
    this.leader = -1;
    this.commit = 0;
    this.timerBaseUs = now;
    this.hardStateDirty = false;
    this.hardStateDurableUs = now;
    this.lastHeardUs.fill(Number.NEGATIVE_INFINITY);
    this.rttMs.fill(-1);
    this.hbLatencyMs = -1;
    this.resignedTerm = -1;
    this.noteEvent(EV_RESTARTED);
  }

  /**
   * Puts the node straight into a settled state for experiments: term `term`, a log of `logLength` entries
   * of that term, following (or being) `leader`, with commit index min(`commit`, `logLength`).
   */
  bootstrap(term: number, leader: number, logLength: number, commit: number): void {
    this.term = term;
    this.votedFor = leader;
    this.leader = leader;
    const capacity = Math.max(this.cfg.logCapacity, logLength + 1);
    this.logTerms = new Int32Array(capacity).fill(term, 1, logLength + 1);
    this.logReqs = new Int32Array(capacity);
    this.logLength = logLength + 1;
    this.commit = Math.min(commit, logLength);
    this.timerBaseUs = this.host.nowUs;
    this.role = leader === this.index ? LEADER : FOLLOWER;
    this.pendingFrom = this.role === LEADER ? logLength + 1 : Number.POSITIVE_INFINITY;
    if (this.role === LEADER) {
      // The leader believes every follower is in step, so heartbeats carry no entries and the logs keep
      // their different lengths (some servers stay ineligible, as in the paper's setup).
      for (let p = 0; p < this.n; p++) {
        this.match[p] = logLength;
        this.next[p] = logLength + 1;
        this.lastHeardUs[p] = this.host.nowUs;
      }
      this.lastHeartbeatUs = Number.NEGATIVE_INFINITY;
      this.lastCheckQuorumUs = this.host.nowUs;
      this.checkQuorumElapsedUs = 0;
    }
  }

  // ---- time ------------------------------------------------------------------------------------------

  /** End of a tick: leader duties, then the policy observes, then the follower decides whether to campaign. */
  tick(obs: TimeoutObservation): void {
    const now = this.host.nowUs;
    if (this.role === LEADER) {
      if (now - this.lastHeartbeatUs >= this.cfg.heartbeatIntervalUs) this.bcastHeartbeat();
      this.checkQuorumElapsedUs += this.cfg.tickUs;
      if (this.cfg.checkQuorum && this.checkQuorumElapsedUs >= this.cfg.electionTimeoutUs) {
        // Check-quorum (etcd's MsgCheckQuorum): a leader that heard from no quorum since its last check steps
        // down; "since" is etcd's RecentActive, reset at every check.
        const sinceUs = this.lastCheckQuorumUs;
        this.lastCheckQuorumUs = now;
        this.checkQuorumElapsedUs = 0;
        if (this.peersHeardWithin(now - sinceUs) + 1 < this.quorum) this.becomeFollower(this.term, -1);
      }
    }
    this.policy.observe(obs);
    if (this.role === LEADER) return;
    this.checkElectionTimer(now + this.cfg.tickUs);
  }

  /**
   * Campaigns if the timer has expired; otherwise arms a precise timer if it expires before `horizonUs`.
   * An armed timer owns the decision until it fires, so campaigns are not quantized to (cluster-aligned)
   * tick boundaries.
   */
  private checkElectionTimer(horizonUs: number): void {
    if (this.timerArmed) return;
    const now = this.host.nowUs;
    const deadlineUs = this.timerBaseUs + roundUs(this.policy.electionTimeoutMs() * 1000);
    if (deadlineUs <= now) this.campaign();
    else if (deadlineUs < horizonUs) {
      this.timerArmed = true;
      this.host.armTimer(this, deadlineUs, this.timerGen);
    }
  }

  /** A timer armed by `checkElectionTimer` fired (at or after its deadline); the deadline may have moved. */
  onTimer(gen: number): void {
    if (gen !== this.timerGen) return;
    this.timerArmed = false;
    if (this.role === LEADER || !this.up) return;
    this.checkElectionTimer(this.host.nowUs + this.cfg.tickUs);
  }

  private cancelTimer(): void {
    this.timerGen++;
    this.timerArmed = false;
  }

  peersHeardWithin(windowUs: number): number {
    const since = this.host.nowUs - windowUs;
    let k = 0;
    for (let p = 0; p < this.n; p++) if (p !== this.index && this.lastHeardUs[p]! >= since) k++;
    return k;
  }

  private campaign(): void {
    if (this.cfg.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  // ---- role transitions ------------------------------------------------------------------------------

  private becomeFollower(term: number, leader: number): void {
    if (term !== this.term) {
      this.term = term;
      this.votedFor = -1;
      this.hardStateDirty = true;
      // The timer is not reset here: only leader contact or a granted vote resets it (Raft paper, Fig. 2).
      // Resetting on every term change would lock rival candidates into step with each other.
      this.noteEvent(EV_TERM_CHANGED);
    }
    if (this.role === LEADER) {
      this.noteEvent(EV_STEPPED_DOWN);
      this.abandonClients();
    }
    this.role = FOLLOWER;
    this.leader = leader;
    this.cancelTimer();
  }

  private becomePreCandidate(): void {
    this.role = PRE_CANDIDATE;
    this.leader = -1;
    this.timerBaseUs = this.host.nowUs;
    this.cancelTimer();
    this.votes.fill(0);
    this.votes[this.index] = 1;
    this.noteEvent(EV_PRE_VOTE);
    this.preVoteCount++;
    if (this.quorum === 1) return this.becomeCandidate();
    const sendUs = this.hardStateDurableAtUs();
    for (let p = 0; p < this.n; p++) {
      if (p === this.index) continue;
      // Pre-vote asks "would you vote for me in term+1?" without touching anyone's term.
      const m = makeMsg(PRE_VOTE, this.index, p, this.term + 1);
      m.index = this.lastIndex;
      m.logTerm = this.lastTerm;
      this.host.send(m, sendUs);
    }
  }

  private becomeCandidate(): void {
    this.term++;
    this.votedFor = this.index;
    this.hardStateDirty = true;
    this.role = CANDIDATE;
    this.leader = -1;
    this.timerBaseUs = this.host.nowUs;
    this.cancelTimer();
    this.votes.fill(0);
    this.votes[this.index] = 1;
    this.noteEvent(EV_ELECTION);
    this.host.onElectionStarted(this);
    if (this.quorum === 1) return this.becomeLeader();
    // Raft Fig. 2: currentTerm and votedFor reach stable storage before the node sends RequestVote. The
    // timer already runs from the campaign start, so this write is what keeps rival candidates that time
    // out within it from learning of this one in time (the split-vote window of §9.3).
    const sendUs = this.hardStateDurableAtUs();
    for (let p = 0; p < this.n; p++) {
      if (p === this.index) continue;
      const m = makeMsg(VOTE, this.index, p, this.term);
      m.index = this.lastIndex;
      m.logTerm = this.lastTerm;
      this.host.send(m, sendUs);
    }
  }

  private becomeLeader(): void {
    const now = this.host.nowUs;
    this.role = LEADER;
    this.leader = this.index;
    this.cancelTimer();
    const last = this.lastIndex;
    this.next.fill(last + 1);
    this.match.fill(0);
    this.rttMs.fill(-1);
    this.lastHeartbeatUs = now;
    this.lastCheckQuorumUs = now;
    this.checkQuorumElapsedUs = 0;
    this.noteEvent(EV_BECAME_LEADER);
    this.host.onBecameLeader(this);
    this.pendingFrom = last + 1;
    // A no-op entry of the new term lets the leader commit entries of earlier terms (Raft §5.4.2).
    this.appendLocal(0);
    for (let p = 0; p < this.n; p++) if (p !== this.index) this.sendAppend(p, false);
  }

  // ---- message handling ------------------------------------------------------------------------------

  step(m: Msg): void {
    const now = this.host.nowUs;
    if (m.from < this.n) this.lastHeardUs[m.from] = now;
    if (m.type === CLIENT_REQ) return this.handleClientReq(m);
    // Seen before the lease test drops it: the leader of this term asking for votes in a later one.
    if ((m.type === PRE_VOTE || m.type === VOTE) && m.from === this.leader && m.term > this.term) this.resignedTerm = this.term;
    if (m.term > this.term) {
      if ((m.type === PRE_VOTE || m.type === VOTE) && this.inLease(now)) return; // check-quorum lease: ignore disruptors
      if (m.type === PRE_VOTE || (m.type === PRE_VOTE_RESP && !m.reject)) {
        // Never change term for a pre-vote or a granted pre-vote response (it carries the future term).
      } else {
        this.becomeFollower(m.term, m.type === APP ? m.from : -1);
      }
    } else if (m.term < this.term) {
      // Tell a stale leader or pre-candidate about the newer term so it steps back.
      if (m.type === APP) this.respond(APP_RESP, m, true, 0, -1);
      else if (m.type === PRE_VOTE) this.respond(PRE_VOTE_RESP, m, true, 0, -1);
      return;
    }
    switch (m.type) {
      case PRE_VOTE:
      case VOTE:
        return this.handleVoteRequest(m);
      case PRE_VOTE_RESP:
        if (this.role === PRE_CANDIDATE) this.tally(m);
        return;
      case VOTE_RESP:
        if (this.role === CANDIDATE) this.tally(m);
        return;
      case APP:
        return this.handleAppend(m);
      case APP_RESP:
        if (this.role === LEADER) this.handleAppendResp(m);
        return;
      default:
        return;
    }
  }

  /**
   * Leader lease: with check-quorum on, a node that heard from a leader within the base timeout ignores
   * higher-term (pre-)votes. A leader is always in its own lease: etcd's `inLease` reads
   * `r.lead != None && r.electionElapsed < r.electionTimeout`, and a leader's tickHeartbeat zeroes
   * electionElapsed each time it reaches electionTimeout (the check-quorum period), so the test never
   * fails while it leads; check-quorum, not a vote request, is what deposes it.
   */
  private inLease(now: number): boolean {
    if (!this.cfg.checkQuorum) return false;
    if (this.role === LEADER) return true;
    return this.leader !== -1 && now - this.timerBaseUs < this.cfg.electionTimeoutUs;
  }

  private handleVoteRequest(m: Msg): void {
    const pre = m.type === PRE_VOTE;
    // Raft §5.4.1: grant only to a candidate whose log is at least as up-to-date as ours.
    const upToDate = m.logTerm > this.lastTerm || (m.logTerm === this.lastTerm && m.index >= this.lastIndex);
    const canVote =
      this.cfg.doubleVote ||
      this.votedFor === m.from ||
      (this.votedFor === -1 && this.leader === -1) ||
      (pre && m.term > this.term);
    const grant = canVote && upToDate;
    const r = makeMsg(pre ? PRE_VOTE_RESP : VOTE_RESP, this.index, m.from, grant ? m.term : this.term);
    r.reject = !grant;
    if (grant && !pre) {
      if (this.votedFor !== m.from) this.hardStateDirty = true;
      this.votedFor = m.from;
      this.timerBaseUs = this.host.nowUs;
    }
    // Raft Fig. 2: a voter writes its term and vote before it answers (a vote forgotten in a crash could be
    // given twice); a pre-vote changes neither, so it waits only for a write already under way.
    this.host.send(r, this.hardStateDurableAtUs());
  }

  private tally(m: Msg): void {
    if (m.type === PRE_VOTE_RESP && !m.reject && m.term !== this.term + 1) return; // a stale round
    this.votes[m.from] = m.reject ? -1 : 1;
    let granted = 0;
    let rejected = 0;
    for (let p = 0; p < this.n; p++) {
      if (this.votes[p] === 1) granted++;
      else if (this.votes[p] === -1) rejected++;
    }
    if (granted >= this.quorum) {
      if (this.role === PRE_CANDIDATE) this.becomeCandidate();
      else this.becomeLeader();
    } else if (rejected > this.n - this.quorum) {
      this.becomeFollower(this.term, -1);
    }
  }

  private handleAppend(m: Msg): void {
    const now = this.host.nowUs;
    if (this.role !== FOLLOWER) this.becomeFollower(m.term, m.from);
    this.leader = m.from;
    this.timerBaseUs = now;
    this.report.heartbeatReceived = true;
    this.leaderLastIndex = m.lastIndex;
    if (m.rttMs >= 0) this.hbLatencyMs = m.rttMs;
    if (m.retry) this.report.retries++;
    if (m.index < this.commit) {
      // Everything up to our commit index is already settled; report it as matched.
      this.respond(APP_RESP, m, false, this.commit, -1);
      return;
    }
    if (m.index > this.lastIndex || this.logTerms[m.index] !== m.logTerm) {
      this.respond(APP_RESP, m, true, m.index, this.conflictHint(Math.min(m.index - 1, this.lastIndex), m.logTerm));
      return;
    }
    const terms = m.entryTerms;
    const reqs = m.entryReqs;
    const len = terms === null ? 0 : m.entryCount;
    const from = m.entryFrom;
    let k = 0;
    for (; k < len; k++) {
      const idx = m.index + 1 + k;
      if (idx > this.lastIndex) break;
      if (this.logTerms[idx] !== terms![from + k]) {
        this.host.onTruncate(this, idx);
        // New arrays, not a cut in place: appends this node sent while it led may still be in flight, and
        // they read their entries from these arrays (sendAppend).
        this.resizeLog(idx, this.logTerms.length);
        break;
      }
    }
    for (; k < len; k++) this.appendEntry(terms![from + k]!, reqs![from + k]!);
    const newLast = m.index + len;
    if (m.commit > this.commit) this.setCommit(Math.min(m.commit, newLast));
    const r = makeMsg(APP_RESP, this.index, m.from, this.term);
    r.index = newLast;
    r.sentUs = m.sentUs;
    if (len > 0) {
      // Entries must be durable before they are acknowledged: the ack waits for the disk (one write
      // carries the entries and any new term, as etcd's WAL does).
      this.host.send(r, this.writeToDisk());
    } else {
      this.host.send(r, this.hardStateDurableAtUs());
    }
  }

  // ---- persistence -----------------------------------------------------------------------------------

  /** Issues one write (fsync) on the host's disk; returns when it completes. It carries the current term and vote. */
  private writeToDisk(): number {
    const doneUs = this.host.persist(this);
    if (this.hardStateDirty) {
      this.hardStateDirty = false;
      this.hardStateDurableUs = doneUs;
    }
    return doneUs;
  }

  /** When a message that depends on the current term and vote may leave: at once, or after they are written. */
  private hardStateDurableAtUs(): number {
    return this.hardStateDirty ? this.writeToDisk() : this.hardStateSettledUs();
  }

  /** When the term and vote last written are durable (now, unless that write is still under way). */
  private hardStateSettledUs(): number {
    return Math.max(this.host.nowUs, this.hardStateDurableUs);
  }

  /** etcd's findConflictByTerm: the largest index ≤ `index` whose term ≤ `term`, to skip a divergent tail in one probe. */
  private conflictHint(index: number, term: number): number {
    let i = index;
    while (i > 0 && this.logTerms[i]! > term) i--;
    return i;
  }

  private handleAppendResp(m: Msg): void {
    const p = m.from;
    if (m.sentUs >= 0) this.rttMs[p] = (this.host.nowUs - m.sentUs) / 1000;
    if (m.reject) {
      if (m.index <= this.match[p]!) return; // stale rejection
      this.report.retries++;
      this.next[p] = Math.max(this.match[p]! + 1, Math.min(m.index, m.hint + 1));
      this.sendAppend(p, true);
      return;
    }
    if (m.index > this.match[p]!) {
      this.match[p] = m.index;
      this.maybeCommit();
    }
    if (this.next[p]! <= m.index) this.next[p] = m.index + 1;
  }

  private handleClientReq(m: Msg): void {
    if (this.role !== LEADER) {
      const r = makeMsg(CLIENT_RESP, this.index, m.from, this.term);
      r.reject = true;
      r.hint = this.leader;
      r.reqIds = m.reqIds;
      this.host.send(r);
      return;
    }
    const reqs = m.reqIds!;
    for (let k = 0; k < reqs.length; k++) this.appendLocal(reqs[k]!);
    for (let p = 0; p < this.n; p++) if (p !== this.index) this.sendAppend(p, false);
  }

  // ---- the log ---------------------------------------------------------------------------------------

  private appendEntry(term: number, req: number): void {
    const i = this.logLength;
    if (i === this.logTerms.length) this.resizeLog(i, 2 * i);
    this.logTerms[i] = term;
    this.logReqs[i] = req;
    this.logLength = i + 1;
  }

  /** Replaces the log's arrays with new ones of `capacity` slots holding its first `length` entries. */
  private resizeLog(length: number, capacity: number): void {
    this.logTerms = grown(this.logTerms.subarray(0, length), capacity);
    this.logReqs = grown(this.logReqs.subarray(0, length), capacity);
    this.logLength = length;
  }

  // ---- leader replication ----------------------------------------------------------------------------

  private appendLocal(req: number): void {
    this.appendEntry(this.term, req);
    // The leader's own write runs in parallel with replication (etcd does the same), so it counts at once.
    this.match[this.index] = this.lastIndex;
    if (this.quorum === 1) this.maybeCommit();
  }

  private bcastHeartbeat(): void {
    this.lastHeartbeatUs = this.host.nowUs;
    for (let p = 0; p < this.n; p++) {
      if (p === this.index) continue;
      // Heartbeats are AppendEntries from `next`; unacknowledged entries ride along as a resend.
      const resend = this.next[p]! <= this.lastIndex;
      if (resend) this.report.retries++;
      this.sendAppend(p, resend);
    }
  }

  /** Sends entries from next[p] (possibly none) and advances next[p] optimistically (etcd's StateReplicate). */
  private sendAppend(p: number, retry: boolean): void {
    const prev = this.next[p]! - 1;
    const last = Math.min(this.lastIndex, prev + this.cfg.maxEntriesPerAppend);
    const m = makeMsg(APP, this.index, p, this.term);
    m.index = prev;
    m.logTerm = this.logTerms[prev]!;
    if (last > prev) {
      // The entries are read from this node's own log, not copied: an index at or below lastIndex never
      // changes in place (the log only grows, into spare slots, and growing or a truncation replaces the
      // arrays), so the range stays what it was when sent. Receivers never write to it.
      m.entryTerms = this.logTerms;
      m.entryReqs = this.logReqs;
      m.entryFrom = prev + 1;
      m.entryCount = last - prev;
    }
    m.commit = this.commit;
    m.sentUs = this.host.nowUs;
    m.rttMs = this.rttMs[p]!;
    m.lastIndex = this.lastIndex;
    m.retry = retry;
    this.next[p] = last + 1;
    this.host.send(m);
  }

  /** Raft §5.3/§5.4.2: commit the largest index replicated on a quorum, if it is from the current term. */
  private maybeCommit(): void {
    const n = this.n;
    // Fewer than a quorum beyond the commit index: the quorum-th largest is at most the commit index, so
    // nothing commits. It skips the sort for every acknowledgement but the one that completes a quorum.
    const commit = this.commit;
    let beyond = 0;
    for (let i = 0; i < n; i++) if ((i === this.index ? this.lastIndex : this.match[i]!) > commit) beyond++;
    if (beyond < this.quorum) return;
    // The quorum-th largest match index; insertion sort beats TypedArray#sort for n <= 9.
    const s = this.scratch;
    for (let i = 0; i < n; i++) {
      const v = i === this.index ? this.lastIndex : this.match[i]!;
      let j = i - 1;
      while (j >= 0 && s[j]! > v) {
        s[j + 1] = s[j]!;
        j--;
      }
      s[j + 1] = v;
    }
    const candidate = s[n - this.quorum]!;
    if (candidate > this.commit && this.logTerms[candidate] === this.term) {
      const old = this.commit;
      this.setCommit(candidate);
      // Followers learn the new commit index from the next append or heartbeat, as in etcd.
      this.host.onLeaderCommitted(this, old);
    }
  }

  private setCommit(c: number): void {
    const owesFrom = this.role === LEADER ? this.pendingFrom : Number.POSITIVE_INFINITY;
    const reqs = this.logReqs;
    let acked: number[] | null = null;
    for (let i = this.commit + 1; i <= c; i++) {
      this.host.onCommit(this, i);
      if (i >= owesFrom) {
        const req = reqs[i]!;
        // A one-element literal first: an empty array's first push allocates room for 17.
        if (req !== 0) {
          if (acked === null) acked = [req];
          else acked.push(req);
        }
      }
    }
    this.commit = c;
    if (acked !== null) {
      const r = makeMsg(CLIENT_RESP, this.index, this.n, this.term);
      r.reqIds = acked;
      r.hint = this.index;
      this.host.send(r);
    }
  }

  /** A deposed or crashed leader tells the client its pending requests may never commit, so it retries now. */
  private abandonClients(): void {
    if (!this.up) return;
    const owed: number[] = [];
    for (let i = Math.max(this.pendingFrom, this.commit + 1); i <= this.lastIndex; i++) if (this.logReqs[i] !== 0) owed.push(this.logReqs[i]!);
    this.pendingFrom = Number.POSITIVE_INFINITY;
    if (owed.length === 0) return;
    const r = makeMsg(CLIENT_RESP, this.index, this.n, this.term);
    r.reject = true;
    r.reqIds = owed;
    this.host.send(r);
  }

  private respond(type: number, m: Msg, reject: boolean, index: number, hint: number): void {
    const r = makeMsg(type, this.index, m.from, this.term);
    r.reject = reject;
    r.sentUs = m.sentUs;
    r.index = index;
    r.hint = hint;
    this.host.send(r, this.hardStateDurableAtUs());
  }

  // ---- telemetry -------------------------------------------------------------------------------------

  /** Replication gap as the schema defines it (follower: behind the leader's advertised last index; leader: worst follower lag). */
  replicationGap(): number {
    if (this.role === LEADER) {
      // Only followers heard from within an election timeout: a dead peer's lag says nothing about replication.
      const since = this.host.nowUs - this.cfg.electionTimeoutUs;
      let worst = 0;
      for (let p = 0; p < this.n; p++) {
        if (p !== this.index && this.lastHeardUs[p]! >= since) worst = Math.max(worst, this.lastIndex - this.match[p]!);
      }
      return worst;
    }
    return Math.max(0, this.leaderLastIndex - this.lastIndex);
  }

  /** Heartbeat latency: follower: the leader's RTT echo; leader: the worst recent follower RTT. */
  heartbeatLatency(): number {
    if (this.role === LEADER) {
      const since = this.host.nowUs - this.cfg.electionTimeoutUs;
      let worst = -1;
      for (let p = 0; p < this.n; p++) if (p !== this.index && this.lastHeardUs[p]! >= since) worst = Math.max(worst, this.rttMs[p]!);
      if (worst >= 0) this.hbLatencyMs = worst;
    }
    return this.hbLatencyMs;
  }
}
