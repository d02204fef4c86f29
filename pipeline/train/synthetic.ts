/**
 * Synthetic WindowSplits with a learnable structure, for tests and the training benchmark (they do not wait
 * for real windows). Per stream a latent load follows an AR(1) walk; the latency feature sees it with noise,
 * and ln(gap) = ln(100 ms) + 0.5·load + noise, so a model that reads the features beats a constant. Some
 * streams lose their leader at the end: retries climb and the last ticks carry leader_lost = 1.
 */
import type { WindowSplit } from '../window/types.js';
import { FEATURES } from './engine.js';
import { Rng } from './optim.js';
import { rfc6298State, rfc6298Update } from '../../sim/rfc6298.js';

export interface SyntheticOptions {
  name: WindowSplit['name'];
  streams: number;
  chunksPerStream: number;
  T?: number;
  seed: number;
}

export function synthesizeSplit(o: SyntheticOptions): WindowSplit {
  const T = o.T ?? 32;
  const rng = new Rng(o.seed);
  const gauss = (): number => {
    const u = Math.max(rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const count = o.streams * o.chunksPerStream;
  const n = count * T;
  const s: WindowSplit = {
    name: o.name,
    T,
    count,
    x: new Float32Array(n * FEATURES),
    gapLn: new Float32Array(n),
    censored: new Float32Array(n),
    lost: new Float32Array(n),
    wGap: new Float32Array(n),
    wLost: new Float32Array(n),
    streamId: new Int32Array(count),
    chunkIndex: new Int32Array(count),
    jkLn: new Float32Array(n),
    worstRttMs: new Float32Array(n),
  };
  for (let st = 0; st < o.streams; st++) {
    const ticks = o.chunksPerStream * T;
    const losesLeader = rng.next() < 0.4;
    const lostFrom = losesLeader ? ticks - Math.floor(T * (1 + rng.next())) : ticks;
    let load = gauss();
    const jk = rfc6298State();
    for (let t = 0; t < ticks; t++) {
      const k = st * o.chunksPerStream + Math.floor(t / T);
      const i = k * T + (t % T);
      if (t % T === 0) {
        s.streamId[k] = st;
        s.chunkIndex[k] = Math.floor(t / T);
      }
      load = 0.95 * load + 0.3 * gauss();
      const lostNow = t >= lostFrom;
      s.x[i * FEATURES] = load + 0.2 * gauss();
      s.x[i * FEATURES + 1] = 0.3 * gauss();
      s.x[i * FEATURES + 2] = lostNow ? 2 + 0.3 * gauss() : 0.3 * gauss();
      s.x[i * FEATURES + 3] = 0.5 * gauss();
      const gapLn = Math.log(100) + 0.5 * load + 0.15 * gauss();
      s.gapLn[i] = gapLn;
      s.censored[i] = lostNow ? 1 : 0;
      s.wGap[i] = t < 2 ? 0 : 1; // masked before a first heartbeat, as real windows are
      s.lost[i] = lostNow ? 1 : 0;
      s.wLost[i] = t < 2 ? 0 : 1;
      // Jacobson/Karels over the gaps seen so far (RFC 6298: α = 1/8, β = 1/4).
      if (!lostNow) rfc6298Update(jk, Math.exp(gapLn));
      s.jkLn[i] = jk.samples >= 2 ? Math.log(jk.srttMs + 4 * jk.rttvarMs) : Number.NaN;
    }
  }
  return s;
}

/** train/val/test splits from disjoint seeds (disjoint streams, as real splits are). */
export function synthesizeSplits(streams: number, chunksPerStream: number, seed: number, T = 32): Record<'train' | 'val' | 'test', WindowSplit> {
  return {
    train: synthesizeSplit({ name: 'train', streams, chunksPerStream, T, seed }),
    val: synthesizeSplit({ name: 'val', streams: Math.max(2, streams >> 2), chunksPerStream, T, seed: seed + 1 }),
    test: synthesizeSplit({ name: 'test', streams: Math.max(2, streams >> 2), chunksPerStream, T, seed: seed + 2 }),
  };
}
