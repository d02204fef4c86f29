/**
 * The fused training engine: a TrainEngine (pipeline/train/engine.ts) that computes the loss and the
 * gradients with a fused LSTM sequence kernel — the whole-sequence forward and BPTT in one call each —
 * instead of per-op autodiff, data-parallel over worker threads.
 *
 * Parallelism: the batch's B sequences are split into `threads` contiguous shards; shard 0 runs on the
 * calling thread and shard i > 0 on worker i. The loss denominators (Σ wGap, Σ wLost) are taken over the
 * whole batch first, so each shard returns its exact share and the shares are summed in shard order.
 * Invariant: the same params, batch and thread count give bit-identical results; different thread counts
 * differ only by float32 summation order (~1e-7 relative).
 *
 * Example:
 * ```ts
 * const engine = await createFusedEngine({ threads: 2 });
 * const step = await engine.lossAndGrads(params, batch, { tau: 0.99, lambdaLost: 0.5 });
 * await engine.dispose();
 * ```
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RaftNsError } from '../../util/errors.js';
import { PACKAGE_ROOT } from '../../version.js';
import { PARAM_COUNT, UNITS, type Batch, type ForwardResult, type LossConfig, type StepResult, type TrainEngine } from '../engine.js';
import { FusedKernelTs, type FusedKernel } from './kernel-ts.js';
import { FusedKernelWasm, wasmSimdAvailable } from './kernel-wasm.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

export { FusedKernelTs, type FusedKernel } from './kernel-ts.js';
export { FusedKernelWasm, wasmSimdAvailable, wasmPeakProbe, PEAK_PROBE_FLOPS_PER_ITER } from './kernel-wasm.js';

export interface FusedEngineOptions {
  /** Threads (calling thread included); default os.availableParallelism(). */
  threads?: number | undefined;
  /** 'wasm' (WebAssembly SIMD, default when the runtime supports it) or 'ts' (plain TypeScript). */
  kernel?: 'wasm' | 'ts' | undefined;
}

/** Makes the fused engine; `backend` reads e.g. `fused-wasm-simd x2 threads`. */
export async function createFusedEngine(opts: FusedEngineOptions = {}): Promise<TrainEngine> {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RaftNsError('train.threads', `train: --threads must be a positive integer, got ${String(opts.threads)}`);
  }
  const kind = opts.kernel ?? (wasmSimdAvailable() ? 'wasm' : 'ts');
  if (kind === 'wasm' && !wasmSimdAvailable()) {
    throw new RaftNsError('train.fused-kernel', 'train: the wasm fused kernel needs WebAssembly SIMD (Node >= 16.4); use the ts kernel');
  }
  const local: FusedKernel = kind === 'wasm' ? new FusedKernelWasm() : new FusedKernelTs();
  const workers: WorkerClient[] = [];
  try {
    for (let i = 1; i < threads; i++) workers.push(await WorkerClient.start({ kernel: local.kind }));
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  return new FusedEngine(local, workers);
}

/** Contiguous shard bounds of B rows over n shards: shard i is [start[i], start[i+1]). */
export function shardStarts(B: number, n: number): number[] {
  const starts: number[] = [];
  for (let i = 0; i <= n; i++) starts.push(Math.floor((i * B) / n));
  return starts;
}

class FusedEngine implements TrainEngine {
  readonly name = 'fused' as const;
  readonly backend: string;

  constructor(
    private readonly local: FusedKernel,
    private readonly workers: WorkerClient[],
  ) {
    const n = workers.length + 1;
    this.backend = `fused-${local.kind} x${n} thread${n === 1 ? '' : 's'}`;
  }

  async lossAndGrads(params: Float32Array, batch: Batch, loss: LossConfig): Promise<StepResult> {
    checkBatch(params, batch);
    const { B, T } = batch;
    let sumGap = 0;
    let sumLost = 0;
    for (let n = 0; n < B * T; n++) {
      sumGap += batch.wGap[n]!;
      sumLost += batch.wLost[n]!;
    }
    const invGap = 1 / Math.max(sumGap, 1);
    const invLost = 1 / Math.max(sumLost, 1);
    const starts = shardStarts(B, this.workers.length + 1);
    const remote = this.workers.map((w, i) => {
      const sb = sliceBatch(batch, starts[i + 1]!, starts[i + 2]!);
      if (sb.B === 0) return undefined;
      return w.request({ id: 0, op: 'grad', params, batch: sb, loss, invGap, invLost });
    });
    const grads = new Float32Array(PARAM_COUNT);
    const hT = new Float32Array(B * UNITS);
    const cT = new Float32Array(B * UNITS);
    let lossGap = 0;
    let lossLost = 0;
    const b0 = sliceBatch(batch, 0, starts[1]!);
    if (b0.B > 0) {
      const part = this.local.lossAndGrads(params, b0, loss, invGap, invLost, grads, hT.subarray(0, b0.B * UNITS), cT.subarray(0, b0.B * UNITS));
      lossGap += part.lossGap;
      lossLost += part.lossLost;
    }
    // Sum the shards in shard order (the determinism invariant), whatever order the replies arrive in.
    for (let i = 0; i < remote.length; i++) {
      const pending = remote[i];
      if (!pending) continue;
      const r = await pending;
      if (r.op !== 'grad') throw new Error('fused: unexpected worker reply');
      for (let p = 0; p < PARAM_COUNT; p++) grads[p]! += r.grads[p]!;
      hT.set(r.hT, starts[i + 1]! * UNITS);
      cT.set(r.cT, starts[i + 1]! * UNITS);
      lossGap += r.lossGap;
      lossLost += r.lossLost;
    }
    return { loss: lossGap + loss.lambdaLost * lossLost, lossGap, lossLost, grads, hT, cT };
  }

  async forward(params: Float32Array, batch: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>): Promise<ForwardResult> {
    checkBatch(params, batch);
    const { B, T } = batch;
    const starts = shardStarts(B, this.workers.length + 1);
    const remote = this.workers.map((w, i) => {
      const sb = sliceInputs(batch, starts[i + 1]!, starts[i + 2]!);
      return sb.B === 0 ? undefined : w.request({ id: 0, op: 'forward', params, batch: sb });
    });
    const y = new Float32Array(B * T * 2);
    const hT = new Float32Array(B * UNITS);
    const cT = new Float32Array(B * UNITS);
    const b0 = sliceInputs(batch, 0, starts[1]!);
    if (b0.B > 0) this.local.forward(params, b0, y.subarray(0, b0.B * T * 2), hT.subarray(0, b0.B * UNITS), cT.subarray(0, b0.B * UNITS));
    for (let i = 0; i < remote.length; i++) {
      const pending = remote[i];
      if (!pending) continue;
      const r = await pending;
      if (r.op !== 'forward') throw new Error('fused: unexpected worker reply');
      y.set(r.y, starts[i + 1]! * T * 2);
      hT.set(r.hT, starts[i + 1]! * UNITS);
      cT.set(r.cT, starts[i + 1]! * UNITS);
    }
    return { y, hT, cT };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

function checkBatch(params: Float32Array, b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>): void {
  if (params.length !== PARAM_COUNT) {
    throw new RaftNsError('train.params', `train: fused engine expected ${PARAM_COUNT} parameters, got ${params.length}`);
  }
  if (!(b.B >= 1 && b.T >= 1) || b.x.length < b.B * b.T * 4 || b.h0.length < b.B * UNITS || b.c0.length < b.B * UNITS) {
    throw new RaftNsError('train.batch', `train: fused engine got a malformed batch (B=${b.B}, T=${b.T}, x ${b.x.length} floats, h0 ${b.h0.length}, c0 ${b.c0.length})`);
  }
}

/** Rows [from, to) of a batch as copies (they are posted to a worker). */
function sliceBatch(b: Batch, from: number, to: number): Batch {
  const T = b.T;
  const tick = (a: Float32Array) => a.slice(from * T, to * T);
  return {
    ...sliceInputs(b, from, to),
    gapLn: tick(b.gapLn),
    censored: tick(b.censored),
    lost: tick(b.lost),
    wGap: tick(b.wGap),
    wLost: tick(b.wLost),
  };
}

function sliceInputs(b: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'>, from: number, to: number): Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'> {
  return {
    B: to - from,
    T: b.T,
    x: b.x.slice(from * b.T * 4, to * b.T * 4),
    h0: b.h0.slice(from * UNITS, to * UNITS),
    c0: b.c0.slice(from * UNITS, to * UNITS),
  };
}

/**
 * The worker script: the compiled sibling when this module runs from dist/, else dist/ under the package
 * root (vitest runs the .ts sources, and worker_threads cannot load .ts). Run `npm run build` first.
 */
function workerUrl(): URL {
  const sibling = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = join(PACKAGE_ROOT, 'dist', 'pipeline', 'train', 'fused', 'worker.js');
  if (existsSync(built)) return pathToFileURL(built);
  throw new RaftNsError('train.fused-worker', `train: fused engine worker not found at ${built}; run \`npm run build\` first (or use --threads 1)`);
}

/** One worker thread and its pending requests; kept un-ref'd while idle so it never holds the process open. */
class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private failed: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: WorkerReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      if (r.op === 'error') p.reject(new RaftNsError('train.fused-worker', `train: fused worker failed: ${r.message}`));
      else p.resolve(r);
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new RaftNsError('train.fused-worker', `train: fused worker crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => fail(new RaftNsError('train.fused-worker', `train: fused worker exited (code ${code})`)));
  }

  static async start(init: WorkerInit): Promise<WorkerClient> {
    const worker = new Worker(workerUrl(), { workerData: init });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    worker.unref();
    return new WorkerClient(worker);
  }

  request(m: WorkerRequest): Promise<WorkerReply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const msg = { ...m, id };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(msg);
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
