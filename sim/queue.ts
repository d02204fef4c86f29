/**
 * The scheduler's event queue: a binary min-heap ordered by (time µs, insertion sequence). Ties at the same
 * microsecond run in insertion order, which is what makes a run reproducible byte for byte.
 *
 * Stored as parallel arrays (structure of arrays): the heap's keys (time, sequence) and a payload slot per
 * entry sit in typed arrays, so a sift compares numbers in place instead of chasing event objects; the
 * payload (kind, integer argument, data) lives in slot arrays that never move while the entry is queued.
 * The sifts are the same comparisons in the same order as an object heap's, so the heap's layout, and with
 * it `pending()`'s order, is the one a plain binary heap of events would have.
 */
export interface SimEvent {
  atUs: number;
  seq: number;
  kind: number;
  /** Kind-specific payload (a message, a node index, a fault). */
  data: unknown;
  /** Kind-specific integer (e.g. a timer generation). */
  arg: number;
}

export class EventQueue {
  /** Heap order: key time (µs), key sequence, and the payload slot of entry i. */
  private timeUs: Float64Array;
  private seqs: Float64Array;
  private slots: Int32Array;
  /** Payload by slot. Invariant: a slot is either in the heap or on the free stack, never both. */
  private kinds: Int32Array;
  private args: Float64Array;
  private datas: unknown[];
  private freeSlots: Int32Array;
  private numFree: number;
  private n = 0;
  private seq = 0;
  /** The entry `pop` took last (valid until the next `pop`). */
  lastAtUs = 0;
  lastArg = 0;
  lastData: unknown = null;

  constructor(capacity = 64) {
    this.timeUs = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.slots = new Int32Array(capacity);
    this.kinds = new Int32Array(capacity);
    this.args = new Float64Array(capacity);
    this.datas = new Array<unknown>(capacity).fill(null);
    this.freeSlots = new Int32Array(capacity);
    for (let s = 0; s < capacity; s++) this.freeSlots[s] = capacity - 1 - s;
    this.numFree = capacity;
  }

  get size(): number {
    return this.n;
  }

  push(atUs: number, kind: number, data: unknown, arg = 0): void {
    if (this.numFree === 0) this.grow();
    const slot = this.freeSlots[--this.numFree]!;
    this.kinds[slot] = kind;
    this.args[slot] = arg;
    this.datas[slot] = data;
    const seq = this.seq++;
    const t = this.timeUs;
    const q = this.seqs;
    const sl = this.slots;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = t[p]!;
      if (pt < atUs || (pt === atUs && q[p]! < seq)) break;
      t[i] = pt;
      q[i] = q[p]!;
      sl[i] = sl[p]!;
      i = p;
    }
    t[i] = atUs;
    q[i] = seq;
    sl[i] = slot;
  }

  peekTimeUs(): number {
    return this.n > 0 ? this.timeUs[0]! : Number.POSITIVE_INFINITY;
  }

  /**
   * Removes the earliest entry and returns its kind (-1 when empty); its time, argument and data are then
   * in `lastAtUs`, `lastArg` and `lastData`.
   */
  pop(): number {
    if (this.n === 0) return -1;
    const slot0 = this.slots[0]!;
    this.lastAtUs = this.timeUs[0]!;
    this.lastArg = this.args[slot0]!;
    this.lastData = this.datas[slot0];
    const kind = this.kinds[slot0]!;
    this.datas[slot0] = null;
    this.freeSlots[this.numFree++] = slot0;
    const n = --this.n;
    if (n > 0) {
      const t = this.timeUs;
      const q = this.seqs;
      const sl = this.slots;
      const lt = t[n]!;
      const lq = q[n]!;
      const ls = sl[n]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let ct = t[l]!;
        if (r < n) {
          const rt = t[r]!;
          if (rt < ct || (rt === ct && q[r]! < q[l]!)) {
            c = r;
            ct = rt;
          }
        }
        if (lt < ct || (lt === ct && lq < q[c]!)) break;
        t[i] = ct;
        q[i] = q[c]!;
        sl[i] = sl[c]!;
        i = c;
      }
      t[i] = lt;
      q[i] = lq;
      sl[i] = ls;
    }
    return kind;
  }

  /** Events still pending, in heap order (for snapshots; copies, not live entries). */
  pending(): SimEvent[] {
    const out: SimEvent[] = [];
    for (let i = 0; i < this.n; i++) {
      const s = this.slots[i]!;
      out.push({ atUs: this.timeUs[i]!, seq: this.seqs[i]!, kind: this.kinds[s]!, data: this.datas[s], arg: this.args[s]! });
    }
    return out;
  }

  /** Doubles every array; new slots go on the free stack. */
  private grow(): void {
    const old = this.timeUs.length;
    const cap = old * 2;
    const f64 = (a: Float64Array): Float64Array => { const b = new Float64Array(cap); b.set(a); return b; };
    const i32 = (a: Int32Array): Int32Array => { const b = new Int32Array(cap); b.set(a); return b; };
    this.timeUs = f64(this.timeUs);
    this.seqs = f64(this.seqs);
    this.slots = i32(this.slots);
    this.kinds = i32(this.kinds);
    this.args = f64(this.args);
    for (let s = old; s < cap; s++) this.datas.push(null);
    this.freeSlots = new Int32Array(cap);
    // Every old slot is in use (the stack was empty), so the free stack holds exactly the new ones.
    for (let s = 0; s < old; s++) this.freeSlots[s] = cap - 1 - s;
    this.numFree = old;
  }
}
