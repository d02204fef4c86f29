/**
 * The data-driven checks of `verify` (c, d, f). They measure on data — they never prove anything; check e
 * is the only sound one. All replay the runtime's own engine (runtime/engine.ts) with carried state, whole
 * streams from h = c = 0, exactly as a node would run.
 */
import type { LoadedArtifact } from '../../runtime/artifact.js';
import { LstmModel, LstmState } from '../../runtime/engine.js';
import {
  applyGuardrails, GuardrailTrace, normalizedDomainViolation, type CompiledRules, type GuardrailContext, type QuantizationBudgetRule,
} from '../../runtime/rules.js';
import { streamsOf } from '../train/lanes.js';
import { constantOutputs, evaluatePredictions, fitConstantBaseline, jacobsonOutputs, type PredictorMetrics } from '../train/metrics.js';
import type { WindowSplit } from '../window/types.js';
import type { CheckResult } from './types.js';
import { makeRng } from './net.js';
import { normalizedDomain } from '../../runtime/domain.js';

export interface WindowsInput {
  dir: string;
  manifestSha256: string;
  manifest: Record<string, unknown>;
  splits: Record<'train' | 'val' | 'test', WindowSplit>;
}

/** The held-out split: test, or val when the test split is empty. */
function heldOut(w: WindowsInput): WindowSplit | null {
  if (w.splits.test.count > 0) return w.splits.test;
  if (w.splits.val.count > 0) return w.splits.val;
  return null;
}

/** Outputs [count, T, 2] of a model over a split, each stream from h = c = 0 with state carried chunk to chunk. */
export function forwardSplit(model: LstmModel, split: WindowSplit): Float64Array {
  const T = split.T;
  const y = new Float64Array(split.count * T * 2);
  const out = new Float64Array(2);
  for (const stream of streamsOf(split)) {
    const st = new LstmState();
    for (const k of stream) {
      for (let t = 0; t < T; t++) {
        const i = k * T + t;
        model.step(st, split.x.subarray(i * 4, i * 4 + 4), out);
        y[i * 2] = out[0]!;
        y[i * 2 + 1] = out[1]!;
      }
    }
  }
  return y;
}

/** The loss the artifact was trained with: τ from the manifest's quantile output (else its training config), λ. */
function lossConfigOf(art: LoadedArtifact): { tau: number; lambdaLost: number } {
  const training = art.manifest.training as { config?: { tau?: number; lambda_lost?: number } } | undefined;
  return { tau: Number.isFinite(art.tau) ? art.tau : training?.config?.tau ?? 0.99, lambdaLost: training?.config?.lambda_lost ?? 0.5 };
}

/**
 * c. int8 vs float: both paths of the runtime engine on the inputs the runtime acts on — the scored ticks of
 * the held-out streams (a follower with a leader: where labels exist, the same ticks d and f score; every
 * stream still runs whole, from h = c = 0) and seeded random piecewise-constant sequences inside the rules'
 * input domain — against the rules' quantization_budget: the `at_quantile` quantile of the per-tick
 * differences (1 = the maximum, always reported) and, when set, the held-out loss increase of int8 over
 * float. A measurement over those inputs, not a bound.
 */
export function checkQuantization(art: LoadedArtifact, rules: CompiledRules, windows: WindowsInput | null, seed: number): CheckResult {
  const id = 'c-int8-vs-float' as const;
  const name = 'int8 vs float within the quantization budget';
  const budget = rules.rules.find((r): r is QuantizationBudgetRule => r.kind === 'quantization_budget');
  if (!budget) return { id, name, status: 'not-run', reason: 'the rules have no quantization_budget rule (the budget this check needs)', figures: {} };
  if (!art.int8) return { id, name, status: 'fail', passed: false, reason: 'the artifact has no int8 tensors (lstm/kernel.q …); the int8 path is the one served and verified', figures: {} };
  const f = LstmModel.fromDense(art.float32);
  const q = LstmModel.fromDense(art.int8);
  const dq: number[] = [];
  const dl: number[] = [];
  const split = windows ? heldOut(windows) : null;
  let lossFloat = Number.NaN;
  let lossInt8 = Number.NaN;
  if (split) {
    const yf = forwardSplit(f, split);
    const yq = forwardSplit(q, split);
    for (let i = 0; i < split.count * split.T; i++) {
      if (!(split.wGap[i]! > 0 || split.wLost[i]! > 0)) continue;
      dq.push(Math.abs(yf[2 * i]! - yq[2 * i]!));
      dl.push(Math.abs(yf[2 * i + 1]! - yq[2 * i + 1]!));
    }
    const cfg = lossConfigOf(art);
    lossFloat = evaluatePredictions(yf, split, cfg).loss;
    lossInt8 = evaluatePredictions(yq, split, cfg).loss;
  }
  const heldOutTicks = dq.length;
  const rng = makeRng(seed);
  const dom = normalizedDomain(rules, art.normalization);
  const sequences = 64;
  const len = 128;
  const inside = (j: number): number => dom.lo[j]! + rng() * (dom.hi[j]! - dom.lo[j]!);
  for (let s = 0; s < sequences; s++) {
    const xs = new Float64Array(len * 4);
    let x = [0, 0, 0, 0];
    for (let t = 0; t < len; t++) {
      if (t % 16 === 0) x = x.map((_, j) => (rng() < 0.2 ? (rng() < 0.5 ? dom.lo[j]! : dom.hi[j]!) : inside(j)));
      xs.set(x, t * 4);
    }
    const yf = f.forward(xs);
    const yq = q.forward(xs);
    for (let t = 0; t < len; t++) {
      dq.push(Math.abs(yf[2 * t]! - yq[2 * t]!));
      dl.push(Math.abs(yf[2 * t + 1]! - yq[2 * t + 1]!));
    }
  }
  const at = budget.at_quantile ?? 1;
  const qOf = (v: number[]): number => {
    const sorted = Float64Array.from(v).sort();
    return sorted[Math.min(sorted.length - 1, Math.ceil(at * sorted.length) - 1)]!;
  };
  const maxOf = (v: number[]): number => v.reduce((a, b) => Math.max(a, b), 0);
  const gapAt = qOf(dq);
  const logitAt = qOf(dl);
  const lossIncrease = split ? (lossInt8 - lossFloat) / lossFloat : Number.NaN;
  const figures = {
    method: `runtime engine, float32 vs int8 paths, ${split ? `${heldOutTicks} scored ticks of the ${split.name} split + ` : ''}${sequences} seeded random sequences in the input domain (measured, not a bound)`,
    ticks: dq.length, at_quantile: at,
    abs_log_gap_at_quantile: gapAt, budget_log_gap: budget.max_abs_log_gap, max_abs_log_gap: maxOf(dq),
    budget_worst_tick_log_gap: budget.worst_tick_abs_log_gap ?? null,
    abs_logit_at_quantile: logitAt, budget_logit: budget.max_abs_logit, max_abs_logit: maxOf(dl),
    timeout_ratio_at_quantile: Math.exp(gapAt), max_timeout_ratio: Math.exp(maxOf(dq)),
    loss_float: split ? lossFloat : null, loss_int8: split ? lossInt8 : null, loss_increase: split ? lossIncrease : null,
    budget_loss_increase: budget.max_loss_increase ?? null,
  };
  const what = at < 1 ? `the ${(at * 100).toPrecision(4)}th percentile of |int8 − float|` : 'max |int8 − float|';
  const problems: string[] = [];
  if (gapAt > budget.max_abs_log_gap) problems.push(`${what} is ${gapAt.toPrecision(3)} in ln-gap (budget ${budget.max_abs_log_gap})`);
  if (budget.worst_tick_abs_log_gap !== undefined && maxOf(dq) > budget.worst_tick_abs_log_gap) {
    problems.push(`max |int8 − float| is ${maxOf(dq).toPrecision(3)} in ln-gap at the worst tick (budget ${budget.worst_tick_abs_log_gap})`);
  }
  if (logitAt > budget.max_abs_logit) problems.push(`${what} is ${logitAt.toPrecision(3)} in the logit (budget ${budget.max_abs_logit})`);
  if (budget.max_loss_increase !== undefined && split && lossIncrease > budget.max_loss_increase) {
    problems.push(`int8 raises the held-out loss by ${(lossIncrease * 100).toFixed(2)}% (budget ${(budget.max_loss_increase * 100).toFixed(2)}%)`);
  }
  return problems.length === 0
    ? { id, name, status: 'pass', passed: true, figures }
    : { id, name, status: 'fail', passed: false, figures, reason: `${problems.join('; ')}, rule ${budget.id}` };
}

/**
 * d. The rules on the held-out windows, measured as harm (docs/EVALUATION.md "What verify checks cost"). For
 * every scored tick (a follower with a leader: a gap or leader-lost label) the raw proposal exp(q) of the
 * int8 path goes through the one rules engine (applyGuardrails) as for a follower of a healthy 3-node cluster.
 * Where the tick carries an observed gap (a live leader's next heartbeat came after `gap` ms; with per-gap
 * windows exactly the ticks whose heartbeat arms the runtime's held deadline), a timeout shorter than the gap
 * is a spurious campaign. Reported: how often the raw proposal would have campaigned spuriously, how many of
 * those the guardrails prevented (the harm they exist for), and how often the served value still does. The
 * check fails when the served spurious rate exceeds `maxSpuriousRate` — by default the larger of twice the
 * rate the artifact's cost knob accepts (1 − τ) and the rate of the static timeout the provider replaces
 * (the rules' static_fallback_ms) on the same gaps, so a miscalibrated model fails while a model that proposes the floor
 * itself, which the floor then "clamps" by construction, does not. How often a floor or the ceiling changed
 * the value is still reported (clamp_rate) but no longer gates: the floor is part of the policy, and forcing
 * the model above it cost 18 points of latency without any safety gain (docs/EVALUATION.md).
 * The heartbeat interval is not in the telemetry, so it is a setting; the worst RTT is the windows'
 * `worst_rtt_ms` column — the runtime's own ring buffer over the observed RTTs. (Windows written before that
 * column existed fall back to rebuilding it from feature 0, which over-states it: recorded in the figures.)
 */
export function checkGuardrailsOnWindows(art: LoadedArtifact, rules: CompiledRules, windows: WindowsInput, heartbeatIntervalMs: number, maxSpuriousRate?: number): CheckResult {
  const id = 'd-rules-on-data' as const;
  const name = 'rules on held-out windows';
  const split = heldOut(windows);
  if (!split) return { id, name, status: 'not-run', reason: `${windows.dir}: the test and val splits are empty`, figures: {} };
  const model = LstmModel.fromDense(art.int8 ?? art.float32);
  const norm = art.normalization;
  const T = split.T;
  const trace = new GuardrailTrace(rules.rules.length);
  const ctx: GuardrailContext = { role: 'follower', heartbeatIntervalMs, worstRttMs: 0, smoothedRttMs: 0, clusterSize: 3, peersReachable: 2, survivedSilenceMs: 0, steppedDownThisTerm: false, previousMs: Number.NaN };
  const clampCounts = new Float64Array(rules.rules.length);
  const rtt = new Float64Array(rules.rttWindowTicks);
  const out = new Float64Array(2);
  let scored = 0;
  let clamped = 0;
  let conflicts = 0;
  let outside = 0;
  let gaps = 0;
  let rawSpurious = 0;
  let servedSpurious = 0;
  let staticSpurious = 0;
  let prevented = 0;
  const staticMs = rules.staticFallbackMs;
  const haveRtt = !Number.isNaN(split.worstRttMs[0]!) || split.count === 0;
  for (const stream of streamsOf(split)) {
    const st = new LstmState();
    rtt.fill(0);
    let pos = 0;
    ctx.previousMs = Number.NaN;
    for (const k of stream) {
      for (let t = 0; t < T; t++) {
        const i = k * T + t;
        const x = split.x.subarray(i * 4, i * 4 + 4);
        // The runtime skips the model outside the domain (static fallback, state untouched).
        if (normalizedDomainViolation(rules, x) !== 0) {
          outside++;
          continue;
        }
        model.step(st, x, out);
        rtt[pos] = Math.max(0, Math.expm1(x[0]! * norm.std[0]! + norm.mean[0]!));
        pos = (pos + 1) % rtt.length;
        if (!(split.wGap[i]! > 0 || split.wLost[i]! > 0)) continue;
        scored++;
        let worst = 0;
        for (let r = 0; r < rtt.length; r++) worst = Math.max(worst, rtt[r]!);
        ctx.worstRttMs = haveRtt ? split.worstRttMs[i]! : worst;
        const v = applyGuardrails(rules, Math.exp(out[0]!), ctx, trace);
        ctx.previousMs = v;
        let any = false;
        for (let r = 0; r < rules.rules.length; r++) {
          if (trace.active[r] !== 1) continue;
          clampCounts[r]! += 1;
          if (rules.rules[r]!.kind !== 'max_change_per_tick') any = true;
        }
        // A floor above the ceiling (a worst RTT of seconds) is a conflict of the rules, not of the model:
        // the ceiling wins whatever the model proposes. Counted apart.
        if (trace.conflict) conflicts++;
        else if (any) clamped++;
        if (split.wGap[i]! > 0 && !(split.censored[i]! > 0.5)) {
          const gapMs = Math.exp(split.gapLn[i]!);
          const raw = Math.exp(out[0]!);
          gaps++;
          if (raw < gapMs) rawSpurious++;
          if (v < gapMs) servedSpurious++;
          else if (raw < gapMs) prevented++;
          if (staticMs < gapMs) staticSpurious++;
        }
      }
    }
  }
  const rate = scored > conflicts ? clamped / (scored - conflicts) : 0;
  const { tau } = lossConfigOf(art);
  const served = gaps ? servedSpurious / gaps : 0;
  const staticRate = gaps ? staticSpurious / gaps : 0;
  // The provider replaces the static timeout: it may cut short as many live-leader gaps as the cost knob
  // accepts (twice 1 − τ), or as many as the static timeout it replaces (static_fallback_ms, the base of the
  // static draw) would on the same gaps, whichever is more — no more than the default a user had.
  const knobLimit = Number.isFinite(tau) ? 2 * (1 - tau) : 0.02;
  const limit = maxSpuriousRate ?? Math.max(knobLimit, staticRate);
  const figures: CheckResult['figures'] = {
    split: split.name, scored_ticks: scored, outside_domain_ticks: outside, rule_conflict_ticks: conflicts, clamped_ticks: clamped, clamp_rate: rate,
    observed_gaps: gaps, raw_spurious_rate: gaps ? rawSpurious / gaps : 0, prevented_spurious: prevented, served_spurious_rate: served,
    static_spurious_rate: staticRate, static_timeout_ms: staticMs, knob_spurious_rate: knobLimit,
    max_spurious_rate: limit, tau: Number.isFinite(tau) ? tau : null,
    heartbeat_interval_ms: heartbeatIntervalMs,
    worst_rtt_source: haveRtt ? 'windows worst_rtt_ms column (observed RTTs)' : 'rebuilt from feature 0 (latency or silence: over-states the RTT)',
  };
  rules.rules.forEach((r, i) => {
    if (clampCounts[i]! > 0) figures[`activations_${r.id}`] = clampCounts[i]!;
  });
  if (scored === 0) return { id, name, status: 'not-run', reason: `${windows.dir}: no scored ticks in the ${split.name} split`, figures };
  if (gaps === 0) return { id, name, status: 'not-run', reason: `${windows.dir}: no observed gap labels in the ${split.name} split`, figures };
  return served <= limit
    ? { id, name, status: 'pass', passed: true, figures }
    : { id, name, status: 'fail', passed: false, figures, reason: `the served timeout is shorter than a live leader's gap on ${(served * 100).toFixed(2)}% of ${gaps} observed gaps (limit ${(limit * 100).toFixed(2)}%: ${maxSpuriousRate !== undefined ? '--max-spurious-rate' : `the larger of twice the 1 − τ the artifact's cost knob accepts, ${(knobLimit * 100).toFixed(2)}%, and the static ${staticMs} ms timeout's ${(staticRate * 100).toFixed(2)}%`})` };
}

/**
 * f. Evaluation thresholds (TFX Evaluator-style blessing): the served (int8) model's held-out loss must be
 * no worse than the constant baseline's — both computed here on the same windows. Without windows it does not
 * run: the metrics the manifest records are the artifact's word about itself.
 */
export function checkEvaluation(art: LoadedArtifact, windows: WindowsInput | null): CheckResult {
  const id = 'f-evaluation' as const;
  const name = 'evaluation thresholds (no worse than the baseline)';
  const training = art.manifest.training as { config?: { tau?: number; lambda_lost?: number }; metrics?: { test?: { model?: PredictorMetrics; constant?: PredictorMetrics; jacobson_karels?: PredictorMetrics } } } | undefined;
  const { tau, lambdaLost } = lossConfigOf(art);
  const split = windows ? heldOut(windows) : null;
  let model: PredictorMetrics;
  let constant: PredictorMetrics;
  let jk: PredictorMetrics | undefined;
  let source: string;
  if (windows && split && windows.splits.train.count > 0) {
    const cfg = { tau, lambdaLost };
    const y = forwardSplit(LstmModel.fromDense(art.int8 ?? art.float32), split);
    const fit = fitConstantBaseline(windows.splits.train, tau);
    model = evaluatePredictions(y, split, cfg);
    constant = evaluatePredictions(constantOutputs(split, fit), split, cfg);
    jk = evaluatePredictions(jacobsonOutputs(split, fit), split, cfg);
    source = `${art.int8 ? 'int8' : 'float32'} path on the ${split.name} split of ${windows.dir}`;
  } else {
    // The manifest's recorded metrics are the artifact vouching for itself (anyone can edit them): not evidence.
    const recorded = training?.metrics?.test?.model ? '; the manifest records training metrics, but an artifact\'s own record is not evidence' : '';
    return { id, name, status: 'not-run', reason: `no --windows folder with train and held-out splits to recompute the thresholds on${recorded}`, figures: {} };
  }
  const figures: CheckResult['figures'] = {
    source, tau, model_loss: model.loss, constant_loss: constant.loss, jacobson_karels_loss: jk?.loss ?? null,
    model_exceed_rate: model.exceedRate, target_exceed_rate: 1 - tau, model_median_timeout_ms: model.medianTimeoutMs,
    model_auc_lost: Number.isFinite(model.aucLost) ? model.aucLost : null, scored_ticks: model.scoredTicks,
  };
  return model.loss <= constant.loss
    ? { id, name, status: 'pass', passed: true, figures }
    : { id, name, status: 'fail', passed: false, figures, reason: `held-out loss ${model.loss.toFixed(4)} is worse than the constant baseline's ${constant.loss.toFixed(4)}` };
}
