/**
 * Interval bound propagation (IBP) through the runtime's LSTM step, the invariant box for the carried
 * state (h, c), output bounds with input-box splitting, and interval bounds on the directional derivative
 * for monotonicity. Pure functions: no I/O, no clock, no randomness.
 *
 * Carried state (CONTRACTS.md §3): the runtime starts at h = c = 0 and carries (h, c) forever, so a bound
 * on tick t's output must hold for every state reachable from 0 under any input sequence in the domain X.
 * Let R be that reachable set: R = {0} ∪ step(R × X). We compute boxes B_k ⊇ R:
 *   B_0 is inductive by construction and by check: 0 ∈ B_0 and step(B_0 × X) ⊆ B_0, so R ⊆ B_0.
 *     h ∈ [-1, 1]^H always (|o·tanh(c)| ≤ 1). Gates i, f, g, o depend on x and h only, not on c, so per unit
 *     f ∈ [f⁻, f⁺] and i·g ∈ [a⁻, a⁺] over (h ∈ [-1,1]^H, x ∈ X); with f⁺ < 1 the interval
 *     c ∈ [min(0, a⁻/(1−f⁺)), max(0, a⁺/(1−f⁺))] is closed under c' = f·c + i·g. (If f⁺ rounds to 1 the
 *     unit's c is left unbounded; tanh still bounds h.)
 *   B_{k+1} = hull({0} ∪ step(B_k × X)) ∩ B_k. If R ⊆ B_k then step(R × X) ⊆ step(B_k × X), so R ⊆ B_{k+1}.
 * Every B_k is therefore sound; we stop at a fixpoint (or an iteration cap) and use the last one.
 */
import {
  add, dotBias, DEFAULT_ROUNDING, hull, intersect, type Interval, mul, scale, sigmoidDerivIv, sigmoidIv,
  tanhDerivIv, tanhIv, widenRel, type RoundingModel,
} from './interval.js';
import type { VerifyNet } from './net.js';

/** An axis-aligned box as lower/upper bound arrays. */
export interface Box {
  lo: Float64Array;
  hi: Float64Array;
}

/** A box over the carried state. */
export interface StateBox {
  h: Box;
  c: Box;
}

/** Interval enclosures of everything one step computes (all arrays per unit, or per output). */
export interface StepBounds {
  z: Interval[]; // [4·units] pre-activations
  i: Interval[];
  f: Interval[];
  g: Interval[];
  o: Interval[];
  c: Interval[]; // next c
  tanhC: Interval[];
  h: Interval[]; // next h
  y: [Interval, Interval]; // [q, ℓ]
}

export function makeBox(lo: ArrayLike<number>, hi: ArrayLike<number>): Box {
  return { lo: Float64Array.from(lo), hi: Float64Array.from(hi) };
}

/** The intersection of two boxes, or null when it is empty in some dimension. */
export function intersectBox(a: Box, b: Box): Box | null {
  const lo = new Float64Array(a.lo.length);
  const hi = new Float64Array(a.lo.length);
  for (let i = 0; i < lo.length; i++) {
    lo[i] = Math.max(a.lo[i]!, b.lo[i]!);
    hi[i] = Math.min(a.hi[i]!, b.hi[i]!);
    if (lo[i]! > hi[i]!) return null;
  }
  return { lo, hi };
}

/**
 * Combined weights transposed to [4·units, features + units] (per gate column: x rows, then h rows), so each
 * pre-activation's dot product reads memory contiguously. Cached per network.
 */
const combinedCache = new WeakMap<VerifyNet, Float64Array>();
function combined(net: VerifyNet): Float64Array {
  let wt = combinedCache.get(net);
  if (!wt) {
    const g4 = 4 * net.units;
    const m = net.features + net.units;
    wt = new Float64Array(g4 * m);
    for (let j = 0; j < g4; j++) {
      for (let i = 0; i < net.features; i++) wt[j * m + i] = net.W[i * g4 + j]!;
      for (let k = 0; k < net.units; k++) wt[j * m + net.features + k] = net.U[k * g4 + j]!;
    }
    combinedCache.set(net, wt);
  }
  return wt;
}

/** Sound enclosure of one runtime step over x ∈ xBox, (h, c) ∈ state. */
export function stepBounds(net: VerifyNet, state: StateBox, xBox: Box, r: RoundingModel = DEFAULT_ROUNDING): StepBounds {
  const n = net.units;
  const g4 = 4 * n;
  const m = net.features + n;
  const lo = new Float64Array(m);
  const hi = new Float64Array(m);
  lo.set(xBox.lo, 0);
  hi.set(xBox.hi, 0);
  lo.set(state.h.lo, net.features);
  hi.set(state.h.hi, net.features);
  const wu = combined(net);
  const z: Interval[] = new Array(g4);
  for (let j = 0; j < g4; j++) z[j] = dotBias(lo, hi, wu, j * m, 1, m, net.b[j]!, r);
  const gi: Interval[] = new Array(n);
  const gf: Interval[] = new Array(n);
  const gg: Interval[] = new Array(n);
  const go: Interval[] = new Array(n);
  const c: Interval[] = new Array(n);
  const tc: Interval[] = new Array(n);
  const h: Interval[] = new Array(n);
  for (let u = 0; u < n; u++) {
    gi[u] = sigmoidIv(z[u]!, r);
    gf[u] = sigmoidIv(z[n + u]!, r);
    gg[u] = tanhIv(z[2 * n + u]!, r);
    go[u] = sigmoidIv(z[3 * n + u]!, r);
    const fc = widenRel(mul(gf[u]!, { lo: state.c.lo[u]!, hi: state.c.hi[u]! }), 1, r);
    const ig = widenRel(mul(gi[u]!, gg[u]!), 1, r);
    c[u] = widenRel(add(fc, ig), 2, r);
    tc[u] = tanhIv(c[u]!, r);
    h[u] = widenRel(mul(go[u]!, tc[u]!), 2, r);
  }
  const hLo = Float64Array.from(h, (v) => v.lo);
  const hHi = Float64Array.from(h, (v) => v.hi);
  const y: [Interval, Interval] = [
    dotBias(hLo, hHi, net.Wd, 0, 2, n, net.bd[0]!, r),
    dotBias(hLo, hHi, net.Wd, 1, 2, n, net.bd[1]!, r),
  ];
  return { z, i: gi, f: gf, g: gg, o: go, c, tanhC: tc, h, y };
}

export interface InvariantResult {
  box: StateBox;
  /** Iterations of B_{k+1} = hull({0} ∪ step(B_k × X)) ∩ B_k until the fixpoint (or the cap). */
  iterations: number;
  converged: boolean;
  /** Units whose c could not be bounded (f⁺ rounds to 1): their c interval is (−∞, ∞). */
  unboundedC: number;
}

export interface InvariantOptions {
  maxIterations?: number;
  /** Stop when no bound on h or tanh(c) moves by more than this (and c by at most 1e-4 relative). */
  tolerance?: number;
  rounding?: RoundingModel;
}

/** The invariant box for (h, c) over every state reachable from 0 with inputs in `domain` (file comment). */
export function invariantBox(net: VerifyNet, domain: Box, opts: InvariantOptions = {}): InvariantResult {
  const r = opts.rounding ?? DEFAULT_ROUNDING;
  const maxIterations = opts.maxIterations ?? 200;
  const tolerance = opts.tolerance ?? 1e-9;
  // With f⁺ ≈ 0.999 a |c| bound near 10³ keeps creeping down by ~10⁻⁶ relative per iteration long after
  // h and tanh(c) (all the outputs see) have settled; 10⁻⁴ relative is plenty for c.
  const cTolerance = 1e-4;
  const n = net.units;
  const full: StateBox = {
    h: { lo: new Float64Array(n).fill(-1), hi: new Float64Array(n).fill(1) },
    c: { lo: new Float64Array(n).fill(-Infinity), hi: new Float64Array(n).fill(Infinity) },
  };
  // Gates do not depend on c, so one step from the unbounded-c box gives f and i·g over h ∈ [-1,1]^H.
  let box: StateBox = cloneState(full);
  const s0 = stepBounds(net, full, domain, r);
  const c0 = analyticC(net, box.h, s0, domain, r);
  box.c = c0.c;
  let unboundedC = c0.unbounded;
  if (!isInductive(net, box, domain, r)) {
    box = cloneState(full); // cannot happen unless the rounding slack beats the check's inflation; stay sound
    unboundedC = n;
  }
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    const s = stepBounds(net, box, domain, r);
    // Jump for c: with h_t ∈ H_k (true for reachable states, as R ⊆ B_k) the per-unit interval of
    // analyticC is closed under the c update, so R ⊆ H_k × C*. Without it c would shrink by only a factor
    // f⁺ ≈ 0.999 per iteration on units with a saturated forget gate.
    const jump = analyticC(net, box.h, s, domain, r);
    let moved = 0;
    let movedC = 0;
    const next = cloneState(box);
    for (let u = 0; u < n; u++) {
      const hN = intersect(hull({ lo: 0, hi: 0 }, s.h[u]!), { lo: box.h.lo[u]!, hi: box.h.hi[u]! });
      let cN = intersect(hull({ lo: 0, hi: 0 }, s.c[u]!), { lo: box.c.lo[u]!, hi: box.c.hi[u]! });
      cN = intersect(cN, { lo: jump.c.lo[u]!, hi: jump.c.hi[u]! });
      moved = Math.max(moved, delta(box.h.lo[u]!, hN.lo), delta(box.h.hi[u]!, hN.hi));
      // c is judged relatively and through tanh(c), which is what the output sees.
      movedC = Math.max(movedC, delta(box.c.lo[u]!, cN.lo) * cRel(cN.lo), delta(box.c.hi[u]!, cN.hi) * cRel(cN.hi));
      moved = Math.max(moved, delta(Math.tanh(box.c.lo[u]!), Math.tanh(cN.lo)), delta(Math.tanh(box.c.hi[u]!), Math.tanh(cN.hi)));
      next.h.lo[u] = hN.lo;
      next.h.hi[u] = hN.hi;
      next.c.lo[u] = cN.lo;
      next.c.hi[u] = cN.hi;
    }
    box = next;
    if (moved <= tolerance && movedC <= cTolerance) {
      converged = true;
      break;
    }
  }
  unboundedC = 0;
  for (let u = 0; u < n; u++) if (!Number.isFinite(box.c.lo[u]!) || !Number.isFinite(box.c.hi[u]!)) unboundedC++;
  return { box, iterations, converged, unboundedC };
}

/**
 * Per unit, the interval C* = [min(0, a⁻/(1−f⁺)), max(0, a⁺/(1−f⁺))] (slightly inflated), where f and
 * a = i·g are the gate enclosures of `s`, a step taken from a box whose h part is `hBox`. Each unit's C* is
 * then checked with a sound step from (hBox, C*): a unit whose next c leaves C* (rounding beat the
 * inflation) or whose f⁺ rounds to 1 gets (−∞, ∞). So: h ∈ hBox and c ∈ C* imply c' ∈ C*.
 */
function analyticC(net: VerifyNet, hBox: Box, s: StepBounds, domain: Box, r: RoundingModel): { c: Box; unbounded: number } {
  const n = net.units;
  const c: Box = { lo: new Float64Array(n), hi: new Float64Array(n) };
  for (let u = 0; u < n; u++) {
    const fHi = s.f[u]!.hi;
    if (fHi >= 1) {
      c.lo[u] = -Infinity;
      c.hi[u] = Infinity;
      continue;
    }
    const ig = widenRel(mul(s.i[u]!, s.g[u]!), 1, r);
    // The margin (1 − f⁺)·|C*|·δ must beat the rounding slack (~k·u·|C*|) of the check step.
    const inflate = 1 + Math.max(1e-6, (64 * r.u) / (1 - fHi));
    c.lo[u] = Math.min(0, ig.lo / (1 - fHi)) * inflate - 1e-9;
    c.hi[u] = Math.max(0, ig.hi / (1 - fHi)) * inflate + 1e-9;
  }
  const check = stepBounds(net, { h: hBox, c }, domain, r);
  let unbounded = 0;
  for (let u = 0; u < n; u++) {
    if (check.c[u]!.lo < c.lo[u]! || check.c[u]!.hi > c.hi[u]!) {
      c.lo[u] = -Infinity;
      c.hi[u] = Infinity;
    }
    if (!Number.isFinite(c.hi[u]!)) unbounded++;
  }
  return { c, unbounded };
}

/** Tolerance scaling of a c bound: relative for |c| > 1. */
function cRel(c: number): number {
  return 1 / Math.max(1, Math.abs(c));
}

function delta(a: number, b: number): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  return Math.abs(a - b);
}

function cloneState(s: StateBox): StateBox {
  return { h: makeBox(s.h.lo, s.h.hi), c: makeBox(s.c.lo, s.c.hi) };
}

/** 0 ∈ box and step(box × domain) ⊆ box. */
export function isInductive(net: VerifyNet, box: StateBox, domain: Box, r: RoundingModel = DEFAULT_ROUNDING): boolean {
  const s = stepBounds(net, box, domain, r);
  for (let u = 0; u < net.units; u++) {
    if (box.h.lo[u]! > 0 || box.h.hi[u]! < 0 || box.c.lo[u]! > 0 || box.c.hi[u]! < 0) return false;
    if (s.h[u]!.lo < box.h.lo[u]! || s.h[u]!.hi > box.h.hi[u]!) return false;
    if (s.c[u]!.lo < box.c.lo[u]! || s.c[u]!.hi > box.c.hi[u]!) return false;
  }
  return true;
}

/** Which scalar of a step a bound is about. */
export type OutputKey = 'q' | 'logit';

/** ∂(output)/∂x[feature] enclosure over the state box and an input box (exact-arithmetic function). */
export function derivativeBounds(
  net: VerifyNet,
  state: StateBox,
  xBox: Box,
  feature: number,
  output: OutputKey,
  r: RoundingModel = DEFAULT_ROUNDING,
): Interval {
  const n = net.units;
  const g4 = 4 * n;
  const s = stepBounds(net, state, xBox, r);
  const col = output === 'q' ? 0 : 1;
  let d: Interval = { lo: 0, hi: 0 };
  for (let u = 0; u < n; u++) {
    const wd = net.Wd[u * 2 + col]!;
    if (wd === 0) continue;
    // Forward mode: dz = W[feature, ·] (h_{t-1} and c_{t-1} are held fixed: they do not depend on x_t).
    const di = scale(sigmoidDerivIv(s.z[u]!), net.W[feature * g4 + u]!);
    const df = scale(sigmoidDerivIv(s.z[n + u]!), net.W[feature * g4 + n + u]!);
    const dg = scale(tanhDerivIv(s.z[2 * n + u]!), net.W[feature * g4 + 2 * n + u]!);
    const dO = scale(sigmoidDerivIv(s.z[3 * n + u]!), net.W[feature * g4 + 3 * n + u]!);
    const cPrev = { lo: state.c.lo[u]!, hi: state.c.hi[u]! };
    const dc = add(add(mul(df, cPrev), mul(di, s.g[u]!)), mul(s.i[u]!, dg));
    const dh = add(mul(dO, s.tanhC[u]!), mul(mul(s.o[u]!, tanhDerivIv(s.c[u]!)), dc));
    d = add(d, scale(dh, wd));
  }
  return d;
}

/** One leaf of a split input box with the bound computed on it. */
export interface Leaf {
  box: Box;
  bound: number;
}

export interface SplitResult {
  /** The sound bound over the whole region: min of leaf lower bounds (or max of upper bounds). */
  bound: number;
  /** The leaf that attains it (where to look for a counterexample). */
  worst: Box;
  leaves: number;
  /** true when the target was met before the budget ran out. */
  met: boolean;
}

/**
 * Worst-first bisection: keeps the leaves in a heap ordered by their bound, repeatedly splits the worst
 * leaf along its widest (normalized) dimension, and stops when the worst bound meets `target` or the leaf
 * budget is spent. `evalLower(box)` must return a sound lower bound of the quantity over the box (pass a
 * negated upper bound to bound from above). The result is sound for any budget: every point of the region
 * lies in some leaf.
 */
export function splitToTarget(region: Box, target: number, budget: number, evalLower: (b: Box) => number): SplitResult {
  const heap: Leaf[] = [];
  const push = (leaf: Leaf): void => {
    heap.push(leaf);
    let k = heap.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (heap[p]!.bound <= heap[k]!.bound) break;
      [heap[p], heap[k]] = [heap[k]!, heap[p]!];
      k = p;
    }
  };
  const pop = (): Leaf => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const rr = l + 1;
        let m = k;
        if (l < heap.length && heap[l]!.bound < heap[m]!.bound) m = l;
        if (rr < heap.length && heap[rr]!.bound < heap[m]!.bound) m = rr;
        if (m === k) break;
        [heap[m], heap[k]] = [heap[k]!, heap[m]!];
        k = m;
      }
    }
    return top;
  };
  push({ box: region, bound: evalLower(region) });
  let leaves = 1;
  while (heap[0]!.bound < target && leaves < budget) {
    const worst = pop();
    const dim = widestDim(worst.box);
    if (dim < 0) {
      push(worst); // a point: cannot split further
      break;
    }
    const mid = (worst.box.lo[dim]! + worst.box.hi[dim]!) / 2;
    const a = makeBox(worst.box.lo, worst.box.hi);
    const b = makeBox(worst.box.lo, worst.box.hi);
    a.hi[dim] = mid;
    b.lo[dim] = mid;
    push({ box: a, bound: evalLower(a) });
    push({ box: b, bound: evalLower(b) });
    leaves++;
  }
  const top = heap[0]!;
  return { bound: top.bound, worst: top.box, leaves, met: top.bound >= target };
}

function widestDim(b: Box): number {
  let best = -1;
  let w = 0;
  for (let i = 0; i < b.lo.length; i++) {
    const wi = b.hi[i]! - b.lo[i]!;
    if (wi > w) {
      w = wi;
      best = i;
    }
  }
  return best;
}
