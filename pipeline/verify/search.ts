/**
 * Counterexample search. Sampling never proves anything; it only finds concrete input sequences (from the
 * runtime's zero state, inputs in the domain) that break a claim, so a refuted rule comes with something a
 * person can replay. Deterministic: every random choice comes from the seed.
 */
import type { Box } from './ibp.js';
import { makeRng } from './net.js';

/** Runs normalized input rows from h = c = 0 and returns [q, ℓ] per tick (the runtime or its reference). */
export type Replay = (xs: number[][]) => Array<[number, number]>;

export interface SequenceCounterexample {
  /** Normalized inputs, one row of 4 per tick, starting from h = c = 0. */
  inputs: number[][];
  /** 0-based tick at which the claim fails. */
  tick: number;
  /** The output value there (q or ℓ). */
  value: number;
}

export interface OutputSearch {
  output: 0 | 1;
  /** 'lower': looking for value < threshold; 'upper': value > threshold. */
  side: 'lower' | 'upper';
  threshold: number;
  /** Where any tick's input may lie. */
  domain: Box;
  /** Where the final tick's input should lie (the claim's region; defaults to the domain). */
  region?: Box;
  /** A sub-box of the region where IBP says the worst case hides (splitting's worst leaf). */
  hint?: Box;
  seed: number;
  /** Sequences to try (each of `ticks` ticks). */
  budget: number;
  ticks: number;
  /** Called with every in-region output seen: the caller keeps the observed extreme (an inner bound). */
  observe?: (value: number) => void;
}

/**
 * Looks for an input sequence whose output crosses the threshold: constant sequences at corners and at the
 * hint, random piecewise-constant sequences, then a greedy coordinate search on the best one.
 * Returns the first sequence that crosses (truncated at that tick), or null.
 */
export function searchOutputViolation(replay: Replay, s: OutputSearch): SequenceCounterexample | null {
  const rng = makeRng(s.seed);
  const region = s.region ?? s.domain;
  const sign = s.side === 'lower' ? 1 : -1; // minimize sign·value
  const F = s.domain.lo.length;
  const pick = (b: Box, corner: boolean): number[] =>
    Array.from(b.lo, (lo, i) => (corner ? (rng() < 0.5 ? lo : b.hi[i]!) : lo + (b.hi[i]! - lo) * rng()));
  let best: { seq: number[][]; score: number } | null = null;
  const consider = (seq: number[][]): SequenceCounterexample | null => {
    const ys = replay(seq);
    let score = Infinity;
    for (let t = 0; t < ys.length; t++) {
      // Only ticks whose input lies in the claim's region count.
      if (!inBox(region, seq[t]!)) continue;
      const v = ys[t]![s.output];
      s.observe?.(v);
      if (sign * v < score) score = sign * v;
      if (sign * v < sign * s.threshold) return { inputs: seq.slice(0, t + 1), tick: t, value: v };
    }
    if (!best || score < best.score) best = { seq, score };
    return null;
  };
  const segments = 4;
  for (let k = 0; k < s.budget; k++) {
    let seq: number[][];
    if (k < s.budget / 4) {
      // Constant sequences: the steady state under one input, at the hint or a region corner.
      const x = s.hint && k % 2 === 0 ? pick(s.hint, k % 4 === 0) : pick(region, true);
      seq = Array.from({ length: s.ticks }, () => x);
    } else {
      // Piecewise-constant histories in the domain, ending in the region (or the hint).
      seq = [];
      for (let g = 0; g < segments; g++) {
        const x = pick(s.domain, rng() < 0.5);
        for (let t = 0; t < s.ticks / segments - 1; t++) seq.push(x);
      }
      const last = s.hint && rng() < 0.5 ? pick(s.hint, rng() < 0.5) : pick(region, rng() < 0.5);
      while (seq.length < s.ticks) seq.push(last);
    }
    const cx = consider(seq);
    if (cx) return cx;
  }
  // Greedy refinement of the best sequence: move one segment's coordinate to a bound, keep improvements.
  const b = best as { seq: number[][]; score: number } | null;
  if (!b) return null;
  let cur = b.seq;
  let curScore = b.score;
  for (let round = 0; round < 3; round++) {
    for (let t0 = 0; t0 < cur.length; t0 += Math.max(1, Math.floor(cur.length / 8))) {
      for (let i = 0; i < F; i++) {
        for (const v of [s.domain.lo[i]!, s.domain.hi[i]!, 0]) {
          const cand = cur.map((row) => row.slice());
          for (let t = t0; t < Math.min(cur.length, t0 + Math.floor(cur.length / 8) + 1); t++) cand[t]![i] = v;
          const cx = consider(cand);
          if (cx) return cx;
          const nb = best as { seq: number[][]; score: number } | null;
          if (nb && nb.score < curScore) {
            cur = nb.seq;
            curScore = nb.score;
          }
        }
      }
    }
  }
  return null;
}

export interface MonotoneCounterexample {
  /** Normalized inputs before the final tick (from h = c = 0). */
  prefix: number[][];
  /** Final-tick inputs: `low` and `high` differ only in the feature, low[j] < high[j]. */
  low: number[];
  high: number[];
  valueLow: number;
  valueHigh: number;
}

export interface MonotoneSearch {
  output: 0 | 1;
  feature: number;
  direction: 'nondecreasing' | 'nonincreasing';
  domain: Box;
  region: Box;
  /** 'zero': the final tick is the first one (empty prefix). */
  state: 'zero' | 'reachable';
  /** The violation must exceed this (the runtime's rounding could produce smaller ones). */
  slack: number;
  /** Wrong-way slope tolerated by the rule (per unit of the feature); the dip must exceed tolerance·Δx too. */
  tolerance?: number;
  seed: number;
  budget: number;
  ticks: number;
  /** Called with every observed difference quotient (an inner bound on the derivative's range). */
  observe?: (slope: number) => void;
}

/**
 * Looks for a reachable state and two final inputs, equal except in the feature, whose outputs go the wrong
 * way by more than `slack`. "All else equal" under carried state: the same history (so the same (h, c))
 * and the same other features at the final tick.
 */
export function searchMonotoneViolation(replay: Replay, s: MonotoneSearch): MonotoneCounterexample | null {
  const rng = makeRng(s.seed);
  const j = s.feature;
  const sign = s.direction === 'nondecreasing' ? 1 : -1;
  const pick = (b: Box, corner: boolean): number[] =>
    Array.from(b.lo, (lo, i) => (corner ? (rng() < 0.5 ? lo : b.hi[i]!) : lo + (b.hi[i]! - lo) * rng()));
  for (let k = 0; k < s.budget; k++) {
    const prefix: number[][] = [];
    if (s.state === 'reachable') {
      const len = 1 + Math.floor(rng() * s.ticks);
      let x = pick(s.domain, rng() < 0.5);
      for (let t = 0; t < len; t++) {
        if (rng() < 0.1) x = pick(s.domain, rng() < 0.5);
        prefix.push(x);
      }
    }
    const base = pick(s.region, false);
    // A ladder of values of feature j: consecutive pairs are compared, so a dip anywhere is caught.
    const steps = 9;
    const rows = Array.from({ length: steps }, (_, m) => {
      const r = base.slice();
      r[j] = s.region.lo[j]! + ((s.region.hi[j]! - s.region.lo[j]!) * m) / (steps - 1);
      return r;
    });
    const vals = rows.map((r) => {
      const ys = replay([...prefix, r]);
      return ys[ys.length - 1]![s.output];
    });
    for (let m = 0; m + 1 < steps; m++) {
      s.observe?.((vals[m + 1]! - vals[m]!) / (rows[m + 1]![j]! - rows[m]![j]! || 1));
      if (sign * (vals[m + 1]! - vals[m]!) < -(s.slack + (s.tolerance ?? 0) * (rows[m + 1]![j]! - rows[m]![j]!))) {
        return { prefix, low: rows[m]!, high: rows[m + 1]!, valueLow: vals[m]!, valueHigh: vals[m + 1]! };
      }
    }
  }
  return null;
}

export function inBox(b: Box, x: ArrayLike<number>): boolean {
  for (let i = 0; i < b.lo.length; i++) if (!(x[i]! >= b.lo[i]! && x[i]! <= b.hi[i]!)) return false;
  return true;
}
