/**
 * Worker thread of the fused engine: owns one kernel instance and computes one shard of each batch.
 * Started by index.ts from the compiled dist/ file (worker_threads cannot run .ts sources).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UNITS, type Batch, type LossConfig } from '../engine.js';
import { FusedKernelTs, type FusedKernel } from './kernel-ts.js';
import { FusedKernelWasm } from './kernel-wasm.js';

/** Requests and replies exchanged with index.ts. Arrays are copies owned by the receiver. */
export type WorkerRequest =
  | { id: number; op: 'grad'; params: Float32Array; batch: Batch; loss: LossConfig; invGap: number; invLost: number }
  | { id: number; op: 'forward'; params: Float32Array; batch: Pick<Batch, 'B' | 'T' | 'x' | 'h0' | 'c0'> };
export type WorkerReply =
  | { id: number; op: 'grad'; grads: Float32Array; hT: Float32Array; cT: Float32Array; lossGap: number; lossLost: number }
  | { id: number; op: 'forward'; y: Float32Array; hT: Float32Array; cT: Float32Array }
  | { id: number; op: 'error'; message: string };

export interface WorkerInit {
  kernel: FusedKernel['kind'];
}

const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  const kernel: FusedKernel = init.kernel === 'ts' ? new FusedKernelTs() : new FusedKernelWasm();
  port.on('message', (m: WorkerRequest) => {
    try {
      const { B, T } = m.batch;
      const hT = new Float32Array(B * UNITS);
      const cT = new Float32Array(B * UNITS);
      if (m.op === 'grad') {
        const grads = new Float32Array(m.params.length);
        const part = kernel.lossAndGrads(m.params, m.batch, m.loss, m.invGap, m.invLost, grads, hT, cT);
        const reply: WorkerReply = { id: m.id, op: 'grad', grads, hT, cT, ...part };
        port.postMessage(reply, [grads.buffer, hT.buffer, cT.buffer]);
      } else {
        const y = new Float32Array(B * T * 2);
        kernel.forward(m.params, m.batch, y, hT, cT);
        const reply: WorkerReply = { id: m.id, op: 'forward', y, hT, cT };
        port.postMessage(reply, [y.buffer, hT.buffer, cT.buffer]);
      }
    } catch (err) {
      const reply: WorkerReply = { id: m.id, op: 'error', message: (err as Error).message };
      port.postMessage(reply);
    }
  });
}
