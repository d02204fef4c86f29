/**
 * ContactTracker: what one node's election-timeout provider (runtime/timeout.ts) learns from the stream of
 * leader contacts, one instance per NeuroSymbolicTimeout. Per tick it runs the contact steps of that file's
 * header:
 *   trackContact (noteHeartbeat → recordSurvived, smoothGap; pushRtt; survivedSilence)
 * That is: the usual heartbeat gap (Jacobson/Karels mean and deviation of the inter-arrivals), the silence
 * since the last heartbeat, the ring of recent heartbeat RTTs, and the survived silences of the rules'
 * survived_silence_floor. Results go into fields the provider reads (silenceMs, gapMeanMs, gapDevMs) and into
 * the GuardrailContext it hands over at construction; never as call arguments or return values, for the
 * reason timeout.ts's header gives (a double crossing a call V8 did not inline is boxed, one allocation per
 * tick).
 */
import type { CompiledRules, GuardrailContext } from './rules.js';
import type { TimeoutObservation } from './types.js';

/** Buckets of the survived-silence ring: the window in 8 parts plus the current one. */
const SURVIVED_BUCKETS = 9;

export class ContactTracker {
  /** The silence since the last heartbeat at this tick (0 before the first heartbeat). */
  silenceMs = 0;
  // Heartbeat inter-arrival statistics (Jacobson/Karels smoothing) for "the usual gap".
  gapMeanMs = Number.NaN;
  gapDevMs = 0;

  private readonly ctx: GuardrailContext;
  private readonly rtt: Float64Array; // ring buffer of heartbeat RTTs (NaN = none that tick)
  private rttPos = 0;
  /** max(0, every non-NaN value in rtt): pushRtt's running maximum (0 for an empty ring). */
  private worstRttMs = 0;
  /** RFC 6298's SRTT over the RTT samples (NaN before the first) and the last sample, for ctx.smoothedRttMs. */
  private srttMs = Number.NaN;
  private lastRttSampleMs = Number.NaN;
  private lastHeartbeatMs = Number.NaN;
  /**
   * Survived silences (rules' survived_silence_floor): the longest gap between two contacts of one leader in
   * one term, per time bucket of window/8 by when the gap ended; a ring of SURVIVED_BUCKETS buckets, so the
   * window is honoured to within one bucket (a gap counts for window_ms to window_ms × 9/8 after it ended).
   * Empty (length 0) when the rules have no such floor.
   */
  private readonly survivedMax: Float64Array;
  private readonly survivedBucket: Float64Array;
  private readonly survivedBucketMs: number;
  private contactLeaderId: string | null = null;
  private contactTerm = Number.NaN;
  /** The last term in which this node was leader (NaN: none seen since the last reset). */
  private ledTerm = Number.NaN;
  /** This tick's leader id, by value, as the provider validated it (a primitive string or null). */
  private tickLeaderId: string | null = null;
  /** The gap that ended at this tick's contact (a field, not an argument: see recordSurvived and smoothGap). */
  private gapMs = 0;
  /** This node heard no peer at some tick since the last contact: the silence was (also) its own isolation. */
  private isolatedSinceContact = false;

  /** ctx: the provider's GuardrailContext, whose fields but previousMs trackContact rewrites every tick. */
  constructor(rules: CompiledRules, ctx: GuardrailContext) {
    this.ctx = ctx;
    this.rtt = new Float64Array(rules.rttWindowTicks).fill(Number.NaN);
    const survivedBuckets = rules.survivedWindowMs > 0 ? SURVIVED_BUCKETS : 0;
    this.survivedMax = new Float64Array(survivedBuckets);
    // Empty = NaN: never equal to a bucket number nor ≥ the oldest one (−1 is a real bucket before the origin).
    this.survivedBucket = new Float64Array(survivedBuckets).fill(Number.NaN);
    this.survivedBucketMs = rules.survivedWindowMs / (SURVIVED_BUCKETS - 1);
  }

  /**
   * Forgets the contact history (the provider's reset()). silenceMs, rttPos and survivedMax are left as they
   * are: the next trackContact rewrites silenceMs, and a bucket is only read once its number matches.
   */
  reset(): void {
    this.rtt.fill(Number.NaN);
    this.worstRttMs = 0;
    this.srttMs = Number.NaN;
    this.lastRttSampleMs = Number.NaN;
    this.survivedBucket.fill(Number.NaN);
    this.contactLeaderId = null;
    this.contactTerm = Number.NaN;
    this.ledTerm = Number.NaN;
    this.isolatedSinceContact = false;
    this.lastHeartbeatMs = Number.NaN;
    this.gapMeanMs = Number.NaN;
    this.gapDevMs = 0;
  }

  /** Bytes of the RTT ring and the survived-silence buckets. */
  get byteLength(): number {
    return this.rtt.byteLength + this.survivedMax.byteLength + this.survivedBucket.byteLength;
  }

  /**
   * Updates what the guardrails read from the stream of contacts — the usual heartbeat gap, the silence, the
   * RTT ring, the survived silences — and fills this tick's GuardrailContext. leaderId: o's leader id by value
   * (the provider's validate). Invariant: every ctx field but previousMs is rewritten here, before the
   * provider's hardFloor and guard read ctx.
   */
  trackContact(o: TimeoutObservation, leaderId: string | null): void {
    this.tickLeaderId = leaderId;
    if (o.heartbeatReceived) this.noteHeartbeat(o);
    else if (o.peersReachable === 0) {
      // A node cut off from every peer sees the leader's silence too; when the cut heals, the leader "returns",
      // but it never stalled. Such a silence is not evidence about the leader (recordSurvived skips it).
      this.isolatedSinceContact = true;
    }
    this.silenceMs = Number.isFinite(this.lastHeartbeatMs) ? o.nowMs - this.lastHeartbeatMs : 0;
    this.pushRtt(o);
    const ctx = this.ctx;
    ctx.role = o.role;
    ctx.heartbeatIntervalMs = o.heartbeatIntervalMs;
    this.survivedSilence(o);
    ctx.clusterSize = o.clusterSize;
    ctx.peersReachable = o.peersReachable;
    // Raft has one leader per term: a node that led in this term and no longer leads knows none serves it,
    // and so does one whose leader of this term asked it for votes in a later term.
    if (o.role === 'leader') this.ledTerm = o.term;
    ctx.steppedDownThisTerm = (o.role !== 'leader' && o.term === this.ledTerm) || o.leaderResigned === true;
  }

  /**
   * A heartbeat: the gap since the previous one (in gapMs) feeds recordSurvived and smoothGap, then this
   * contact becomes the reference for the next gap. Invariant: lastHeartbeatMs is this tick's nowMs after.
   */
  private noteHeartbeat(o: TimeoutObservation): void {
    if (Number.isFinite(this.lastHeartbeatMs)) {
      this.gapMs = o.nowMs - this.lastHeartbeatMs;
      if (this.survivedMax.length > 0) this.recordSurvived(o);
      if (this.gapMs > 0) this.smoothGap();
    }
    this.lastHeartbeatMs = o.nowMs;
    this.contactLeaderId = this.tickLeaderId; // by value (validate): a fresh String object each tick is the same leader
    this.contactTerm = o.term;
    this.isolatedSinceContact = false;
  }

  /**
   * Records this tick's gap as survived when the same leader, in the same term, spoke again after it. Reads the
   * gap from a field: a double passed to a non-inlined call is boxed (one allocation per heartbeat).
   */
  private recordSurvived(o: TimeoutObservation): void {
    const gap = this.gapMs;
    const leaderId = this.tickLeaderId;
    if (!(gap > 0) || this.isolatedSinceContact || leaderId === null || leaderId !== this.contactLeaderId || o.term !== this.contactTerm) return;
    const b = Math.floor(o.nowMs / this.survivedBucketMs);
    // nowMs has any origin: a bucket before it is negative, and % keeps the sign (a negative index would
    // be a silent no-op on a typed array).
    let slot = b % SURVIVED_BUCKETS;
    if (slot < 0) slot += SURVIVED_BUCKETS;
    if (this.survivedBucket[slot] !== b) {
      this.survivedBucket[slot] = b;
      this.survivedMax[slot] = 0;
    }
    if (gap > this.survivedMax[slot]!) this.survivedMax[slot] = gap;
  }

  /**
   * Jacobson/Karels smoothing of a gap gapMs > 0 into "the usual gap": the first seeds mean = gap,
   * deviation = gap / 2; later ones move the deviation by 1/4 (against the old mean), then the mean by 1/8.
   * Invariant: gapMeanMs is NaN until the first gap, then > 0; gapDevMs ≥ 0.
   */
  private smoothGap(): void {
    const gap = this.gapMs;
    if (Number.isNaN(this.gapMeanMs)) {
      this.gapMeanMs = gap;
      this.gapDevMs = gap / 2;
    } else {
      this.gapDevMs += 0.25 * (Math.abs(gap - this.gapMeanMs) - this.gapDevMs);
      this.gapMeanMs += 0.125 * (gap - this.gapMeanMs);
    }
  }

  /**
   * This tick's heartbeat RTT into the ring (NaN when none), the worst RTT in it into ctx.worstRttMs, and the
   * smoothed RTT into ctx.smoothedRttMs. A latency that differs from the last one seen is a new sample (hosts
   * that repeat a value every tick and hosts that send null between heartbeats give the same samples).
   * Invariant: the ring holds the last rttWindowTicks ticks that reached trackContact; worstRttMs ≥ 0.
   */
  private pushRtt(o: TimeoutObservation): void {
    const rtt = this.rtt;
    const pos = this.rttPos;
    const evicted = rtt[pos]!;
    rtt[pos] = o.heartbeatLatencyMs === null ? Number.NaN : o.heartbeatLatencyMs;
    const v = rtt[pos]!; // read back: the number the ring holds, whatever the observation carried
    this.rttPos = pos + 1 === rtt.length ? 0 : pos + 1;
    // worstRttMs = max(0, the ring's non-NaN values), kept incrementally: only when the value leaving the ring
    // may have been that maximum is the ring scanned again (NaN compares false: skipped either way).
    let worst = this.worstRttMs;
    if (evicted >= worst) {
      worst = 0;
      for (let i = 0; i < rtt.length; i++) if (rtt[i]! > worst) worst = rtt[i]!;
    } else if (v > worst) worst = v;
    this.worstRttMs = worst;
    this.ctx.worstRttMs = worst;
    if (v >= 0 && v !== this.lastRttSampleMs) {
      this.lastRttSampleMs = v;
      this.srttMs = Number.isNaN(this.srttMs) ? v : 0.875 * this.srttMs + 0.125 * v;
    }
    this.ctx.smoothedRttMs = Number.isNaN(this.srttMs) ? 0 : this.srttMs;
  }

  /**
   * The longest survived silence still inside the window into ctx.survivedSilenceMs. Invariant: 0 when the
   * rules have no survived-silence floor or no bucket of the last SURVIVED_BUCKETS holds a gap.
   */
  private survivedSilence(o: TimeoutObservation): void {
    let survived = 0;
    if (this.survivedMax.length > 0) {
      const oldest = Math.floor(o.nowMs / this.survivedBucketMs) - (SURVIVED_BUCKETS - 1);
      for (let i = 0; i < SURVIVED_BUCKETS; i++) {
        if (this.survivedBucket[i]! >= oldest && this.survivedMax[i]! > survived) survived = this.survivedMax[i]!;
      }
    }
    this.ctx.survivedSilenceMs = survived;
  }
}
