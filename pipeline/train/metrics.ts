/**
 * Evaluation of per-tick outputs against a split's labels (docs/CONTRACTS.md §4), in float64, plus the
 * trivial baselines `train` reports beside the model: the best constant quantile fitted on the train split,
 * and Jacobson/Karels (WindowSplit.jkLn, ln of SRTT + 4·RTTVAR).
 */
import type { WindowSplit } from '../window/types.js';
import { OUTPUTS, type LossConfig } from './engine.js';

export interface LossParts {
  loss: number;
  lossGap: number; // weighted mean pinball (censoring-aware)
  lossLost: number; // weighted mean BCE
}

/** The training loss of outputs y [count, T, 2] on a split, exactly as the engines define it. */
export function lossOf(y: ArrayLike<number>, split: WindowSplit, cfg: LossConfig): LossParts {
  let pinSum = 0;
  let wGapSum = 0;
  let bceSum = 0;
  let wLostSum = 0;
  const n = split.count * split.T;
  for (let i = 0; i < n; i++) {
    const wg = split.wGap[i]!;
    if (wg > 0) {
      pinSum += wg * pinball(split.gapLn[i]! - y[i * OUTPUTS]!, cfg.tau, split.censored[i]! > 0.5);
      wGapSum += wg;
    }
    const wl = split.wLost[i]!;
    if (wl > 0) {
      bceSum += wl * bce(y[i * OUTPUTS + 1]!, split.lost[i]!);
      wLostSum += wl;
    }
  }
  const lossGap = pinSum / Math.max(wGapSum, 1);
  const lossLost = bceSum / Math.max(wLostSum, 1);
  return { loss: lossGap + cfg.lambdaLost * lossLost, lossGap, lossLost };
}

export function pinball(u: number, tau: number, censored: boolean): number {
  if (censored) return tau * Math.max(u, 0);
  return Math.max(tau * u, (tau - 1) * u);
}

/** softplus(ℓ) − y·ℓ, computed stably. */
export function bce(logit: number, y: number): number {
  const sp = logit > 0 ? logit + Math.log1p(Math.exp(-logit)) : Math.log1p(Math.exp(logit));
  return sp - y * logit;
}

export interface PredictorMetrics extends LossParts {
  /** Fraction of observed (uncensored) gaps above exp(q); a calibrated τ-quantile gives 1 − τ. */
  exceedRate: number;
  targetExceedRate: number;
  /** Median proposed timeout exp(q) in ms over the scored ticks. */
  medianTimeoutMs: number;
  /** AUC of P(leader_lost) on ticks where the label is known (0.5 for a constant). */
  aucLost: number;
  scoredTicks: number;
  lostTicks: number;
}

/** Loss, calibration and AUC of outputs y [count, T, 2]. */
export function evaluatePredictions(y: ArrayLike<number>, split: WindowSplit, cfg: LossConfig): PredictorMetrics {
  const parts = lossOf(y, split, cfg);
  const n = split.count * split.T;
  let exceed = 0;
  let observed = 0;
  const qs: number[] = [];
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    if (split.wGap[i]! > 0) {
      const q = y[i * OUTPUTS]!;
      qs.push(q);
      if (split.censored[i]! <= 0.5) {
        observed++;
        if (split.gapLn[i]! > q) exceed++;
      }
    }
    if (split.wLost[i]! > 0) {
      scores.push(y[i * OUTPUTS + 1]!);
      labels.push(split.lost[i]! > 0.5 ? 1 : 0);
    }
  }
  qs.sort((a, b) => a - b);
  return {
    ...parts,
    exceedRate: observed > 0 ? exceed / observed : Number.NaN,
    targetExceedRate: 1 - cfg.tau,
    medianTimeoutMs: qs.length > 0 ? Math.exp(qs[Math.floor(qs.length / 2)]!) : Number.NaN,
    aucLost: auc(scores, labels),
    scoredTicks: qs.length,
    lostTicks: labels.length,
  };
}

/** Mann–Whitney AUC with tied scores counted half; NaN when one class is absent. */
export function auc(scores: number[], labels: number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!] === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * The constant c minimizing the censoring-aware pinball loss on a split: the loss is convex and piecewise
 * linear in c, so sweep the sorted ln-gaps until its slope turns non-negative. Also the base-rate logit.
 */
export function fitConstantBaseline(split: WindowSplit, tau: number): { q: number; logit: number } {
  const pts: Array<[number, number, boolean]> = [];
  let slope = 0;
  let lostW = 0;
  let lostPos = 0;
  for (let i = 0; i < split.count * split.T; i++) {
    const w = split.wGap[i]!;
    if (w > 0) {
      pts.push([split.gapLn[i]!, w, split.censored[i]! > 0.5]);
      slope -= tau * w; // d/dc below every point
    }
    if (split.wLost[i]! > 0) {
      lostW += split.wLost[i]!;
      lostPos += split.wLost[i]! * split.lost[i]!;
    }
  }
  pts.sort((a, b) => a[0] - b[0]);
  let q = pts.length > 0 ? pts[pts.length - 1]![0] : 0;
  for (const [g, w, cens] of pts) {
    slope += cens ? tau * w : w; // passing g: observed −τ → 1−τ; censored −τ → 0
    if (slope >= 0) {
      q = g;
      break;
    }
  }
  const p = Math.min(1 - 1e-6, Math.max(1e-6, lostW > 0 ? lostPos / lostW : 0.5));
  return { q, logit: Math.log(p / (1 - p)) };
}

/** Outputs [count, T, 2] of the constant baseline. */
export function constantOutputs(split: WindowSplit, c: { q: number; logit: number }): Float64Array {
  const y = new Float64Array(split.count * split.T * OUTPUTS);
  for (let i = 0; i < split.count * split.T; i++) {
    y[i * OUTPUTS] = c.q;
    y[i * OUTPUTS + 1] = c.logit;
  }
  return y;
}

/** Outputs of Jacobson/Karels: q = jkLn where defined, else the constant (before two arrivals); ℓ = constant. */
export function jacobsonOutputs(split: WindowSplit, c: { q: number; logit: number }): Float64Array {
  const y = constantOutputs(split, c);
  for (let i = 0; i < split.count * split.T; i++) {
    const j = split.jkLn[i]!;
    if (Number.isFinite(j)) y[i * OUTPUTS] = j;
  }
  return y;
}
