/**
 * The loss of pipeline/train/engine.ts on one shard of a batch and its gradient with respect to the head
 * outputs, shared by both kernels (the TypeScript and the WebAssembly one compute only the LSTM parts).
 */
import type { Batch, LossConfig } from '../engine.js';

/** Partial loss terms of one shard, already divided by the whole batch's weight sums. */
export interface ShardLoss {
  lossGap: number;
  lossLost: number;
}

/** Softplus without overflow: log(1 + e^l). */
function softplus(l: number): number {
  return l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l));
}

/**
 * Reads y [B,T,2] (q, ℓ) and writes dL/dy into dy (may be the same array). `invGap`/`invLost` are
 * 1/max(Σ wGap, 1) and 1/max(Σ wLost, 1) over the WHOLE batch, so shards add up to the batch loss.
 * The pinball subgradient at u = 0 is τ (matches tf.maximum picking its first argument on ties).
 */
export function lossAndDy(
  y: Float32Array,
  b: Pick<Batch, 'B' | 'T' | 'gapLn' | 'censored' | 'lost' | 'wGap' | 'wLost'>,
  loss: LossConfig,
  invGap: number,
  invLost: number,
  dy: Float32Array,
): ShardLoss {
  const tau = loss.tau;
  const lam = loss.lambdaLost;
  let sumGap = 0;
  let sumLost = 0;
  for (let n = 0; n < b.B * b.T; n++) {
    const q = y[2 * n]!;
    const l = y[2 * n + 1]!;
    const u = b.gapLn[n]! - q;
    const wg = b.wGap[n]!;
    let pin: number;
    let dpdu: number;
    if (b.censored[n]! > 0.5) {
      pin = u > 0 ? tau * u : 0;
      dpdu = u > 0 ? tau : 0;
    } else {
      pin = u >= 0 ? tau * u : (tau - 1) * u;
      dpdu = u >= 0 ? tau : tau - 1;
    }
    const wl = b.wLost[n]!;
    const yl = b.lost[n]!;
    sumGap += wg * pin;
    sumLost += wl * (softplus(l) - yl * l);
    dy[2 * n] = -wg * dpdu * invGap;
    dy[2 * n + 1] = lam * wl * (1 / (1 + Math.exp(-l)) - yl) * invLost;
  }
  return { lossGap: sumGap * invGap, lossLost: sumLost * invLost };
}
