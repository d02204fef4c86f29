/**
 * RFC 6298 §2 smoothing (Jacobson/Karels), the one implementation the Jacobson/Karels baseline
 * (sim/baselines.ts), the window's Jacobson/Karels column (pipeline/window/labels.ts) and the synthetic
 * training set (pipeline/train/synthetic.ts) share. The samples R here are heartbeat inter-arrival gaps.
 *
 * The runtime's "usual gap" (runtime/timeout.ts smoothGap) is the same estimator written incrementally,
 * dev += β·(|R − mean| − dev): equal in exact arithmetic, not in floating point, and the conformance vectors
 * and the Go package pin its rounding, so it stays apart.
 */

/** Smoothed mean and deviation of the samples so far; `samples` 0 means none yet (both fields then unread). */
export interface Rfc6298State {
  srttMs: number;
  rttvarMs: number;
  samples: number;
}

export const RFC6298_ALPHA = 1 / 8;
export const RFC6298_BETA = 1 / 4;

export function rfc6298State(): Rfc6298State {
  return { srttMs: 0, rttvarMs: 0, samples: 0 };
}

/**
 * Folds one sample R > 0 into `s`: the first sets SRTT = R, RTTVAR = R/2 (2.2); later ones update RTTVAR
 * first, against the old SRTT, then SRTT (2.3). Invariant: after any update srttMs > 0 and rttvarMs ≥ 0.
 */
export function rfc6298Update(s: Rfc6298State, sampleMs: number, alpha = RFC6298_ALPHA, beta = RFC6298_BETA): void {
  if (s.samples === 0) {
    s.srttMs = sampleMs;
    s.rttvarMs = sampleMs / 2;
  } else {
    s.rttvarMs = (1 - beta) * s.rttvarMs + beta * Math.abs(s.srttMs - sampleMs);
    s.srttMs = (1 - alpha) * s.srttMs + alpha * sampleMs;
  }
  s.samples++;
}
