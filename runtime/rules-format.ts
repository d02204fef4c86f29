/**
 * The safety-rules file format (schemas/safety-rules.schema.json): its types and the hand validator the
 * runtime uses instead of a schema library (it has no dependencies and runs in browsers). What each rule
 * kind means and the order the guardrails apply them is runtime/rules.ts, which compiles a validated file
 * and re-exports everything here; test/rules-schema.test.ts holds these types and the validator to the schema.
 */
import { FEATURE_NAMES, NUM_FEATURES } from './features.js';

export const RULES_FORMAT = 'raft-ns-safety-rules';
export const RULES_FORMAT_VERSION = 1;
/** The largest randomization spread a rules file or a provider may ask for: factors up to 5× the guarded value. */
export const MAX_RANDOMIZATION_SPREAD = 4;

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type RawField = 'heartbeat_latency_ms' | 'log_replication_gap' | 'rpc_retries' | 'cpu_idle_pct' | 'heartbeat_interval_ms';
export const RAW_FIELDS: readonly RawField[] = ['heartbeat_latency_ms', 'log_replication_gap', 'rpc_retries', 'cpu_idle_pct', 'heartbeat_interval_ms'];
/** The roles a `when.roles` condition may name, in the bit order of the compiled rules' role masks. */
export const ROLES: readonly Role[] = ['follower', 'pre-candidate', 'candidate', 'leader'];

interface RuleBase {
  /** Stable id, reported in explain() and verification reports. */
  id: string;
  /** Why the rule exists, in one sentence (shown next to every activation). */
  why: string;
}
export interface TimingFloorRule extends RuleBase {
  kind: 'timing_floor';
  k: number;
  absolute_floor_ms: number;
  /** The worst RTT is the max heartbeat latency over this many recent ticks. */
  rtt_window_ticks: number;
  /**
   * The RTT term of a candidate: 'worst' (default) as for every role, or 'smoothed' = min(worst, the smoothed
   * RTT of GuardrailContext.smoothedRttMs). A candidate hears no heartbeat, so its ring soon holds the last
   * round trip it saw 64 times over, often the spike that lost the leader; its vote requests need a usual one.
   */
  candidate_rtt?: 'worst' | 'smoothed';
}
export interface CeilingRule extends RuleBase {
  kind: 'ceiling';
  max_ms: number;
}
/**
 * A rule's condition: every present one must hold. stepped_down_this_term: the node knows no leader serves its
 * current term — it led the term and no longer does (check-quorum deposed it; Raft has one leader per term), or
 * the term's leader asked it for (pre-)votes in a later term (TimeoutObservation.leaderResigned).
 */
export interface RuleCondition {
  roles?: Role[];
  unreachable_peers_more_than_fraction?: number;
  stepped_down_this_term?: boolean;
}
export interface ConditionalFloorRule extends RuleBase {
  kind: 'conditional_floor';
  min_ms: number;
  /** All present conditions must hold. */
  when: RuleCondition;
}
export interface SurvivedSilenceFloorRule extends RuleBase {
  kind: 'survived_silence_floor';
  /** How far back a survived silence counts (by the time it ended). */
  window_ms: number;
  /** floor = margin × longest survived silence. */
  margin: number;
}
export interface ProposalCapRule extends RuleBase {
  kind: 'proposal_cap';
  max_ms: number;
  /** All present conditions must hold (as conditional_floor's). */
  when: RuleCondition;
}
export interface MaxChangeRule extends RuleBase {
  kind: 'max_change_per_tick';
  max_increase_ms: number;
  max_decrease_ms: number;
}
export interface Box {
  min: number[];
  max: number[];
}
export interface MonotonicRule extends RuleBase {
  kind: 'monotonic';
  output: 'log_gap_quantile' | 'leader_lost_logit';
  feature: FeatureName;
  direction: 'nondecreasing' | 'nonincreasing';
  /** Region in normalized feature space (4 dims, feature order of CONTRACTS.md §3). */
  region: Box;
  /** Which (h, c) the property is claimed for: the zero state, or every state reachable inside the domain. */
  state: 'zero' | 'reachable';
  /** Largest wrong-way slope allowed (output units per normalized feature unit); 0 or absent = strict. */
  tolerance?: number;
}
export interface InputDomainRule extends RuleBase {
  kind: 'input_domain';
  normalized: Box;
  raw: Record<RawField, [number, number]>;
}
export interface QuantizationBudgetRule extends RuleBase {
  kind: 'quantization_budget';
  max_abs_log_gap: number;
  max_abs_logit: number;
  /** Quantile of the per-tick |int8 − float| the budgets bound (default 1: the maximum). */
  at_quantile?: number;
  /** Largest |int8 − float| in ln-gap at any single tick; absent = not checked. */
  worst_tick_abs_log_gap?: number;
  /** Largest relative held-out loss increase of int8 over float; absent = not checked. */
  max_loss_increase?: number;
}
export type Rule = TimingFloorRule | CeilingRule | ConditionalFloorRule | SurvivedSilenceFloorRule | ProposalCapRule | MaxChangeRule | MonotonicRule | InputDomainRule | QuantizationBudgetRule;
export type RuleKind = Rule['kind'];

export interface SafetyRules {
  /** Editor hint naming the schema file; allowed, never read. */
  $schema?: string;
  format: typeof RULES_FORMAT;
  format_version: typeof RULES_FORMAT_VERSION;
  name: string;
  description?: string;
  /** The static timeout used whenever the model cannot be trusted (invalid input, no artifact, fault). */
  static_fallback_ms: number;
  /**
   * Raft's randomization of the guarded timeout: the factor U[1, 1 + spread) (docs/RULES.md §1). Optional,
   * default 1 (etcd's U[1, 2)); a provider's own randomization option overrides it.
   */
  randomization_spread?: number;
  rules: Rule[];
}

export type RulesValidation = { ok: true; value: SafetyRules } | { ok: false; issues: Array<{ path: string; message: string }> };

/**
 * Structural validation matching schemas/safety-rules.schema.json plus the cross-rule checks a schema cannot
 * express (absolute floor ≤ every ceiling, fallback inside the bounds, exactly one input_domain). Result is
 * data, not an exception. The runtime stays free of a schema library, so this is written by hand;
 * test/rules-schema.test.ts holds it, and the types above, to the schema.
 */
export function validateRules(value: unknown): RulesValidation {
  const issues: Array<{ path: string; message: string }> = [];
  const bad = (path: string, message: string): void => void issues.push({ path, message });
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const num = (v: unknown, path: string, min: number, exclusiveMin = false, max = Infinity): boolean => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (exclusiveMin ? v <= min : v < min) || v > max) {
      bad(path, `expected a finite number ${exclusiveMin ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}, got ${JSON.stringify(v)}`);
      return false;
    }
    return true;
  };
  const keys = (o: Record<string, unknown>, path: string, allowed: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(path, `unknown key "${k}"`);
  };
  const box = (b: unknown, path: string): void => {
    if (!isObj(b)) return bad(path, 'expected {min: number[4], max: number[4]}');
    keys(b, path, ['min', 'max']);
    const { min, max } = b;
    if (!Array.isArray(min) || !Array.isArray(max) || min.length !== NUM_FEATURES || max.length !== NUM_FEATURES) {
      return bad(path, `expected min and max of length ${NUM_FEATURES}`);
    }
    for (let i = 0; i < NUM_FEATURES; i++) {
      if (typeof min[i] !== 'number' || typeof max[i] !== 'number' || !Number.isFinite(min[i]) || !Number.isFinite(max[i]) || min[i] > max[i]) {
        bad(`${path}/min/${i}`, `expected finite min ≤ max for ${FEATURE_NAMES[i]}`);
      }
    }
  };
  if (!isObj(value)) return { ok: false, issues: [{ path: '/', message: 'expected a JSON object' }] };
  keys(value, '/', ['$schema', 'format', 'format_version', 'name', 'description', 'static_fallback_ms', 'randomization_spread', 'rules']);
  if (value.format !== RULES_FORMAT) bad('/format', `expected "${RULES_FORMAT}"`);
  if (value.format_version !== RULES_FORMAT_VERSION) bad('/format_version', `expected ${RULES_FORMAT_VERSION}`);
  if (typeof value.name !== 'string' || value.name.length === 0) bad('/name', 'expected a non-empty string');
  if (value.$schema !== undefined && typeof value.$schema !== 'string') bad('/$schema', 'expected a string');
  if (value.description !== undefined && typeof value.description !== 'string') bad('/description', 'expected a string');
  num(value.static_fallback_ms, '/static_fallback_ms', 0, true);
  if (value.randomization_spread !== undefined) num(value.randomization_spread, '/randomization_spread', 0, false, MAX_RANDOMIZATION_SPREAD);
  if (!Array.isArray(value.rules)) {
    bad('/rules', 'expected an array');
    return { ok: false, issues };
  }
  const ids = new Set<string>();
  let domains = 0;
  value.rules.forEach((r: unknown, i: number) => {
    const p = `/rules/${i}`;
    if (!isObj(r)) return bad(p, 'expected an object');
    if (typeof r.id !== 'string' || !/^[a-z0-9][a-z0-9_.-]*$/.test(r.id)) bad(`${p}/id`, 'expected a lower-case id ([a-z0-9_.-])');
    else if (ids.has(r.id)) bad(`${p}/id`, `duplicate id "${r.id}"`);
    else ids.add(r.id);
    if (typeof r.why !== 'string' || r.why.length === 0) bad(`${p}/why`, 'expected a non-empty string');
    const common = ['id', 'why', 'kind'];
    switch (r.kind) {
      case 'timing_floor':
        keys(r, p, [...common, 'k', 'absolute_floor_ms', 'rtt_window_ticks', 'candidate_rtt']);
        if (r.candidate_rtt !== undefined && r.candidate_rtt !== 'worst' && r.candidate_rtt !== 'smoothed') bad(`${p}/candidate_rtt`, 'expected "worst" or "smoothed"');
        num(r.k, `${p}/k`, 0);
        num(r.absolute_floor_ms, `${p}/absolute_floor_ms`, 0, true);
        if (!Number.isInteger(r.rtt_window_ticks) || (r.rtt_window_ticks as number) < 1 || (r.rtt_window_ticks as number) > 4096) {
          bad(`${p}/rtt_window_ticks`, 'expected an integer in [1, 4096]');
        }
        break;
      case 'ceiling':
        keys(r, p, [...common, 'max_ms']);
        num(r.max_ms, `${p}/max_ms`, 0, true);
        break;
      case 'conditional_floor':
      case 'proposal_cap': {
        const bound = r.kind === 'conditional_floor' ? 'min_ms' : 'max_ms';
        keys(r, p, [...common, bound, 'when']);
        num(r[bound], `${p}/${bound}`, 0, true);
        const w = r.when;
        if (!isObj(w)) {
          bad(`${p}/when`, 'expected an object');
          break;
        }
        keys(w, `${p}/when`, ['roles', 'unreachable_peers_more_than_fraction', 'stepped_down_this_term']);
        if (w.roles === undefined && w.unreachable_peers_more_than_fraction === undefined && w.stepped_down_this_term === undefined) bad(`${p}/when`, 'expected at least one condition');
        if (w.roles !== undefined && (!Array.isArray(w.roles) || w.roles.length === 0 || w.roles.some((x) => !ROLES.includes(x as Role)))) {
          bad(`${p}/when/roles`, `expected a non-empty list of ${ROLES.join(' | ')}`);
        }
        if (w.unreachable_peers_more_than_fraction !== undefined) num(w.unreachable_peers_more_than_fraction, `${p}/when/unreachable_peers_more_than_fraction`, 0, false, 1);
        if (w.stepped_down_this_term !== undefined && typeof w.stepped_down_this_term !== 'boolean') bad(`${p}/when/stepped_down_this_term`, 'expected true or false');
        break;
      }
      case 'survived_silence_floor':
        keys(r, p, [...common, 'window_ms', 'margin']);
        num(r.window_ms, `${p}/window_ms`, 0, true, 600000);
        num(r.margin, `${p}/margin`, 0, false, 10);
        break;
      case 'max_change_per_tick':
        keys(r, p, [...common, 'max_increase_ms', 'max_decrease_ms']);
        num(r.max_increase_ms, `${p}/max_increase_ms`, 0, true);
        num(r.max_decrease_ms, `${p}/max_decrease_ms`, 0, true);
        break;
      case 'monotonic':
        keys(r, p, [...common, 'output', 'feature', 'direction', 'region', 'state', 'tolerance']);
        if (r.tolerance !== undefined) num(r.tolerance, `${p}/tolerance`, 0);
        if (r.output !== 'log_gap_quantile' && r.output !== 'leader_lost_logit') bad(`${p}/output`, 'expected log_gap_quantile | leader_lost_logit');
        if (!FEATURE_NAMES.includes(r.feature as FeatureName)) bad(`${p}/feature`, `expected one of ${FEATURE_NAMES.join(' | ')}`);
        if (r.direction !== 'nondecreasing' && r.direction !== 'nonincreasing') bad(`${p}/direction`, 'expected nondecreasing | nonincreasing');
        if (r.state !== 'zero' && r.state !== 'reachable') bad(`${p}/state`, 'expected zero | reachable');
        box(r.region, `${p}/region`);
        break;
      case 'input_domain': {
        domains++;
        keys(r, p, [...common, 'normalized', 'raw']);
        box(r.normalized, `${p}/normalized`);
        const raw = r.raw;
        if (!isObj(raw)) {
          bad(`${p}/raw`, 'expected an object');
          break;
        }
        keys(raw, `${p}/raw`, RAW_FIELDS);
        for (const f of RAW_FIELDS) {
          const v = raw[f];
          if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number' || typeof v[1] !== 'number' || !(v[0] >= 0) || !(v[0] <= v[1]) || !Number.isFinite(v[1])) {
            bad(`${p}/raw/${f}`, 'expected [min, max] with 0 ≤ min ≤ max, finite');
          }
        }
        break;
      }
      case 'quantization_budget':
        keys(r, p, [...common, 'max_abs_log_gap', 'max_abs_logit', 'at_quantile', 'worst_tick_abs_log_gap', 'max_loss_increase']);
        num(r.max_abs_log_gap, `${p}/max_abs_log_gap`, 0);
        num(r.max_abs_logit, `${p}/max_abs_logit`, 0);
        if (r.at_quantile !== undefined && !(typeof r.at_quantile === 'number' && r.at_quantile > 0 && r.at_quantile <= 1)) bad(`${p}/at_quantile`, 'expected a number in (0, 1]');
        if (r.worst_tick_abs_log_gap !== undefined) num(r.worst_tick_abs_log_gap, `${p}/worst_tick_abs_log_gap`, 0);
        if (r.max_loss_increase !== undefined) num(r.max_loss_increase, `${p}/max_loss_increase`, 0);
        break;
      default:
        bad(`${p}/kind`, `unknown rule kind ${JSON.stringify(r.kind)}`);
    }
  });
  if (issues.length === 0) {
    const rs = value.rules as Rule[];
    const floors = rs.filter((r): r is TimingFloorRule => r.kind === 'timing_floor');
    const ceilings = rs.filter((r): r is CeilingRule => r.kind === 'ceiling');
    if (floors.length === 0) bad('/rules', 'expected at least one timing_floor rule');
    if (ceilings.length === 0) bad('/rules', 'expected at least one ceiling rule');
    if (domains !== 1) bad('/rules', `expected exactly one input_domain rule, found ${domains}`);
    const absFloor = Math.max(...floors.map((r) => r.absolute_floor_ms));
    const ceiling = Math.min(...ceilings.map((r) => r.max_ms));
    // The runtime arms whole milliseconds (rounded up, then capped at ⌊ceiling⌋), so ⌊ceiling⌋ must be ≥ the floor.
    if (absFloor > Math.floor(ceiling)) bad('/rules', `absolute floor ${absFloor} ms exceeds the ceiling ${ceiling} ms (rounded down to whole ms)`);
    rs.forEach((r, i) => {
      if (r.kind === 'conditional_floor' && r.min_ms > ceiling) bad(`/rules/${i}/min_ms`, `${r.min_ms} ms exceeds the ceiling ${ceiling} ms`);
    });
    const fb = value.static_fallback_ms as number;
    if (fb < absFloor || fb > ceiling) bad('/static_fallback_ms', `${fb} ms is outside [${absFloor}, ${ceiling}] ms`);
  }
  return issues.length === 0 ? { ok: true, value: value as unknown as SafetyRules } : { ok: false, issues };
}
