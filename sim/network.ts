/**
 * Network model: per-link one-way delay = fixed base (from the profile) + jitter whose size depends on a
 * two-state Markov chain per link (calm ↔ jittery, stepped once per tick), plus loss, partitions
 * (symmetric or one-directional) and degradation windows. Links are FIFO, like the TCP streams etcd and
 * hashicorp/raft use: a message never overtakes an earlier one on the same link, so a delay spike causes
 * head-of-line blocking. Endpoint index `size` is the client, which partitions never cut off.
 */
import type { Prng } from './prng.js';
import { roundUs } from './round.js';
import type { FaultSpec, ResolvedScenario } from './scenario.js';

/** WAN regions, assigned to nodes round-robin; the client sits in region 0. */
export const WAN_REGIONS = ['na-east', 'na-west', 'eu-west'] as const;

/** One-way base delay range (ms) of a LAN link. */
export const LAN_ONE_WAY_MS: readonly [number, number] = [0.1, 0.5];

/** One-way base delay range (ms) between two regions. */
function wanRangeMs(a: number, b: number): [number, number] {
  if (a === b) return [0.25, 1];
  if ((a === 0 && b === 1) || (a === 1 && b === 0)) return [30, 40]; // continental
  return [80, 150]; // intercontinental
}

export interface LinkOverrides {
  /** Multiplies every base delay (the browser demo's latency slider). */
  latencyScale: number;
  /** Added to the jittery state's mean and forces it when > 0 (ms). */
  jitterMs: number;
  /** Extra loss probability on every link. */
  loss: number;
}

export class Network {
  readonly endpoints: number;
  readonly region: Int32Array;
  private readonly baseUs: Float64Array;
  private readonly jittery: Uint8Array;
  private readonly lastDeliveryUs: Float64Array;
  /** Fault state, rebuilt by the cluster whenever a fault starts or ends. */
  readonly blocked: Uint8Array;
  readonly extraUs: Float64Array;
  readonly extraLoss: Float64Array;
  readonly forcedJitterUs: Float64Array;
  readonly overrides: LinkOverrides = { latencyScale: 1, jitterMs: 0, loss: 0 };
  private readonly nextFlipTick: Float64Array;
  private readonly lastBucket: Float64Array;
  private readonly bucketCount: Int32Array;
  /** hash3's first round per link (it depends on the link only) and its second per link's current bucket:
   * a message then costs one mix32 round more, with the same hash bits (the hash functions at the end of this file). */
  private readonly linkHash: Int32Array;
  private readonly bucketHash: Int32Array;
  private tickCount = 0;
  /** The earliest tick any link flips at. Invariant: min over k of nextFlipTick[k]. */
  private nextAnyFlipTick = 0;
  private readonly pEnter: number;
  private readonly pExit: number;
  private readonly calmMeanUs: number;
  private readonly jitteryMeanUs: number;

  /**
   * `rng` draws the base delays and the calm/jittery timeline; per-message draws (loss, jitter) come from
   * a counter-based hash of (seed, link, send millisecond, index within it), so they depend on when a
   * message is sent, not on how many messages were sent before: two policies compared on one seed see
   * the same network weather even after their traffic diverges (common random numbers).
   */
  constructor(private readonly cfg: ResolvedScenario, private readonly rng: Prng, seedWord: number) {
    const n = cfg.size + 1;
    this.endpoints = n;
    this.region = new Int32Array(n);
    this.baseUs = new Float64Array(n * n);
    this.jittery = new Uint8Array(n * n);
    this.lastDeliveryUs = new Float64Array(n * n);
    this.blocked = new Uint8Array(n * n);
    this.extraUs = new Float64Array(n * n);
    this.extraLoss = new Float64Array(n * n);
    this.forcedJitterUs = new Float64Array(n * n);
    for (let i = 0; i < cfg.size; i++) this.region[i] = cfg.profile === 'wan' ? i % WAN_REGIONS.length : 0;
    this.region[cfg.size] = 0;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const [lo, hi] = cfg.oneWayMs ?? (cfg.profile === 'wan' ? wanRangeMs(this.region[a]!, this.region[b]!) : LAN_ONE_WAY_MS);
        const us = Math.round(rng.uniform(lo, hi) * 1000);
        this.baseUs[a * n + b] = us;
        this.baseUs[b * n + a] = us;
      }
    }
    this.pEnter = cfg.jitter.enter_per_s * (cfg.tickMs / 1000);
    this.pExit = Math.min(1, cfg.tickMs / Math.max(cfg.jitter.mean_burst_ms, 1e-9));
    this.calmMeanUs = cfg.jitter.calm_mean_ms * 1000;
    this.lastBucket = new Float64Array(n * n).fill(-1);
    this.bucketCount = new Int32Array(n * n);
    this.linkHash = new Int32Array(n * n);
    this.bucketHash = new Int32Array(n * n);
    for (let k = 0; k < n * n; k++) this.linkHash[k] = hashLink(seedWord, k);
    this.nextFlipTick = new Float64Array(n * n);
    for (let k = 0; k < n * n; k++) this.nextFlipTick[k] = this.ticksToFlip(this.pEnter);
    this.nextAnyFlipTick = minOf(this.nextFlipTick);
    this.jitteryMeanUs = cfg.jitter.jittery_mean_ms * 1000;
  }

  /**
   * Steps every link's calm/jittery chain by one tick. Instead of a coin per link per tick, each link
   * holds the tick of its next flip, drawn from the geometric distribution that the per-tick coin implies.
   */
  tick(): void {
    const t = ++this.tickCount;
    // No link flips this tick: the scan below would skip every link.
    if (this.nextAnyFlipTick > t) return;
    const j = this.jittery;
    const next = this.nextFlipTick;
    let soonest = Number.POSITIVE_INFINITY;
    for (let k = 0; k < j.length; k++) {
      if (next[k]! <= t) {
        j[k] = j[k] === 0 ? 1 : 0;
        next[k] = t + this.ticksToFlip(j[k] === 0 ? this.pEnter : this.pExit);
      }
      if (next[k]! < soonest) soonest = next[k]!;
    }
    this.nextAnyFlipTick = soonest;
  }

  /** Ticks until a per-tick event of probability p first happens (geometric, >= 1). */
  private ticksToFlip(p: number): number {
    if (p <= 0) return Number.POSITIVE_INFINITY;
    if (p >= 1) return 1;
    return 1 + Math.floor(Math.log(1 - this.rng.next()) / Math.log(1 - p));
  }

  /**
   * Delivery time (µs) of a message sent now from → to, or -1 when it is dropped (loss or partition).
   * Invariant: per link, delivery times never decrease (FIFO).
   */
  deliveryUs(from: number, to: number, nowUs: number): number {
    const k = from * this.endpoints + to;
    if (this.blocked[k] === 1) return -1;
    const ov = this.overrides;
    const loss = this.cfg.loss + this.extraLoss[k]! + ov.loss;
    const bucket = Math.floor(nowUs / 1000);
    let idx = 0;
    if (this.lastBucket[k] === bucket) idx = ++this.bucketCount[k]!;
    else {
      this.lastBucket[k] = bucket;
      this.bucketCount[k] = 0;
      this.bucketHash[k] = hashBucket(this.linkHash[k]!, bucket);
    }
    const h = hashIndex(this.bucketHash[k]!, idx);
    if (loss > 0 && unit(h) < loss) return -1;
    const mean = this.jitterMeanUs(k);
    const delay = this.baseUs[k]! * ov.latencyScale + this.extraUs[k]! - mean * Math.log(1 - unit(mix32(h ^ 0x5bd1e995)));
    let at = roundUs(nowUs + delay);
    const last = this.lastDeliveryUs[k]!;
    if (at < last) at = last;
    this.lastDeliveryUs[k] = at;
    return at;
  }

  /** Mean of the exponential jitter a message on link k draws now: forced by a fault or the demo, else the link's state. */
  private jitterMeanUs(k: number): number {
    const forced = this.forcedJitterUs[k]! + this.overrides.jitterMs * 1000;
    return forced > 0 ? Math.max(forced, this.jitteryMeanUs) : this.jittery[k] === 1 ? this.jitteryMeanUs : this.calmMeanUs;
  }

  /** Expected one-way delay (µs) of a message sent now from → to, ignoring loss and FIFO queueing (for ground truth). */
  expectedDelayUs(from: number, to: number): number {
    const k = from * this.endpoints + to;
    return this.baseUs[k]! * this.overrides.latencyScale + this.extraUs[k]! + this.jitterMeanUs(k);
  }

  /** Whether a message from → to can currently get through at all (for ground truth). */
  connected(from: number, to: number): boolean {
    const k = from * this.endpoints + to;
    return this.blocked[k] === 0 && this.cfg.loss + this.extraLoss[k]! + this.overrides.loss < 1;
  }

  /** connected(a, b) && connected(b, a), with the shared loads done once (the same sums and comparisons). */
  linked(a: number, b: number): boolean {
    const n = this.endpoints;
    const ab = a * n + b;
    const ba = b * n + a;
    const loss = this.cfg.loss;
    const ovLoss = this.overrides.loss;
    return this.blocked[ab] === 0 && loss + this.extraLoss[ab]! + ovLoss < 1 && this.blocked[ba] === 0 && loss + this.extraLoss[ba]! + ovLoss < 1;
  }

  /** Base one-way delay (ms) of a link, for snapshots. */
  baseMs(from: number, to: number): number {
    return (this.baseUs[from * this.endpoints + to]! * this.overrides.latencyScale) / 1000;
  }

  isJittery(from: number, to: number): boolean {
    return this.jittery[from * this.endpoints + to] === 1;
  }

  /**
   * Rebuilds the fault matrices from the active faults (called whenever one starts or ends). An isolated
   * node loses every link, the client's included; `direction` makes the cut one-way. Splits cut links
   * between groups only, so the client still reaches everyone.
   */
  applyFaults(faults: ReadonlyArray<{ spec: FaultSpec; nodes: number[] }>, nodeIds: readonly string[], defaultJitteryMeanMs: number): void {
    const n = this.endpoints;
    this.clearFaults();
    for (const f of faults) {
      const s = f.spec;
      if (s.kind === 'partition') {
        const a = f.nodes[0]!;
        const dir = s.direction ?? 'both';
        for (let j = 0; j < n; j++) {
          if (j === a) continue;
          if (dir !== 'inbound') this.blocked[a * n + j] = 1;
          if (dir !== 'outbound') this.blocked[j * n + a] = 1;
        }
      } else if (s.kind === 'split') {
        const group = new Int32Array(n).fill(-1);
        s.groups.forEach((g, gi) => g.forEach((id) => { const i = nodeIds.indexOf(id); if (i >= 0) group[i] = gi; }));
        for (let a = 0; a < n - 1; a++) {
          for (let b = 0; b < n - 1; b++) if (group[a] !== group[b]) this.blocked[a * n + b] = 1;
        }
      } else if (s.kind === 'degrade' || s.kind === 'jitter_burst') {
        const touch = new Uint8Array(n);
        if (f.nodes.length === 0) touch.fill(1);
        else for (const i of f.nodes) touch[i] = 1;
        for (let a = 0; a < n; a++) {
          for (let b = 0; b < n; b++) {
            if (a === b || (touch[a] === 0 && touch[b] === 0)) continue;
            const k = a * n + b;
            if (s.kind === 'degrade') {
              this.extraUs[k] = this.extraUs[k]! + (s.extra_latency_ms ?? 0) * 1000;
              this.extraLoss[k] = this.extraLoss[k]! + (s.loss ?? 0);
            } else {
              this.forcedJitterUs[k] = Math.max(this.forcedJitterUs[k]!, (s.jittery_mean_ms ?? defaultJitteryMeanMs) * 1000);
            }
          }
        }
      }
    }
  }

  /** Clears fault state before the cluster re-applies the active faults. */
  clearFaults(): void {
    this.blocked.fill(0);
    this.extraUs.fill(0);
    this.extraLoss.fill(0);
    this.forcedJitterUs.fill(0);
  }
}

function minOf(a: Float64Array): number {
  let m = Number.POSITIVE_INFINITY;
  for (let k = 0; k < a.length; k++) if (a[k]! < m) m = a[k]!;
  return m;
}

/**
 * murmur3's 32-bit finalizer, as an int32 (the hash's bits; `unit` reads them unsigned). An unsigned result
 * above 2^31 is no small integer, and V8 allocated a heap number for it on every message.
 */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/**
 * A well-mixed 32-bit hash of a seed word and three non-negative integers (link, send millisecond bucket
 * which may exceed 2^32, index within the bucket), in three rounds:
 * hashIndex(hashBucket(hashLink(seed, a), b), c). The network keeps the first two per link; the third runs
 * per message.
 */
function hashLink(seed: number, a: number): number {
  return mix32(seed ^ Math.imul(a + 1, 0x9e3779b1));
}

/** The second round and the bucket's high word, as the int32 the third round starts from. */
function hashBucket(h: number, b: number): number {
  h = mix32(h ^ (b >>> 0));
  // b's high word is 0 for the first 2^32 ms (49 days) of simulated time: skip the division then.
  const bHi = b < 4294967296 ? 0 : Math.floor(b / 4294967296);
  return h ^ bHi;
}

function hashIndex(hb: number, c: number): number {
  return mix32(hb ^ Math.imul(c + 1, 0x27d4eb2d));
}

/** A 32-bit hash (int32 bits) as a uniform in [0, 1). */
function unit(h: number): number {
  return (h >>> 0) / 4294967296;
}
