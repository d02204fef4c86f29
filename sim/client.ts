/**
 * The client workload: requests arrive open-loop (Poisson or evenly spaced) and go to the node the client
 * believes leads. A follower redirects to its leader; with no leader known the client probes nodes in
 * turn. Commit latency = first submission → first commit acknowledgement at the client.
 *
 * Failures follow etcd's clientv3 (client/v3/options.go, retry_interceptor.go, client.go):
 * - a refused or reset connection (the node's process is down: its kernel answers) fails every request on
 *   it at once; the client avoids that node for `avoidUs` (the health balancer's unhealthy period) and
 *   retries elsewhere;
 * - a node that answers "I know no leader" (or names one the client avoids) fails the request too;
 * - a node that never answers (partitioned, hung) costs the request timeout;
 * - retries go round robin; after every `quorum` attempts of a request the client waits the retry backoff,
 *   jittered (clientv3's roundRobinQuorumBackoff: 25 ms ± 10% by default), so a retry reaches the next
 *   node at once while a cluster with no leader is not hammered.
 * The refusal itself travels back over the network, so it costs about one round trip on that link; the
 * cluster decides what a crashed or partitioned node does to a connection and delivers the refusal.
 */
import { grown } from './grown.js';
import { CLIENT_REQ, makeMsg, type Msg } from './messages.js';
import type { Prng } from './prng.js';
import { roundUs } from './round.js';

export interface ClientHost {
  readonly nowUs: number;
  send(m: Msg): void;
  /** Calls the client's `onWake` at `atUs` (for retries that wait a backoff shorter than a tick). */
  wakeClientAt(atUs: number): void;
}

/** What the client itself decides (the connection behaviour of crashed and partitioned nodes is the cluster's). */
export interface ClientConfig {
  /** Mean gap between arrivals (µs); 0 = no requests. */
  meanGapUs: number;
  poisson: boolean;
  /** A request sent but neither answered nor refused within this is failed and resent (µs). */
  requestTimeoutUs: number;
  /** Wait after every `quorum` failed attempts of a request (µs). */
  retryBackoffUs: number;
  /** The backoff is scaled by a uniform factor in [1 − f, 1 + f]. */
  retryJitterFraction: number;
  /** A node that refused a connection is not chosen again for this long (µs) unless every node is avoided. */
  avoidUs: number;
  /** Attempts per backoff round: the cluster's quorum. */
  quorum: number;
  /** Request slots to start with (the per-request arrays double when full). */
  requestCapacity: number;
}

/** Wait entries pack a request id below this (sim/client.ts Client.ready). */
const ENTRY_ID_RANGE = 2 ** 26;

export class Client {
  // The per-request state below is indexed by request id, in typed arrays of cfg.requestCapacity slots,
  // doubled when full (a JS array's push costs several times more once it is tens of thousands long).
  // Invariant: ids below nextId are allocated (0 is unused), and each array has a slot for every one of them.
  private nextId = 1;
  /** Submission and completion times (µs; completion -1 while pending); submitUs and doneUs show them. */
  private submitAtUs: Float64Array<ArrayBuffer>;
  private doneAtUs: Float64Array<ArrayBuffer>;
  /** Time of the send now outstanding (µs), -1 while the request waits to be (re)sent. */
  private lastSendUs: Float64Array<ArrayBuffer>;
  private sentTo: Int32Array;
  /** Failed attempts so far (the retry interceptor's `attempt`). */
  private attempts: Int32Array;
  /** Earliest resend time of a waiting request (µs). */
  private retryAtUs: Float64Array<ArrayBuffer>;
  /**
   * Sends in time order, lazily invalidated, for timeout scans and connection resets: [reqId, sendUs] pairs
   * in sendLog[sendLogHead, sendLogEnd); doubled when full.
   */
  private sendLog = new Float64Array(2048);
  private sendLogHead = 0;
  private sendLogEnd = 0;
  /**
   * The requests waiting to be (re)sent, as entries `join · 2^26 + id` (join counts the entries ever made,
   * so entries sort in the order they joined). One queue scanned whole on every flush is the behaviour; it
   * is kept in two parts so that a flush costs what it sends, not what waits (with hundreds of requests in
   * backoff during an outage, the scans were most of a faulty run's time): `ready`, due at once (new
   * requests while no leader is known, retries without backoff), and `cohorts`, the entries one failure put
   * into backoff, one resend time per cohort. A request can wait twice (a response may name it twice, and
   * each copy counts as an attempt); its copies always sit in the same part, due together.
   */
  private ready: number[] = [];
  private cohortEntries: number[][] = [];
  private cohortAtUs: number[] = [];
  private joins = 0;
  /** Earliest wake already asked of the host (µs; +inf none). */
  private wakeUs = Number.POSITIVE_INFINITY;
  /** Per node: refused a connection; avoided until this time (µs). */
  private readonly avoidUntilUs: Float64Array;
  private readonly retryRng: Prng;
  leaderGuess = 0;
  private probe = 0;
  committed = 0;
  private latencySumUs = 0;
  /** Refusals and resets received, and requests failed by the request timeout (metrics for tests and summaries). */
  refusals = 0;
  timeouts = 0;

  /** `rng` draws the arrivals only; retries draw from a stream forked off it, so arrivals are the same whatever happens to the requests. */
  constructor(
    private readonly endpoint: number,
    private readonly size: number,
    private readonly host: ClientHost,
    private readonly rng: Prng,
    private readonly cfg: ClientConfig,
  ) {
    this.avoidUntilUs = new Float64Array(size).fill(Number.NEGATIVE_INFINITY);
    this.retryRng = rng.fork('retry');
    const capacity = Math.max(1, cfg.requestCapacity);
    this.submitAtUs = new Float64Array(capacity);
    this.doneAtUs = new Float64Array(capacity);
    this.lastSendUs = new Float64Array(capacity);
    this.sentTo = new Int32Array(capacity);
    this.attempts = new Int32Array(capacity);
    this.retryAtUs = new Float64Array(capacity);
  }

  /**
   * Request i's submission and completion times (µs; completion -1 while pending), for every id so far.
   * Index 0 unused. Views of the live arrays: read them before the next submission, which may move them.
   */
  get submitUs(): Float64Array<ArrayBuffer> {
    return this.submitAtUs.subarray(0, this.nextId);
  }

  get doneUs(): Float64Array<ArrayBuffer> {
    return this.doneAtUs.subarray(0, this.nextId);
  }

  get submitted(): number {
    return this.nextId - 1;
  }

  get meanLatencyMs(): number {
    return this.committed > 0 ? this.latencySumUs / this.committed / 1000 : Number.NaN;
  }

  /** Time of the next arrival after `nowUs`. */
  nextArrivalUs(nowUs: number): number {
    const gap = this.cfg.poisson ? this.rng.exp(this.cfg.meanGapUs) : this.cfg.meanGapUs;
    return nowUs + Math.max(1, roundUs(gap));
  }

  submit(): void {
    const id = this.nextId++;
    if (id === this.lastSendUs.length) this.growRequests();
    this.submitAtUs[id] = this.host.nowUs;
    this.doneAtUs[id] = -1;
    this.lastSendUs[id] = -1;
    this.sentTo[id] = -1;
    this.attempts[id] = 0;
    this.retryAtUs[id] = 0;
    if (this.leaderGuess >= 0) this.sendTo([id], this.leaderGuess);
    else this.ready.push(this.entryOf(id));
  }

  onResponse(m: Msg): void {
    const now = this.host.nowUs;
    const node = m.from;
    if (m.refused) return this.onRefused(node, m.reqIds);
    // Any answer shows the node's process runs again.
    this.avoidUntilUs[node] = Number.NEGATIVE_INFINITY;
    const ids = m.reqIds ?? [];
    if (!m.reject) {
      this.leaderGuess = node;
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        if (this.doneAtUs[id] !== -1) continue;
        this.doneAtUs[id] = now;
        this.committed++;
        this.latencySumUs += now - this.submitAtUs[id]!;
      }
      return;
    }
    const pending = ids.filter((id) => this.outstandingTo(id, node));
    if (m.hint >= 0 && m.hint !== node && m.hint < this.size && !this.avoided(m.hint)) {
      // A redirect is not a failure: the follower forwards the client to the leader it follows.
      this.leaderGuess = m.hint;
      if (pending.length > 0) this.sendTo(pending, m.hint);
      return;
    }
    // No leader known there (or only one the client knows to be down): etcd's "no leader", retried.
    if (this.leaderGuess === node) this.leaderGuess = -1;
    this.fail(pending, node);
  }

  /** The connection to `node` was refused or reset: fail `ids` (null: every request outstanding on it) and avoid the node. */
  private onRefused(node: number, ids: number[] | null): void {
    this.refusals++;
    this.avoidUntilUs[node] = this.host.nowUs + this.cfg.avoidUs;
    if (this.leaderGuess === node) this.leaderGuess = -1;
    const failed: number[] = [];
    if (ids !== null) {
      for (const id of ids) if (this.outstandingTo(id, node)) failed.push(id);
    } else {
      const log = this.sendLog;
      for (let k = this.sendLogHead; k < this.sendLogEnd; k += 2) {
        const id = log[k]! | 0; // an int32 like every request id (see flush)
        if (this.lastSendUs[id] === log[k + 1] && this.outstandingTo(id, node)) failed.push(id);
      }
    }
    this.fail(failed, node);
  }

  private outstandingTo(id: number, node: number): boolean {
    return this.doneAtUs[id] === -1 && this.lastSendUs[id] !== -1 && this.sentTo[id] === node;
  }

  /** Per tick: fail timed-out requests; send the waiting ones that are due. */
  tick(): void {
    const now = this.host.nowUs;
    const log = this.sendLog;
    let timedOut: number[] | null = null;
    while (this.sendLogHead < this.sendLogEnd && log[this.sendLogHead + 1]! + this.cfg.requestTimeoutUs <= now) {
      const id = log[this.sendLogHead]! | 0; // an int32 like every request id (see flush)
      const sentUs = log[this.sendLogHead + 1]!;
      this.sendLogHead += 2;
      if (this.doneAtUs[id] !== -1 || this.lastSendUs[id] !== sentUs) continue;
      const node = this.sentTo[id]!;
      if (node === this.leaderGuess) this.leaderGuess = -1;
      // Probe from the node after the silent one. It is not avoided: silence is also what a lost
      // message looks like, and avoiding a live leader would stall every request for the avoid period.
      this.probe = (node + 1) % this.size;
      this.timeouts++;
      (timedOut ??= []).push(id);
    }
    if (this.sendLogHead > 4096 && this.sendLogHead * 2 > this.sendLogEnd) {
      log.copyWithin(0, this.sendLogHead, this.sendLogEnd);
      this.sendLogEnd -= this.sendLogHead;
      this.sendLogHead = 0;
    }
    if (timedOut !== null) this.fail(timedOut, -1);
    this.flush();
  }

  /** The host's wake-up for a retry whose backoff ended between ticks. */
  onWake(): void {
    this.wakeUs = Number.POSITIVE_INFINITY;
    this.flush();
  }

  /**
   * Attempt k (1-based) of a request failed: retry at once, or after the jittered backoff when k closes a
   * round of `quorum` attempts (clientv3's roundRobinQuorumBackoff).
   */
  private fail(ids: number[], node: number): void {
    if (ids.length === 0) return;
    const now = this.host.nowUs;
    if (node >= 0) this.probe = (node + 1) % this.size;
    const f = this.cfg.retryJitterFraction;
    const backoffUs = Math.round(this.cfg.retryBackoffUs * (1 + f * (2 * this.retryRng.next() - 1)));
    let laterUs = Number.POSITIVE_INFINITY;
    for (const id of ids) {
      this.lastSendUs[id] = -1;
      const k = ++this.attempts[id]!;
      const at = k % this.cfg.quorum === 0 ? now + backoffUs : now;
      this.retryAtUs[id] = at;
      if (at > now && at < laterUs) laterUs = at;
    }
    // Placed by the last attempt's resend time: a request named twice has one resend time for both copies.
    let cohort: number[] | null = null;
    for (const id of ids) {
      if (this.retryAtUs[id]! > now) (cohort ??= []).push(this.entryOf(id));
      else this.ready.push(this.entryOf(id));
    }
    if (cohort !== null) {
      this.cohortEntries.push(cohort);
      this.cohortAtUs.push(now + backoffUs);
    }
    this.flush();
    if (laterUs < this.wakeUs) {
      this.wakeUs = laterUs;
      this.host.wakeClientAt(laterUs);
    }
  }

  /** Sends every waiting request that is due, in one message, to the guessed leader or the next node to probe. */
  private flush(): void {
    if (this.ready.length === 0 && this.cohortEntries.length === 0) return;
    const now = this.host.nowUs;
    let waited = this.ready;
    let merged = false;
    for (let c = 0; c < this.cohortAtUs.length;) {
      if (this.cohortAtUs[c]! > now) {
        c++;
        continue;
      }
      waited = waited.concat(this.cohortEntries[c]!);
      merged = true;
      this.cohortEntries.splice(c, 1);
      this.cohortAtUs.splice(c, 1);
    }
    if (merged) waited.sort((a, b) => a - b);
    this.ready = [];
    // Answered meanwhile: not due, and never again (a request waits only while unsent and unanswered).
    const due: number[] = [];
    for (let k = 0; k < waited.length; k++) {
      // An int32 (`| 0`, exact below 2^26), so that `due`, like every request-id array, holds small integers:
      // one array of doubles reaching sendTo made its element accesses generic for the rest of the run.
      const id = (waited[k]! % ENTRY_ID_RANGE) | 0;
      if (this.doneAtUs[id] === -1 && this.lastSendUs[id] === -1) due.push(id);
    }
    if (due.length === 0) return;
    let target = this.leaderGuess;
    if (target < 0 || this.avoided(target)) target = this.nextProbe();
    this.sendTo(due, target);
  }

  /** A new wait entry for request `id` (exact in a double: ids and joins stay below 2^26). */
  private entryOf(id: number): number {
    if (id >= ENTRY_ID_RANGE || this.joins >= ENTRY_ID_RANGE) throw new RangeError('sim: more than 2^26 client requests or retries in one run');
    return ++this.joins * ENTRY_ID_RANGE + id;
  }

  /** The next node in turn that is not avoided (any node when all are). */
  private nextProbe(): number {
    let target = this.probe;
    for (let k = 0; k < this.size; k++) {
      const j = (this.probe + k) % this.size;
      if (!this.avoided(j)) {
        target = j;
        break;
      }
    }
    this.probe = (target + 1) % this.size;
    return target;
  }

  private avoided(node: number): boolean {
    return this.avoidUntilUs[node]! > this.host.nowUs;
  }

  private sendTo(ids: number[], node: number): void {
    const now = this.host.nowUs;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      this.lastSendUs[id] = now;
      this.sentTo[id] = node;
      const end = this.sendLogEnd;
      if (end === this.sendLog.length) this.sendLog = grown(this.sendLog, 2 * end);
      this.sendLog[end] = id;
      this.sendLog[end + 1] = now;
      this.sendLogEnd = end + 2;
    }
    const m = makeMsg(CLIENT_REQ, this.endpoint, node, 0);
    m.reqIds = ids;
    this.host.send(m);
  }

  private growRequests(): void {
    const n = 2 * this.lastSendUs.length;
    this.submitAtUs = grown(this.submitAtUs, n);
    this.doneAtUs = grown(this.doneAtUs, n);
    this.lastSendUs = grown(this.lastSendUs, n);
    this.retryAtUs = grown(this.retryAtUs, n);
    this.sentTo = grown(this.sentTo, n);
    this.attempts = grown(this.attempts, n);
  }

  /** Commit latencies (ms) of completed requests, in request order. */
  latenciesMs(): number[] {
    const out: number[] = [];
    const submit = this.submitAtUs;
    const done = this.doneAtUs;
    for (let i = 1; i < this.nextId; i++) if (done[i]! >= 0) out.push((done[i]! - submit[i]!) / 1000);
    return out;
  }
}
