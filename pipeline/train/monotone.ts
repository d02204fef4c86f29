/**
 * Monotonicity training: a penalty that pushes the quantile head to be nondecreasing in chosen features at
 * the states the model really reaches — the property `verify` check e searches counterexamples for
 * ("q nondecreasing in heartbeat_latency at every reachable (h, c), other features and history equal").
 *
 * For a sample (state h, c; input x; feature f) the one-step slope is a finite difference
 *   s = (q(h, c, x + δ·e_f) − q(h, c, x)) / δ,
 * and the penalty is weight · mean over samples of max(0, margin − s). The state is a constant (no gradient
 * flows into the history), so the gradient is two single-step backward passes sharing one recurrent
 * mat-vec and one rank-1 update — plain TypeScript, ~35K multiply-adds per sample, no engine support needed. States come from two places:
 *   - data: the carried (h, c) at the start of each lane's chunk in this batch (reachable from real traces);
 *   - probes: (h, c) after random piecewise-constant histories inside the input domain, run from h = c = 0
 *     with the current weights, like verify's counterexample search (the loop redraws them every epoch).
 * Inputs x: the lane's first real input, or a uniform point of the domain box (a corner 20% of the time),
 * with the tested feature drawn uniformly in [lo, hi − δ].
 *
 * Cell bound: the same samples also carry a soft bound on the cell state, cellWeight · Σ_u max(0, |c_u'| − C).
 * Why: unconstrained, some units learn to integrate (forget gate ≈ 1) and their c grows without limit along a
 * stream (|c| > 1,000 after 60 s of simulated time, measured). Such a unit is a clock of the node's uptime:
 * it crosses zero at a time that int8 rounding shifts (int8 and float then disagree by up to 3× for seconds),
 * it keeps drifting on a node that runs for days, beyond anything training saw, and it leaves verify's
 * invariant box for the carried state unbounded. Hinging |c'| at C teaches those units to forget.
 */
import { FEATURES, GATES, PARAM_LAYOUT, UNITS } from './engine.js';
import { Rng } from './optim.js';

const H = UNITS;
const F = FEATURES;
const OFF = {
  W: PARAM_LAYOUT[0]!.offset, // [F, 4H]
  U: PARAM_LAYOUT[1]!.offset, // [H, 4H]
  b: PARAM_LAYOUT[2]!.offset, // [4H]
  Wd: PARAM_LAYOUT[3]!.offset, // [H, 2], column 0 = q
  bd: PARAM_LAYOUT[4]!.offset, // [2]
};

export interface MonotoneConfig {
  /** Penalty weight (0 = off). */
  weight: number;
  /** Feature indices the quantile must be nondecreasing in. */
  features: readonly number[];
  /** Target slope: penalize s < margin (ln-ms per normalized unit). */
  margin: number;
  /** Finite-difference step in normalized units. */
  delta: number;
  /** Normalized input box the runtime steps the model on (runtime/domain.ts). */
  domain: { lo: ArrayLike<number>; hi: ArrayLike<number> };
  /** Samples per step from data states and from probe states. */
  samples: number;
  /** Soft cell bound C and its weight: penalize Σ_u max(0, |c_u'| − C) after the step (0 = off). */
  cellBound: number;
  cellWeight: number;
}

/** One LSTM step with what the backward pass needs (float64). */
class StepCache {
  readonly z = new Float64Array(GATES); // gate activations i, f, g, o after the step
  readonly c1 = new Float64Array(H);
  readonly tc = new Float64Array(H);
  readonly h1 = new Float64Array(H);
  q = 0;
}

function sig(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** zh = b + Uᵀ·h0: the part of the pre-activations both inputs of a sample share. */
function recurrentPart(p: Float64Array, h0: ArrayLike<number>, zh: Float64Array): void {
  for (let j = 0; j < GATES; j++) zh[j] = p[OFF.b + j]!;
  for (let i = 0; i < H; i++) {
    const hi = h0[i]!;
    if (hi === 0) continue;
    const row = OFF.U + i * GATES;
    for (let j = 0; j < GATES; j++) zh[j]! += hi * p[row + j]!;
  }
}

/** The step from (zh, c0) on input x into `k`. */
function stepFrom(p: Float64Array, zh: Float64Array, c0: ArrayLike<number>, x: ArrayLike<number>, k: StepCache): void {
  const z = k.z;
  for (let j = 0; j < GATES; j++) {
    let v = zh[j]!;
    for (let i = 0; i < F; i++) v += x[i]! * p[OFF.W + i * GATES + j]!;
    z[j] = v;
  }
  let q = p[OFF.bd]!;
  for (let u = 0; u < H; u++) {
    const ig = sig(z[u]!);
    const fg = sig(z[H + u]!);
    const gg = Math.tanh(z[2 * H + u]!);
    const og = sig(z[3 * H + u]!);
    z[u] = ig;
    z[H + u] = fg;
    z[2 * H + u] = gg;
    z[3 * H + u] = og;
    const c = fg * c0[u]! + ig * gg;
    const t = Math.tanh(c);
    k.c1[u] = c;
    k.tc[u] = t;
    k.h1[u] = og * t;
    q += og * t * p[OFF.Wd + u * 2]!;
  }
  k.q = q;
}

/**
 * dz = dq · ∂q/∂(pre-activations) of the step in `k`, and the head's gradient into `grads`; the caller
 * accumulates the W, U and b gradients from dz (two samples share their U update: same h0).
 */
function backwardToZ(p: Float64Array, c0: ArrayLike<number>, k: StepCache, dq: number, grads: Float64Array, dz: Float64Array, dcExtra: Float64Array | null = null): void {
  grads[OFF.bd]! += dq;
  for (let u = 0; u < H; u++) {
    const ig = k.z[u]!, fg = k.z[H + u]!, gg = k.z[2 * H + u]!, og = k.z[3 * H + u]!;
    const t = k.tc[u]!;
    grads[OFF.Wd + u * 2]! += k.h1[u]! * dq;
    const dh = p[OFF.Wd + u * 2]! * dq;
    const dc = dh * og * (1 - t * t) + (dcExtra ? dcExtra[u]! : 0);
    dz[u] = dc * gg * ig * (1 - ig);
    dz[H + u] = dc * c0[u]! * fg * (1 - fg);
    dz[2 * H + u] = dc * ig * (1 - gg * gg);
    dz[3 * H + u] = dh * t * og * (1 - og);
  }
}

/** Probe states: random piecewise-constant histories in the domain, run with the current weights. */
export function probeStates(params: Float32Array, cfg: MonotoneConfig, rng: Rng, count: number): { h: Float64Array; c: Float64Array } {
  const p = Float64Array.from(params);
  const h = new Float64Array(count * H);
  const c = new Float64Array(count * H);
  const k = new StepCache();
  const x = new Float64Array(F);
  const zh = new Float64Array(GATES);
  const hs = new Float64Array(H);
  const cs = new Float64Array(H);
  for (let n = 0; n < count; n++) {
    hs.fill(0);
    cs.fill(0);
    const ticks = 1 + Math.floor(rng.next() * 48);
    for (let t = 0; t < ticks; t++) {
      if (t % 8 === 0) drawInput(cfg, rng, x);
      recurrentPart(p, hs, zh);
      stepFrom(p, zh, cs, x, k);
      hs.set(k.h1);
      cs.set(k.c1);
    }
    h.set(hs, n * H);
    c.set(cs, n * H);
  }
  return { h, c };
}

function drawInput(cfg: MonotoneConfig, rng: Rng, x: Float64Array): void {
  const corner = rng.next() < 0.2;
  for (let i = 0; i < F; i++) {
    const lo = cfg.domain.lo[i]!, hi = cfg.domain.hi[i]!;
    x[i] = corner ? (rng.next() < 0.5 ? lo : hi) : lo + rng.next() * (hi - lo);
  }
}

export interface MonotoneSample {
  h: ArrayLike<number>;
  c: ArrayLike<number>;
  /** A real input to start from, or null for a random point of the domain. */
  x: ArrayLike<number> | null;
}

/**
 * Adds weight · ∂penalty/∂params to `grads` (float32, the engine's gradient) and returns the penalty and the
 * fraction of samples below the margin. Deterministic for a given rng state.
 */
export function addMonotonePenalty(params: Float32Array, samples: readonly MonotoneSample[], cfg: MonotoneConfig, rng: Rng, grads: Float32Array): { penalty: number; cell: number; violating: number } {
  if ((cfg.weight <= 0 && cfg.cellWeight <= 0) || samples.length === 0) return { penalty: 0, cell: 0, violating: 0 };
  const p = Float64Array.from(params);
  const g = new Float64Array(grads.length);
  const zh = new Float64Array(GATES);
  const dz0 = new Float64Array(GATES);
  const dz1 = new Float64Array(GATES);
  const a = new StepCache();
  const b = new StepCache();
  const x0 = new Float64Array(F);
  const x1 = new Float64Array(F);
  const scale = cfg.weight / samples.length;
  const cellScale = cfg.cellWeight / samples.length;
  const dcCell = new Float64Array(H);
  let penalty = 0;
  let cell = 0;
  let violating = 0;
  const monotoneOn = cfg.weight > 0 && cfg.features.length > 0;
  for (const s of samples) {
    // The feature under test (none when only the cell bound is on, or when its box is narrower than δ).
    const f = cfg.features.length > 0 ? cfg.features[Math.floor(rng.next() * cfg.features.length)]! : -1;
    if (s.x) for (let i = 0; i < F; i++) x0[i] = Math.min(cfg.domain.hi[i]!, Math.max(cfg.domain.lo[i]!, s.x[i]!));
    else drawInput(cfg, rng, x0);
    const lo = f >= 0 ? cfg.domain.lo[f]! : 0, hi = f >= 0 ? cfg.domain.hi[f]! - cfg.delta : 0;
    const tested = monotoneOn && hi > lo;
    if (tested) x0[f] = lo + rng.next() * (hi - lo);
    x1.set(x0);
    if (tested) x1[f] = x0[f]! + cfg.delta;
    recurrentPart(p, s.h, zh);
    stepFrom(p, zh, s.c, x0, a);
    if (tested) stepFrom(p, zh, s.c, x1, b);
    const slope = tested ? (b.q - a.q) / cfg.delta : Infinity;
    const viol = cfg.margin - slope;
    // Soft cell bound on the x0 step: a linear hinge beyond ±C (why: file comment, "cell bound").
    let cellActive = false;
    if (cfg.cellWeight > 0) {
      for (let u = 0; u < H; u++) {
        const excess = Math.abs(a.c1[u]!) - cfg.cellBound;
        if (excess > 0) {
          cell += cellScale * excess;
          dcCell[u] = cellScale * Math.sign(a.c1[u]!);
          cellActive = true;
        } else dcCell[u] = 0;
      }
    }
    const monotoneActive = viol > 0;
    if (!monotoneActive && !cellActive) continue;
    if (monotoneActive) {
      violating++;
      penalty += scale * viol;
    }
    // d/dθ [margin − (q1 − q0)/δ] = (∂q0 − ∂q1)/δ; both passes share h0, so U and b take dz0 + dz1 once.
    const dq = monotoneActive ? scale / cfg.delta : 0;
    backwardToZ(p, s.c, a, dq, g, dz0, cellActive ? dcCell : null);
    if (monotoneActive) backwardToZ(p, s.c, b, -dq, g, dz1);
    else dz1.fill(0);
    for (let j = 0; j < GATES; j++) {
      const d = dz0[j]! + dz1[j]!;
      g[OFF.b + j]! += d;
      for (let i = 0; i < F; i++) g[OFF.W + i * GATES + j]! += x0[i]! * dz0[j]! + x1[i]! * dz1[j]!;
      dz0[j] = d;
    }
    for (let i = 0; i < H; i++) {
      const hi = s.h[i]!;
      if (hi === 0) continue;
      const row = OFF.U + i * GATES;
      for (let j = 0; j < GATES; j++) g[row + j]! += hi * dz0[j]!;
    }
  }
  for (let i = 0; i < grads.length; i++) if (g[i] !== 0) grads[i] = grads[i]! + g[i]!;
  return { penalty, cell, violating: violating / samples.length };
}
