/** Small statistics used by reports: means with 95% confidence intervals over seeds, quantiles. */

export interface Estimate {
  mean: number;
  /** Half-width of the 95% confidence interval (Student t over the samples); NaN with fewer than 2 samples. */
  ci95: number;
  n: number;
}

/** Two-sided 97.5% Student t quantiles for 1..30 degrees of freedom; the normal 1.96 beyond. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12,
  2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean and 95% CI of finite samples (non-finite samples are dropped and not counted). */
export function estimate(samples: readonly number[]): Estimate {
  const xs = samples.filter(Number.isFinite);
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, ci95: Number.NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: Number.NaN, n };
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const t = n - 1 <= T975.length ? T975[n - 2]! : 1.96;
  return { mean, ci95: (t * Math.sqrt(variance)) / Math.sqrt(n), n };
}

/** The q-quantile (0..1) by linear interpolation of the sorted samples; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const xs = [...samples].sort((a, b) => a - b);
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (pos - lo);
}
