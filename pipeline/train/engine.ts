/**
 * The interface between the training loop and the code that computes the model's loss and gradients.
 * Two engines implement it: `tfjs` (TensorFlow.js autodiff, the reference) and `fused` (a fused LSTM
 * sequence kernel, forward and BPTT in one pass each). The loop, the optimizer (Adam over the flat
 * parameter vector), checkpoints and export are shared, so both engines train the same model.
 * Model, labels and loss: docs/CONTRACTS.md §3–4.
 */

/** Model sizes (docs/CONTRACTS.md §3). */
export const UNITS = 64;
export const FEATURES = 4;
export const OUTPUTS = 2;
export const GATES = 4 * UNITS; // i, f, g, o

/** Flat parameter layout: name, shape, offset (in floats). Order is the contract. */
export const PARAM_LAYOUT = [
  { name: 'lstm/kernel', shape: [FEATURES, GATES] },
  { name: 'lstm/recurrent_kernel', shape: [UNITS, GATES] },
  { name: 'lstm/bias', shape: [GATES] },
  { name: 'head/kernel', shape: [UNITS, OUTPUTS] },
  { name: 'head/bias', shape: [OUTPUTS] },
].reduce<Array<{ name: string; shape: number[]; offset: number; size: number }>>((acc, t) => {
  const size = t.shape.reduce((a, b) => a * b, 1);
  const prev = acc[acc.length - 1];
  acc.push({ ...t, offset: prev ? prev.offset + prev.size : 0, size });
  return acc;
}, []);

/** 17,794 for H = 64, F = 4. */
export const PARAM_COUNT = PARAM_LAYOUT.reduce((a, t) => a + t.size, 0);

/**
 * One batch of B chunks of T consecutive ticks. Every array is row-major; state is carried between
 * chunks of the same stream by the caller (h0/c0 = the previous chunk's hT/cT, zeros for a stream's first).
 */
export interface Batch {
  B: number;
  T: number;
  x: Float32Array; // [B, T, F] normalized features
  gapLn: Float32Array; // [B, T] ln(gap ms), or ln(lower bound) when censored
  censored: Float32Array; // [B, T] 1 = right-censored gap
  lost: Float32Array; // [B, T] leader_lost label (0/1)
  wGap: Float32Array; // [B, T] weight of the quantile term (0 = masked)
  wLost: Float32Array; // [B, T] weight of the leader-lost term (0 = masked/unknown)
  h0: Float32Array; // [B, UNITS] initial hidden state (no gradient flows into it)
  c0: Float32Array; // [B, UNITS] initial cell state (no gradient flows into it)
}

export interface LossConfig {
  /** Quantile of ln(gap) the first head predicts, e.g. 0.99. */
  tau: number;
  /** Weight of the leader-lost BCE term. */
  lambdaLost: number;
}

/**
 * Loss definition (both engines must compute exactly this):
 *   u = gapLn − q;  pin = censored ? τ·max(u, 0) : max(τ·u, (τ−1)·u)
 *   bce = softplus(ℓ) − lost·ℓ
 *   lossGap  = Σ wGap·pin / max(Σ wGap, 1)
 *   lossLost = Σ wLost·bce / max(Σ wLost, 1)
 *   loss = lossGap + λ·lossLost
 */
export interface StepResult {
  loss: number;
  lossGap: number;
  lossLost: number;
  /** d loss / d params, same flat layout as the parameters. */
  grads: Float32Array;
  hT: Float32Array; // [B, UNITS]
  cT: Float32Array; // [B, UNITS]
}

export interface ForwardResult {
  y: Float32Array; // [B, T, OUTPUTS]: q (ln-gap quantile), ℓ (leader-lost logit)
  hT: Float32Array;
  cT: Float32Array;
}

export interface TrainEngine {
  readonly name: 'tfjs' | 'fused';
  /** What actually ran, recorded in the run: e.g. `tfjs-wasm`, `tfjs-cpu`, `fused-ts x2 threads`. */
  readonly backend: string;
  lossAndGrads(params: Float32Array, batch: Batch, loss: LossConfig): Promise<StepResult>;
  forward(params: Float32Array, batch: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>): Promise<ForwardResult>;
  dispose(): Promise<void>;
}
