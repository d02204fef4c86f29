/**
 * Arrow <-> telemetry columns: the one place that knows how a dataset part is laid out
 * (docs/CONTRACTS.md §2) and how an Arrow input column becomes plain JS values.
 *
 * Hot paths read the Arrow buffers directly (typed arrays, offsets + UTF-8 bytes) instead of
 * `vector.get(i)`, which is what lets ingest and readDataset run at millions of rows per second.
 */
import {
  Bool, Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, Type, Utf8, makeData, makeVector,
  type Data, type DataType,
} from 'apache-arrow';
import { COLUMNS, COLUMN_SPECS, type ColumnKind, type TelemetryRow } from './telemetry.js';

/** Arrow schema of every dataset part, in telemetry order. */
export const PART_SCHEMA = new Schema([
  new Field('ts_ms', new Int64(), false),
  new Field('cluster_id', new Utf8(), false),
  new Field('node_id', new Utf8(), false),
  new Field('term', new Int64(), false),
  new Field('role', new Utf8(), false),
  new Field('leader_id', new Utf8(), true),
  new Field('heartbeat_latency_ms', new Float64(), true),
  new Field('log_replication_gap', new Int32(), false),
  new Field('rpc_retries', new Int32(), false),
  new Field('cpu_idle_pct', new Float64(), false),
  new Field('heartbeat_received', new Bool(), false),
  new Field('event', new Utf8(), true),
]);

/** Most rows in one record batch (the contract's limit). */
export const MAX_BATCH_ROWS = 65_536;

/**
 * Accumulates validated, already-pseudonymized rows and turns them into one Arrow record batch.
 * Invariant: `length <= capacity`; the caller flushes with `build()` when `full`.
 */
export class PartBatchBuilder {
  length = 0;
  private readonly ts: Float64Array;
  private readonly term: Float64Array;
  private readonly latency: Float64Array;
  private readonly latencyValid: Uint8Array;
  private readonly gap: Int32Array;
  private readonly retries: Int32Array;
  private readonly cpu: Float64Array;
  private readonly hb: Uint8Array;
  private readonly cluster: string[] = [];
  private readonly node: string[] = [];
  private readonly role: string[] = [];
  private readonly leader: Array<string | null> = [];
  private readonly event: Array<string | null> = [];
  private readonly utf8 = new Utf8Cache();

  constructor(readonly capacity: number = MAX_BATCH_ROWS) {
    this.ts = new Float64Array(capacity);
    this.term = new Float64Array(capacity);
    this.latency = new Float64Array(capacity);
    this.latencyValid = new Uint8Array(capacity);
    this.gap = new Int32Array(capacity);
    this.retries = new Int32Array(capacity);
    this.cpu = new Float64Array(capacity);
    this.hb = new Uint8Array(capacity);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  push(
    ts: number, cluster: string, node: string, term: number, role: string, leader: string | null,
    latency: number | null, gap: number, retries: number, cpu: number, hb: boolean, event: string | null,
  ): void {
    const i = this.length++;
    this.ts[i] = ts;
    this.cluster[i] = cluster;
    this.node[i] = node;
    this.term[i] = term;
    this.role[i] = role;
    this.leader[i] = leader;
    if (latency === null) this.latencyValid[i] = 0;
    else {
      this.latencyValid[i] = 1;
      this.latency[i] = latency;
    }
    this.gap[i] = gap;
    this.retries[i] = retries;
    this.cpu[i] = cpu;
    this.hb[i] = hb ? 1 : 0;
    this.event[i] = event;
  }

  /** The accumulated rows as a record batch (buffers copied), then empties the builder. */
  build(): RecordBatch {
    const n = this.length;
    const children: Data[] = [
      int64Data(this.ts, n),
      this.utf8.data(this.cluster, n),
      this.utf8.data(this.node, n),
      int64Data(this.term, n),
      this.utf8.data(this.role, n),
      this.utf8.data(this.leader, n),
      float64Data(this.latency, n, this.latencyValid),
      makeData({ type: new Int32(), length: n, data: this.gap.slice(0, n) }),
      makeData({ type: new Int32(), length: n, data: this.retries.slice(0, n) }),
      float64Data(this.cpu, n, null),
      boolData(this.hb, n),
      this.utf8.data(this.event, n),
    ];
    this.length = 0;
    this.cluster.length = 0;
    this.node.length = 0;
    this.role.length = 0;
    this.leader.length = 0;
    this.event.length = 0;
    const struct = makeData({ type: new Struct(PART_SCHEMA.fields), length: n, nullCount: 0, children });
    return new RecordBatch(PART_SCHEMA, struct);
  }
}

function int64Data(values: Float64Array, n: number): Data {
  // Non-negative integers < 2^53 (checked by validation): split into two 32-bit halves, no BigInt per value.
  const out = new BigInt64Array(n);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    words[2 * i] = v >>> 0;
    words[2 * i + 1] = Math.floor(v / 4294967296);
  }
  return makeData({ type: new Int64(), length: n, data: out });
}

function float64Data(values: Float64Array, n: number, valid: Uint8Array | null): Data {
  if (!valid) return makeData({ type: new Float64(), length: n, data: values.slice(0, n) });
  let nulls = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (valid[i]) {
      bitmap[i >> 3]! |= 1 << (i & 7);
      data[i] = values[i]!;
    } else nulls++;
  }
  return makeData({ type: new Float64(), length: n, data, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null });
}

function boolData(values: Uint8Array, n: number): Data {
  const bits = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type: new Bool(), length: n, data: bits });
}

/** Encodes string columns to Arrow Utf8 buffers, caching each distinct string's bytes (ids repeat). */
class Utf8Cache {
  private readonly cache = new Map<string, Uint8Array>();
  private readonly encoder = new TextEncoder();

  data(values: ReadonlyArray<string | null>, n: number): Data {
    const offsets = new Int32Array(n + 1);
    const parts: Uint8Array[] = new Array(n);
    let bytes = 0;
    let nulls = 0;
    let lastS: string | null = null;
    let lastB: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const s = values[i];
      if (s === null || s === undefined) {
        nulls++;
        offsets[i + 1] = bytes;
        continue;
      }
      let b: Uint8Array | undefined;
      if (s === lastS) b = lastB!;
      else {
        b = this.cache.get(s);
        if (!b) {
          b = this.encoder.encode(s);
          if (this.cache.size > 100_000) this.cache.clear(); // bounded memory for high-cardinality columns
          this.cache.set(s, b);
        }
        lastS = s;
        lastB = b;
      }
      parts[i] = b;
      bytes += b.length;
      offsets[i + 1] = bytes;
    }
    const data = new Uint8Array(bytes);
    let bitmap: Uint8Array | null = null;
    if (nulls > 0) bitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const b = parts[i];
      if (b) {
        // A byte loop beats TypedArray#set for the short values ids are.
        const o = offsets[i]!;
        for (let k = 0; k < b.length; k++) data[o + k] = b[k]!;
      }
      if (bitmap && values[i] !== null && values[i] !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
    }
    return makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data, nullCount: nulls, nullBitmap: bitmap });
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading: Arrow columns → plain JS values
// ---------------------------------------------------------------------------------------------------

/** Values of one column of one batch, index-aligned with the batch rows; `null` marks a null. */
export type ColumnValues = ArrayLike<unknown>;

/** Whether an Arrow type can hold a column of this kind (the value checks then decide row by row). */
export function arrowTypeFits(type: DataType, kind: ColumnKind): boolean {
  if (type.typeId === Type.Null) return true;
  switch (kind) {
    case 'integer':
    case 'number':
      return type.typeId === Type.Int || type.typeId === Type.Float || type.typeId === Type.Timestamp;
    case 'string':
      // Utf8View is polars' default string layout for write_ipc; it decodes through the vector accessor.
      return type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8 || type.typeId === Type.Utf8View
        || (type.typeId === Type.Dictionary && arrowTypeFits((type as unknown as { dictionary: DataType }).dictionary, 'string'));
    case 'boolean':
      return type.typeId === Type.Bool;
  }
}

/**
 * Plain JS values of an Arrow column chunk: numbers (Int64 converted exactly below 2^53), strings,
 * booleans and null. Numeric columns without nulls come back as typed arrays (no copy for Float64/Int32).
 */
export function columnValues(data: Data): ColumnValues {
  const n = data.length;
  const off = data.offset;
  const type = data.type;
  let out: unknown[] | ArrayLike<unknown>;
  switch (type.typeId) {
    case Type.Null:
      return new Array(n).fill(null);
    case Type.Int: {
      const t = type as unknown as { bitWidth: number; isSigned: boolean };
      if (t.bitWidth === 64) {
        const words = new Uint32Array(data.values.buffer, data.values.byteOffset + off * 8, n * 2);
        const f = new Float64Array(n);
        if (t.isSigned) for (let i = 0; i < n; i++) f[i] = (words[2 * i + 1]! | 0) * 4294967296 + words[2 * i]!;
        else for (let i = 0; i < n; i++) f[i] = words[2 * i + 1]! * 4294967296 + words[2 * i]!;
        out = f;
      } else out = (data.values as Int32Array).subarray(off, off + n);
      break;
    }
    case Type.Timestamp: {
      // Timestamps (pyarrow's usual ts column) become epoch milliseconds, floored to whole ms.
      const unit = (type as unknown as { unit: number }).unit; // 0 s, 1 ms, 2 µs, 3 ns
      const perMs = [1e-3, 1, 1e3, 1e6][unit]!;
      const f = new Float64Array(n);
      if (unit <= 1) {
        const words = new Uint32Array(data.values.buffer, data.values.byteOffset + off * 8, n * 2);
        for (let i = 0; i < n; i++) f[i] = Math.floor(((words[2 * i + 1]! | 0) * 4294967296 + words[2 * i]!) / perMs);
      } else {
        // µs and ns epochs exceed 2^53: divide exactly in BigInt (a float quotient can round up across a ms).
        const view = new DataView(data.values.buffer, data.values.byteOffset + off * 8, n * 8);
        const d = BigInt(perMs);
        for (let i = 0; i < n; i++) {
          const v = view.getBigInt64(i * 8, true);
          f[i] = Number(v / d - (v % d < 0n ? 1n : 0n));
        }
      }
      out = f;
      break;
    }
    case Type.Float: {
      const t = type as unknown as { precision: number };
      if (t.precision === 0) {
        // Float16: rare; decode through the vector accessor.
        const a: number[] = new Array(n);
        for (let i = 0; i < n; i++) a[i] = Number(getValue(data, i));
        out = a;
      } else out = (data.values as Float64Array).subarray(off, off + n);
      break;
    }
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const a: boolean[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const j = off + i;
        a[i] = ((bits[j >> 3]! >> (j & 7)) & 1) === 1;
      }
      out = a;
      break;
    }
    case Type.Utf8:
    case Type.LargeUtf8:
      out = decodeUtf8Column(data);
      break;
    case Type.Dictionary: {
      const dictData = (data as unknown as { dictionary: { data: Data[] } }).dictionary.data;
      const dict: unknown[] = [];
      for (const d of dictData) {
        const v = columnValues(d);
        for (let i = 0; i < v.length; i++) dict.push(v[i]);
      }
      const idx = (data.values as Int32Array).subarray(off, off + n);
      const a: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = dict[Number(idx[i])];
      if (dict.every((d) => typeof d === 'string')) (a as StringColumn).distinct = dict as string[];
      out = a;
      break;
    }
    default:
      out = Array.from({ length: n }, (_, i) => getValue(data, i));
  }
  if (data.nullCount > 0 && data.nullBitmap) {
    const a = Array.from(out);
    const bm = data.nullBitmap;
    for (let i = 0; i < n; i++) {
      const j = off + i;
      if (((bm[j >> 3]! >> (j & 7)) & 1) === 0) a[i] = null;
    }
    return a;
  }
  return out;
}

function getValue(data: Data, i: number): unknown {
  // Slow generic accessor, only for rare input types (Float16, Decimal, ...).
  return makeVector(data).get(i);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes a Utf8 column so that identical values share one string object per batch: ids repeat across
 * rows, and a shared object keeps its cached hash, which makes the Map lookups downstream (time order,
 * pseudonyms, distinct counts) cheap. A row equal to the previous row skips hashing altogether.
 */
function decodeUtf8Column(data: Data): string[] {
  const n = data.length;
  const off = data.offset;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const bytes = data.values as Uint8Array;
  const big = offsets instanceof BigInt64Array;
  const out: string[] = new Array(n);
  const distinct: string[] = [];
  const cache = new Map<number, Array<{ start: number; end: number; s: string; lastRow: number }>>();
  // Int32 offsets (Utf8) are the common case; LargeUtf8's BigInt offsets are converted once up front.
  const o32: Int32Array | Float64Array = big ? Float64Array.from(offsets.subarray(off, off + n + 1) as BigInt64Array, Number) : (offsets as Int32Array).subarray(off, off + n + 1);
  const startOf = (i: number): number => o32[i]!;
  // Rows often repeat the value of a row a fixed distance back (one row per node per tick, interleaved):
  // `lag` remembers the distance of the last hash hit and is tried first, with a cheap byte compare.
  let lag = 1;
  for (let i = 0; i < n; i++) {
    const start = startOf(i);
    const end = startOf(i + 1);
    const len = end - start;
    if (i >= lag) {
      const js = startOf(i - lag);
      if (startOf(i - lag + 1) - js === len && bytesEqual(bytes, js, start, len)) {
        out[i] = out[i - lag]!;
        continue;
      }
    }
    let h = 0x811c9dc5 ^ len;
    for (let k = start; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
    let bucket = cache.get(h);
    let hit: { start: number; end: number; s: string; lastRow: number } | undefined;
    if (bucket) {
      for (const e of bucket) {
        if (e.end - e.start === len && bytesEqual(bytes, e.start, start, len)) {
          hit = e;
          break;
        }
      }
    } else {
      bucket = [];
      cache.set(h, bucket);
    }
    if (hit) {
      lag = i - hit.lastRow;
      hit.lastRow = i;
      out[i] = hit.s;
    } else {
      const str = utf8Decoder.decode(bytes.subarray(start, end));
      bucket.push({ start, end, s: str, lastRow: i });
      distinct.push(str);
      out[i] = str;
    }
  }
  (out as StringColumn).distinct = distinct;
  return out;
}

/** A decoded string column whose distinct values are known (then validation checks each once). */
export type StringColumn = string[] & { distinct?: string[] };

/**
 * A copy of `s` that does not keep a larger parent string alive (V8 slices and splits share their
 * parent's storage); used for the few values kept as map keys across batches.
 */
export function flatString(s: string): string {
  return s.length === 0 ? '' : Buffer.from(s, 'utf8').toString('utf8');
}

function bytesEqual(b: Uint8Array, a0: number, b0: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (b[a0 + k] !== b[b0 + k]) return false;
  return true;
}

/** Rows of one dataset part batch as TelemetryRow objects (event always present, null when none). */
export function rowsFromPartBatch(batch: RecordBatch): TelemetryRow[] {
  const cols = COLUMNS.map((name) => {
    const child = batch.getChild(name);
    return child ? columnValues(child.data[0]!) : null;
  });
  const [ts, cluster, node, term, role, leader, lat, gap, retries, cpu, hb, event] = cols;
  const n = batch.numRows;
  const rows: TelemetryRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      ts_ms: ts![i] as number,
      cluster_id: cluster![i] as string,
      node_id: node![i] as string,
      term: term![i] as number,
      role: role![i] as TelemetryRow['role'],
      leader_id: leader![i] as string | null,
      heartbeat_latency_ms: lat![i] as number | null,
      log_replication_gap: gap![i] as number,
      rpc_retries: retries![i] as number,
      cpu_idle_pct: cpu![i] as number,
      heartbeat_received: hb![i] as boolean,
      event: event ? (event[i] as TelemetryRow['event']) ?? null : null,
    };
  }
  return rows;
}

/** The Arrow type names recorded in the manifest's `columns`. */
export function partColumnsForManifest(): Array<{ name: string; arrow_type: string; nullable: boolean }> {
  return PART_SCHEMA.fields.map((f, i) => ({ name: f.name, arrow_type: String(f.type), nullable: COLUMN_SPECS[i]!.nullable }));
}
