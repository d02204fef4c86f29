/**
 * One node's recurrent LSTM state, apart from the engine (runtime/engine.ts) and the WebAssembly kernel
 * (runtime/wasm-kernel.ts) that both step it, so neither has to import the other for its shape.
 */
import { UNITS } from './artifact.js';

const H = UNITS;

/** Per-node recurrent state: h, c (float64) and a scratch buffer for the next h. */
export class LstmState {
  readonly h = new Float64Array(H);
  readonly c = new Float64Array(H);
  /** h_t is written here while h_{t−1} is still being read, then copied in. */
  private hNext = new Float64Array(H);

  reset(): void {
    this.h.fill(0);
    this.c.fill(0);
  }

  /** @internal the engine's double buffer */
  scratch(): Float64Array {
    return this.hNext;
  }

  /** True when every state value is finite (an engine fault poisons the state with NaN). */
  isFinite(): boolean {
    for (let i = 0; i < H; i++) if (!Number.isFinite(this.h[i]!) || !Number.isFinite(this.c[i]!)) return false;
    return true;
  }

  /** Bytes owned by one node's state (typed-array payloads). */
  get byteLength(): number {
    return this.h.byteLength + this.c.byteLength + this.hNext.byteLength;
  }
}
