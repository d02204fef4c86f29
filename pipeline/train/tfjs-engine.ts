/**
 * The reference TrainEngine: TensorFlow.js autodiff over `tf.layers.lstm` (recurrentActivation 'sigmoid',
 * NOT tfjs's hardSigmoid default; returnSequences + returnState; initialState = the batch's h0/c0) and an
 * explicit dense head. The flat parameter vector (PARAM_LAYOUT) is written into the layer's variables
 * before every call, so the caller owns the parameters and the optimizer (Adam in plain TS, train.ts).
 *
 * Backend at run time: tfjs-node when importable (optional dependency), else the wasm backend loaded
 * offline from node_modules/@tensorflow/tfjs-backend-wasm/dist/, else cpu. `backend` forces one.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RaftNsError } from '../util/errors.js';
import {
  FEATURES,
  OUTPUTS,
  PARAM_COUNT,
  PARAM_LAYOUT,
  UNITS,
  type Batch,
  type ForwardResult,
  type LossConfig,
  type StepResult,
  type TrainEngine,
} from './engine.js';

export type TfjsBackendName = 'node' | 'wasm' | 'cpu';
export const TFJS_BACKENDS: readonly TfjsBackendName[] = ['node', 'wasm', 'cpu'];

export interface TfjsEngineOptions {
  /** Force a backend; default: the first of node, wasm, cpu that loads. */
  backend?: TfjsBackendName | undefined;
}

/**
 * Makes the tfjs engine. Example:
 * ```ts
 * const engine = await makeTfjsEngine({ backend: 'cpu' });
 * const step = await engine.lossAndGrads(params, batch, { tau: 0.99, lambdaLost: 0.5 });
 * ```
 */
export async function makeTfjsEngine(opts: TfjsEngineOptions = {}): Promise<TrainEngine> {
  const backend = await selectBackend(opts.backend);
  return new TfjsEngine(`tfjs-${backend}`);
}

/** Loads and activates a tfjs backend; returns the one that is active. Idempotent. */
export async function selectBackend(forced?: TfjsBackendName): Promise<TfjsBackendName> {
  const order = forced ? [forced] : TFJS_BACKENDS;
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (await tryBackend(name)) return name;
      failures.push(`${name}: not available`);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new RaftNsError('train.backend', `train: no TensorFlow.js backend could be loaded (${failures.join('; ')})`);
}

async function tryBackend(name: TfjsBackendName): Promise<boolean> {
  if (name === 'node') {
    if (tf.getBackend() === 'tensorflow') return true;
    // A variable specifier keeps TypeScript from requiring the optional package's types at build time.
    const spec = '@tensorflow/tfjs-node';
    try {
      await import(spec);
    } catch {
      return false;
    }
    return tf.setBackend('tensorflow');
  }
  if (name === 'wasm') {
    if (tf.getBackend() === 'wasm') return true;
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Offline: point the loader at the .wasm files shipped in node_modules instead of a CDN.
    const require = createRequire(import.meta.url);
    const distDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${join(distDir)}/`);
    return tf.setBackend('wasm');
  }
  if (tf.getBackend() === 'cpu') return true;
  return tf.setBackend('cpu');
}

class TfjsEngine implements TrainEngine {
  readonly name = 'tfjs' as const;
  readonly backend: string;
  private readonly lstm: tf.layers.Layer;
  private readonly lstmVars: tf.Variable[];
  private readonly headKernel: tf.Variable;
  private readonly headBias: tf.Variable;

  constructor(backend: string) {
    this.backend = backend;
    this.lstm = tf.layers.lstm({
      units: UNITS,
      activation: 'tanh',
      recurrentActivation: 'sigmoid', // CONTRACTS.md §3: logistic sigmoid, not tfjs's hardSigmoid default
      returnSequences: true,
      returnState: true,
      unitForgetBias: false, // the flat parameter vector carries the bias, init included
      kernelInitializer: 'zeros',
      recurrentInitializer: 'zeros',
      biasInitializer: 'zeros',
    });
    // Build the layer by applying it once (a manual build() is redone by apply() and then collides).
    tf.tidy(() => {
      this.lstm.apply(tf.zeros([1, 1, FEATURES]), { initialState: [tf.zeros([1, UNITS]), tf.zeros([1, UNITS])] });
    });
    // The layer's weights in Keras order: kernel [F, 4H], recurrent_kernel [H, 4H], bias [4H], gates i,f,c,o.
    this.lstmVars = this.lstm.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
    if (this.lstmVars.length !== 3) throw new Error('train: tf.layers.lstm exposed an unexpected weight list');
    this.headKernel = tf.variable(tf.zeros([UNITS, OUTPUTS]), true);
    this.headBias = tf.variable(tf.zeros([OUTPUTS]), true);
  }

  private allVars(): tf.Variable[] {
    return [...this.lstmVars, this.headKernel, this.headBias];
  }

  /** Writes the flat parameter vector into the variables (PARAM_LAYOUT order = allVars order). */
  private load(params: Float32Array): void {
    if (params.length !== PARAM_COUNT) throw new Error(`train: expected ${PARAM_COUNT} parameters, got ${params.length}`);
    const vars = this.allVars();
    tf.tidy(() => {
      PARAM_LAYOUT.forEach((t, k) => {
        vars[k]!.assign(tf.tensor(params.subarray(t.offset, t.offset + t.size), t.shape, 'float32'));
      });
    });
  }

  /** y [B, T, 2], hT, cT for the loaded parameters. */
  private model(
    batch: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>,
  ): { y: tf.Tensor3D; hT: tf.Tensor2D; cT: tf.Tensor2D } {
    const { B, T } = batch;
    const x = tf.tensor3d(batch.x, [B, T, FEATURES]); // [B, T, 4]
    const h0 = tf.tensor2d(batch.h0, [B, UNITS]); // [B, 64]
    const c0 = tf.tensor2d(batch.c0, [B, UNITS]); // [B, 64]
    const [seq, hT, cT] = this.lstm.apply(x, { initialState: [h0, c0] }) as tf.Tensor[]; // seq [B, T, 64]
    const y = tf
      .matMul(seq!.reshape([B * T, UNITS]), this.headKernel) // [B·T, 2]
      .add(this.headBias)
      .reshape([B, T, OUTPUTS]) as tf.Tensor3D;
    return { y, hT: hT as tf.Tensor2D, cT: cT as tf.Tensor2D };
  }

  async lossAndGrads(params: Float32Array, batch: Batch, lossCfg: LossConfig): Promise<StepResult> {
    this.load(params);
    const { B, T } = batch;
    const sumWGap = Math.max(sum(batch.wGap), 1);
    const sumWLost = Math.max(sum(batch.wLost), 1);
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { y, hT, cT } = this.model(batch);
      const q = y.slice([0, 0, 0], [B, T, 1]).reshape([B, T]); // [B, T] ln-gap quantile
      const l = y.slice([0, 0, 1], [B, T, 1]).reshape([B, T]); // [B, T] leader-lost logit
      const gapLn = tf.tensor2d(batch.gapLn, [B, T]);
      const cens = tf.tensor2d(batch.censored, [B, T]);
      const lost = tf.tensor2d(batch.lost, [B, T]);
      const u = gapLn.sub(q);
      const tau = lossCfg.tau;
      const pinObs = tf.maximum(u.mul(tau), u.mul(tau - 1));
      const pinCens = tf.relu(u).mul(tau);
      const pin = cens.mul(pinCens).add(tf.scalar(1).sub(cens).mul(pinObs));
      const lossGap = tf.tensor2d(batch.wGap, [B, T]).mul(pin).sum().div(sumWGap);
      const bce = tf.softplus(l).sub(lost.mul(l));
      const lossLost = tf.tensor2d(batch.wLost, [B, T]).mul(bce).sum().div(sumWLost);
      kept = [tf.keep(hT), tf.keep(cT), tf.keep(lossGap), tf.keep(lossLost)];
      return lossGap.add(lossLost.mul(lossCfg.lambdaLost)) as tf.Scalar;
    }, this.allVars());
    const flat = new Float32Array(PARAM_COUNT);
    this.allVars().forEach((v, k) => {
      const g = grads[v.name];
      if (g) flat.set(g.dataSync() as Float32Array, PARAM_LAYOUT[k]!.offset);
    });
    const [hT, cT, lossGap, lossLost] = kept as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const result: StepResult = {
      loss: (await value.data())[0]!,
      lossGap: (await lossGap.data())[0]!,
      lossLost: (await lossLost.data())[0]!,
      grads: flat,
      hT: (await hT.data()) as Float32Array,
      cT: (await cT.data()) as Float32Array,
    };
    tf.dispose([value, ...Object.values(grads), ...kept]);
    return result;
  }

  async forward(params: Float32Array, batch: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>): Promise<ForwardResult> {
    this.load(params);
    const { y, hT, cT } = tf.tidy(() => this.model(batch));
    const out: ForwardResult = {
      y: (await y.data()) as Float32Array,
      hT: (await hT.data()) as Float32Array,
      cT: (await cT.data()) as Float32Array,
    };
    tf.dispose([y, hT, cT]);
    return out;
  }

  async dispose(): Promise<void> {
    this.lstm.dispose();
    this.headKernel.dispose();
    this.headBias.dispose();
  }
}

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
