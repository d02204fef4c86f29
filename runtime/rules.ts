/**
 * The safety rules: one file format (schemas/safety-rules.schema.json, typed and validated in
 * runtime/rules-format.ts, re-exported here) and ONE engine. The runtime's
 * guardrails call `applyGuardrails` on every proposal; `raft-ns verify` imports the same functions to check
 * rules on data and to read the boxes and properties it proves. Pure functions, no I/O, no allocation on
 * the per-tick path.
 *
 * Rule kinds:
 * - `timing_floor`   timeout ≥ max(absolute_floor_ms, k × (heartbeat interval + worst observed RTT)) —
 *                    Raft's broadcastTime ≪ electionTimeout, made concrete. The RTT term is dropped while the
 *                    node knows no leader serves its term (GuardrailContext.steppedDownThisTerm).
 * - `ceiling`        timeout ≤ max_ms (bounds failover downtime).
 * - `conditional_floor` timeout ≥ min_ms while a condition holds (e.g. pre-vote with > N/2 peers unreachable).
 * - `survived_silence_floor` a follower's timeout ≥ margin × the longest silence a leader was seen to survive
 *                    (a gap between two of its contacts in one term, heard by a node that was not cut off
 *                    itself) that ended within the last window_ms: a live leader that just went quiet that
 *                    long (a GC or CPU stall, a jitter burst) may do it again, and every follower fed the same
 *                    silence would campaign at once. Followers only: a (pre-)candidate's timeout is its
 *                    election retry, which a leader's past silences say nothing about; and not while the
 *                    node knows no leader serves its term (its leader asked for votes in a later term).
 * - `max_change_per_tick` |timeout − previous| bounded, asymmetric (shrinking is the risky direction).
 * - `proposal_cap`   while a condition holds (e.g. role follower), the model's proposal is at most max_ms
 *                    before the rate limit and the floors: the provider may shorten the static timeout it
 *                    replaces, and only the floors (Raft's timing, a survived stall) lift a deadline above it.
 * - `monotonic`      a declared property of the network over an input region; proved by verify, not
 *                    enforced per tick.
 * - `input_domain`   the box (raw units and normalized features) inside which proofs hold; outside it the
 *                    runtime uses the static fallback (Simplex-style shield).
 * - `quantization_budget` how far int8 may stray from float (checked by verify).
 *
 * Composition order (so that the rate limit can never push a value out of bounds):
 * proposal caps → max_change → timing floors → conditional and survived-silence floors → ceiling. A floor above the ceiling is a conflict;
 * the ceiling wins and the conflict is recorded, so the result is always in [absolute floor, ceiling].
 */
import { RuntimeError } from './errors.js';
import { NUM_FEATURES } from './features.js';
import {
  RAW_FIELDS, ROLES, validateRules,
  type CeilingRule, type InputDomainRule, type MonotonicRule, type QuantizationBudgetRule, type Role, type Rule,
  type SafetyRules, type SurvivedSilenceFloorRule, type TimingFloorRule,
} from './rules-format.js';

// The file format is declared once, in runtime/rules-format.ts; importers of the engine get it from here too.
export * from './rules-format.js';

/** Rules flattened for the per-tick path. Build once with `compileRules`; immutable; share between nodes. */
export interface CompiledRules {
  readonly source: SafetyRules;
  readonly rules: readonly Rule[];
  /** max over timing floors of absolute_floor_ms: no timeout is ever below this. */
  readonly absoluteFloorMs: number;
  /** min over ceilings: no timeout is ever above this. */
  readonly ceilingMs: number;
  readonly staticFallbackMs: number;
  /** The factor U[1, 1 + randomizationSpread) of every armed timeout (randomization_spread, default 1). */
  readonly randomizationSpread: number;
  /** Longest RTT window any timing floor asks for (the runtime keeps a ring buffer this long). */
  readonly rttWindowTicks: number;
  /** Longest window any survived_silence_floor asks for; 0 = no such rule (the runtime then tracks nothing). */
  readonly survivedWindowMs: number;
  /**
   * Per rule index, the survived_silence_floor's margin (0 for other rules), as a typed array: a double field
   * of a JSON-made object may be stored boxed, and V8 then allocates on the multiply. The per-tick path reads
   * the same value from `plan.a`.
   */
  readonly survivedMargin: Float64Array;
  readonly domain: InputDomainRule;
  /** raw box as flat [lo, hi] pairs in RAW_FIELDS order. */
  readonly rawBox: Float64Array;
  readonly normBox: Float64Array; // [min0..min3, max0..max3]
  /** The enforcing rules as flat arrays, in the order the guardrails apply them (see GuardPlan). */
  readonly plan: GuardPlan;
}

// Kind codes of GuardPlan.kind (enforcing kinds only; the others never enter a plan).
const K_CAP = 1;
const K_CHANGE = 2;
const K_TIMING = 3;
const K_CONDITIONAL = 4;
const K_SURVIVED = 5;
const K_CEILING = 6;

/**
 * The enforcing rules flattened for the per-tick path: their parameters in typed arrays, read by a small
 * integer kind code. Why: rule objects of nine kinds have nine shapes, so `r.kind` and `r.max_ms` on them
 * are megamorphic property loads (a lookup per access), and a double field of a JSON-made object may be
 * boxed. Invariant: `order` lists the rule indices phase by phase (proposal caps, max_change, the floors —
 * timing, conditional and survived-silence interleaved as in the rules — then ceilings), each phase in rule
 * order: exactly the sequence in which a loop over all rules per phase reaches them, so the same
 * floating-point operations run in the same order.
 */
export interface GuardPlan {
  /** Rule indices in application order. */
  readonly order: Int32Array;
  /** The floor rules' indices (timing, conditional, survived-silence) in rule order: hardFloorInto's loop. */
  readonly floors: Int32Array;
  /** Per rule index: the K_* code (0 for kinds that enforce nothing per tick). */
  readonly kind: Uint8Array;
  /** Per rule index: max_ms (cap, ceiling), min_ms (conditional floor), absolute_floor_ms (timing floor), max_decrease_ms (max change). */
  readonly a: Float64Array;
  /** Per rule index: k (timing floor), max_increase_ms (max change). */
  readonly b: Float64Array;
  /** Per rule index: 1 for a timing floor whose candidate_rtt is 'smoothed'. */
  readonly smoothedForCandidate: Uint8Array;
  /** Per rule index: the `when.roles` condition as a bit set over ROLES; 0 = no role condition. */
  readonly roleMask: Uint8Array;
  /** Per rule index: 1 when `when.unreachable_peers_more_than_fraction` is present, and its value. */
  readonly hasFraction: Uint8Array;
  readonly fraction: Float64Array;
  /** Per rule index: `when.stepped_down_this_term` as −1 (absent), 0 (must be false) or 1 (must be true). */
  readonly steppedDown: Int8Array;
  /** Per rule index: 1 for a rule whose activation under a ceiling is a conflict (not a cap nor the rate limit). */
  readonly conflicts: Uint8Array;
  /**
   * One slot timingFloorInto writes its result to. Shared by every node of the compiled rules, which is safe:
   * JavaScript runs one call at a time, and each caller reads the slot right after the call that wrote it.
   */
  readonly timingMs: Float64Array;
}

function roleMaskOf(roles: readonly Role[] | undefined): number {
  let m = 0;
  if (roles !== undefined) for (const r of roles) m |= 1 << ROLES.indexOf(r);
  return m;
}

/** The bit of `role` in a GuardPlan role mask; 0 for a string that is no role (no role condition holds then). */
function roleBit(role: string): number {
  return role === 'follower' ? 1 : role === 'pre-candidate' ? 2 : role === 'candidate' ? 4 : role === 'leader' ? 8 : 0;
}

function planOf(rules: readonly Rule[]): GuardPlan {
  const n = rules.length;
  const kind = new Uint8Array(n);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const roleMask = new Uint8Array(n);
  const hasFraction = new Uint8Array(n);
  const fraction = new Float64Array(n);
  const steppedDown = new Int8Array(n).fill(-1);
  const conflicts = new Uint8Array(n);
  const smoothedForCandidate = new Uint8Array(n);
  rules.forEach((r, i) => {
    conflicts[i] = r.kind !== 'max_change_per_tick' && r.kind !== 'proposal_cap' ? 1 : 0;
    if (r.kind === 'proposal_cap' || r.kind === 'conditional_floor') {
      roleMask[i] = roleMaskOf(r.when.roles);
      const f = r.when.unreachable_peers_more_than_fraction;
      if (f !== undefined) {
        hasFraction[i] = 1;
        fraction[i] = f;
      }
      const d = r.when.stepped_down_this_term;
      if (d !== undefined) steppedDown[i] = d ? 1 : 0;
    }
    if (r.kind === 'proposal_cap') [kind[i], a[i]] = [K_CAP, r.max_ms];
    else if (r.kind === 'max_change_per_tick') [kind[i], a[i], b[i]] = [K_CHANGE, r.max_decrease_ms, r.max_increase_ms];
    else if (r.kind === 'timing_floor') {
      [kind[i], a[i], b[i]] = [K_TIMING, r.absolute_floor_ms, r.k];
      smoothedForCandidate[i] = r.candidate_rtt === 'smoothed' ? 1 : 0;
    }
    else if (r.kind === 'conditional_floor') [kind[i], a[i]] = [K_CONDITIONAL, r.min_ms];
    else if (r.kind === 'survived_silence_floor') [kind[i], a[i]] = [K_SURVIVED, r.margin];
    else if (r.kind === 'ceiling') [kind[i], a[i]] = [K_CEILING, r.max_ms];
  });
  const idx = (pred: (k: number) => boolean): number[] => [...kind.keys()].filter((i) => pred(kind[i]!));
  const isFloor = (k: number): boolean => k === K_TIMING || k === K_CONDITIONAL || k === K_SURVIVED;
  const floors = idx(isFloor);
  const order = [...idx((k) => k === K_CAP), ...idx((k) => k === K_CHANGE), ...floors, ...idx((k) => k === K_CEILING)];
  return { order: Int32Array.from(order), floors: Int32Array.from(floors), kind, a, b, smoothedForCandidate, roleMask, hasFraction, fraction, steppedDown, conflicts, timingMs: new Float64Array(1) };
}

/** Validates and compiles; throws RuntimeError (`runtime.rules.invalid`) naming the first problems. */
export function compileRules(value: unknown, sourceName = 'rules'): CompiledRules {
  const v = validateRules(value);
  if (!v.ok) {
    const first = v.issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new RuntimeError('runtime.rules.invalid', `runtime: ${sourceName}: invalid safety rules (${first})`);
  }
  const s = v.value;
  const floors = s.rules.filter((r): r is TimingFloorRule => r.kind === 'timing_floor');
  const domain = s.rules.find((r): r is InputDomainRule => r.kind === 'input_domain')!;
  const rawBox = new Float64Array(RAW_FIELDS.length * 2);
  RAW_FIELDS.forEach((f, i) => {
    rawBox[2 * i] = domain.raw[f][0];
    rawBox[2 * i + 1] = domain.raw[f][1];
  });
  const normBox = new Float64Array(2 * NUM_FEATURES);
  for (let i = 0; i < NUM_FEATURES; i++) {
    normBox[i] = domain.normalized.min[i]!;
    normBox[NUM_FEATURES + i] = domain.normalized.max[i]!;
  }
  return {
    source: s,
    rules: s.rules,
    absoluteFloorMs: Math.max(...floors.map((r) => r.absolute_floor_ms)),
    ceilingMs: Math.min(...s.rules.filter((r): r is CeilingRule => r.kind === 'ceiling').map((r) => r.max_ms)),
    staticFallbackMs: s.static_fallback_ms,
    randomizationSpread: s.randomization_spread ?? 1,
    rttWindowTicks: Math.max(...floors.map((r) => r.rtt_window_ticks)),
    survivedWindowMs: Math.max(0, ...s.rules.filter((r): r is SurvivedSilenceFloorRule => r.kind === 'survived_silence_floor').map((r) => r.window_ms)),
    survivedMargin: Float64Array.from(s.rules, (r) => (r.kind === 'survived_silence_floor' ? r.margin : 0)),
    domain,
    rawBox,
    normBox,
    plan: planOf(s.rules),
  };
}

/** What the guardrails need to know about the current tick (all in ms / counts). */
export interface GuardrailContext {
  role: Role;
  heartbeatIntervalMs: number;
  /** Worst heartbeat round trip over the rule's window (0 if none seen). */
  worstRttMs: number;
  /**
   * RFC 6298's smoothed round trip over the node's RTT samples (the first sample, then 7/8 of the last value
   * plus 1/8 of each new one; a sample is a heartbeat latency that differs from the last one seen); 0 if none.
   * Read only by a timing floor whose candidate_rtt is 'smoothed', for a candidate.
   */
  smoothedRttMs: number;
  clusterSize: number;
  peersReachable: number;
  /**
   * Longest gap between two contacts of the current leader within one term that ended within the
   * survived_silence_floor window (0 if none). The runtime keeps it; NaN sends the value to the ceiling.
   */
  survivedSilenceMs: number;
  /**
   * Whether the node knows no leader serves its current term (RuleCondition.stepped_down_this_term): it led
   * the term and no longer does, or the term's leader asked it for (pre-)votes in a later term
   * (TimeoutObservation.leaderResigned). Then the timing floor drops its RTT term and the survived-silence
   * floor does not apply: both guard against missing a live leader's next heartbeat, and there is none.
   */
  steppedDownThisTerm: boolean;
  /** The timeout armed at the previous tick; NaN at the first tick (no rate limit then). */
  previousMs: number;
}

/**
 * Per-tick record of what the rules did, preallocated once per node (length = rules.length).
 * `active[i]` = 1 if rule i changed the value this tick; `beforeMs[i]`/`afterMs[i]` the value it saw and set;
 * `counts[i]` accumulates activations; `conflict` = a floor exceeded the ceiling (the ceiling won).
 */
export class GuardrailTrace {
  readonly active: Uint8Array;
  readonly beforeMs: Float64Array;
  readonly afterMs: Float64Array;
  readonly counts: Float64Array;
  conflict = false;
  /**
   * In/out value of `guardInPlace`. The per-tick path passes numbers through these fields, not through
   * arguments and return values: V8 boxes a double that crosses a non-inlined call (one heap allocation),
   * while a store into a double field is in place.
   */
  valueMs = Number.NaN;
  floorMs = Number.NaN;
  constructor(ruleCount: number) {
    this.active = new Uint8Array(ruleCount);
    this.beforeMs = new Float64Array(ruleCount);
    this.afterMs = new Float64Array(ruleCount);
    this.counts = new Float64Array(ruleCount);
  }
}

/** The hard floor in this context: max over timing floors and active conditional floors (before the ceiling). */
export function hardFloorMs(cr: CompiledRules, ctx: GuardrailContext): number {
  const trace = new GuardrailTrace(0);
  hardFloorInto(cr, ctx, trace);
  return trace.floorMs;
}

/**
 * Timing floor i for ctx, into plan.timingMs[0]: max(absolute floor, k × (heartbeat interval + RTT term)). The
 * RTT term is 0 while no leader serves the term (no heartbeat to wait for, only the interval's spacing); for a
 * candidate under candidate_rtt 'smoothed', min(worst, smoothed); else the worst. Written to a typed array, not
 * returned: V8 boxes a double returned from a call it does not inline, one allocation per tick, and whether it
 * inlines depends on its budget (test/runtime-heap.test.ts caught a run where it did not).
 */
function timingFloorInto(plan: GuardPlan, i: number, role: number, ctx: GuardrailContext): void {
  const rtt = ctx.steppedDownThisTerm ? 0
    : role === 4 && plan.smoothedForCandidate[i] === 1 && ctx.smoothedRttMs < ctx.worstRttMs ? ctx.smoothedRttMs
      : ctx.worstRttMs;
  plan.timingMs[0] = Math.max(plan.a[i]!, plan.b[i]! * (ctx.heartbeatIntervalMs + rtt));
}

/** hardFloorMs into `trace.floorMs` (allocation-free form). */
export function hardFloorInto(cr: CompiledRules, ctx: GuardrailContext, trace: GuardrailTrace): void {
  const plan = cr.plan;
  const floors = plan.floors;
  const kind = plan.kind;
  const a = plan.a;
  const role = roleBit(ctx.role);
  let floor = cr.absoluteFloorMs;
  for (let j = 0; j < floors.length; j++) {
    const i = floors[j]!;
    const k = kind[i];
    if (k === K_TIMING) {
      timingFloorInto(plan, i, role, ctx);
      const f = plan.timingMs[0]!;
      if (f > floor) floor = f;
    } else if (k === K_CONDITIONAL) {
      if (conditionHolds(plan, i, role, ctx) && a[i]! > floor) floor = a[i]!;
    } else if (role === 1 && !ctx.steppedDownThisTerm) {
      // survived_silence_floor, followers of a leader that may still serve the term
      const f = a[i]! * ctx.survivedSilenceMs;
      if (f > floor) floor = f;
    }
  }
  trace.floorMs = floor;
}

/** Whether the `when` of plan rule i (a proposal cap or conditional floor) holds; role: roleBit(ctx.role). */
function conditionHolds(plan: GuardPlan, i: number, role: number, ctx: GuardrailContext): boolean {
  const mask = plan.roleMask[i]!;
  if (mask !== 0 && (mask & role) === 0) return false;
  if (plan.hasFraction[i] === 1) {
    // Peers other than this node; a peer counts as unreachable if not heard from within the last timeout.
    const peers = Math.max(0, ctx.clusterSize - 1);
    const unreachable = Math.max(0, peers - ctx.peersReachable);
    if (!(unreachable > plan.fraction[i]! * peers)) return false;
  }
  const d = plan.steppedDown[i]!;
  if (d !== -1 && ctx.steppedDownThisTerm !== (d === 1)) return false;
  return true;
}

/**
 * Applies every enforcing rule to `proposalMs` and returns the timeout to arm, always within
 * [cr.absoluteFloorMs, cr.ceilingMs] for any finite context; records activations in `trace`.
 * A non-finite proposal is the caller's fault path (it uses the fallback); here it is treated as the ceiling
 * so the invariant holds even then. Allocation-free.
 */
export function applyGuardrails(cr: CompiledRules, proposalMs: number, ctx: GuardrailContext, trace: GuardrailTrace): number {
  trace.valueMs = proposalMs;
  guardInPlace(cr, ctx, trace);
  return trace.valueMs;
}

/** applyGuardrails on `trace.valueMs` in place (the allocation-free form the runtime calls every tick). */
export function guardInPlace(cr: CompiledRules, ctx: GuardrailContext, trace: GuardrailTrace): void {
  const plan = cr.plan;
  const order = plan.order;
  const kind = plan.kind;
  const a = plan.a;
  const n = kind.length;
  const active = trace.active;
  for (let i = 0; i < n; i++) active[i] = 0;
  trace.conflict = false;
  const role = roleBit(ctx.role);
  const proposalMs = trace.valueMs;
  let v = Number.isFinite(proposalMs) ? proposalMs : cr.ceilingMs;
  // The rules in plan order (GuardPlan: caps, rate limit, floors, ceilings). Each computes a target `nv` and
  // records the change inline (a helper taking and returning doubles would box them on every call).
  for (let j = 0; j < order.length; j++) {
    const i = order[j]!;
    const k = kind[i];
    let nv = v;
    if (k === K_CAP) {
      // 0. caps on the proposal itself (the floors below may lift the value above them again)
      if (!(v > a[i]!) || !conditionHolds(plan, i, role, ctx)) continue;
      nv = a[i]!;
    } else if (k === K_CHANGE) {
      // 1. rate limit relative to the previous armed value
      if (!Number.isFinite(ctx.previousMs)) continue;
      const lo = ctx.previousMs - a[i]!;
      const hi = ctx.previousMs + plan.b[i]!;
      nv = v < lo ? lo : v > hi ? hi : v;
    } else if (k === K_CEILING) {
      // 4. ceilings
      if (!(v > a[i]!)) continue;
      // A conflict is a floor the ceiling overrides; a cap or the rate limit above it is not one.
      for (let m = 0; m < n; m++) if (active[m] === 1 && plan.conflicts[m] === 1) trace.conflict = true;
      nv = a[i]!;
    } else {
      // 2–3. floors; a NaN floor (bad context) sends the value to the ceiling
      let f: number;
      if (k === K_TIMING) {
        timingFloorInto(plan, i, role, ctx);
        f = plan.timingMs[0]!;
      } else if (k === K_CONDITIONAL) {
        if (!conditionHolds(plan, i, role, ctx)) continue;
        f = a[i]!;
      } else {
        if (role !== 1 || ctx.steppedDownThisTerm) continue; // survived_silence_floor: as in hardFloorInto
        f = a[i]! * ctx.survivedSilenceMs;
      }
      if (!(f <= v)) nv = Number.isFinite(f) ? f : cr.ceilingMs;
    }
    if (nv !== v) {
      if (active[i] === 0) {
        active[i] = 1;
        trace.beforeMs[i] = v;
        trace.counts[i]! += 1;
      }
      trace.afterMs[i] = nv;
      v = nv;
    }
  }
  // Belt and braces: the contract of this function is the interval, whatever the context held.
  if (!(v >= cr.absoluteFloorMs)) v = cr.absoluteFloorMs;
  trace.valueMs = v;
}

/** Reasons an input is refused (0 = inside the domain). */
export const DOMAIN_OK = 0;

/**
 * Checks one tick's raw signals against the rules' input domain. Returns 0 inside the box, otherwise
 * 1 + the index in RAW_FIELDS of the first field that is non-finite or outside its range. A null latency
 * (no measurement this tick) is allowed.
 */
export function rawDomainViolation(
  cr: CompiledRules,
  heartbeatLatencyMs: number | null,
  logReplicationGap: number,
  rpcRetries: number,
  cpuIdlePct: number,
  heartbeatIntervalMs: number,
): number {
  const b = cr.rawBox;
  if (heartbeatLatencyMs !== null && !(heartbeatLatencyMs >= b[0]! && heartbeatLatencyMs <= b[1]!)) return 1;
  if (!(logReplicationGap >= b[2]! && logReplicationGap <= b[3]!)) return 2;
  if (!(rpcRetries >= b[4]! && rpcRetries <= b[5]!)) return 3;
  if (!(cpuIdlePct >= b[6]! && cpuIdlePct <= b[7]!)) return 4;
  if (!(heartbeatIntervalMs >= b[8]! && heartbeatIntervalMs <= b[9]!)) return 5;
  return DOMAIN_OK;
}

/** The raw signals of one tick, as an observation carries them (runtime/timeout.ts TimeoutObservation). */
export interface RawSignals {
  heartbeatLatencyMs: number | null;
  logReplicationGap: number;
  rpcRetries: number;
  cpuIdlePct: number;
  heartbeatIntervalMs: number;
}

/**
 * rawDomainViolation reading the signals from the observation itself: the per-tick form. Passing the doubles
 * as arguments boxes each one whenever V8 does not inline the call; reading them here boxes nothing.
 */
export function rawDomainViolationOf(cr: CompiledRules, o: RawSignals): number {
  const b = cr.rawBox;
  const lat = o.heartbeatLatencyMs;
  if (lat !== null && !(lat >= b[0]! && lat <= b[1]!)) return 1;
  if (!(o.logReplicationGap >= b[2]! && o.logReplicationGap <= b[3]!)) return 2;
  if (!(o.rpcRetries >= b[4]! && o.rpcRetries <= b[5]!)) return 3;
  if (!(o.cpuIdlePct >= b[6]! && o.cpuIdlePct <= b[7]!)) return 4;
  if (!(o.heartbeatIntervalMs >= b[8]! && o.heartbeatIntervalMs <= b[9]!)) return 5;
  return DOMAIN_OK;
}

/** Returns 0 if the normalized features lie in the domain's normalized box, else 1 + the feature index. */
export function normalizedDomainViolation(cr: CompiledRules, z: ArrayLike<number>): number {
  const b = cr.normBox;
  for (let i = 0; i < NUM_FEATURES; i++) {
    const v = z[i]!;
    if (!(v >= b[i]! && v <= b[NUM_FEATURES + i]!)) return 1 + i;
  }
  return DOMAIN_OK;
}

/**
 * The first survived_silence_floor rule of `rules`, or undefined: the rule whose margin is the model's serving
 * knob (the evaluation sweeps it, the demo and the notebooks show it).
 */
export function survivedSilenceFloorOf(rules: { readonly rules: readonly Rule[] }): SurvivedSilenceFloorRule | undefined {
  return rules.rules.find((r): r is SurvivedSilenceFloorRule => r.kind === 'survived_silence_floor');
}

/** The declared properties verify must prove (monotonicity) and the quantization budget, for `verify`. */
export function declaredProperties(cr: CompiledRules): { monotonic: MonotonicRule[]; quantization: QuantizationBudgetRule[]; domain: InputDomainRule } {
  return {
    monotonic: cr.rules.filter((r): r is MonotonicRule => r.kind === 'monotonic'),
    quantization: cr.rules.filter((r): r is QuantizationBudgetRule => r.kind === 'quantization_budget'),
    domain: cr.domain,
  };
}
