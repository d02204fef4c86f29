/**
 * The policies `evaluate` compares, as serializable specs (they cross worker-thread boundaries) and the
 * factories that turn a spec into one TimeoutPolicy per simulated node. The model policies share one packed
 * model per process; every node owns its carried LSTM state.
 */
import {
  fixedRangeTimeout, JacobsonKarelsTimeout, OracleTimeout, PhiAccrualTimeout, RandomizedTimeout, staticRandomizedTimeout,
  type PolicyFactory, type Prng, type TimeoutObservation, type TimeoutPolicy,
} from '../../sim/index.js';
import {
  compileRules, FeatureState, LstmBatch, LstmState, makeSharedModel, NeuroSymbolicTimeout, normalizeInPlace, NUM_FEATURES,
  DEFAULT_RULES, survivedSilenceFloorOf, type LoadedArtifact, type Normalization, type SafetyRules, type SharedModel, type SurvivedSilenceFloorRule,
} from '../../runtime/index.js';


export type PolicySpec =
  | { kind: 'static-randomized'; base_ms: number }
  | { kind: 'fixed-range'; min_ms: number; max_ms: number }
  | { kind: 'jacobson'; k: number; randomize?: boolean }
  | { kind: 'phi'; threshold: number; randomize?: boolean }
  | {
    kind: 'model'; guardrails: boolean;
    /** Serving knobs of NeuroSymbolicTimeout (absent = the runtime's defaults): randomization spread, leader-lost threshold. */
    spread?: number; lost_threshold?: number;
    /** Safety rules to guard with (parsed JSON; absent = the runtime's embedded defaults). */
    rules?: SafetyRules;
  }
  | { kind: 'oracle'; window_floor_ms: number };

export interface PolicyEntry {
  id: string;
  label: string;
  spec: PolicySpec;
}

/** The baseline every relative figure is measured against, and the physical limit (sim/oracle.ts). */
export const BASELINE_POLICY_ID = 'static-etcd';
export const ORACLE_POLICY_ID = 'oracle';

/**
 * The policies of every evaluation, in report order: the six compared ones, then the oracle, a perfect
 * failure detector that reads the simulator's ground truth — the reference for "capture", never a candidate.
 */
export const MAIN_POLICIES: readonly PolicyEntry[] = [
  { id: 'static-etcd', label: 'static etcd [1000, 2000) ms', spec: { kind: 'static-randomized', base_ms: 1000 } },
  { id: 'static-raft-paper', label: 'static Raft paper [150, 300) ms', spec: { kind: 'fixed-range', min_ms: 150, max_ms: 300 } },
  { id: 'jacobson-karels', label: 'Jacobson/Karels (K = 4) × U[1, 2)', spec: { kind: 'jacobson', k: 4, randomize: true } },
  { id: 'phi-accrual', label: 'φ-accrual (φ = 8) × U[1, 2)', spec: { kind: 'phi', threshold: 8, randomize: true } },
  { id: 'neuro-symbolic', label: 'neuro-symbolic (model + guardrails)', spec: { kind: 'model', guardrails: true } },
  { id: 'neural-unguarded', label: 'neural proposal, no guardrails (ablation)', spec: { kind: 'model', guardrails: false } },
  { id: ORACLE_POLICY_ID, label: 'oracle (ground-truth failure detector)', spec: { kind: 'oracle', window_floor_ms: 50 } },
];

export const MODEL_POLICY_IDS = new Set(['neuro-symbolic', 'neural-unguarded']);

export const ORACLE_FAMILY = 'oracle';

/** The Pareto sweep: each baseline family across its parameter, plus the model and the oracle (same scenarios and seeds). */
export function sweepPolicies(rules: SafetyRules = DEFAULT_RULES): Array<PolicyEntry & { family: string; param: string; value: number }> {
  const out: Array<PolicyEntry & { family: string; param: string; value: number }> = [];
  for (const base of [150, 250, 400, 600, 1000, 1500, 2500]) {
    out.push({ id: `sweep-static-${base}`, label: `static [${base}, ${2 * base}) ms`, family: 'static', param: 'base_ms', value: base, spec: { kind: 'static-randomized', base_ms: base } });
  }
  for (const k of [1, 2, 4, 8, 16]) {
    out.push({ id: `sweep-jacobson-${k}`, label: `Jacobson K = ${k}`, family: 'jacobson-karels', param: 'k', value: k, spec: { kind: 'jacobson', k, randomize: true } });
  }
  for (const t of [1, 2, 4, 8, 12, 16]) {
    out.push({ id: `sweep-phi-${t}`, label: `φ = ${t}`, family: 'phi-accrual', param: 'threshold', value: t, spec: { kind: 'phi', threshold: t, randomize: true } });
  }
  // The model's serving knob: the survived-silence margin of the rules (0 = no such floor). A larger margin
  // waits longer after a leader was seen to stall: fewer spurious campaigns, slower failover. Up to 6, so the
  // curve reaches as far toward few unnecessary elections as the static family's longest timeouts do.
  for (const margin of [0, 0.5, 1, 1.25, 1.5, 1.75, 2, 3, 4, 6]) {
    out.push({
      id: `sweep-neuro-symbolic-${margin}`, label: `neuro-symbolic, survived × ${margin}`, family: 'neuro-symbolic', param: 'survived_margin', value: margin,
      spec: { kind: 'model', guardrails: true, rules: withSurvivedMargin(rules, margin) },
    });
  }
  // The reference point of the chart, on the same sweep scenarios and seeds; not part of the frontier.
  const oracle = MAIN_POLICIES.find((p) => p.id === ORACLE_POLICY_ID)!;
  out.push({ id: 'sweep-oracle', label: 'oracle', family: ORACLE_FAMILY, param: 'none', value: 0, spec: oracle.spec });
  return out;
}

/** `rules` with its survived_silence_floor's margin set to `margin` (added, 30 s window, when absent; removed at 0). */
export function withSurvivedMargin(rules: SafetyRules, margin: number): SafetyRules {
  const existing = survivedSilenceFloorOf(rules);
  const others = rules.rules.filter((r) => r.kind !== 'survived_silence_floor');
  if (margin === 0) return { ...rules, rules: others };
  const floor: SurvivedSilenceFloorRule = existing
    ? { ...existing, margin }
    : { id: 'survived-silence-floor', kind: 'survived_silence_floor', window_ms: 30_000, margin, why: 'swept by evaluate' };
  return { ...rules, rules: [others[0]!, floor, ...others.slice(1)] };
}

/** Per-run diagnostics of the model policies (summed over nodes). */
export interface ModelDiagnostics {
  ticks: number;
  fallbacks: number;
  ruleActivations: Record<string, number>;
}

/**
 * A policy factory for `spec`, plus a collector of the model policies' diagnostics after the run.
 * `model` is required for the model kinds; `batched` false steps each node's model alone (the bench's baseline).
 */
export function makePolicyFactory(spec: PolicySpec, model: SharedModel | null, batched = true): { factory: PolicyFactory; diagnostics: () => ModelDiagnostics | null } {
  switch (spec.kind) {
    case 'static-randomized':
      return { factory: (_id, rng) => staticRandomizedTimeout(spec.base_ms, rng), diagnostics: () => null };
    case 'fixed-range':
      return { factory: (_id, rng) => fixedRangeTimeout(spec.min_ms, spec.max_ms, rng), diagnostics: () => null };
    case 'jacobson':
      return { factory: (_id, rng) => maybeRandomized(new JacobsonKarelsTimeout({ k: spec.k }), spec.randomize, rng), diagnostics: () => null };
    case 'phi':
      return { factory: (_id, rng) => maybeRandomized(new PhiAccrualTimeout({ threshold: spec.threshold }), spec.randomize, rng), diagnostics: () => null };
    case 'oracle':
      return {
        factory: (id, rng, truth) => {
          if (!truth) throw new Error('evaluate: internal: the oracle needs the simulation\'s ground-truth view (SimulationOptions.groundTruth)');
          return new OracleTimeout(id, truth, rng, { windowFloorMs: spec.window_floor_ms });
        },
        diagnostics: () => null,
      };
    case 'model': {
      if (!model) throw new Error('evaluate: internal: a model policy without a model');
      // One batch per run (a factory serves one simulation): its nodes step their models in one kernel call
      // per tick, the same bits as stepping alone (runtime/batch.ts); null where the kernel is not WASM.
      const batch = batched ? LstmBatch.create(model) : null;
      if (!spec.guardrails) {
        const nodes: UnguardedNeuralTimeout[] = [];
        return {
          factory: () => { const p = new UnguardedNeuralTimeout(model, batch); nodes.push(p); return p; },
          diagnostics: () => ({ ticks: nodes.reduce((a, p) => a + p.ticks, 0), fallbacks: 0, ruleActivations: {} }),
        };
      }
      const nodes: NeuroSymbolicTimeout[] = [];
      const rules = spec.rules ? compileRules(spec.rules, spec.rules.name) : undefined; // compiled once, shared by the nodes
      return {
        // The node's own PRNG seeds the runtime's randomization: reproducible per seed, distinct per node.
        factory: (_id, rng) => {
          const p = new NeuroSymbolicTimeout({
            model, batch, ...(rules ? { rules } : {}), randomization: { seed: Math.floor(rng.next() * 4294967296), ...(spec.spread === undefined ? {} : { spread: spec.spread }) },
            ...(spec.lost_threshold === undefined ? {} : { lostThreshold: spec.lost_threshold }),
          });
          nodes.push(p);
          return p;
        },
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

function maybeRandomized(p: TimeoutPolicy, randomize: boolean | undefined, rng: Prng): TimeoutPolicy {
  return randomize ? new RandomizedTimeout(p, rng) : p;
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
  /** q at the last leader contact: the runtime's deadline semantics (NeuroSymbolicTimeout.heldQ says why). */
  private heldQ = Number.NaN;
  private heldTerm = Number.NaN;
  private heldLeaderId: string | null = null;
  private readonly state = new LstmState();
  private readonly x = new Float32Array(NUM_FEATURES);
  private readonly y = new Float64Array(2);
  private timeoutMs = 1000;
  ticks = 0;
  lastQ = Number.NaN;
  lastLogit = Number.NaN;
  /** The batch this node steps in and its slot (−1: steps alone); the observation whose step is queued. */
  private readonly batch: LstmBatch | null;
  private readonly slot: number;
  private pendingObs: TimeoutObservation | null = null;

  /** The model's normalization, looked up once (read every tick). */
  private readonly norm: Normalization;

  constructor(private readonly model: SharedModel, batch: LstmBatch | null = null) {
    this.slot = batch ? batch.allocSlot() : -1;
    this.batch = this.slot >= 0 ? batch : null;
    this.norm = model.artifact.normalization;
  }

  /** x into this node's batch slot, and enqueues it. */
  private queueStep(): void {
    this.batch!.enqueueFeatures(this.slot, this.x);
  }

  /** Queues this tick's model step in the batch (the simulator calls it for every node before any observes). */
  willObserve(o: TimeoutObservation): void {
    if (this.batch === null) return;
    if (this.pendingObs !== null) this.observe(this.pendingObs);
    this.features.rawInto(o, this.x, 0);
    normalizeInPlace(this.x, 0, this.norm);
    this.queueStep();
    this.pendingObs = o;
  }

  observe(o: TimeoutObservation): void {
    if (this.pendingObs !== o) {
      if (this.pendingObs !== null) this.observe(this.pendingObs);
      this.features.rawInto(o, this.x, 0);
      normalizeInPlace(this.x, 0, this.norm);
      if (this.batch !== null) this.queueStep();
    }
    this.pendingObs = null;
    if (this.batch !== null) {
      if (this.batch.isQueued(this.slot)) this.batch.flush();
      this.y[0] = this.batch.y[2 * this.slot]!;
      this.y[1] = this.batch.y[2 * this.slot + 1]!;
    } else {
      this.model.lstm.step(this.state, this.x, this.y);
    }
    this.ticks++;
    const q = this.y[0]!;
    this.lastQ = q;
    this.lastLogit = this.y[1]!;
    if (o.heartbeatReceived || Number.isNaN(this.heldQ) || o.term !== this.heldTerm || o.leaderId !== this.heldLeaderId) {
      this.heldQ = q;
      this.heldTerm = o.term;
      this.heldLeaderId = o.leaderId;
    }
    const t = Math.exp(this.heldQ);
    this.timeoutMs = Number.isFinite(t) ? Math.min(60_000, Math.max(o.tickMs, t)) : 60_000;
  }

  electionTimeoutMs(): number {
    return this.timeoutMs;
  }
}
