/**
 * The always-on safety checker (Raft §5.4): at most one leader per term (Election Safety), a new leader
 * holds every committed entry (Leader Completeness), every node commits the same entry at each index
 * (State Machine Safety), and no committed entry is ever truncated. A violation throws SafetyViolation
 * carrying the recent event history that led to it, kept in a fixed ring so checking costs O(1) per event.
 */
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
  /** The committed log as every node must see it: committedTerms[i] is the term of entry i (index 0 = sentinel). */
  private readonly committedTerms: number[] = [0];
  private readonly cap: number;
  private readonly hTime: Float64Array;
  private readonly hKind: Int16Array;
  private readonly hFrom: Int16Array;
  private readonly hTo: Int16Array;
  private readonly hTerm: Int32Array;
  private readonly hIndex: Int32Array;
  private hNext = 0;
  private hCount = 0;

  constructor(private readonly nodeIds: string[], historySize = 200) {
    this.cap = historySize;
    this.hTime = new Float64Array(historySize);
    this.hKind = new Int16Array(historySize);
    this.hFrom = new Int16Array(historySize);
    this.hTo = new Int16Array(historySize);
    this.hTerm = new Int32Array(historySize);
    this.hIndex = new Int32Array(historySize);
  }

  get committedLength(): number {
    return this.committedTerms.length - 1;
  }

  record(timeUs: number, kind: number, from: number, to: number, term: number, index: number): void {
    const i = this.hNext;
    this.hTime[i] = timeUs;
    this.hKind[i] = kind;
    this.hFrom[i] = from;
    this.hTo[i] = to;
    this.hTerm[i] = term;
    this.hIndex[i] = index;
    this.hNext = (i + 1) % this.cap;
    if (this.hCount < this.cap) this.hCount++;
  }

  onBecameLeader(timeUs: number, node: number, term: number, logTerms: readonly number[]): void {
    this.record(timeUs, H_BECAME_LEADER, node, -1, term, logTerms.length - 1);
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== node) {
      this.fail(`two leaders in term ${term}: ${this.name(other)} and ${this.name(node)}`);
    }
    this.leaderOfTerm.set(term, node);
    const k = this.committedTerms.length - 1;
    if (k > 0 && (logTerms.length - 1 < k || logTerms[k] !== this.committedTerms[k])) {
      this.fail(`leader ${this.name(node)} of term ${term} lacks committed entry ${k} (term ${this.committedTerms[k]})`);
    }
  }

  onCommit(node: number, index: number, term: number): void {
    const known = this.committedTerms.length;
    if (index < known) {
      if (this.committedTerms[index] !== term) {
        this.fail(`${this.name(node)} committed entry ${index} of term ${term}, but entry ${index} of term ${this.committedTerms[index]} was committed before`);
      }
    } else if (index === known) {
      this.committedTerms.push(term);
    } else {
      this.fail(`${this.name(node)} committed entry ${index} before entry ${known}`);
    }
  }

  /** A node is about to drop its log from `fromIndex` on; `logTerms` is its log before the cut. */
  onTruncate(node: number, fromIndex: number, commit: number, logTerms: readonly number[]): void {
    if (fromIndex <= commit) this.fail(`${this.name(node)} truncated its log at ${fromIndex}, at or below its commit index ${commit}`);
    const end = Math.min(logTerms.length, this.committedTerms.length);
    for (let i = fromIndex; i < end; i++) {
      // Same index and term means the same entry (Log Matching): dropping it drops a committed entry.
      if (logTerms[i] === this.committedTerms[i]) this.fail(`${this.name(node)} dropped committed entry ${i} (term ${logTerms[i]})`);
    }
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
