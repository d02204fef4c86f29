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
import { LstmBatch, NeuroSymbolicTimeout, type Explanation, type SharedModel } from '../runtime/index.js';

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
 * `model` null makes the neuro-symbolic provider run on its static fallback (shown on the page).
 */
export function makeWatchedFactory(kind: PolicyKind, model: SharedModel | null, watched: Map<string, WatchedPolicy>): PolicyFactory {
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
        const n = new NeuroSymbolicTimeout(model ? { model, batch, randomization } : { modelError: 'no model artifact was served with this page', randomization });
        p = new WatchedPolicy(n, n);
        break;
      }
    }
    watched.set(nodeId, p);
    return p;
  };
}
