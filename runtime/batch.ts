/**
 * LstmBatch: the LSTM steps of many nodes that share one model, in one WebAssembly call over a [slots × 64]
 * state (runtime/wasm/batch.c). For a process that drives a whole cluster — the simulator's closed loop in
 * `evaluate`, the demo — where every node steps its model at the same tick. An embedded Raft node has one
 * model step per tick and keeps using NeuroSymbolicTimeout alone; nothing changes for it.
 *
 * Invariant: a slot's outputs and state after a batched step are the same bits as WasmStepKernel.step
 * (runtime/wasm-kernel.ts) gives for that node alone: the same float32 operations in the same order
 * (batch.c says why). So a batch exists only for a model served by the WASM kernel (create() is null
 * otherwise): the JS kernel computes in float64, a different function at the last bits.
 *
 * Use: each node takes a slot (allocSlot), writes its 4 normalized features into x at slot·4 and enqueues
 * its slot; the first node that needs its outputs calls flush(), which steps every enqueued slot at once.
 * Allocation-free after create().
 *
 * @example
 * const batch = LstmBatch.create(shared);                      // null → step each node alone
 * const nodes = ids.map(() => new NeuroSymbolicTimeout({ model: shared, batch }));
 * // per tick: every node's willObserve(o_i), then every node's observe(o_i) (the first one runs the batch)
 */
import { UNITS } from './artifact.js';
import { NUM_FEATURES } from './features.js';
import type { SharedModel } from './types.js';
import { stepModule, WasmStepKernel } from './wasm-kernel.js';

const H = UNITS;
const F = NUM_FEATURES;
const R = F + H;
const NB = H / 4;

interface BatchExports {
  memory: WebAssembly.Memory;
  rt_sx?(): number;
  rt_sh?(): number;
  rt_bias?(): number;
  rt_weights(): number;
  rt_head(): number;
  rt_h(): number;
  rt_c(): number;
  rt_x(): number;
  rt_y(): number;
  rt_ok(): number;
  rt_idx(): number;
  rt_max_slots(): number;
  rt_step_batch(n: number): void;
}

export class LstmBatch {
  /** The model every slot steps (a node of another model must not join). */
  readonly model: SharedModel;
  /** Slots available (the kernel's fixed state memory). */
  readonly capacity: number;
  /** [capacity × 4] normalized features, written by each node before it enqueues its slot. */
  readonly x: Float32Array;
  /** [capacity × 2] (q, ℓ) of each slot's last step. */
  readonly y: Float32Array;
  /** [capacity] 1 when every h and c of the slot was finite after its last step. */
  readonly ok: Int32Array;
  private readonly ex: BatchExports;
  private readonly h: Float32Array;
  private readonly c: Float32Array;
  private readonly idx: Int32Array;
  /** 1 while a slot waits in idx for the next flush: a slot steps once per flush. */
  private readonly queued: Uint8Array;
  private numQueued = 0;
  private numSlots = 0;

  private constructor(model: SharedModel, ex: BatchExports) {
    this.model = model;
    this.ex = ex;
    this.capacity = ex.rt_max_slots();
    const buf = ex.memory.buffer;
    this.x = new Float32Array(buf, ex.rt_x(), this.capacity * F);
    this.y = new Float32Array(buf, ex.rt_y(), this.capacity * 2);
    this.ok = new Int32Array(buf, ex.rt_ok(), this.capacity);
    this.h = new Float32Array(buf, ex.rt_h(), this.capacity * H);
    this.c = new Float32Array(buf, ex.rt_c(), this.capacity * H);
    this.idx = new Int32Array(buf, ex.rt_idx(), this.capacity);
    this.queued = new Uint8Array(this.capacity);
  }

  /**
   * A batch for `model`, or null when the model is not served by the WASM kernel (or WebAssembly SIMD is
   * missing here): batched results are bit-identical to that kernel only.
   */
  static create(model: SharedModel): LstmBatch | null {
    if (model.lstm.kernel !== 'wasm') return null;
    const p = model.precision === 'int8' ? model.artifact.int8 : model.artifact.float32;
    const quantized = model.precision === 'int8' ? model.artifact.int8Quantized : undefined;
    if (!p) return null;
    const mod = stepModule(quantized ? 'batch-i8' : 'batch-f32');
    if (!mod) return null;
    const ex = new WebAssembly.Instance(mod, {}).exports as unknown as BatchExports;
    const buf = ex.memory.buffer;
    if (quantized) {
      // step.c's int8 layout, with each code widened to the float32 it is (exact), so no lane is unpacked per step.
      WasmStepKernel.packInt8(
        new Float32Array(buf, ex.rt_weights(), NB * R * 16), new Float32Array(buf, ex.rt_sx!(), NB * 16),
        new Float32Array(buf, ex.rt_sh!(), NB * 16), new Float32Array(buf, ex.rt_bias!(), NB * 16), p, quantized,
      );
    } else {
      WasmStepKernel.packFloat(new Float32Array(buf, ex.rt_weights(), NB * (R + 1) * 16), p);
    }
    const head = new Float32Array(buf, ex.rt_head(), 2 * H + 2);
    head.set(p.headKernel, 0);
    head.set(p.headBias, 2 * H);
    return new LstmBatch(model, ex);
  }

  /** A fresh slot (zero state), or −1 when all are taken (that node then steps alone). */
  allocSlot(): number {
    if (this.numSlots === this.capacity) return -1;
    const s = this.numSlots++;
    this.resetSlot(s);
    return s;
  }

  /** Zeroes a slot's (h, c), as LstmState.reset() does. */
  resetSlot(slot: number): void {
    this.h.fill(0, slot * H, (slot + 1) * H);
    this.c.fill(0, slot * H, (slot + 1) * H);
  }

  /** Queues the slot for the next flush (its features already in x). Queued twice: the first step runs first. */
  enqueue(slot: number): void {
    if (this.queued[slot] === 1) this.flush();
    this.queued[slot] = 1;
    this.idx[this.numQueued++] = slot;
  }

  /**
   * Writes a node's 4 normalized features into its slot of x and queues the slot. Element by element: set() is
   * a builtin call costlier than 4 float32 copies (the same bits either way).
   */
  enqueueFeatures(slot: number, features: Float32Array): void {
    const bx = this.x;
    const at = slot * F;
    bx[at] = features[0]!;
    bx[at + 1] = features[1]!;
    bx[at + 2] = features[2]!;
    bx[at + 3] = features[3]!;
    this.enqueue(slot);
  }

  /** True while the slot waits for a flush (its y is still the previous step's). */
  isQueued(slot: number): boolean {
    return this.queued[slot] === 1;
  }

  /** Steps every queued slot in one kernel call. */
  flush(): void {
    const n = this.numQueued;
    if (n === 0) return;
    this.ex.rt_step_batch(n);
    for (let j = 0; j < n; j++) this.queued[this.idx[j]!] = 0;
    this.numQueued = 0;
  }

  /** Copies a slot's state out (tests compare it with the per-node path's LstmState). */
  stateOf(slot: number, h: Float64Array, c: Float64Array): void {
    for (let k = 0; k < H; k++) {
      h[k] = this.h[slot * H + k]!;
      c[k] = this.c[slot * H + k]!;
    }
  }
}
