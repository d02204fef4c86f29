/**
 * Sound interval arithmetic for `verify` (docs/CONTRACTS.md §3; pipeline/verify/README.md, "Check e").
 *
 * Claim every function here keeps: if the runtime's value of an input lies in the input interval, the
 * runtime's value of the result lies in the output interval — not just the exact real result.
 *
 * Why that holds (the rounding argument):
 * 1. Every bound we compute is pushed one or two float64 ulps outward (nextDown / nextUp) after each operation,
 *    so our intervals contain the exact real result of the operation on any inputs inside them.
 * 2. The runtime does not compute exact reals: it rounds. We do not assume its summation order or whether
 *    it keeps scratch and state in Float64Array or Float32Array. We assume only that every basic operation
 *    and every stored value has relative error at most `u` (IEEE round-to-nearest; `u = 2^-24` covers both
 *    float32 and float64 arithmetic, `u = 2^-53` covers float64 only), and that Math.exp / Math.tanh are
 *    accurate to a few ulps. Then (Higham, Accuracy and Stability, §3.1):
 *      |fl(Σ_{i<n} a_i·b_i) − Σ a_i·b_i| ≤ γ_n · Σ |a_i·b_i|,   γ_n = n·u / (1 − n·u),
 *    in ANY order, so a dot product's interval is widened by γ_n times a bound on Σ|a_i·b_i|; an
 *    elementwise result r is widened by (k·u)·|r| + tiny (k counts the roundings, `tiny` covers underflow).
 * 3. Monotone functions (exp, σ, tanh) are evaluated at the endpoints and widened: for x ∈ [lo, hi],
 *    f(x) ∈ [f(lo), f(hi)] exactly, and the computed value differs from it by the relative error above.
 * Widening is applied generously (a handful of ulps more than the proof needs): the intervals IBP produces
 * are many orders of magnitude wider than these epsilons, so generosity costs nothing measurable.
 */

/** A closed interval [lo, hi]; lo ≤ hi, either may be ±Infinity. */
export interface Interval {
  lo: number;
  hi: number;
}

/** Rounding model of the runtime (see the file comment). */
export interface RoundingModel {
  /** Unit roundoff of the runtime's arithmetic and storage: 2^-24 (float32 or float64), 2^-53 (float64 only). */
  u: number;
  /** Absolute slack for results near zero (underflow, subnormals, σ/tanh flushing to 0 in float32). */
  tiny: number;
}

/** Default: sound whether the runtime works in float32 or float64, and whatever its summation order. */
export const DEFAULT_ROUNDING: RoundingModel = { u: 2 ** -24, tiny: 1e-30 };

/** Our own arithmetic (float64, round to nearest). */
const F64_ROUNDING: RoundingModel = { u: 2 ** -53, tiny: 0 };

const EPS = 2 ** -52;

/**
 * A float64 strictly above x, at most two ulps above (x for ±Infinity and NaN). Why this is enough:
 * ulp(x) ≤ |x|·2^-52 for normal x, so the exact x + |x|·2^-52 is at least one ulp above x and rounding to
 * nearest cannot bring it back to x; adding MIN_VALUE handles 0 and subnormals. (Plain arithmetic: an
 * order of magnitude faster than bit twiddling through a BigInt64Array, and IBP calls this millions of times.)
 */
export function nextUp(x: number): number {
  if (!Number.isFinite(x)) return x;
  return x + Math.abs(x) * EPS + Number.MIN_VALUE;
}

/** A float64 strictly below x, at most two ulps below. */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

export function iv(lo: number, hi: number = lo): Interval {
  return { lo, hi };
}

export function contains(a: Interval, x: number): boolean {
  return a.lo <= x && x <= a.hi;
}

export function width(a: Interval): number {
  return a.hi - a.lo;
}

export function hull(a: Interval, b: Interval): Interval {
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}

/** a ∩ b; when they do not overlap (only possible through a bug), the narrower of the two is not safe, so throw. */
export function intersect(a: Interval, b: Interval): Interval {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  if (lo > hi) throw new Error(`verify: empty interval intersection [${a.lo}, ${a.hi}] ∩ [${b.lo}, ${b.hi}]`);
  return { lo, hi };
}

/** Widens by the runtime's rounding of one stored/computed value: k roundings of relative size u. */
export function widenRel(a: Interval, k: number, r: RoundingModel): Interval {
  const e = k * r.u;
  return {
    lo: nextDown(a.lo - e * Math.abs(a.lo) - r.tiny),
    hi: nextUp(a.hi + e * Math.abs(a.hi) + r.tiny),
  };
}

/** x + y rounded down: exact (no push) when an operand is 0, so exact zeros stay exact zeros. */
function addDown(x: number, y: number): number {
  return x === 0 ? y : y === 0 ? x : nextDown(x + y);
}

function addUp(x: number, y: number): number {
  return x === 0 ? y : y === 0 ? x : nextUp(x + y);
}

export function add(a: Interval, b: Interval): Interval {
  return { lo: addDown(a.lo, b.lo), hi: addUp(a.hi, b.hi) };
}

/**
 * x·y rounded down / up, with the convention 0·∞ = 0 (sound because the runtime's values are finite).
 * A product with an exactly-zero factor is exactly 0 and is not pushed, so exact zeros (a weight or gate
 * derivative that is 0) stay exact; any other product is pushed one ulp (an underflow to 0 included).
 */
function mulDown(x: number, y: number): number {
  return x === 0 || y === 0 ? 0 : nextDown(x * y);
}

function mulUp(x: number, y: number): number {
  return x === 0 || y === 0 ? 0 : nextUp(x * y);
}

/** Product with the convention 0·∞ = 0, unrounded (for magnitudes). */
function mulPoint(x: number, y: number): number {
  return x === 0 || y === 0 ? 0 : x * y;
}

export function mul(a: Interval, b: Interval): Interval {
  return {
    lo: Math.min(mulDown(a.lo, b.lo), mulDown(a.lo, b.hi), mulDown(a.hi, b.lo), mulDown(a.hi, b.hi)),
    hi: Math.max(mulUp(a.lo, b.lo), mulUp(a.lo, b.hi), mulUp(a.hi, b.lo), mulUp(a.hi, b.hi)),
  };
}

/** Interval times an exact scalar weight. */
export function scale(a: Interval, w: number): Interval {
  return w >= 0 ? { lo: mulDown(a.lo, w), hi: mulUp(a.hi, w) } : { lo: mulDown(a.hi, w), hi: mulUp(a.lo, w) };
}

/** max |x| over the interval. */
export function mag(a: Interval): number {
  return Math.max(Math.abs(a.lo), Math.abs(a.hi));
}

/** γ_n = n·u / (1 − n·u), rounded up (Higham's bound on the error of an n-term sum of products). */
export function gamma(n: number, r: RoundingModel): number {
  const nu = n * r.u;
  return nextUp(nextUp(nu) / nextDown(1 - nu));
}

/**
 * Enclosure of the runtime's `bias + Σ_i x_i · w[i·stride]` for x_i in the intervals (lo[i], hi[i]) and
 * exact float weights, in any summation order and with the runtime's rounding (file comment, point 2).
 */
export function dotBias(
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  w: ArrayLike<number>,
  offset: number,
  stride: number,
  n: number,
  bias: number,
  r: RoundingModel,
): Interval {
  let sLo = bias;
  let sHi = bias;
  let absSum = Math.abs(bias);
  for (let i = 0; i < n; i++) {
    const wi = w[offset + i * stride]!;
    if (wi === 0) continue;
    const a = mulPoint(lo[i]!, wi);
    const b = mulPoint(hi[i]!, wi);
    if (wi > 0) {
      sLo += a;
      sHi += b;
    } else {
      sLo += b;
      sHi += a;
    }
    absSum += Math.max(Math.abs(a), Math.abs(b));
  }
  // Our own sums are float64 sums of float64 products too, so the same bound covers them: the exact sum of
  // the extreme products lies within γ64·Σ|p| of sLo / sHi, and the runtime's value within γ_r·Σ|p| of
  // that; Σ|p| itself is known to within a factor (1 + γ64). n products + the bias, +1 for the final store.
  const g64 = gamma(n + 2, F64_ROUNDING);
  const err = nextUp(nextUp((gamma(n + 2, r) + g64) * nextUp(absSum * (1 + 2 * g64))) + r.tiny);
  return { lo: nextDown(sLo - err), hi: nextUp(sHi + err) };
}

/** Runtime's logistic sigmoid: monotone, within [0, 1] whatever the implementation's rounding. */
export function sigmoidRef(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function sigmoidIv(a: Interval, r: RoundingModel): Interval {
  const w = widenRel({ lo: sigmoidRef(a.lo), hi: sigmoidRef(a.hi) }, 8, r);
  return { lo: Math.max(0, w.lo), hi: Math.min(1, w.hi) };
}

export function tanhIv(a: Interval, r: RoundingModel): Interval {
  const w = widenRel({ lo: Math.tanh(a.lo), hi: Math.tanh(a.hi) }, 8, r);
  return { lo: Math.max(-1, w.lo), hi: Math.min(1, w.hi) };
}

export function expIv(a: Interval, r: RoundingModel): Interval {
  const w = widenRel({ lo: Math.exp(a.lo), hi: Math.exp(a.hi) }, 8, r);
  return { lo: Math.max(0, w.lo), hi: w.hi };
}

/**
 * Enclosure of σ'(z) = σ(z)(1 − σ(z)) over z ∈ a (unimodal, maximum 1/4 at 0). Derivatives are only
 * compared in sign by the monotonicity check, so this bounds the exact derivative (no runtime rounding:
 * the runtime never computes derivatives) — pushed out generously all the same.
 */
export function sigmoidDerivIv(a: Interval): Interval {
  const d = (z: number): number => {
    const s = sigmoidRef(z);
    return s * (1 - s);
  };
  const atLo = d(a.lo);
  const atHi = d(a.hi);
  const lo = Math.min(atLo, atHi);
  const hi = a.lo <= 0 && a.hi >= 0 ? 0.25 : Math.max(atLo, atHi);
  return { lo: Math.max(0, lo * (1 - 1e-12) - 1e-300), hi: Math.min(0.25, hi * (1 + 1e-12) + 1e-300) };
}

/** Enclosure of tanh'(z) = 1 − tanh²(z) over z ∈ a (unimodal, maximum 1 at 0). */
export function tanhDerivIv(a: Interval): Interval {
  const d = (z: number): number => {
    const t = Math.tanh(z);
    return 1 - t * t;
  };
  const atLo = d(a.lo);
  const atHi = d(a.hi);
  const lo = Math.min(atLo, atHi);
  const hi = a.lo <= 0 && a.hi >= 0 ? 1 : Math.max(atLo, atHi);
  return { lo: Math.max(0, lo * (1 - 1e-12) - 1e-300), hi: Math.min(1, hi * (1 + 1e-12) + 1e-300) };
}
