/**
 * The scheduler's event queue: a binary min-heap ordered by (time µs, insertion sequence). Ties at the same
 * microsecond run in insertion order, which is what makes a run reproducible byte for byte.
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
  private heap: SimEvent[] = [];
  private seq = 0;
  /** Recycled event objects: a run pushes millions of events, and reusing them keeps the GC quiet. */
  private free: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(atUs: number, kind: number, data: unknown, arg = 0): void {
    let ev = this.free.pop();
    if (ev === undefined) ev = { atUs, seq: this.seq++, kind, data, arg };
    else {
      ev.atUs = atUs;
      ev.seq = this.seq++;
      ev.kind = kind;
      ev.data = data;
      ev.arg = arg;
    }
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (pe.atUs < atUs || (pe.atUs === atUs && pe.seq < ev.seq)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = ev;
  }

  /** Returns a popped event for reuse; the caller must not touch it afterwards. */
  release(ev: SimEvent): void {
    ev.data = null;
    this.free.push(ev);
  }

  peekTimeUs(): number {
    return this.heap.length > 0 ? this.heap[0]!.atUs : Number.POSITIVE_INFINITY;
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      const le = h[l]!;
      if (r < n) {
        const re = h[r]!;
        if (re.atUs < le.atUs || (re.atUs === le.atUs && re.seq < le.seq)) c = r;
      }
      const ce = h[c]!;
      if (last.atUs < ce.atUs || (last.atUs === ce.atUs && last.seq < ce.seq)) break;
      h[i] = ce;
      i = c;
    }
    h[i] = last;
    return top;
  }

  /** Events still pending, in no particular order (for snapshots). */
  pending(): readonly SimEvent[] {
    return this.heap;
  }
}
