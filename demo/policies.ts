/**
 * The five timeout policies the demo can put on a cluster, built from the project's own implementations:
 * the static ones from sim/policy.ts, the adaptive baselines from sim/baselines.ts (pure,
 * browser-safe) and the neuro-symbolic provider from runtime/ — configured as `raft-ns evaluate` runs them
 * (pipeline/evaluate/policies.ts MAIN_POLICIES: the adaptive baselines × U[1, 2), etcd-style, since without
 * randomization followers fed the same heartbeats split the vote forever), so the page shows the policies
 * the evaluation report scores. Browser-safe: no DOM, no node: imports.
 */
import {
  fixedRangeTimeout, JacobsonKarelsTimeout, PhiAccrualTimeout, RandomizedTimeout, staticRandomizedTimeout,
  type PolicyFactory, type TimeoutObservation, type TimeoutPolicy,
} from '../sim/index.js';
import {
  compileRules, DEFAULT_RULES, LstmBatch, NeuroSymbolicTimeout, survivedSilenceFloorOf,
  type CompiledRules, type Explanation, type Rule, type SharedModel, type SurvivedSilenceFloorRule,
} from '../runtime/index.js';

export const POLICY_KINDS = ['etcd', 'raft-paper', 'jacobson', 'phi', 'neuro'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export const POLICY_LABELS: Record<PolicyKind, string> = {
  etcd: 'static etcd (1000–2000 ms)',
  'raft-paper': 'Raft paper (150–300 ms)',
  jacobson: 'Jacobson/Karels (K = 4) × U[1, 2)',
  phi: 'φ-accrual (φ = 8) × U[1, 2)',
  neuro: 'neuro-symbolic (LSTM + rules)',
};

export function isPolicyKind(s: string): s is PolicyKind {
  return (POLICY_KINDS as readonly string[]).includes(s);
}

/**
 * The neuro-symbolic lane's serving knob: the survived-silence floor's margin (rule survived-silence-floor:
 * a follower's timeout is at least margin × the longest silence a live leader survived in the last 30 s).
 * Larger = fewer spurious elections after a stall or a jitter burst, slower failover. The values are those
 * the evaluation's Pareto sweep serves the model with (pipeline/evaluate/policies.ts sweepPolicies, which the
 * page may not import; test/demo-world.test.ts checks the two lists agree).
 */
export const SURVIVED_MARGINS: readonly number[] = [0, 0.5, 1, 1.25, 1.5, 1.75, 2, 3, 4, 6];

function survivedFloorOf(rules: { rules: readonly Rule[] }): SurvivedSilenceFloorRule {
  const floor = survivedSilenceFloorOf(rules);
  if (!floor) throw new Error('demo: the default rules have no survived_silence_floor');
  return floor;
}

/** The default rules' margin (read from them): the page's default, at which it serves exactly the default rules. */
export const DEFAULT_SURVIVED_MARGIN = survivedFloorOf(DEFAULT_RULES).margin;

/**
 * The default rules with the survived-silence margin set to `margin` (validated: 0–10), every rule in its
 * place — the phases apply rules in file order, and which floor fires first is what explain() reports — so
 * the default margin gives a copy equal to DEFAULT_RULES. Margin 0 keeps the rule with a floor of 0, which
 * never lifts a timeout: the same timeouts as the sweep's rules without the floor.
 */
export function rulesWithSurvivedMargin(margin: number): CompiledRules {
  const rules = { ...DEFAULT_RULES, rules: DEFAULT_RULES.rules.map((r) => (r.kind === 'survived_silence_floor' ? { ...r, margin } : r)) };
  return compileRules(rules, `default rules with survived-silence margin ${margin}`);
}

/** One line for the page: the serving knob, the caps and the randomization in force on the neuro-symbolic lane. */
export function rulesInForce(rules: CompiledRules): string {
  const floor = survivedFloorOf(rules);
  const caps = rules.rules.flatMap((r) => (r.kind === 'proposal_cap' ? [`${r.id} ${r.max_ms} ms${r.when.roles ? ` (${r.when.roles.join(', ')})` : ''}${r.when.stepped_down_this_term ? ' (deposed in its term)' : ''}`] : []));
  return [
    `Rules in force: ${floor.id} margin ${floor.margin} × the longest silence a leader survived in ${floor.window_ms / 1000} s`,
    ...caps,
    `ceiling ${rules.ceilingMs} ms`,
    `randomized × U[1, ${1 + rules.randomizationSpread})`,
  ].join(' · ');
}

/**
 * A node's policy wrapped so the demo can see what the node saw: the last observation (heartbeat latency)
 * and, for the neuro-symbolic provider, its explain(). Decisions are the inner policy's, unchanged.
 */
export class WatchedPolicy implements TimeoutPolicy {
  last: TimeoutObservation | null = null;
  constructor(readonly inner: TimeoutPolicy, readonly neuro: NeuroSymbolicTimeout | null) {}
  willObserve(o: TimeoutObservation): void {
    this.inner.willObserve?.(o);
  }
  observe(o: TimeoutObservation): void {
    this.last = o;
    this.inner.observe(o);
  }
  electionTimeoutMs(): number {
    return this.inner.electionTimeoutMs();
  }
  explain(): Explanation | null {
    return this.neuro ? this.neuro.explain() : null;
  }
}

/**
 * A factory for one policy kind that also records the live policy of every node (replaced on restart).
 * `model` null makes the neuro-symbolic provider run on its static fallback (shown on the page); `rules`
 * guard the neuro-symbolic provider (shared: compiled rules are immutable).
 */
export function makeWatchedFactory(kind: PolicyKind, model: SharedModel | null, watched: Map<string, WatchedPolicy>, rules: CompiledRules): PolicyFactory {
  // The cluster's nodes step their models in one kernel call per tick (runtime/batch.ts; same bits as alone).
  const batch = kind === 'neuro' && model ? LstmBatch.create(model) : null;
  return (nodeId, rng) => {
    let p: WatchedPolicy;
    switch (kind) {
      case 'etcd': p = new WatchedPolicy(staticRandomizedTimeout(1000, rng), null); break;
      case 'raft-paper': p = new WatchedPolicy(fixedRangeTimeout(150, 300, rng), null); break;
      case 'jacobson': p = new WatchedPolicy(new RandomizedTimeout(new JacobsonKarelsTimeout({ k: 4 }), rng), null); break;
      case 'phi': p = new WatchedPolicy(new RandomizedTimeout(new PhiAccrualTimeout({ threshold: 8 }), rng), null); break;
      case 'neuro': {
        const randomization = { seed: Math.floor(rng.next() * 4294967296) };
        const n = new NeuroSymbolicTimeout(model ? { model, batch, randomization, rules } : { modelError: 'no model artifact was served with this page', randomization, rules });
        p = new WatchedPolicy(n, n);
        break;
      }
    }
    watched.set(nodeId, p);
    return p;
  };
}
