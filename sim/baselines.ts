/**
 * Adaptive baseline timeout policies the model is judged against (docs/EVALUATION.md, "What runs").
 * Pure and deterministic (no I/O, no clock). They live beside the simulator, below every stage, so the
 * evaluation, the notebooks and the browser demo share them without the demo depending on pipeline/.
 * They implement the TimeoutPolicy interface of docs/CONTRACTS.md §7 structurally: `observe` every tick,
 * `electionTimeoutMs` the timeout measured from the last leader contact.
 */
import type { Prng } from './prng.js';
import type { TimeoutObservation, TimeoutPolicy } from './policy.js';
import { rfc6298State, rfc6298Update } from './rfc6298.js';

/** The subset of a tick's observation these policies read (docs/CONTRACTS.md §7). */
export interface BaselineObservation {
  nowMs: number;
  heartbeatReceived: boolean;
  leaderId: string | null;
  term: number;
  heartbeatIntervalMs: number;
}

export interface JacobsonOptions {
  /** RTTVAR multiplier K (RFC 6298: 4). Swept for the Pareto chart. */
  k?: number;
  /** Smoothing gains α and β (RFC 6298: 1/8 and 1/4). */
  alpha?: number;
  beta?: number;
  /** Lower bound as a multiple of the heartbeat interval (RFC 6298's 1 s minimum RTO, scaled): default 2. */
  floorIntervals?: number;
  /** Timeout before two arrivals have been seen (ms): default 1000 (etcd's election timeout). */
  initialTimeoutMs?: number;
}

/**
 * Jacobson/Karels (RFC 6298 §2) over heartbeat inter-arrival times: SRTT + K·RTTVAR, floored.
 * Invariant: the estimate is reset when the leader or term changes, since inter-arrivals from a new
 * leader say nothing about the old one's.
 */
export class JacobsonKarelsTimeout {
  private readonly k: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly floorIntervals: number;
  private readonly initialTimeoutMs: number;
  private readonly est = rfc6298State();
  private lastArrivalMs = -1;
  private leaderId: string | null = null;
  private term = -1;
  private timeoutMs: number;

  constructor(opts: JacobsonOptions = {}) {
    this.k = opts.k ?? 4;
    this.alpha = opts.alpha ?? 1 / 8;
    this.beta = opts.beta ?? 1 / 4;
    this.floorIntervals = opts.floorIntervals ?? 2;
    this.initialTimeoutMs = opts.initialTimeoutMs ?? 1000;
    this.timeoutMs = this.initialTimeoutMs;
  }

  observe(o: BaselineObservation): void {
    if (o.leaderId !== this.leaderId || o.term !== this.term) {
      this.leaderId = o.leaderId;
      this.term = o.term;
      this.est.samples = 0;
      this.lastArrivalMs = -1;
      this.timeoutMs = this.initialTimeoutMs;
    }
    if (!o.heartbeatReceived) return;
    if (this.lastArrivalMs >= 0) {
      rfc6298Update(this.est, o.nowMs - this.lastArrivalMs, this.alpha, this.beta);
      const floorMs = this.floorIntervals * o.heartbeatIntervalMs;
      this.timeoutMs = Math.max(floorMs, this.est.srttMs + this.k * this.est.rttvarMs);
    }
    this.lastArrivalMs = o.nowMs;
  }

  electionTimeoutMs(): number {
    return this.timeoutMs;
  }
}

export interface PhiAccrualOptions {
  /** Suspicion threshold φ (Akka default 8). Swept for the Pareto chart. */
  threshold?: number;
  /** Inter-arrival samples kept (Akka default 1000). */
  maxSamples?: number;
  /** Minimum standard deviation as a fraction of the heartbeat interval (Akka: 100 ms for 1 s heartbeats → 0.1). */
  minStdIntervals?: number;
  /** Acceptable heartbeat pause added to the mean (ms); Akka's cluster default scaled away: 0. */
  acceptablePauseMs?: number;
  /** Timeout before two arrivals have been seen (ms). */
  initialTimeoutMs?: number;
}

/**
 * φ-accrual failure detector (Hayashibara et al. 2004; Akka's implementation and its logistic
 * approximation of the normal CDF). φ(t) = −log10(1 − F(t)) for the elapsed silence t; the timeout is the
 * silence at which φ reaches the threshold, found by bisection (φ is increasing in t).
 */
export class PhiAccrualTimeout {
  private readonly threshold: number;
  private readonly maxSamples: number;
  private readonly minStdIntervals: number;
  private readonly acceptablePauseMs: number;
  private readonly initialTimeoutMs: number;
  private readonly ring: Float64Array;
  private count = 0;
  private head = 0;
  private sum = 0;
  private sumSq = 0;
  private lastArrivalMs = -1;
  private leaderId: string | null = null;
  private term = -1;
  private timeoutMs: number;

  constructor(opts: PhiAccrualOptions = {}) {
    this.threshold = opts.threshold ?? 8;
    this.maxSamples = opts.maxSamples ?? 1000;
    this.minStdIntervals = opts.minStdIntervals ?? 0.1;
    this.acceptablePauseMs = opts.acceptablePauseMs ?? 0;
    this.initialTimeoutMs = opts.initialTimeoutMs ?? 1000;
    this.ring = new Float64Array(this.maxSamples);
    this.timeoutMs = this.initialTimeoutMs;
  }

  observe(o: BaselineObservation): void {
    if (o.leaderId !== this.leaderId || o.term !== this.term) {
      // Akka keeps history per monitored node; a new leader (or term) starts a fresh history.
      this.leaderId = o.leaderId;
      this.term = o.term;
      this.count = 0;
      this.head = 0;
      this.sum = 0;
      this.sumSq = 0;
      this.lastArrivalMs = -1;
      this.timeoutMs = this.initialTimeoutMs;
    }
    if (!o.heartbeatReceived) return;
    if (this.lastArrivalMs >= 0) {
      this.push(o.nowMs - this.lastArrivalMs);
      const mean = this.sum / this.count + this.acceptablePauseMs;
      const variance = Math.max(0, this.sumSq / this.count - (this.sum / this.count) ** 2);
      const std = Math.max(Math.sqrt(variance), this.minStdIntervals * o.heartbeatIntervalMs);
      this.timeoutMs = phiCrossingMs(mean, std, this.threshold);
    }
    this.lastArrivalMs = o.nowMs;
  }

  electionTimeoutMs(): number {
    return this.timeoutMs;
  }

  private push(gapMs: number): void {
    if (this.count === this.maxSamples) {
      const old = this.ring[this.head]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.count++;
    }
    this.ring[this.head] = gapMs;
    this.sum += gapMs;
    this.sumSq += gapMs * gapMs;
    this.head = (this.head + 1) % this.maxSamples;
  }
}

/** Akka's φ: −log10(1 − F(t)) with F the logistic approximation of the normal CDF. */
export function phi(elapsedMs: number, meanMs: number, stdMs: number): number {
  const y = (elapsedMs - meanMs) / stdMs;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  // Akka: for t > mean, φ = −log10(e / (1 + e)); else −log10(1 − 1 / (1 + e)).
  return elapsedMs > meanMs ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

/** The elapsed silence (ms) at which φ reaches `threshold`; bisection to 0.01 ms. */
export function phiCrossingMs(meanMs: number, stdMs: number, threshold: number): number {
  let lo = 0;
  let hi = meanMs + stdMs;
  while (phi(hi, meanMs, stdMs) < threshold) hi *= 2;
  while (hi - lo > 0.01) {
    const mid = (lo + hi) / 2;
    if (phi(mid, meanMs, stdMs) < threshold) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * etcd's randomization applied to an adaptive estimate: the timeout is the estimate × a factor drawn from
 * U[1, 2) whenever the node's term or role changes (held in between, as etcd holds its draw). Without it,
 * followers fed the same heartbeats compute the same timeout, campaign together and split the vote again
 * and again — a 3-node cluster then stays leaderless until the crashed leader returns. Raft's liveness
 * argument needs the randomization; a deployment of RFC 6298 or φ-accrual for elections would add it.
 */
export class RandomizedTimeout implements TimeoutPolicy {
  private term = -1;
  private role = '';
  private factor = 1;
  constructor(private readonly inner: TimeoutPolicy, private readonly rng: Prng) {}
  observe(o: TimeoutObservation): void {
    this.inner.observe(o);
    if (o.term !== this.term || o.role !== this.role) {
      this.term = o.term;
      this.role = o.role;
      this.factor = this.rng.uniform(1, 2);
    }
  }
  electionTimeoutMs(): number {
    return this.inner.electionTimeoutMs() * this.factor;
  }
}
