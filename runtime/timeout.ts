/**
 * NeuroSymbolicTimeout: the drop-in election-timeout provider. It satisfies the TimeoutPolicy interface of
 * docs/CONTRACTS.md §7 structurally (`observe(o)`, `electionTimeoutMs()`), plus `explain()`.
 *
 * Per tick, observeUnsafe runs these private steps top-down, each stating its invariant:
 *   beginTick   validate → drawFactor → rawInDomain → trackContact (noteHeartbeat → recordSurvived,
 *               smoothGap; pushRtt; survivedSilence) → modelInput; trackContact and the steps in its
 *               parentheses live in runtime/contact.ts (ContactTracker, one per provider)
 *   model step  stepAlone, or queueStep → readBatched in a shared batch (runtime/batch.ts)
 *   finishTick  acceptStep → holdDeadline → hardFloor → leaderLostDrop → guard → arm
 * That is: validate the observation; draw Raft's randomization factor when term or role changes; check it
 * against the rules' input domain; track contacts (the usual heartbeat gap, Jacobson/Karels; the silence; the
 * RTT ring; the survived silences); features (runtime/features.ts) → LSTM step (carried state) → the deadline
 * exp(q) ms, q held since the last leader contact → drop toward the hard floor when P(leader_lost) is high and
 * the silence already exceeds the usual heartbeat gap → guardrails (runtime/rules.ts) → × the factor → the
 * timeout to arm. The steps hand doubles to one another in fields, never as call arguments or return values
 * (nextUniform aside: it runs on a term or role change only): a double passed to or returned from a call V8
 * did not inline is boxed, one allocation per tick, and what V8 inlines depends on its budget.
 *
 * Invariant: electionTimeoutMs() ∈ [rules.absoluteFloorMs, rules.ceilingMs] always, and neither method ever
 * throws. It is a whole number of milliseconds (the guarded value rounded up, capped at ⌊ceiling⌋): integers
 * stay unboxed small integers in V8, so even the caller's side of the call allocates nothing. Whatever goes
 * wrong — an invalid observation (NaN, ±Infinity, negative, absurd, outside the verified box), no artifact or
 * a refused one, or a fault inside the engine — yields the static fallback timeout for that tick and is
 * counted in explain(). Steady state allocates nothing.
 */
import type { LoadedArtifact, Precision } from './artifact.js';
import type { LstmBatch } from './batch.js';
import type { SharedModel, TimeoutObservation } from './types.js';
import { ContactTracker } from './contact.js';
import { DEFAULT_RULES } from './default-rules.js';
import { LstmModel, LstmState, type KernelChoice } from './engine.js';
import { FeatureState, NUM_FEATURES, normalizeInPlace, type Normalization } from './features.js';
import {
  compileRules, guardInPlace, GuardrailTrace, hardFloorInto, normalizedDomainViolation, rawDomainViolationOf, RAW_FIELDS, MAX_RANDOMIZATION_SPREAD,
  type CompiledRules, type GuardrailContext, type SafetyRules,
} from './rules.js';

/** Declared in runtime/types.ts, so that runtime/batch.ts and runtime/contact.ts can use them without importing this file. */
export type { SharedModel, TimeoutObservation } from './types.js';

/**
 * Packs one precision path of an artifact once; pass the result to many NeuroSymbolicTimeout instances.
 * `kernel` 'auto' (default) serves with the WebAssembly SIMD kernel where available (float32, within 1e-5 of
 * the exact float64 JS kernel), else the JS kernel; 'js' serves exactly the function golden.json and
 * `verify` are computed for.
 */
export function makeSharedModel(artifact: LoadedArtifact, precision: Precision = 'int8', kernel: KernelChoice = 'auto'): SharedModel {
  const params = precision === 'int8' ? artifact.int8 : artifact.float32;
  if (!params) throw new Error(`runtime: artifact ${artifact.manifest.name}@${artifact.manifest.version} has no ${precision} tensors`);
  const quantized = precision === 'int8' ? artifact.int8Quantized : undefined;
  return { artifact, precision, lstm: LstmModel.fromDense(params, quantized ? { kernel, quantized } : { kernel }) };
}

export interface NeuroSymbolicTimeoutOptions {
  /** The model: a shared model, a loaded artifact (packed here), or null/undefined (→ static fallback always). */
  model?: SharedModel | LoadedArtifact | null;
  /** Precision path when `model` is an artifact. Default int8 (the verified one), float32 if absent. */
  precision?: Precision;
  /** Kernel when `model` is an artifact (see makeSharedModel). Default 'auto'. */
  kernel?: KernelChoice;
  /** Safety rules (parsed JSON or compiled). Default: the embedded default rules. */
  rules?: SafetyRules | CompiledRules;
  /** Static timeout on any fallback; default the rules' static_fallback_ms. Must lie within the rules' bounds. */
  fallbackTimeoutMs?: number;
  /** Why the model is missing, when the caller caught a load error (shown in explain()). */
  modelError?: string;
  /** P(leader_lost) above which the timeout starts dropping toward the floor (default 0.8). */
  lostThreshold?: number;
  /**
   * Raft's randomization, which its liveness argument needs: the armed timeout is the guarded value × a factor
   * drawn from U[1, 1 + spread) whenever the node's term or role changes (held in between, as etcd holds its
   * draw). Without it, followers fed the same heartbeats arm the same timeout, campaign together and split the
   * vote again and again. `spread` default the rules' randomization_spread (1, etcd's own U[1, 2), when the rules say nothing; chosen in closed loop: `raft-ns evaluate tune`, docs/EVALUATION.md); 0 turns it off. `seed` makes the draws reproducible (give each
   * node its own); without one the runtime seeds from crypto.getRandomValues where available.
   */
  randomization?: { spread?: number; seed?: number };
  /**
   * Step the model in this shared batch (runtime/batch.ts) instead of alone: for a process driving many nodes
   * of one model (a simulator). Same bits as alone; it pays when every node's willObserve(o) comes before the
   * first observe(o) of the tick. Must be made from `model` (a SharedModel); a full batch is ignored.
   */
  batch?: LstmBatch | null;
}

export type FallbackReason = 'no-model' | 'invalid-input' | 'outside-domain' | 'engine-fault';
const FALLBACK_REASONS: readonly FallbackReason[] = ['no-model', 'invalid-input', 'outside-domain', 'engine-fault'];

/** A rule that changed the value this tick. */
export interface RuleActivation {
  id: string;
  kind: string;
  beforeMs: number;
  afterMs: number;
  why: string;
}

export interface Explanation {
  timeoutMs: number;
  /** The randomization factor in force (U[1, 1 + spread), redrawn on term or role changes); 1 when off. */
  randomFactor: number;
  /** 'model' = guardrailed model proposal; 'fallback' = static fallback this tick. */
  source: 'model' | 'fallback';
  fallbackReason: FallbackReason | null;
  /** Detail of the fallback (which field left the domain, the load error, ...). */
  fallbackDetail: string | null;
  /** Neural outputs of the last model tick: q (ln ms), exp(q) ms, ℓ, σ(ℓ). NaN before the first. */
  q: number;
  rawProposalMs: number;
  leaderLostLogit: number;
  pLeaderLost: number;
  /** Certainty of the leader-lost head, |2·P − 1| ∈ [0, 1]. */
  confidence: number;
  /** Proposal after the leader-lost drop, before the rules. */
  composedMs: number;
  hardFloorMs: number;
  silenceMs: number;
  usualGapMs: number;
  rules: RuleActivation[];
  floorCeilingConflict: boolean;
  ruleActivationCounts: Record<string, number>;
  fallbackCount: number;
  fallbackCounts: Record<FallbackReason, number>;
  ticks: number;
  model: { name: string; version: string; weightsSha256: string; precision: Precision; kernel: 'js' | 'wasm' } | null;
  rules_name: string;
  bounds: { floorMs: number; ceilingMs: number };
}

/**
 * @example
 * const art = await loadArtifactFromDir('artifacts/raft-ns-default/2.12.0');   // node-loader.ts
 * const shared = makeSharedModel(art, 'int8');
 * const policy = new NeuroSymbolicTimeout({ model: shared });
 * // every tick: policy.observe(obs); if (now - lastLeaderContact >= policy.electionTimeoutMs()) campaign();
 */
export class NeuroSymbolicTimeout {
  private readonly rules: CompiledRules;
  private readonly model: SharedModel | null;
  private readonly norm: Normalization | null;
  private readonly fallbackMs: number;
  private readonly modelError: string | null;
  private readonly lostThreshold: number;
  private readonly ceilingIntMs: number;

  private readonly features = new FeatureState();
  /**
   * The gap quantile q set at the last leader contact (a heartbeat, a new leader or term, the first
   * observation), held while the leader is silent. Why: feature 0 lets the model see silence, and the
   * quantile of a gap GIVEN that it has lasted s already is above s, so exp(q) recomputed on every silent tick
   * outruns the silence and a timeout measured from the last contact never fires (measured, held-out suite:
   * failover 5.3 s instead of 3.1 s). Silence still reaches the LSTM state and its leader-lost head, which
   * pulls the timeout down below. Plain fields, which holdDeadline reads: a helper call taking q as an
   * argument boxed a double per tick.
   */
  private heldQ = Number.NaN;
  /** exp(heldQ) ms, computed when heldQ is set: the proposal is held between contacts, and so is its exp. */
  private heldProposalMs = Number.NaN;
  private heldTerm = Number.NaN;
  private heldLeaderId: string | null = null;
  private readonly state = new LstmState();
  private readonly x = new Float32Array(NUM_FEATURES); // float32, as the windows stage stores training inputs
  private readonly y = new Float64Array(2);
  /** The batch this node steps in and its slot there (which then holds the state instead of `state`); −1 none. */
  private readonly batch: LstmBatch | null;
  private readonly slot: number;
  /** The observation given to willObserve and not yet to observe; what its first half left (see willObserve). */
  private pendingObs: TimeoutObservation | null = null;
  private pendingStep = false;
  private pendingFault = false;
  /** Whether every h and c is finite after this tick's step (a field: see finishTick). */
  private stepFinite = true;
  /** This tick's leader id as validated by beginTick (a primitive string or null). */
  private tickLeaderId: string | null = null;
  private readonly trace: GuardrailTrace;
  private readonly ctx: GuardrailContext = {
    role: 'follower', heartbeatIntervalMs: 0, worstRttMs: 0, smoothedRttMs: 0, clusterSize: 1, peersReachable: 0, survivedSilenceMs: 0, steppedDownThisTerm: false, previousMs: Number.NaN,
  };
  /** The contact steps (runtime/contact.ts): they fill ctx and the silence and usual-gap fields read here. */
  private readonly contact: ContactTracker;

  private timeoutMs: number;
  private source: 'model' | 'fallback' = 'fallback';
  private reason: FallbackReason | null;
  private detail: string | null;
  private readonly fallbackCounts = new Float64Array(FALLBACK_REASONS.length);
  private fallbackTotal = 0;
  private ticks = 0;
  private q = Number.NaN;
  private logit = Number.NaN;
  private composedMs = Number.NaN;
  private floorMs = Number.NaN;
  // Randomization (see NeuroSymbolicTimeoutOptions.randomization): xorshift32 state, factor held per (term, role).
  private readonly spread: number;
  private rngState: number;
  private factor = 1;
  private drawTerm = -1;
  private drawRole = '';
  constructor(options: NeuroSymbolicTimeoutOptions = {}) {
    this.rules = isCompiled(options.rules) ? options.rules : compileRules(options.rules ?? DEFAULT_RULES);
    const fb = options.fallbackTimeoutMs ?? this.rules.staticFallbackMs;
    if (!(fb >= this.rules.absoluteFloorMs && fb <= this.rules.ceilingMs)) {
      throw new RangeError(`runtime: fallbackTimeoutMs ${fb} is outside the rules' bounds [${this.rules.absoluteFloorMs}, ${this.rules.ceilingMs}] ms`);
    }
    this.fallbackMs = Math.min(Math.ceil(fb), Math.floor(this.rules.ceilingMs));
    this.ceilingIntMs = Math.floor(this.rules.ceilingMs);
    this.lostThreshold = options.lostThreshold ?? 0.8;
    const spread = options.randomization?.spread ?? this.rules.randomizationSpread;
    if (!(spread >= 0 && spread <= MAX_RANDOMIZATION_SPREAD)) throw new RangeError(`runtime: randomization.spread ${spread} is outside [0, ${MAX_RANDOMIZATION_SPREAD}]`);
    this.spread = spread;
    this.rngState = seedState(options.randomization?.seed);
    let model: SharedModel | null = null;
    let err = options.modelError ?? null;
    if (options.model) {
      if ('lstm' in options.model) model = options.model;
      else {
        const precision = options.precision ?? (options.model.int8 ? 'int8' : 'float32');
        try {
          model = makeSharedModel(options.model, precision, options.kernel ?? 'auto');
        } catch (e) {
          err = (e as Error).message;
        }
      }
    }
    this.model = model;
    const batch = model && options.batch ? options.batch : null;
    if (batch && batch.model !== model) throw new RangeError('runtime: options.batch was made for another model than options.model');
    this.slot = batch ? batch.allocSlot() : -1;
    this.batch = this.slot >= 0 ? batch : null;
    this.norm = model ? model.artifact.normalization : null;
    this.modelError = model ? null : (err ?? 'no artifact given');
    this.trace = new GuardrailTrace(this.rules.rules.length);
    this.contact = new ContactTracker(this.rules, this.ctx);
    this.timeoutMs = this.fallbackMs;
    this.reason = model ? null : 'no-model';
    this.detail = this.modelError;
  }

  /** Feeds one tick. Never throws; on any problem the next electionTimeoutMs() is the static fallback. */
  observe(o: TimeoutObservation): void {
    try {
      if (this.pendingObs !== null) {
        const pending = this.pendingObs;
        this.pendingObs = null;
        if (this.pendingFault) this.engineFault();
        else if (this.pendingStep) this.finishBatched(pending);
        if (pending === o) return;
      }
      this.observeUnsafe(o);
    } catch (e) {
      // A bug or a hostile observation object (getters that throw): fall back, reset to a known state.
      this.engineFault();
      void e;
    }
  }

  private engineFault(): void {
    this.fallback('engine-fault', null);
    this.resetState();
  }

  /**
   * Optional first half of observe(o) for a node in a batch: validates o and queues this node's model step,
   * so that the batch steps every node of the tick in one call when the first of them observes. Then
   * observe(o), with the same object, finishes the tick; the outputs are what observe(o) alone gives.
   * Without a batch it does nothing. Never throws.
   */
  willObserve(o: TimeoutObservation): void {
    if (this.batch === null) return;
    if (this.pendingObs !== null) this.observe(this.pendingObs); // two willObserve in a row: finish the first tick
    this.pendingObs = o;
    this.pendingFault = false;
    try {
      this.pendingStep = this.beginTick(o);
      if (this.pendingStep) this.queueStep();
    } catch (e) {
      this.pendingStep = false;
      this.pendingFault = true;
      void e;
    }
  }

  /** The timeout to arm now, measured from the last leader contact. In [floor, ceiling]; never throws. */
  electionTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** Resets the carried state and statistics (e.g. after a restart or snapshot install). Counters are kept. */
  reset(): void {
    this.resetState();
    this.features.reset();
    this.heldQ = Number.NaN;
    this.heldProposalMs = Number.NaN;
    this.heldTerm = Number.NaN;
    this.heldLeaderId = null;
    this.contact.reset();
    this.ctx.previousMs = Number.NaN;
  }

  /** Bytes owned by this node (state, buffers, ring buffer), excluding the shared model weights. */
  get nodeByteLength(): number {
    return this.state.byteLength + this.x.byteLength + this.y.byteLength + this.contact.byteLength
      + this.trace.active.byteLength + this.trace.beforeMs.byteLength + this.trace.afterMs.byteLength + this.trace.counts.byteLength
      + this.fallbackCounts.byteLength;
  }

  /** Bytes of the shared model weights (paid once per process per model). */
  get sharedByteLength(): number {
    return this.model ? this.model.lstm.byteLength : 0;
  }

  /** One tick, the steps of the header comment; observe() catches what they throw. */
  private observeUnsafe(o: TimeoutObservation): void {
    if (!this.beginTick(o)) return;
    if (this.batch !== null) {
      this.queueStep();
      this.readBatched();
    } else this.stepAlone();
    this.finishTick(o);
  }

  /** The batched step's outputs for this node (running the batch if it has not run yet), then the tick's rest. */
  private finishBatched(o: TimeoutObservation): void {
    this.readBatched();
    this.finishTick(o);
  }

  private resetState(): void {
    if (this.batch !== null) this.batch.resetSlot(this.slot);
    else this.state.reset();
  }

  /**
   * The tick up to the model step. False when the tick already fell back (the model does not step); true when
   * x awaits the step. Contact tracking runs even without a model: it is cheap and explain() shows it.
   */
  private beginTick(o: TimeoutObservation): boolean {
    this.ticks++;
    if (!this.validate(o)) return false;
    this.drawFactor(o);
    if (!this.rawInDomain(o)) return false;
    this.contact.trackContact(o, this.tickLeaderId);
    return this.modelInput(o);
  }

  /**
   * The 'invalid-input' fallback unless o is a well-formed observation. Invariant when true: tickLeaderId holds
   * o's leader id by value, o.term is a safe integer ≥ 0 and o.role one of the four roles.
   */
  private validate(o: TimeoutObservation): boolean {
    const valid = typeof o === 'object' && o !== null
      && Number.isFinite(o.nowMs) && Number.isFinite(o.tickMs) && o.tickMs > 0
      && Number.isInteger(o.clusterSize) && o.clusterSize >= 1 && o.clusterSize <= 1000
      && Number.isInteger(o.peersReachable) && o.peersReachable >= 0 && o.peersReachable < o.clusterSize
      && (o.role === 'follower' || o.role === 'pre-candidate' || o.role === 'candidate' || o.role === 'leader')
      && typeof o.heartbeatReceived === 'boolean'
      && (o.leaderResigned === undefined || typeof o.leaderResigned === 'boolean')
      // term and leader id decide when the held deadline is re-armed: a NaN term (NaN !== NaN) or a leader
      // id compared by object identity would re-arm it every tick.
      && Number.isSafeInteger(o.term) && o.term >= 0;
    const leaderId = valid ? leaderIdValue(o.leaderId) : undefined;
    if (!valid || leaderId === undefined) {
      this.fallback('invalid-input', null);
      return false;
    }
    this.tickLeaderId = leaderId;
    return true;
  }

  /**
   * Raft's randomization draw, on every valid tick (also those that then fall back). Invariant: factor ∈
   * [1, 1 + spread), redrawn exactly when (term, role) differs from that of the last draw, held while equal.
   */
  private drawFactor(o: TimeoutObservation): void {
    if (o.term !== this.drawTerm || o.role !== this.drawRole) {
      this.drawTerm = o.term;
      this.drawRole = o.role;
      this.factor = 1 + this.spread * this.nextUniform();
    }
  }

  /**
   * The fallback unless every raw field lies in the rules' input domain: 'invalid-input' when the field is
   * not a finite number ≥ 0, else 'outside-domain'. Invariant: a refused tick updates no contact statistics.
   */
  private rawInDomain(o: TimeoutObservation): boolean {
    const lat = o.heartbeatLatencyMs;
    const field = rawDomainViolationOf(this.rules, o);
    if (field === 0) return true;
    const v = [lat, o.logReplicationGap, o.rpcRetries, o.cpuIdlePct, o.heartbeatIntervalMs][field - 1];
    const notNumber = typeof v !== 'number' || !Number.isFinite(v) || v < 0;
    this.fallback(notNumber ? 'invalid-input' : 'outside-domain', field);
    return false;
  }

  /**
   * The model's input: the 'no-model' fallback without a model; else this tick's features, normalized, in x.
   * Invariant when true: x lies inside the rules' normalized input box ('outside-domain' fallback otherwise).
   */
  private modelInput(o: TimeoutObservation): boolean {
    if (!this.model) {
      this.fallback('no-model', null);
      return false;
    }
    const x = this.x;
    this.features.rawInto(o, x, 0);
    normalizeInPlace(x, 0, this.norm!);
    if (normalizedDomainViolation(this.rules, x) !== 0) {
      this.fallback('outside-domain', -1);
      return false;
    }
    return true;
  }

  /** The model step alone: (q, ℓ) into y from x, carrying state; stepFinite records whether h and c stay finite. */
  private stepAlone(): void {
    this.model!.lstm.step(this.state, this.x, this.y);
    this.stepFinite = this.state.isFinite();
  }

  /** Queues this node's step in the batch: x into its slot. Only after beginTick returned true (x is this tick's). */
  private queueStep(): void {
    this.batch!.enqueueFeatures(this.slot, this.x);
  }


  /** The batched step's outputs for this node into y and stepFinite, running the batch if it has not run yet. */
  private readBatched(): void {
    const batch = this.batch!;
    if (batch.isQueued(this.slot)) batch.flush();
    this.y[0] = batch.y[2 * this.slot]!;
    this.y[1] = batch.y[2 * this.slot + 1]!;
    this.stepFinite = batch.ok[this.slot] === 1;
  }

  /** The tick after the model step: y holds (q, ℓ), stepFinite the state check. */
  private finishTick(o: TimeoutObservation): void {
    if (!this.acceptStep()) return;
    this.holdDeadline(o);
    this.hardFloor();
    this.leaderLostDrop();
    this.guard();
    this.arm();
  }

  /**
   * The 'engine-fault' fallback, with the carried state reset, unless q, ℓ and every h and c are finite.
   * Invariant when true: q and logit hold this tick's outputs, both finite (explain() shows the last ones).
   */
  private acceptStep(): boolean {
    const y = this.y;
    const q = y[0]!;
    const l = y[1]!;
    if (!Number.isFinite(q) || !Number.isFinite(l) || !this.stepFinite) {
      this.resetState();
      this.fallback('engine-fault', null);
      return false;
    }
    this.q = q;
    this.logit = l;
    return true;
  }

  /**
   * The held deadline (heldQ: why): re-armed to this tick's q at a leader contact — a heartbeat, a new term
   * or leader, the first model tick — and held otherwise. Invariant: heldQ is finite after.
   */
  private holdDeadline(o: TimeoutObservation): void {
    if (o.heartbeatReceived || Number.isNaN(this.heldQ) || o.term !== this.heldTerm || this.tickLeaderId !== this.heldLeaderId) {
      this.heldQ = this.q;
      // exp(q) overflows to Infinity for absurd q; the ceiling then bounds it (a finite, intended outcome).
      this.heldProposalMs = Math.exp(this.q);
      this.heldTerm = o.term;
      this.heldLeaderId = this.tickLeaderId;
    }
  }

  /** floorMs: the rules' hard floor for this tick's ctx (runtime/rules.ts), the value the drop heads for. */
  private hardFloor(): void {
    hardFloorInto(this.rules, this.ctx, this.trace);
    this.floorMs = this.trace.floorMs;
  }

  /**
   * composedMs: the held proposal exp(heldQ) ms, dropped toward floorMs when the leader is probably gone AND
   * the silence already exceeds the usual gap (mean + 4·deviation); linear in P above the threshold (the leader-lost
   * drop, docs/RULES.md §4 step 9). Invariant: composedMs = exp(heldQ) unless both hold and exp(heldQ) > floorMs.
   */
  private leaderLostDrop(): void {
    let proposal = this.heldProposalMs;
    const floor = this.floorMs;
    const contact = this.contact;
    // P(leader lost) only when the silence and the floor leave room for a drop: most ticks hear the leader.
    if (!Number.isNaN(contact.gapMeanMs) && contact.silenceMs > contact.gapMeanMs + 4 * contact.gapDevMs && proposal > floor) {
      const p = 1 / (1 + Math.exp(-this.logit));
      if (p > this.lostThreshold) {
        const s = (p - this.lostThreshold) / (1 - this.lostThreshold);
        proposal = proposal - (proposal - floor) * s;
      }
    }
    this.composedMs = proposal;
  }

  /**
   * The guardrails (runtime/rules.ts) on composedMs, rounded up to whole ms and capped at ⌊ceiling⌋, into
   * ctx.previousMs: what the rate limit compares against next tick. Invariant: a whole number ≤ ⌊ceiling⌋.
   */
  private guard(): void {
    const trace = this.trace;
    trace.valueMs = this.composedMs;
    guardInPlace(this.rules, this.ctx, trace);
    const ceilMs = Math.ceil(trace.valueMs);
    this.ctx.previousMs = ceilMs < this.ceilingIntMs ? ceilMs : this.ceilingIntMs;
  }

  /**
   * The timeout to arm: the guarded value × the randomization factor, rounded up and capped at ⌊ceiling⌋; the
   * rate limit saw the guarded value, and factor ≥ 1 only lengthens it.
   * Invariant: guarded value ≤ timeoutMs ≤ ⌊ceiling⌋.
   * randomized(t), written out: passing the double t to a call V8 did not inline boxes it (one allocation per
   * tick); here every step reads its doubles from fields instead.
   */
  private arm(): void {
    const r = Math.ceil(this.ctx.previousMs * this.factor);
    this.timeoutMs = r < this.ceilingIntMs ? r : this.ceilingIntMs;
    this.source = 'model';
    this.reason = null;
    this.detail = null;
  }

  /** field: 1-based RAW_FIELDS index, −1 = normalized box, null = none. Stored as data; strings built in explain(). */
  private fallbackField: number | null = null;

  /** The armed value: ⌈t × factor⌉ capped at the ceiling; ≥ t ≥ floor since factor ≥ 1. */
  private randomized(t: number): number {
    const r = Math.ceil(t * this.factor);
    return r < this.ceilingIntMs ? r : this.ceilingIntMs;
  }

  /** Uniform in [0, 1) from xorshift32 (allocation-free). */
  private nextUniform(): number {
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 4294967296;
  }

  private fallback(reason: FallbackReason, field: number | null): void {
    this.timeoutMs = this.randomized(this.fallbackMs);
    this.ctx.previousMs = this.fallbackMs;
    this.source = 'fallback';
    this.reason = reason;
    this.fallbackField = field;
    this.detail = null;
    this.fallbackTotal++;
    this.fallbackCounts[FALLBACK_REASONS.indexOf(reason)]! += 1;
    this.trace.active.fill(0);
  }

  /** What the provider did at the last tick and why (allocates; for logs, dashboards and the demo). */
  explain(): Explanation {
    const rules: RuleActivation[] = [];
    const counts: Record<string, number> = {};
    this.rules.rules.forEach((r, i) => {
      counts[r.id] = this.trace.counts[i]!;
      if (this.trace.active[i] === 1) rules.push({ id: r.id, kind: r.kind, beforeMs: this.trace.beforeMs[i]!, afterMs: this.trace.afterMs[i]!, why: r.why });
    });
    const fc = {} as Record<FallbackReason, number>;
    FALLBACK_REASONS.forEach((r, i) => (fc[r] = this.fallbackCounts[i]!));
    let detail = this.detail;
    if (this.reason === 'no-model') detail = this.modelError;
    else if (this.fallbackField !== null && this.source === 'fallback') {
      detail = this.fallbackField === -1 ? 'normalized features outside the input_domain box' : `${RAW_FIELDS[this.fallbackField - 1]} outside the input_domain range or not a finite number ≥ 0`;
    }
    const p = 1 / (1 + Math.exp(-this.logit));
    const m = this.model;
    return {
      timeoutMs: this.timeoutMs,
      randomFactor: this.factor,
      source: this.source,
      fallbackReason: this.reason,
      fallbackDetail: detail,
      q: this.q,
      rawProposalMs: Math.exp(this.q),
      leaderLostLogit: this.logit,
      pLeaderLost: p,
      confidence: Math.abs(2 * p - 1),
      composedMs: this.composedMs,
      hardFloorMs: this.floorMs,
      silenceMs: this.contact.silenceMs,
      usualGapMs: this.contact.gapMeanMs,
      rules,
      floorCeilingConflict: this.trace.conflict,
      ruleActivationCounts: counts,
      fallbackCount: this.fallbackTotal,
      fallbackCounts: fc,
      ticks: this.ticks,
      model: m ? { name: m.artifact.manifest.name, version: m.artifact.manifest.version, weightsSha256: m.artifact.weightsSha256, precision: m.precision, kernel: m.lstm.kernel } : null,
      rules_name: this.rules.source.name,
      bounds: { floorMs: this.rules.absoluteFloorMs, ceilingMs: this.rules.ceilingMs },
    };
  }
}

function isCompiled(r: SafetyRules | CompiledRules | undefined): r is CompiledRules {
  return r !== undefined && 'ceilingMs' in r;
}

/** A non-zero xorshift32 state: from the seed when given, else from the platform's CSPRNG, else a constant. */
function seedState(seed: number | undefined): number {
  let s: number;
  if (seed !== undefined && Number.isFinite(seed)) {
    s = Math.imul((Math.floor(seed) ^ 0x9e3779b9) >>> 0, 0x85ebca6b) >>> 0;
  } else {
    const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
    const buf = new Uint32Array(1);
    if (c?.getRandomValues) c.getRandomValues(buf);
    else buf[0] = 0x2545f491;
    s = buf[0]!;
  }
  return s === 0 ? 0x6d2b79f5 : s;
}

/**
 * A leader id as a primitive string compared by value (a `String` object from a caller's wrapper unwrapped),
 * null for no leader; undefined when it is neither (an invalid observation).
 */
function leaderIdValue(v: unknown): string | null | undefined {
  if (v === null || typeof v === 'string') return v;
  if (v instanceof String) return v.valueOf();
  return undefined;
}
