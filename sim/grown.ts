/**
 * Growing typed arrays: the simulator keeps its per-run logs (telemetry columns, node logs, the client's
 * per-request state, the committed log) in typed arrays doubled when full, because a JS array's push costs
 * several times more once it is tens of thousands long.
 */

/** A new array of the same kind as `a`, with room for `n` values, holding a copy of `a` (n ≥ a.length). */
export function grown<T extends Float64Array | Int32Array | Int8Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}
