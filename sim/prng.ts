/**
 * Seeded pseudo-random numbers for the simulator (sfc32 seeded through splitmix32). The core never touches
 * the global random number generator: every random choice draws from a Prng passed in, and independent concerns (network, client,
 * faults, each node's timeout policy) draw from independent streams forked by label, so swapping one node's
 * policy never shifts the random numbers the network sees. Same seed → same sequence, in Node and browsers.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Exponential with the given mean (0 when mean <= 0). */
  exp(mean: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** An independent stream derived from this stream's seed and a label (does not advance this stream). */
  fork(label: string): Prng;
}

/** splitmix32: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a label, folded into a seed. */
function hashLabel(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Makes a seeded stream. Seeds are integers; values beyond 32 bits are folded (seed and seed + 2^32 differ).
 * @example const rng = makePrng(42); rng.uniform(150, 300);
 */
export function makePrng(seed: number): Prng {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return makeFromWord((lo ^ Math.imul(hi, 0x27d4eb2d)) >>> 0);
}

/**
 * sfc32 as a class: methods live on the prototype, so every stream shares one set of functions and the
 * hot call sites (a draw per message) stay monomorphic and inlinable across simulations.
 */
class Sfc32 implements Prng {
  /**
   * The state words a, b, c, d as int32s: in an Int32Array they load and store as machine integers, while
   * object fields holding values beyond the small-integer range are doubles, converted at every load and
   * store. The arithmetic is modulo 2^32 either way, so the draws are the same.
   */
  private readonly s = new Int32Array(4);
  constructor(private readonly word: number) {
    const st = { s: word | 0 };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st);
    for (let i = 0; i < 12; i++) this.next();
  }
  next(): number {
    const s = this.s;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  exp(mean: number): number {
    return mean > 0 ? -mean * Math.log(1 - this.next()) : 0;
  }
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
  fork(label: string): Prng {
    return new Sfc32(hashLabel(this.word, label));
  }
}

function makeFromWord(word: number): Prng {
  return new Sfc32(word);
}
