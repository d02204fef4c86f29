/**
 * Check e of `raft-ns verify`: each safety rule (runtime/rules.ts, the one engine, and its format runtime/rules-format.ts) stated as a
 * claim about the network's raw proposal, then PROVED by interval bound propagation (sound), REFUTED by a
 * concrete counterexample replayed on the runtime (or its reference step), or left UNPROVED with the best
 * sound bound. Pure: no I/O, no clock; all sampling is seeded.
 *
 * What each rule kind claims about the raw proposal exp(q_t) (before the guardrails clamp it), for every
 * tick t of every input sequence in the rules' input domain, starting from h = c = 0:
 * - timing_floor:       exp(q) ≥ absolute_floor_ms. The k·(heartbeat interval + worst RTT) part depends on
 *                       quantities that are not model inputs (the interval), so we report the largest
 *                       interval + RTT it is guaranteed for: exp(q_lo)/k ms.
 * - conditional_floor:  exp(q) ≥ min_ms over the domain (role and reachable peers are not model inputs, so
 *                       the guardrails enforce it per tick; reported, gating: false).
 * - ceiling:            exp(q) ≤ max_ms.
 * - monotonic:          the rule's output is monotone in the feature over the region, at any reachable
 *                       (h, c) ('reachable') or at h = c = 0 ('zero'). "All else equal" under carried state
 *                       means: the same history — hence the same (h, c) — and the same other features at
 *                       this tick. It says nothing about later ticks (raising latency now changes the state
 *                       the next proposals start from); proving that would need derivatives through the
 *                       recurrence. Proved for the exact-arithmetic network; the runtime's rounding can add
 *                       dips of at most a few ulps, which counterexamples must exceed to count.
 * - max_change_per_tick: |exp(q_t) − exp(q_{t−1})| within the limits. Enforced per tick by the guardrails,
 *                       so a refutation here is reported but does not fail the check (gating: false).
 * - input_domain, quantization_budget: not claims about outputs (they set the domain and check c).
 */
import type { CompiledRules, MonotonicRule, Rule } from '../../runtime/rules.js';
import { FEATURE_NAMES } from '../../runtime/features.js';
import {
  derivativeBounds, invariantBox, intersectBox, makeBox, splitToTarget, stepBounds, type Box, type InvariantResult, type StateBox,
} from './ibp.js';
import { DEFAULT_ROUNDING, type RoundingModel } from './interval.js';
import type { VerifyNet } from './net.js';
import { searchMonotoneViolation, searchOutputViolation, type MonotoneCounterexample, type Replay, type SequenceCounterexample } from './search.js';

export type ClaimStatus = 'proved' | 'refuted' | 'unproved';

export interface ClaimResult {
  rule_id: string;
  kind: Rule['kind'];
  /** The claim in words, with numbers. */
  claim: string;
  status: ClaimStatus;
  /** false: reported only (the guardrails enforce the rule per tick whatever the network does). */
  gating: boolean;
  /** The sound bound IBP reached (ms for timeouts, derivative units for monotonicity). */
  bound: { lo: number; hi: number };
  /** What the bound had to meet. */
  threshold: number;
  /** Input-box leaves used by splitting. */
  leaves: number;
  /** Extra figures, e.g. the guaranteed heartbeat interval + RTT for a timing floor. */
  notes?: string;
  /**
   * The most extreme value the counterexample search actually saw (ms, or the steepest wrong-way
   * difference quotient for monotonicity): an inner bound. The truth lies between it and `bound`.
   */
  observed?: number;
  counterexample?: SequenceCounterexample | MonotoneCounterexample;
}

export interface ProveOptions {
  /** Leaves per claim for input-box splitting. */
  splitBudget: number;
  /** Sequences per claim for the counterexample search. */
  searchBudget: number;
  /** Length of searched sequences, ticks. */
  searchTicks: number;
  seed: number;
  rounding?: RoundingModel;
}

export const DEFAULT_PROVE_OPTIONS: ProveOptions = { splitBudget: 512, searchBudget: 200, searchTicks: 48, seed: 1 };

export interface ProveResult {
  claims: ClaimResult[];
  invariant: { iterations: number; converged: boolean; unbounded_c_units: number; h_abs_max: number; c_abs_max: number };
  /** Sound bounds over the whole domain (every reachable state, any input in the domain). */
  domainBounds: { q: { lo: number; hi: number }; timeout_ms: { lo: number; hi: number }; p_leader_lost: { lo: number; hi: number } };
  stateDomain: Box;
  inputDomain: Box;
}

/**
 * Proves, refutes or bounds every rule. `inputDomain` is the normalized box of the rules' input domain
 * (intersected with the image of its raw box: see `normalizedDomain`); the state invariant is taken over
 * `stateDomain` ⊇ inputDomain (the whole clip box by default: sound even if the runtime keeps stepping
 * its state on inputs outside the domain while it serves the static fallback).
 */
export function proveRules(
  net: VerifyNet,
  rules: CompiledRules,
  inputDomain: Box,
  stateDomain: Box,
  replay: Replay,
  opts: ProveOptions = DEFAULT_PROVE_OPTIONS,
): ProveResult {
  const r = opts.rounding ?? DEFAULT_ROUNDING;
  const inv = invariantBox(net, stateDomain, { rounding: r });
  const whole = stepBounds(net, inv.box, inputDomain, r);
  const claims: ClaimResult[] = [];
  let seed = opts.seed;
  for (const rule of rules.rules) {
    seed = (seed * 1664525 + 1013904223) >>> 0; // a distinct, reproducible seed per claim
    switch (rule.kind) {
      case 'timing_floor': {
        const c = proveTimeoutBound(net, inv, inputDomain, inputDomain, 'lower', rule.absolute_floor_ms, replay, { ...opts, seed }, r);
        const guaranteedMs = c.bound.lo / Math.max(rule.k, Number.MIN_VALUE);
        claims.push({
          rule_id: rule.id, kind: rule.kind, gating: true, ...c,
          claim: `raw proposal exp(q) ≥ absolute floor ${rule.absolute_floor_ms} ms for every input in the domain`,
          notes: rule.k > 0 ? `k·(heartbeat interval + worst RTT) floor guaranteed while interval + RTT ≤ ${fmt(guaranteedMs)} ms (exp(q_lo)/k)` : 'k = 0',
        });
        break;
      }
      case 'conditional_floor': {
        const c = proveTimeoutBound(net, inv, inputDomain, inputDomain, 'lower', rule.min_ms, replay, { ...opts, seed }, r);
        // The condition (role, reachable peers) is not a model input, so the raw network cannot know when it
        // applies; the guardrails enforce it on every tick. Reported, not gating — like max_change_per_tick.
        claims.push({ rule_id: rule.id, kind: rule.kind, gating: false, ...c, claim: `raw proposal exp(q) ≥ ${rule.min_ms} ms (condition not a model input: enforced per tick by the guardrails; reported only)` });
        break;
      }
      case 'ceiling': {
        const c = proveTimeoutBound(net, inv, inputDomain, inputDomain, 'upper', rule.max_ms, replay, { ...opts, seed }, r);
        claims.push({ rule_id: rule.id, kind: rule.kind, gating: true, ...c, claim: `raw proposal exp(q) ≤ ${rule.max_ms} ms for every input in the domain` });
        break;
      }
      case 'max_change_per_tick': {
        // Sound but coarse: two consecutive proposals both lie in the domain-wide range.
        const lo = Math.exp(whole.y[0].lo);
        const hi = Math.exp(whole.y[0].hi);
        const limit = Math.min(rule.max_increase_ms, rule.max_decrease_ms);
        const spread = hi - lo;
        claims.push({
          rule_id: rule.id, kind: rule.kind, gating: false, status: spread <= limit ? 'proved' : 'unproved',
          claim: `|exp(q_t) − exp(q_t−1)| ≤ ${limit} ms (enforced per tick by the guardrails; reported only)`,
          bound: { lo: 0, hi: spread }, threshold: limit, leaves: 1,
        });
        break;
      }
      case 'monotonic':
        claims.push(proveMonotone(net, inv, inputDomain, rule, replay, { ...opts, seed }, r));
        break;
      case 'survived_silence_floor':
        // Its input (the longest silence the leader survived) is not a model input: the guardrails enforce it
        // per tick, and as a floor it can only lift a value, which the ceiling still bounds. Nothing to prove.
        break;
      case 'proposal_cap':
        // A bound on the proposal that the guardrails apply before the floors: it can only lower a value, and
        // the floors after it still hold by construction. Nothing about the network to prove.
        break;
      default:
        break; // input_domain and quantization_budget are not output claims
    }
  }
  let hAbs = 0;
  let cAbs = 0;
  for (let u = 0; u < net.units; u++) {
    hAbs = Math.max(hAbs, Math.abs(inv.box.h.lo[u]!), Math.abs(inv.box.h.hi[u]!));
    cAbs = Math.max(cAbs, Math.abs(inv.box.c.lo[u]!), Math.abs(inv.box.c.hi[u]!));
  }
  return {
    claims,
    invariant: { iterations: inv.iterations, converged: inv.converged, unbounded_c_units: inv.unboundedC, h_abs_max: hAbs, c_abs_max: cAbs },
    domainBounds: {
      q: { lo: whole.y[0].lo, hi: whole.y[0].hi },
      timeout_ms: { lo: Math.exp(whole.y[0].lo), hi: Math.exp(whole.y[0].hi) },
      p_leader_lost: { lo: 1 / (1 + Math.exp(-whole.y[1].lo)), hi: 1 / (1 + Math.exp(-whole.y[1].hi)) },
    },
    stateDomain,
    inputDomain,
  };
}

type BoundClaim = Pick<ClaimResult, 'status' | 'bound' | 'threshold' | 'leaves' | 'counterexample' | 'observed'>;

/**
 * exp(q) ≥ thresholdMs ('lower') or ≤ thresholdMs ('upper') for every reachable state and every input in
 * `region`. Compared in log space (q against ln threshold), with the bound reported in ms; exp is monotone
 * and exp(q_lo) is pushed outward, so "proved" is sound for the runtime's exp(q).
 */
export function proveTimeoutBound(
  net: VerifyNet,
  inv: InvariantResult,
  domain: Box,
  region: Box,
  side: 'lower' | 'upper',
  thresholdMs: number,
  replay: Replay,
  opts: ProveOptions,
  r: RoundingModel = DEFAULT_ROUNDING,
): BoundClaim {
  const sign = side === 'lower' ? 1 : -1;
  // Margin for the runtime's exp (a few ulps relative): demand it on top of the threshold.
  const target = Math.log(thresholdMs) + sign * 1e-12;
  const evalLower = (b: Box): number => sign * (side === 'lower' ? stepBounds(net, inv.box, b, r).y[0].lo : stepBounds(net, inv.box, b, r).y[0].hi);
  const split = splitToTarget(region, sign * target, opts.splitBudget, evalLower);
  const qBound = sign * split.bound;
  const boundMs = Math.exp(qBound);
  const bound = side === 'lower' ? { lo: boundMs * (1 - 1e-12), hi: Infinity } : { lo: 0, hi: boundMs * (1 + 1e-12) };
  if (split.met) return { status: 'proved', bound, threshold: thresholdMs, leaves: split.leaves };
  // Counterexamples must cross the threshold by more than the runtime's rounding could explain.
  let extreme = sign * Infinity;
  const cx = searchOutputViolation(replay, {
    output: 0, side, threshold: Math.log(thresholdMs) - sign * 1e-6, domain, region, hint: split.worst,
    seed: opts.seed, budget: opts.searchBudget, ticks: opts.searchTicks,
    observe: (q) => {
      if (sign * q < sign * extreme) extreme = q;
    },
  });
  const observed = Math.exp(cx ? cx.value : extreme);
  if (cx) return { status: 'refuted', bound, threshold: thresholdMs, leaves: split.leaves, counterexample: cx, observed };
  return { status: 'unproved', bound, threshold: thresholdMs, leaves: split.leaves, observed };
}

/** A monotonic rule: interval bounds on ∂(output)/∂x[feature] over the state box × region, with splitting. */
export function proveMonotone(
  net: VerifyNet,
  inv: InvariantResult,
  domain: Box,
  rule: MonotonicRule,
  replay: Replay,
  opts: ProveOptions,
  r: RoundingModel = DEFAULT_ROUNDING,
): ClaimResult {
  const feature = FEATURE_NAMES.indexOf(rule.feature);
  const output = rule.output === 'log_gap_quantile' ? 'q' : 'logit';
  // The runtime never feeds the model an input outside the domain (it serves the static fallback instead),
  // so the claim is about the rule's region inside the domain; an empty intersection makes it vacuous.
  const region = intersectBox(makeBox(rule.region.min, rule.region.max), domain);
  const where = 'over the region ∩ input domain';
  if (!region) {
    return {
      rule_id: rule.id, kind: rule.kind, gating: true, leaves: 0, threshold: -(rule.tolerance ?? 0), status: 'proved',
      claim: `${rule.output} ${rule.direction} in ${rule.feature} ${where}`, bound: { lo: -Infinity, hi: Infinity },
      notes: 'the region does not meet the input domain: no input the runtime serves lies in it (vacuous)',
    };
  }
  const state: StateBox = rule.state === 'zero'
    ? { h: makeBox(new Array(net.units).fill(0), new Array(net.units).fill(0)), c: makeBox(new Array(net.units).fill(0), new Array(net.units).fill(0)) }
    : inv.box;
  const sign = rule.direction === 'nondecreasing' ? 1 : -1;
  const evalLower = (b: Box): number => {
    const d = derivativeBounds(net, state, b, feature, output, r);
    return sign > 0 ? d.lo : -d.hi;
  };
  // The rule holds when the wrong-way slope never exceeds its tolerance: d ≥ −tolerance (sign-adjusted).
  const tolerance = rule.tolerance ?? 0;
  const split = splitToTarget(region, -tolerance, opts.splitBudget, evalLower);
  const dBound = sign * split.bound;
  const base = {
    rule_id: rule.id, kind: rule.kind, gating: true, leaves: split.leaves, threshold: -tolerance,
    claim: `${rule.output} ${rule.direction} in ${rule.feature} ${where}, at ${rule.state === 'zero' ? 'h = c = 0' : 'every reachable (h, c)'}, other features and history equal${tolerance > 0 ? ` (wrong-way slope ≤ ${tolerance} tolerated)` : ''}`,
    bound: sign > 0 ? { lo: dBound, hi: Infinity } : { lo: -Infinity, hi: dBound },
  };
  if (split.met) return { ...base, status: 'proved' };
  let steepest = Infinity; // most wrong-way slope seen, in the rule's direction
  const cx = searchMonotoneViolation(replay, {
    output: output === 'q' ? 0 : 1, feature, direction: rule.direction, domain, region, state: rule.state,
    slack: 1e-6, tolerance, seed: opts.seed, budget: Math.max(1, Math.floor(opts.searchBudget / 4)), ticks: opts.searchTicks,
    observe: (d) => {
      if (sign * d < steepest) steepest = sign * d;
    },
  });
  const observed = sign * steepest;
  if (cx) return { ...base, status: 'refuted', counterexample: cx, observed };
  return { ...base, status: 'unproved', observed, notes: `∂${output}/∂${rule.feature} ≥ ${fmt(dBound)} is the best sound bound after ${split.leaves} leaves` };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(4)) : String(x);
}
