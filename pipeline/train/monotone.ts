/**
 * Monotonicity training: a penalty that pushes the quantile head to be nondecreasing in chosen features at
 * the states the model really reaches — the property `verify` check e searches counterexamples for
 * ("q nondecreasing in heartbeat_latency at every reachable (h, c), other features and history equal").
 *
 * For a sample (state h, c; input x; feature f) the one-step slope is a finite difference
 *   s = (q(h, c, x + δ·e_f) − q(h, c, x)) / δ,
 * and the penalty is weight · mean over samples of max(0, margin − s). The state is a constant (no gradient
 * flows into the history), so the gradient is two single-step backward passes — plain TypeScript, ~70 KFLOP
 * per sample, no engine support needed. States come from two places:
 *   - data: the carried (h, c) at the start of each lane's chunk in this batch (reachable from real traces);
 *   - probes: (h, c) after random piecewise-constant histories inside the input domain, run from h = c = 0
 *     with the current weights, like verify's counterexample search (refreshed every `refreshSteps`).
 * Inputs x: the lane's first real input, or a uniform point of the domain box (a corner 20% of the time),
 * with the tested feature drawn uniformly in [lo, hi − δ].
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
  /** Normalized input box the runtime steps the model on (pipeline/verify/domain.ts). */
  domain: { lo: ArrayLike<number>; hi: ArrayLike<number> };
  /** Samples per step from data states and from probe states. */
  samples: number;
}

/** One LSTM step with what the backward pass needs (float64). */
class StepCache {
  readonly z = new Float64Array(GATES);
  readonly c1 = new Float64Array(H);
  readonly tc = new Float64Array(H);
  readonly h1 = new Float64Array(H);
  q = 0;
}

function sig(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Forward one step from (h0, c0) on x; fills `k` (gate activations in z, in place). */
function stepForward(p: Float32Array, h0: ArrayLike<number>, c0: ArrayLike<number>, x: ArrayLike<number>, k: StepCache): void {
  const z = k.z;
  for (let j = 0; j < GATES; j++) {
    let s = p[OFF.b + j]!;
    for (let i = 0; i < F; i++) s += x[i]! * p[OFF.W + i * GATES + j]!;
    z[j] = s;
  }
  for (let i = 0; i < H; i++) {
    const hi = h0[i]!;
    if (hi === 0) continue;
    const row = OFF.U + i * GATES;
    for (let j = 0; j < GATES; j++) z[j]! += hi * p[row + j]!;
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

/** grads += dq · ∂q/∂params for the step in `k` (taken from h0, c0, x). */
function stepBackward(p: Float32Array, h0: ArrayLike<number>, c0: ArrayLike<number>, x: ArrayLike<number>, k: StepCache, dq: number, grads: Float64Array, dz: Float64Array): void {
  grads[OFF.bd]! += dq;
  for (let u = 0; u < H; u++) {
    const ig = k.z[u]!, fg = k.z[H + u]!, gg = k.z[2 * H + u]!, og = k.z[3 * H + u]!;
    const t = k.tc[u]!;
    grads[OFF.Wd + u * 2]! += k.h1[u]! * dq;
    const dh = p[OFF.Wd + u * 2]! * dq;
    const dc = dh * og * (1 - t * t);
    dz[u] = dc * gg * ig * (1 - ig);
    dz[H + u] = dc * c0[u]! * fg * (1 - fg);
    dz[2 * H + u] = dc * ig * (1 - gg * gg);
    dz[3 * H + u] = dh * t * og * (1 - og);
  }
  for (let j = 0; j < GATES; j++) grads[OFF.b + j]! += dz[j]!;
  for (let i = 0; i < F; i++) {
    const xi = x[i]!;
    const row = OFF.W + i * GATES;
    for (let j = 0; j < GATES; j++) grads[row + j]! += xi * dz[j]!;
  }
  for (let i = 0; i < H; i++) {
    const hi = h0[i]!;
    if (hi === 0) continue;
    const row = OFF.U + i * GATES;
    for (let j = 0; j < GATES; j++) grads[row + j]! += hi * dz[j]!;
  }
}

/** Probe states: random piecewise-constant histories in the domain, run with the current weights. */
export function probeStates(p: Float32Array, cfg: MonotoneConfig, rng: Rng, count: number): { h: Float64Array; c: Float64Array } {
  const h = new Float64Array(count * H);
  const c = new Float64Array(count * H);
  const k = new StepCache();
  const x = new Float64Array(F);
  const hs = new Float64Array(H);
  const cs = new Float64Array(H);
  for (let n = 0; n < count; n++) {
    hs.fill(0);
    cs.fill(0);
    const ticks = 1 + Math.floor(rng.next() * 48);
    for (let t = 0; t < ticks; t++) {
      if (t % 8 === 0) drawInput(cfg, rng, x);
      stepForward(p, hs, cs, x, k);
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
export function addMonotonePenalty(p: Float32Array, samples: readonly MonotoneSample[], cfg: MonotoneConfig, rng: Rng, grads: Float32Array): { penalty: number; violating: number } {
  if (cfg.weight <= 0 || samples.length === 0 || cfg.features.length === 0) return { penalty: 0, violating: 0 };
  const g = new Float64Array(grads.length);
  const dz = new Float64Array(GATES);
  const a = new StepCache();
  const b = new StepCache();
  const x0 = new Float64Array(F);
  const x1 = new Float64Array(F);
  const scale = cfg.weight / samples.length;
  let penalty = 0;
  let violating = 0;
  for (const s of samples) {
    const f = cfg.features[Math.floor(rng.next() * cfg.features.length)]!;
    if (s.x) for (let i = 0; i < F; i++) x0[i] = Math.min(cfg.domain.hi[i]!, Math.max(cfg.domain.lo[i]!, s.x[i]!));
    else drawInput(cfg, rng, x0);
    const lo = cfg.domain.lo[f]!, hi = cfg.domain.hi[f]! - cfg.delta;
    if (!(hi > lo)) continue;
    x0[f] = lo + rng.next() * (hi - lo);
    x1.set(x0);
    x1[f] = x0[f]! + cfg.delta;
    stepForward(p, s.h, s.c, x0, a);
    stepForward(p, s.h, s.c, x1, b);
    const slope = (b.q - a.q) / cfg.delta;
    const viol = cfg.margin - slope;
    if (viol <= 0) continue;
    violating++;
    penalty += scale * viol;
    // d/dθ [margin − (q1 − q0)/δ] = (∂q0 − ∂q1)/δ
    stepBackward(p, s.h, s.c, x0, a, scale / cfg.delta, g, dz);
    stepBackward(p, s.h, s.c, x1, b, -scale / cfg.delta, g, dz);
  }
  for (let i = 0; i < grads.length; i++) if (g[i] !== 0) grads[i] = grads[i]! + g[i]!;
  return { penalty, violating: violating / samples.length };
}
