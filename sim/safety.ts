/**
 * The always-on safety checker (Raft §5.4): at most one leader per term (Election Safety), a new leader of
 * term T holds every entry committed in a term before T (Leader Completeness), every node commits the same entry at each index
 * (State Machine Safety), and no committed entry is ever truncated. A violation throws SafetyViolation
 * carrying the recent event history that led to it, kept in a fixed ring so checking costs O(1) per event.
 */
import { grown } from './grown.js';
import { MSG_NAMES } from './messages.js';

export class SafetyViolation extends Error {
  constructor(
    message: string,
    /** The last events before the violation, oldest first, one line each. */
    readonly history: string[],
  ) {
    super(message);
    this.name = 'SafetyViolation';
  }
}

/** History record kinds beyond message deliveries (which use the message type). */
export const H_BECAME_LEADER = 100;
export const H_ELECTION = 101;
export const H_CRASH = 102;
export const H_RESTART = 103;
export const H_FAULT = 104;
export const H_COMMIT = 105;

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, number>();
  /**
   * The committed log as every node must see it: committedTerms[i] is the term of entry i for
   * i < committedCount (index 0 = sentinel); slots beyond are spare capacity, doubled when full.
   */
  private committedTerms: Int32Array;
  private committedCount = 1;
  /**
   * In which term each committed entry was first committed, as runs: commitRuns[k] covers the indices
   * up to commitRunEnd[k] after the previous run. Leader Completeness is about these terms, not the
   * entries' own: a candidate whose votes arrive late may become leader of term T after a leader of a
   * later term has committed entries, and it need not hold them (it can never commit: a quorum has moved on).
   */
  private readonly commitRunTerm: number[] = [];
  private readonly commitRunEnd: number[] = [];
  private readonly cap: number;
  private readonly hTime: Float64Array;
  private readonly hKind: Int16Array;
  private readonly hFrom: Int16Array;
  private readonly hTo: Int16Array;
  private readonly hTerm: Int32Array;
  private readonly hIndex: Int32Array;
  private hNext = 0;
  private hCount = 0;

  /** `committedCapacity`: committed entries to make room for at first (the log doubles when full). */
  constructor(private readonly nodeIds: string[], historySize = 200, committedCapacity = 1024) {
    this.committedTerms = new Int32Array(Math.max(1, committedCapacity));
    this.cap = historySize;
    this.hTime = new Float64Array(historySize);
    this.hKind = new Int16Array(historySize);
    this.hFrom = new Int16Array(historySize);
    this.hTo = new Int16Array(historySize);
    this.hTerm = new Int32Array(historySize);
    this.hIndex = new Int32Array(historySize);
  }

  get committedLength(): number {
    return this.committedCount - 1;
  }

  record(timeUs: number, kind: number, from: number, to: number, term: number, index: number): void {
    const i = this.hNext;
    this.hTime[i] = timeUs;
    this.hKind[i] = kind;
    this.hFrom[i] = from;
    this.hTo[i] = to;
    this.hTerm[i] = term;
    this.hIndex[i] = index;
    this.hNext = i + 1 === this.cap ? 0 : i + 1; // a branch, not %: this runs once per delivered message
    if (this.hCount < this.cap) this.hCount++;
  }

  /** `logTerms[i]` is the term of the leader's entry i for i < `logLength`. */
  onBecameLeader(timeUs: number, node: number, term: number, logTerms: ArrayLike<number>, logLength = logTerms.length): void {
    this.record(timeUs, H_BECAME_LEADER, node, -1, term, logLength - 1);
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== node) {
      this.fail(`two leaders in term ${term}: ${this.name(other)} and ${this.name(node)}`);
    }
    this.leaderOfTerm.set(term, node);
    // Raft §5.4.3: an entry committed in an earlier term is in this leader's log; Log Matching then covers
    // everything before it, so the last such entry is the one to check.
    const k = this.lastCommittedBefore(term);
    if (k > 0 && (logLength - 1 < k || logTerms[k] !== this.committedTerms[k])) {
      this.fail(`leader ${this.name(node)} of term ${term} lacks entry ${k} (term ${this.committedTerms[k]}), committed in term ${this.commitTermOf(k)}`);
    }
  }

  /**
   * `node`, in term `nodeTerm`, commits entry `index` of term `term`. The first node to commit an index
   * is the leader that committed it, so `nodeTerm` then is the term the entry was committed in.
   */
  onCommit(node: number, index: number, term: number, nodeTerm: number = term): void {
    const known = this.committedCount;
    if (index < known) {
      if (this.committedTerms[index] !== term) {
        this.fail(`${this.name(node)} committed entry ${index} of term ${term}, but entry ${index} of term ${this.committedTerms[index]} was committed before`);
      }
    } else if (index === known) {
      if (known === this.committedTerms.length) {
        this.committedTerms = grown(this.committedTerms, 2 * known);
      }
      this.committedTerms[known] = term;
      this.committedCount = known + 1;
      const runs = this.commitRunTerm.length;
      if (runs > 0 && this.commitRunTerm[runs - 1] === nodeTerm) this.commitRunEnd[runs - 1] = index;
      else {
        this.commitRunTerm.push(nodeTerm);
        this.commitRunEnd.push(index);
      }
    } else {
      this.fail(`${this.name(node)} committed entry ${index} before entry ${known}`);
    }
  }

  /**
   * A node is about to drop its log from `fromIndex` on at the word of the leader of `term`; `logTerms` is
   * its log before the cut (entries below `logLength`). That leader holds every entry committed in a term up
   * to its own (§5.4.3), so it never removes one; a node still in an older term may lose its copy of an entry
   * committed later (the entry lives on in the quorum that committed it, and the node gets it back from that
   * term's leader).
   */
  onTruncate(node: number, fromIndex: number, commit: number, logTerms: ArrayLike<number>, term: number = Number.POSITIVE_INFINITY,
    logLength = logTerms.length): void {
    if (fromIndex <= commit) this.fail(`${this.name(node)} truncated its log at ${fromIndex}, at or below its commit index ${commit}`);
    const end = Math.min(logLength, this.committedCount);
    let run = 0;
    for (let i = fromIndex; i < end; i++) {
      while (this.commitRunEnd[run]! < i) run++;
      // Same index and term means the same entry (Log Matching): dropping it drops a committed entry.
      if (logTerms[i] === this.committedTerms[i] && this.commitRunTerm[run]! <= term) {
        this.fail(`${this.name(node)} dropped entry ${i} (term ${logTerms[i]}), committed in term ${this.commitRunTerm[run]}, at the word of the leader of term ${term}`);
      }
    }
  }

  /** The largest index first committed in a term before `term` (0 when none). */
  private lastCommittedBefore(term: number): number {
    for (let k = this.commitRunTerm.length - 1; k >= 0; k--) if (this.commitRunTerm[k]! < term) return this.commitRunEnd[k]!;
    return 0;
  }

  private commitTermOf(index: number): number {
    for (let k = 0; k < this.commitRunEnd.length; k++) if (this.commitRunEnd[k]! >= index) return this.commitRunTerm[k]!;
    return -1;
  }

  /** The ring's contents, oldest first, formatted. */
  history(): string[] {
    const out: string[] = [];
    const start = (this.hNext - this.hCount + this.cap) % this.cap;
    for (let j = 0; j < this.hCount; j++) {
      const i = (start + j) % this.cap;
      out.push(this.formatRecord(i));
    }
    return out;
  }

  private formatRecord(i: number): string {
    const t = (this.hTime[i]! / 1000).toFixed(3).padStart(10);
    const kind = this.hKind[i]!;
    const from = this.name(this.hFrom[i]!);
    const to = this.name(this.hTo[i]!);
    const term = this.hTerm[i]!;
    const idx = this.hIndex[i]!;
    switch (kind) {
      case H_BECAME_LEADER: return `${t} ms  ${from} became leader of term ${term} (last index ${idx})`;
      case H_ELECTION: return `${t} ms  ${from} started an election for term ${term}`;
      case H_CRASH: return `${t} ms  ${from} crashed`;
      case H_RESTART: return `${t} ms  ${from} restarted (term ${term})`;
      case H_FAULT: return `${t} ms  fault #${idx} ${term === 1 ? 'started' : 'ended'}`;
      case H_COMMIT: return `${t} ms  ${from} committed up to ${idx} (term ${term})`;
      default: return `${t} ms  ${MSG_NAMES[kind] ?? kind} ${from} -> ${to} term ${term} index ${idx}`;
    }
  }

  private name(i: number): string {
    return i < 0 ? '-' : this.nodeIds[i] ?? 'client';
  }

  private fail(message: string): never {
    throw new SafetyViolation(`sim: safety violation: ${message}`, this.history());
  }
}
