/**
 * The policies `evaluate` compares, as serializable specs (they cross worker-thread boundaries) and the
 * factories that turn a spec into one TimeoutPolicy per simulated node. The model policies share one packed
 * model per process; every node owns its carried LSTM state.
 */
import { fixedRangeTimeout, staticRandomizedTimeout, type PolicyFactory, type TimeoutObservation, type TimeoutPolicy } from '../../sim/index.js';
import { FeatureState, LstmState, makeSharedModel, NeuroSymbolicTimeout, normalizeInPlace, NUM_FEATURES, type LoadedArtifact, type SharedModel } from '../../runtime/index.js';
import { JacobsonKarelsTimeout, PhiAccrualTimeout } from './baselines.js';

export type PolicySpec =
  | { kind: 'static-randomized'; base_ms: number }
  | { kind: 'fixed-range'; min_ms: number; max_ms: number }
  | { kind: 'jacobson'; k: number }
  | { kind: 'phi'; threshold: number }
  | { kind: 'model'; guardrails: boolean };

export interface PolicyEntry {
  id: string;
  label: string;
  spec: PolicySpec;
}

/** The six policies of every evaluation (issue 7, item 1), in report order. */
export const MAIN_POLICIES: readonly PolicyEntry[] = [
  { id: 'static-etcd', label: 'static etcd [1000, 2000) ms', spec: { kind: 'static-randomized', base_ms: 1000 } },
  { id: 'static-raft-paper', label: 'static Raft paper [150, 300) ms', spec: { kind: 'fixed-range', min_ms: 150, max_ms: 300 } },
  { id: 'jacobson-karels', label: 'Jacobson/Karels (K = 4)', spec: { kind: 'jacobson', k: 4 } },
  { id: 'phi-accrual', label: 'φ-accrual (φ = 8)', spec: { kind: 'phi', threshold: 8 } },
  { id: 'neuro-symbolic', label: 'neuro-symbolic (model + guardrails)', spec: { kind: 'model', guardrails: true } },
  { id: 'neural-unguarded', label: 'neural proposal, no guardrails (ablation)', spec: { kind: 'model', guardrails: false } },
];

export const MODEL_POLICY_IDS = new Set(['neuro-symbolic', 'neural-unguarded']);

/** The Pareto sweep: each baseline family across its parameter, plus the model (same scenarios and seeds). */
export function sweepPolicies(): Array<PolicyEntry & { family: string; param: string; value: number }> {
  const out: Array<PolicyEntry & { family: string; param: string; value: number }> = [];
  for (const base of [150, 250, 400, 600, 1000, 1500, 2500]) {
    out.push({ id: `sweep-static-${base}`, label: `static [${base}, ${2 * base}) ms`, family: 'static', param: 'base_ms', value: base, spec: { kind: 'static-randomized', base_ms: base } });
  }
  for (const k of [1, 2, 4, 8, 16]) {
    out.push({ id: `sweep-jacobson-${k}`, label: `Jacobson K = ${k}`, family: 'jacobson-karels', param: 'k', value: k, spec: { kind: 'jacobson', k } });
  }
  for (const t of [1, 2, 4, 8, 12, 16]) {
    out.push({ id: `sweep-phi-${t}`, label: `φ = ${t}`, family: 'phi-accrual', param: 'threshold', value: t, spec: { kind: 'phi', threshold: t } });
  }
  out.push({ id: 'sweep-neuro-symbolic', label: 'neuro-symbolic', family: 'neuro-symbolic', param: 'none', value: 0, spec: { kind: 'model', guardrails: true } });
  return out;
}

/** Per-run diagnostics of the model policies (summed over nodes). */
export interface ModelDiagnostics {
  ticks: number;
  fallbacks: number;
  ruleActivations: Record<string, number>;
}

/**
 * A policy factory for `spec`, plus a collector of the model policies' diagnostics after the run.
 * `model` is required for the model kinds.
 */
export function makePolicyFactory(spec: PolicySpec, model: SharedModel | null): { factory: PolicyFactory; diagnostics: () => ModelDiagnostics | null } {
  switch (spec.kind) {
    case 'static-randomized':
      return { factory: (_id, rng) => staticRandomizedTimeout(spec.base_ms, rng), diagnostics: () => null };
    case 'fixed-range':
      return { factory: (_id, rng) => fixedRangeTimeout(spec.min_ms, spec.max_ms, rng), diagnostics: () => null };
    case 'jacobson':
      return { factory: () => new JacobsonKarelsTimeout({ k: spec.k }), diagnostics: () => null };
    case 'phi':
      return { factory: () => new PhiAccrualTimeout({ threshold: spec.threshold }), diagnostics: () => null };
    case 'model': {
      if (!model) throw new Error('evaluate: internal: a model policy without a model');
      if (!spec.guardrails) {
        const nodes: UnguardedNeuralTimeout[] = [];
        return {
          factory: () => { const p = new UnguardedNeuralTimeout(model); nodes.push(p); return p; },
          diagnostics: () => ({ ticks: nodes.reduce((a, p) => a + p.ticks, 0), fallbacks: 0, ruleActivations: {} }),
        };
      }
      const nodes: NeuroSymbolicTimeout[] = [];
      return {
        factory: () => { const p = new NeuroSymbolicTimeout({ model }); nodes.push(p); return p; },
        diagnostics: () => {
          const d: ModelDiagnostics = { ticks: 0, fallbacks: 0, ruleActivations: {} };
          for (const p of nodes) {
            const e = p.explain();
            d.ticks += e.ticks;
            d.fallbacks += e.fallbackCount;
            for (const [k, v] of Object.entries(e.ruleActivationCounts)) d.ruleActivations[k] = (d.ruleActivations[k] ?? 0) + v;
          }
          return d;
        },
      };
    }
  }
}

/** Packs the artifact's int8 path once per process (the verified path, as the runtime serves by default). */
export function sharedModelOf(artifact: LoadedArtifact): SharedModel {
  return makeSharedModel(artifact, artifact.int8 ? 'int8' : 'float32', 'auto');
}

/**
 * The ablation: the LSTM's raw proposal exp(q) with no guardrails — no timing floor, no ceiling, no
 * max-change, no input-domain fallback, no leader-lost drop (that composition lives inside
 * NeuroSymbolicTimeout and needs the rules' floor). The runtime has no switch for this, so it is built
 * from the runtime's own pieces (FeatureState, normalizeInPlace, LstmModel.step) — the same function the
 * guarded provider feeds its rules with. The only clamp is [tick, 60 s], which keeps the simulator's
 * arithmetic finite; it is not a safety rule.
 */
export class UnguardedNeuralTimeout implements TimeoutPolicy {
  private readonly features = new FeatureState();
  private readonly state = new LstmState();
  private readonly x = new Float32Array(NUM_FEATURES);
  private readonly y = new Float64Array(2);
  private timeoutMs = 1000;
  ticks = 0;
  lastQ = Number.NaN;
  lastLogit = Number.NaN;

  constructor(private readonly model: SharedModel) {}

  observe(o: TimeoutObservation): void {
    this.ticks++;
    this.features.rawInto(o, this.x, 0);
    normalizeInPlace(this.x, 0, this.model.artifact.normalization);
    this.model.lstm.step(this.state, this.x, this.y);
    const q = this.y[0]!;
    this.lastQ = q;
    this.lastLogit = this.y[1]!;
    const t = Math.exp(q);
    this.timeoutMs = Number.isFinite(t) ? Math.min(60_000, Math.max(o.tickMs, t)) : 60_000;
  }

  electionTimeoutMs(): number {
    return this.timeoutMs;
  }
}
