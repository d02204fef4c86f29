/**
 * The client workload: requests arrive open-loop (Poisson or evenly spaced) and go to the node the client
 * believes leads. A follower redirects to its leader; with no leader known the client probes nodes in
 * turn, one message per tick carrying every waiting request. A request sent but not committed within the
 * client timeout is resent. Commit latency = first submission → commit acknowledgement at the client.
 */
import { CLIENT_REQ, makeMsg, type Msg } from './messages.js';
import type { Prng } from './prng.js';

export interface ClientHost {
  readonly nowUs: number;
  send(m: Msg): void;
}

export class Client {
  /** Request i's submission and completion times (µs; completion -1 while pending). Index 0 unused. */
  submitUs: number[] = [0];
  doneUs: number[] = [0];
  private lastSendUs: number[] = [0];
  private sentTo: number[] = [0];
  /** Sends in time order, lazily invalidated, for timeout scans: [reqId, sendUs] pairs. */
  private sendLog: number[] = [];
  private sendLogHead = 0;
  private waiting: number[] = [];
  leaderGuess = 0;
  private probe = 0;
  committed = 0;
  private latencySumUs = 0;

  constructor(
    private readonly endpoint: number,
    private readonly size: number,
    private readonly host: ClientHost,
    private readonly rng: Prng,
    private readonly meanGapUs: number,
    private readonly poisson: boolean,
    private readonly timeoutUs: number,
  ) {}

  get submitted(): number {
    return this.submitUs.length - 1;
  }

  get meanLatencyMs(): number {
    return this.committed > 0 ? this.latencySumUs / this.committed / 1000 : Number.NaN;
  }

  /** Time of the next arrival after `nowUs`. */
  nextArrivalUs(nowUs: number): number {
    const gap = this.poisson ? this.rng.exp(this.meanGapUs) : this.meanGapUs;
    return nowUs + Math.max(1, Math.round(gap));
  }

  submit(): void {
    const id = this.submitUs.length;
    this.submitUs.push(this.host.nowUs);
    this.doneUs.push(-1);
    this.lastSendUs.push(-1);
    this.sentTo.push(-1);
    if (this.leaderGuess >= 0) this.sendTo([id], this.leaderGuess);
    else this.waiting.push(id);
  }

  onResponse(m: Msg): void {
    const now = this.host.nowUs;
    const ids = m.reqIds ?? [];
    if (!m.reject) {
      this.leaderGuess = m.from;
      for (const id of ids) {
        if (this.doneUs[id] !== -1) continue;
        this.doneUs[id] = now;
        this.committed++;
        this.latencySumUs += now - this.submitUs[id]!;
      }
      return;
    }
    const pending = ids.filter((id) => this.doneUs[id] === -1);
    if (m.hint >= 0 && m.hint !== m.from && m.hint < this.size) {
      this.leaderGuess = m.hint;
      if (pending.length > 0) this.sendTo(pending, m.hint);
    } else {
      if (this.leaderGuess === m.from) this.leaderGuess = -1;
      for (const id of pending) this.waiting.push(id);
    }
  }

  /** Per tick: resend timed-out requests; flush or probe with the waiting ones. */
  tick(): void {
    const now = this.host.nowUs;
    const log = this.sendLog;
    while (this.sendLogHead < log.length && log[this.sendLogHead + 1]! + this.timeoutUs <= now) {
      const id = log[this.sendLogHead]!;
      const sentUs = log[this.sendLogHead + 1]!;
      this.sendLogHead += 2;
      if (this.doneUs[id] !== -1 || this.lastSendUs[id] !== sentUs) continue;
      if (this.sentTo[id] === this.leaderGuess) this.leaderGuess = -1;
      this.lastSendUs[id] = -1;
      this.waiting.push(id);
    }
    if (this.sendLogHead > 4096 && this.sendLogHead * 2 > log.length) {
      this.sendLog = log.slice(this.sendLogHead);
      this.sendLogHead = 0;
    }
    if (this.waiting.length === 0) return;
    const ids = this.waiting.filter((id) => this.doneUs[id] === -1);
    this.waiting = [];
    if (ids.length === 0) return;
    let target = this.leaderGuess;
    if (target < 0) {
      target = this.probe;
      this.probe = (this.probe + 1) % this.size;
    }
    this.sendTo(ids, target);
  }

  private sendTo(ids: number[], node: number): void {
    const now = this.host.nowUs;
    for (const id of ids) {
      this.lastSendUs[id] = now;
      this.sentTo[id] = node;
      this.sendLog.push(id, now);
    }
    const m = makeMsg(CLIENT_REQ, this.endpoint, node, 0);
    m.reqIds = ids;
    this.host.send(m);
  }

  /** Commit latencies (ms) of completed requests, in request order. */
  latenciesMs(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.submitUs.length; i++) if (this.doneUs[i]! >= 0) out.push((this.doneUs[i]! - this.submitUs[i]!) / 1000);
    return out;
  }
}
