/**
 * The ingest stage: raw telemetry files (CSV, NDJSON, Arrow IPC, Parquet) → a validated, pseudonymized
 * dataset folder (docs/CONTRACTS.md §2). Streams batch by batch: memory holds one input batch, one output
 * batch and per-stream state, whatever the input size.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, writeDirAtomic, writeFileAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { FileHasher } from './hasher.js';
import { IDENTITY, PSEUDONYM_FORMAT, makeAnonymizer, type Anonymizer } from './anonymize.js';
import { MAX_BATCH_ROWS, PartBatchBuilder, flatString, partColumnsForManifest, type ColumnValues, type StringColumn } from './arrow-io.js';
import { openArrow, openParquet } from './columnar.js';
import { PartWriter, partMetadata, partSchema, stampPart } from './parts.js';
import type { Schema } from 'apache-arrow';
import {
  MANIFEST_FILE, QUARANTINE_FILE, type ColumnStat, type DatasetManifest, type PartEntry, type SourceEntry,
} from './manifest.js';
import { rawValue, showValue, type OpenedSource, type RawBatch, type SourceContext } from './source.js';
import { COLUMNS, COLUMN_SPECS, ID_COLUMNS, TELEMETRY_SCHEMA_VERSION, type ColumnSpec, type RuleBreak } from './telemetry.js';
import { openCsv, openNdjson } from './text.js';

export interface IngestOptions {
  /** The dataset folder to create. */
  out: string;
  /** HMAC-SHA256 key for pseudonyms, or null to keep ids as they are (the CLI requires --no-anonymize). */
  anonKey: Uint8Array | null;
  /** ISO-8601 creation time recorded in the manifest (the shell passes the clock in; tests pin it). */
  createdAt: string;
  /** `fail` (default): stop at the first bad row, write nothing. `quarantine`: set bad rows aside with reasons. */
  onInvalid?: 'fail' | 'quarantine';
  /** Drop columns outside the telemetry schema instead of refusing the file. */
  allowExtraColumns?: boolean;
  /** Tick length in ms; inferred (most common per-node ts step) when absent. */
  tickMs?: number;
  /** Replace an existing dataset folder. */
  force?: boolean;
  /** The dataset's name in every part's schema metadata (`raft_ns.dataset`); default: the base name of `out`. */
  name?: string;
  /** Rows per Arrow part file (a multiple of batchRows reads best). Default 1,048,576. */
  partRows?: number;
  /** Rows per record batch, at most 65,536. Default 65,536. */
  batchRows?: number;
  /** Called after every input batch with bytes read so far, total bytes and rows so far. */
  onProgress?: (bytesDone: number, bytesTotal: number, rows: number) => void;
}

export interface IngestResult {
  outDir: string;
  manifest: DatasetManifest;
}

/** Per-rule counts of refused rows, and the quarantine path when kept. */
export interface InvalidSummary {
  count: number;
  byRule: Record<string, number>;
}

/**
 * Ingests telemetry files into a dataset folder, atomically (a temporary sibling renamed into place).
 *
 * @example
 * const { manifest } = await ingest(['traces/a.csv', 'traces/b.parquet'], {
 *   out: 'datasets/prod-2026-11', anonKey: readFileSync('anon.key'), createdAt: new Date().toISOString(),
 * });
 * console.log(manifest.row_count, manifest.tick_ms);
 */
export async function ingest(files: readonly string[], options: IngestOptions): Promise<IngestResult> {
  const onInvalid = options.onInvalid ?? 'fail';
  const batchRows = options.batchRows ?? MAX_BATCH_ROWS;
  const partRows = options.partRows ?? 16 * MAX_BATCH_ROWS;
  if (files.length === 0) throw new RaftNsError('ingest.no-input', 'ingest: no input files given; expected one or more CSV, NDJSON, Arrow or Parquet files');
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > MAX_BATCH_ROWS) throw new RaftNsError('ingest.option', `ingest: batch rows ${batchRows}; expected an integer in [1, ${MAX_BATCH_ROWS}]`);
  if (!Number.isInteger(partRows) || partRows < 1) throw new RaftNsError('ingest.option', `ingest: part rows ${partRows}; expected a positive integer`);
  if (options.tickMs !== undefined && !(Number.isFinite(options.tickMs) && options.tickMs > 0)) {
    throw new RaftNsError('ingest.option', `ingest: --tick-ms ${options.tickMs}; expected a positive number of milliseconds`);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(options.createdAt)) {
    throw new RaftNsError('ingest.option', `ingest: createdAt ${JSON.stringify(options.createdAt)}; expected an ISO-8601 date-time such as 2026-01-01T00:00:00.000Z`);
  }
  const anon: Omit<Anonymizer, 'fingerprint'> & { fingerprint?: string } = options.anonKey ? makeAnonymizer(options.anonKey) : IDENTITY;
  const sizes: number[] = [];
  for (const f of files) {
    const st = await stat(f).catch(() => null);
    if (!st || !st.isFile()) throw new RaftNsError('ingest.no-file', `ingest: ${f}: no such file`);
    sizes.push(st.size);
  }
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);

  return writeDirAtomic('ingest', options.out, options.force ?? false, async (tmp) => {
    const hasher = new FileHasher();
    // Parts carry the dataset's name and tick in their schema metadata (./parts.ts); an inferred tick is
    // stamped into them once every row has been read, and they are hashed after that.
    const name = options.name ?? basename(options.out);
    const schema = partSchema(partMetadata(name, options.tickMs ?? null));
    const run = new IngestRun(tmp, anon, onInvalid, batchRows, partRows, hasher, schema, options.tickMs !== undefined);
    let inferredTickMs: number | null = null;
    const sources: SourceEntry[] = [];
    const sourceHashes: Array<Promise<string>> = [];
    let bytesBefore = 0;
    try {
      for (let s = 0; s < files.length; s++) {
        const file = files[s]!;
        const ctx: SourceContext = { file, allowExtraColumns: options.allowExtraColumns ?? false, batchRows };
        const opened = await openSource(file, ctx);
        sourceHashes.push(hasher.hash(file));
        const before = { rows: run.rowsRead, invalid: run.invalid.count };
        for await (const raw of opened.batches) {
          run.consume(raw, s, file, opened);
          options.onProgress?.(bytesBefore + raw.bytesDone, bytesTotal, run.rowsRead);
        }
        bytesBefore += sizes[s]!;
        const entry: SourceEntry = {
          file: basename(file), format: opened.format, sha256: '', byte_length: sizes[s]!,
          row_count: run.rowsRead - before.rows, invalid_row_count: run.invalid.count - before.invalid,
        };
        // Column names can be identifiers too (a host name as a header): recorded as keyed pseudonyms.
        if (opened.extraColumns.length > 0) entry.extra_columns_dropped = opened.extraColumns.map((c) => run.columnLabel(c));
        if (opened.tsConversion) entry.ts_ms_conversion = opened.tsConversion;
        sources.push(entry);
      }
      run.finishPart();
      if (options.tickMs === undefined && run.rowsWritten > 0) {
        inferredTickMs = run.inferTickMs(files);
        const stamped = partSchema(partMetadata(name, inferredTickMs));
        for (const p of run.parts) {
          p.byte_length = await stampPart(join(tmp, p.file), stamped);
          run.partHashes.push(hasher.hash(join(tmp, p.file)));
        }
      }
      const hashes = await Promise.all([...sourceHashes, ...run.partHashes]);
      sources.forEach((e, i) => (e.sha256 = hashes[i]!));
      run.parts.forEach((p, i) => (p.sha256 = hashes[sources.length + i]!));
    } finally {
      run.closeFiles();
      await hasher.close();
    }
    if (run.rowsWritten === 0) {
      throw new RaftNsError('ingest.no-valid-rows', `ingest: no valid rows in ${files.join(', ')} (${run.invalid.count} refused); nothing written`);
    }
    const tick = options.tickMs !== undefined ? { tick_ms: options.tickMs, tick_ms_source: 'flag' as const } : { tick_ms: inferredTickMs ?? run.inferTickMs(files), tick_ms_source: 'inferred' as const };
    const manifest: DatasetManifest = {
      format: 'raft-ns-dataset',
      schema_version: TELEMETRY_SCHEMA_VERSION,
      tool_version: TOOL_VERSION,
      created_at: options.createdAt,
      ...tick,
      row_count: run.rowsWritten,
      stream_count: run.streamCount,
      cluster_count: run.streams.size,
      columns: partColumnsForManifest(),
      stats: run.columnStats(),
      sources,
      parts: run.parts,
      invalid: { on_invalid: onInvalid, row_count: run.invalid.count },
      anonymization: anon.fingerprint
        ? { method: 'hmac-sha256', key_fingerprint: anon.fingerprint, columns: [...ID_COLUMNS], pseudonym_format: PSEUDONYM_FORMAT }
        : { method: 'none' },
      options: { allow_extra_columns: options.allowExtraColumns ?? false, part_rows: partRows, batch_rows: batchRows },
    };
    if (onInvalid === 'quarantine') {
      manifest.invalid.file = QUARANTINE_FILE;
      manifest.invalid.sha256 = run.quarantineHash.digest('hex');
      manifest.invalid.by_rule = run.invalid.byRule;
    }
    const v = validateAgainst<DatasetManifest>('dataset-manifest', manifest);
    if (!v.ok) throw new Error(`ingest: bug: manifest fails its schema at ${v.issues[0]!.path}: ${v.issues[0]!.message}`);
    writeFileAtomic(join(tmp, MANIFEST_FILE), jsonText(manifest));
    return { outDir: options.out, manifest };
  });
}

/** Picks the reader from the extension, or from the first bytes when the extension says nothing. */
async function openSource(file: string, ctx: SourceContext): Promise<OpenedSource> {
  const ext = extname(file).toLowerCase();
  let kind: 'csv' | 'ndjson' | 'arrow' | 'parquet' | null =
    ext === '.csv' ? 'csv'
      : ext === '.ndjson' || ext === '.jsonl' || ext === '.json' ? 'ndjson'
        : ext === '.arrow' || ext === '.arrows' || ext === '.ipc' || ext === '.feather' ? 'arrow'
          : ext === '.parquet' || ext === '.pq' ? 'parquet' : null;
  if (!kind) {
    const fh = await open(file, 'r');
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    await fh.close();
    const h = head.subarray(0, bytesRead).toString('latin1');
    kind = h.startsWith('ARROW1') || h.startsWith('\xff\xff\xff\xff') ? 'arrow' : h.startsWith('PAR1') ? 'parquet' : h.trimStart().startsWith('{') ? 'ndjson' : 'csv';
  }
  switch (kind) {
    case 'csv': return openCsv(file, ctx);
    case 'ndjson': return openNdjson(file, ctx);
    case 'arrow': return openArrow(file, ctx);
    case 'parquet': return openParquet(file, ctx);
  }
}

// ---------------------------------------------------------------------------------------------------

interface StreamState {
  lastTs: number;
  lastSource: number;
  lastPos: number;
  deltasSampled: number;
}

const KNOWN_COLUMNS = new Set<string>(COLUMN_SPECS.map((c) => c.name));
const ID_COLUMN_SET = new Set<string>(ID_COLUMNS);
/** Text shown as-is in messages: number-like tokens and keywords, which cannot carry a host or node name. */
const SAFE_TEXT = /^(?:[-+0-9.eE ]{0,32}|NaN|-?Infinity|true|false|TRUE|FALSE|True|False|follower|pre-candidate|candidate|leader)$/;

/** Deltas sampled per stream for tick inference: enough for a stable mode, bounded work. */
const TICK_SAMPLES_PER_STREAM = 256;

/** State of one ingest run: validation, time order, pseudonyms, statistics, and the part files. */
class IngestRun {
  rowsRead = 0;
  rowsWritten = 0;
  streamCount = 0;
  readonly invalid: InvalidSummary = { count: 0, byRule: {} };
  /** raw cluster id → raw node id → state (raw ids live only in memory, never in output). */
  readonly streams = new Map<string, Map<string, StreamState>>();
  readonly parts: PartEntry[] = [];
  /** sha256 of each closed part, computed on the hasher's worker thread. */
  readonly partHashes: Array<Promise<string>> = [];
  readonly quarantineHash: Hash = createHash('sha256');
  private readonly deltaCounts = new Map<number, number>();
  /** `<file> line` / `<file> row` per input, for naming the earlier row in time-order messages. */
  private readonly sourceLabels: string[] = [];
  private readonly builder: PartBatchBuilder;
  private part: PartWriter | null = null;
  private quarantineFd: number | null = null;
  private readonly num = new Map<string, NumStat>(
    ['ts_ms', 'term', 'heartbeat_latency_ms', 'log_replication_gap', 'rpc_retries', 'cpu_idle_pct', 'heartbeat_received'].map((c) => [c, new NumStat()]),
  );
  private readonly distinct = new Map<string, Set<string>>(['cluster_id', 'node_id', 'leader_id', 'role', 'event'].map((c) => [c, new Set()]));
  private leaderNulls = 0;
  private eventNulls = 0;
  private readonly checks = COLUMN_SPECS.map((s) => s.check);

  constructor(
    private readonly dir: string,
    private readonly anon: Omit<Anonymizer, 'fingerprint'>,
    private readonly onInvalid: 'fail' | 'quarantine',
    batchRows: number,
    private readonly partRows: number,
    private readonly hasher: FileHasher,
    private readonly schema: Schema,
    /** Hash each part as it closes; false when the parts are stamped (rewritten) afterwards. */
    private readonly hashOnClose: boolean,
  ) {
    this.builder = new PartBatchBuilder(batchRows);
    if (onInvalid === 'quarantine') this.quarantineFd = openSync(join(dir, QUARANTINE_FILE), 'w');
  }

  /** Validates, orders, pseudonymizes and appends one raw batch. The hot loop of ingest. */
  consume(raw: RawBatch, sourceIndex: number, file: string, src: OpenedSource): void {
    const n = raw.length;
    const cols = raw.columns;
    const checks = this.checks;
    const [cTs, cCluster, cNode, cTerm, cRole, cLeader, cLat, cGap, cRetries, cCpu, cHb, cEvent] = cols;
    const sTs = this.num.get('ts_ms')!, sTerm = this.num.get('term')!, sLat = this.num.get('heartbeat_latency_ms')!;
    const sGap = this.num.get('log_replication_gap')!, sRetries = this.num.get('rpc_retries')!, sCpu = this.num.get('cpu_idle_pct')!;
    const sHb = this.num.get('heartbeat_received')!;
    const dCluster = this.distinct.get('cluster_id')!, dNode = this.distinct.get('node_id')!, dLeader = this.distinct.get('leader_id')!;
    const dRole = this.distinct.get('role')!, dEvent = this.distinct.get('event')!;
    const syntax = raw.syntaxErrors;
    this.sourceLabels[sourceIndex] = `${file} ${src.positionKind}`;
    this.rowsRead += n;
    // Columns proven valid as a whole (typed arrays, or strings with known distinct values) skip the
    // per-row check; string columns are canonicalized so every later Map lookup hits a cached hash.
    const toCheck: number[] = [];
    for (let c = 0; c < 12; c++) {
      const col = cols[c] ?? null;
      if (!columnValid(col, COLUMN_SPECS[c]!)) toCheck.push(c);
      if (col !== null && COLUMN_SPECS[c]!.kind === 'string' && !(col as StringColumn).distinct && Array.isArray(col)) canonicalize(col as unknown[]);
    }
    const nCheck = toCheck.length;
    rows: for (let i = 0; i < n; i++) {
      if (syntax !== null) {
        const e = syntax.get(i);
        if (e) {
          this.refuse(file, src, raw.positionOf(i), e.column, e.value, { rule: e.rule ?? (e.column === '(row)' ? 'syntax' : 'additionalProperties'), expected: e.expected });
          continue;
        }
      }
      for (let k = 0; k < nCheck; k++) {
        const c = toCheck[k]!;
        const v = rawValue(cols[c] ?? null, i);
        const brk = checks[c]!(v);
        if (brk !== null) {
          this.refuse(file, src, raw.positionOf(i), COLUMNS[c]!, v, brk);
          continue rows;
        }
      }
      const ts = cTs![i] as number;
      const cluster = cCluster![i] as string;
      const node = cNode![i] as string;
      let byNode = this.streams.get(cluster);
      if (!byNode) this.streams.set(flatString(cluster), (byNode = new Map()));
      const st = byNode.get(node);
      const pos = raw.positionOf(i);
      if (st) {
        if (ts <= st.lastTs) {
          this.refuseOrder(file, src, pos, ts, st, cluster, node);
          continue;
        }
        if (st.deltasSampled < TICK_SAMPLES_PER_STREAM) {
          st.deltasSampled++;
          const d = ts - st.lastTs;
          this.deltaCounts.set(d, (this.deltaCounts.get(d) ?? 0) + 1);
        }
        st.lastTs = ts;
        st.lastSource = sourceIndex;
        st.lastPos = pos;
      } else {
        byNode.set(flatString(node), { lastTs: ts, lastSource: sourceIndex, lastPos: pos, deltasSampled: 0 });
        this.streamCount++;
      }
      const term = cTerm![i] as number;
      const role = cRole![i] as string;
      const leaderRaw = cLeader![i] as string | null;
      const latIn = cLat![i] as number | null;
      const lat = latIn === null || latIn !== latIn ? null : latIn; // NaN = null in text readers' numeric columns
      const gap = cGap![i] as number;
      const retries = cRetries![i] as number;
      const cpu = cCpu![i] as number;
      const hb = cHb![i] as boolean;
      const ev = cEvent === null ? null : ((cEvent![i] as string | null | undefined) ?? null);
      const pc = this.anon.cluster(cluster);
      const pn = this.anon.node(node);
      const pl = leaderRaw === null ? null : this.anon.node(leaderRaw);
      this.builder.push(ts, pc, pn, term, role, pl, lat, gap, retries, cpu, hb, ev);
      sTs.add(ts); sTerm.add(term); sGap.add(gap); sRetries.add(retries); sCpu.add(cpu); sHb.add(hb ? 1 : 0);
      if (lat === null) sLat.nulls++;
      else sLat.add(lat);
      dCluster.add(pc);
      dNode.add(pn);
      if (pl === null) this.leaderNulls++;
      else dLeader.add(pl);
      dRole.add(role);
      if (ev === null) this.eventNulls++;
      else dEvent.add(ev);
      this.rowsWritten++;
      if (this.builder.full) this.flushBatch();
    }
  }

  private flushBatch(): void {
    if (this.builder.length === 0) return;
    if (!this.part) this.part = new PartWriter(this.dir, this.parts.length, this.schema);
    this.part.write(this.builder.build());
    if (this.part.rows >= this.partRows) this.finishPart();
  }

  /** Flushes the pending batch and closes the current part file. */
  finishPart(): void {
    this.flushBatch();
    if (this.part) {
      this.parts.push(this.part.close());
      if (this.hashOnClose) this.partHashes.push(this.hasher.hash(join(this.dir, this.part.file)));
      this.part = null;
    }
  }

  closeFiles(): void {
    if (this.quarantineFd !== null) {
      closeSync(this.quarantineFd);
      this.quarantineFd = null;
    }
    this.part?.abort();
  }

  private refuse(file: string, src: OpenedSource, pos: number, rawColumn: string, value: unknown, brk: RuleBreak | { rule: string; expected: string }): void {
    // Messages and the quarantine name the row and the column, never an id's raw value (see safeValue).
    const column = rawColumn === '(row)' || KNOWN_COLUMNS.has(rawColumn) ? rawColumn : this.columnLabel(rawColumn);
    const where = `${file} ${src.positionKind} ${pos}${column === '(row)' ? '' : `, column ${column}`}`;
    const safe = this.safeValue(rawColumn, value);
    if (this.onInvalid === 'fail') {
      const shown = rawColumn === '(row)' ? `the ${src.positionKind}`
        : ID_COLUMN_SET.has(rawColumn) ? (this.anonymized ? `pseudonym ${showValue(safe)}` : showValue(value))
          : typeof value === 'number' || safe === value ? showValue(value) : String(safe);
      throw new RaftNsError(`ingest.invalid-row`, `ingest: ${where}: ${shown} breaks "${brk.rule}" (expected ${brk.expected})`);
    }
    this.quarantine(file, src, pos, column, safe, brk.rule, brk.expected);
  }

  /** An extra column's name as output may show it: a keyed pseudonym when ids are pseudonymized. */
  columnLabel(name: string): string {
    return this.anonymized ? `column-${this.anon.node(name).slice(2)}` : name;
  }

  private get anonymized(): boolean {
    return this.anon.cluster !== IDENTITY.cluster;
  }

  private refuseOrder(file: string, src: OpenedSource, pos: number, ts: number, st: StreamState, cluster: string, node: string): void {
    const dup = ts === st.lastTs;
    const prev = `${this.sourceLabels[st.lastSource]} ${st.lastPos}`;
    const prevShort = `${basename(this.sourceLabels[st.lastSource]!)} ${st.lastPos}`; // the quarantine names files by basename
    const rule = dup ? 'duplicate-timestamp' : 'time-order';
    const expected = (c: string, n: string) =>
      `ts_ms after ${st.lastTs} (at ${at}) for node ${JSON.stringify(n)} of cluster ${JSON.stringify(c)}; ${dup ? 'duplicate timestamp' : 'out of order'}`;
    let at = prev;
    const pc = this.anon.cluster(cluster);
    const pn = this.anon.node(node);
    if (this.onInvalid === 'fail') {
      throw new RaftNsError(`ingest.${rule}`, `ingest: ${file} ${src.positionKind} ${pos}, column ts_ms: ${ts} breaks "${rule}" (expected ${expected(pc, pn)})`);
    }
    at = prevShort;
    this.quarantine(file, src, pos, 'ts_ms', ts, rule, expected(pc, pn));
  }

  /**
   * A refused value as messages and the quarantine may show it: ids as pseudonyms (whatever their JSON
   * type), text only when it cannot hold an identifier (a number-like or keyword token), values of unknown
   * columns and whole raw lines never.
   */
  private safeValue(column: string, value: unknown): unknown {
    if (ID_COLUMN_SET.has(column)) {
      if (value === null || value === undefined) return value ?? null;
      const id = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
      return column === 'cluster_id' ? this.anon.cluster(id) : this.anon.node(id);
    }
    if (!KNOWN_COLUMNS.has(column)) return '(withheld: may contain identifiers)';
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    // An exact integer beyond what a double holds (see telemetry.ts): its digits, as JSON cannot carry a bigint.
    if (typeof value === 'bigint') return String(value);
    if (typeof value === 'string') return SAFE_TEXT.test(value) ? value : `(text withheld: ${value.length} chars)`;
    if (value !== null && typeof value === 'object') return `(${Array.isArray(value) ? 'array' : 'object'} withheld)`;
    return value ?? null;
  }

  private quarantine(file: string, src: OpenedSource, pos: number, column: string, value: unknown, rule: string, expected: string): void {
    this.invalid.count++;
    this.invalid.byRule[rule] = (this.invalid.byRule[rule] ?? 0) + 1;
    const rec = { file: basename(file), [src.positionKind]: pos, column, value, rule, expected };
    const text = `${JSON.stringify(rec)}\n`;
    this.quarantineHash.update(text);
    writeSync(this.quarantineFd!, text);
  }

  /** The most common per-stream ts step among the sampled deltas (ties → the smaller step). */
  inferTickMs(files: readonly string[]): number {
    let best = 0;
    let bestCount = 0;
    for (const [d, count] of this.deltaCounts) {
      if (count > bestCount || (count === bestCount && d < best)) {
        best = d;
        bestCount = count;
      }
    }
    if (bestCount === 0) {
      throw new RaftNsError('ingest.tick', `ingest: cannot infer the tick length from ${files.join(', ')} (no node has two rows); pass --tick-ms`);
    }
    return best;
  }

  columnStats(): Record<string, ColumnStat> {
    const out: Record<string, ColumnStat> = {};
    for (const name of COLUMNS) {
      const num = this.num.get(name);
      if (num) out[name] = num.toStat();
      else {
        const nulls = name === 'leader_id' ? this.leaderNulls : name === 'event' ? this.eventNulls : 0;
        out[name] = { null_count: nulls, distinct_count: this.distinct.get(name)!.size };
      }
    }
    return out;
  }
}

/**
 * Whether a whole column satisfies its schema rule without looking row by row: absent optional columns,
 * typed numeric arrays (no nulls by construction) checked in one tight loop, and string columns whose
 * distinct values are known and all valid.
 */
function columnValid(col: ColumnValues | null, spec: ColumnSpec): boolean {
  if (col === null) return !spec.required;
  if ((spec.kind === 'number' || spec.kind === 'integer') && ArrayBuffer.isView(col)) {
    const a = col as Float64Array;
    const lo = spec.minimum ?? -Infinity;
    const hi = spec.maximum ?? Infinity;
    const integer = spec.kind === 'integer';
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      // NaN fails every comparison and v - v is NaN for ±Infinity, so neither slips through.
      if (!(v >= lo && v <= hi && v - v === 0) || (integer && Math.floor(v) !== v)) return false;
    }
    return true;
  }
  const distinct = (col as StringColumn).distinct;
  if (spec.kind === 'string' && distinct) return distinct.every((v) => spec.check(v) === null);
  return false;
}

/** Replaces equal strings by one shared object per batch (one hash per value instead of one per lookup). */
function canonicalize(col: unknown[]): void {
  const seen = new Map<string, string>();
  let prev: unknown = undefined;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (typeof v !== 'string') continue;
    if (v === prev) {
      col[i] = prev;
      continue;
    }
    const c = seen.get(v);
    if (c === undefined) seen.set(v, v);
    else col[i] = c;
    prev = col[i];
  }
}

/** Running min/max/mean/std with a shift (the first value) so the sum of squares keeps its precision. */
class NumStat {
  n = 0;
  nulls = 0;
  // Shifted sums: the figures every existing manifest was computed with (kept bit for bit while finite).
  private shift = 0;
  private sum = 0;
  private sumSq = 0;
  private min = Infinity;
  private max = -Infinity;
  // Scaled Welford, which cannot overflow: values are divided by `scale` (a power of two, so exact) chosen
  // so that |v / scale| <= SCALED_MAX; used when the shifted sums overflow (values near ±1e154 and beyond).
  private scale = 1;
  private meanS = 0;
  private m2S = 0;

  add(v: number): void {
    if (this.n === 0) this.shift = v;
    this.n++;
    const d = v - this.shift;
    this.sum += d;
    this.sumSq += d * d;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const a = Math.abs(v);
    if (a / this.scale > SCALED_MAX) {
      const f = 2 ** Math.ceil(Math.log2(a / this.scale / SCALED_MAX));
      this.scale *= f;
      this.meanS /= f;
      this.m2S /= f * f;
    }
    const x = v / this.scale;
    const delta = x - this.meanS;
    this.meanS += delta / this.n;
    this.m2S += delta * (x - this.meanS);
  }

  toStat(): ColumnStat {
    if (this.n === 0) return { null_count: this.nulls, min: null, max: null, mean: null, std: null };
    const meanD = this.sum / this.n;
    const variance = Math.max(0, this.sumSq / this.n - meanD * meanD);
    const mean = this.shift + meanD;
    const std = Math.sqrt(variance);
    if (Number.isFinite(mean) && Number.isFinite(std)) return { null_count: this.nulls, min: this.min, max: this.max, mean, std };
    return { null_count: this.nulls, min: this.min, max: this.max, mean: this.meanS * this.scale, std: Math.sqrt(Math.max(0, this.m2S / this.n)) * this.scale };
  }
}

/** Largest scaled magnitude in NumStat: squares of differences stay below 1e201, sums of 1e9 of them finite. */
const SCALED_MAX = 1e100;
