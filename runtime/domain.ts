/**
 * The input box the proofs range over, in the model's normalized feature space, from the rules' input
 * domain (runtime/rules.ts) and the artifact's normalization (runtime/features.ts). It lives in the runtime,
 * which enforces it, so that training (pipeline/train) and verification (pipeline/verify) share it without
 * training depending on the checker.
 *
 * The runtime (runtime/timeout.ts) steps the LSTM only on ticks whose raw signals lie in the raw box AND
 * whose normalized features lie in the normalized box; any other tick serves the static fallback and leaves
 * (h, c) untouched (an engine fault resets it to 0). So every input the state ever sees lies in
 *   normalized box ∩ transform(raw box),
 * where the transform is monotone per feature (log1p or /100, then (·−mean)/std, then clamp to ±clip).
 * We push the image outward by a relative 2^-20 (the runtime computes it in float64 and may store it in
 * float32; log1p and division are accurate to an ulp or two), which keeps it a superset.
 */
import type { CompiledRules } from './rules.js';
import type { Normalization } from './features.js';

/** A box in normalized feature space: feature i ranges over [lo[i], hi[i]]. */
export interface NormalizedBox {
  lo: Float64Array;
  hi: Float64Array;
}

const RAW_TRANSFORMS: ReadonlyArray<(v: number) => number> = [
  (ms) => Math.log1p(ms), // heartbeat_latency_ms (a null carries a previous in-box value, or 0 before the first)
  (n) => Math.log1p(n), // log_replication_gap
  (n) => Math.log1p(n), // rpc_retries
  (pct) => pct / 100, // cpu_idle_pct
];

/** The normalized input box every stepped input lies in (file comment). */
export function normalizedDomain(rules: CompiledRules, norm: Normalization): NormalizedBox {
  const raw = rules.domain.raw;
  const rawRanges: Array<[number, number]> = [
    // Latency: 0 before the first measurement is also fed (features.ts), so include 0.
    [Math.min(0, raw.heartbeat_latency_ms[0]), raw.heartbeat_latency_ms[1]],
    raw.log_replication_gap,
    raw.rpc_retries,
    raw.cpu_idle_pct,
  ];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [a, b] = rawRanges[i]!;
    const z = (v: number): number => (RAW_TRANSFORMS[i]!(v) - norm.mean[i]!) / norm.std[i]!;
    const pad = (v: number): number => Math.abs(v) * 2 ** -20 + 1e-12;
    const zLo = Math.max(-norm.clip, z(a) - pad(z(a)));
    const zHi = Math.min(norm.clip, z(b) + pad(z(b)));
    const nLo = rules.domain.normalized.min[i]!;
    const nHi = rules.domain.normalized.max[i]!;
    const l = Math.max(zLo, nLo);
    const h = Math.min(zHi, nHi);
    // Empty: no input can ever be stepped on this feature's range; keep a point so the math stays defined.
    lo.push(l <= h ? l : nLo);
    hi.push(l <= h ? h : nLo);
  }
  return { lo: Float64Array.from(lo), hi: Float64Array.from(hi) };
}
