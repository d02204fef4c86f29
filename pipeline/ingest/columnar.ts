/**
 * Columnar readers: Arrow IPC (file and stream format) and Parquet. Both check the file's column types
 * against the telemetry schema before reading a row, then stream record batches / row slices.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Message, RecordBatchReader, Type, type DataType, type RecordBatch } from 'apache-arrow';
import type { FileHandle } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { RaftNsError } from '../util/errors.js';
import { arrowTypeFits, columnValues, shortBufferOf, type ColumnValues } from './arrow-io.js';
import { ARROW_CODECS, missingCodec, PARQUET_CODECS, PARQUET_COMPRESSORS, registerArrowCodecs } from './codecs.js';
import type { TsConversion } from './manifest.js';
import { mapColumns, type OpenedSource, type RawBatch, type SourceContext } from './source.js';
import { COLUMNS, COLUMN_SPECS, type ColumnKind } from './telemetry.js';

const ARROW_MAGIC = 'ARROW1';
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** Opens an Arrow IPC file (random access through a file handle) or stream (sequential). */
export async function openArrow(path: string, ctx: SourceContext): Promise<OpenedSource> {
  registerArrowCodecs();
  const size = (await stat(path)).size;
  if (size === 0) throw new RaftNsError('ingest.empty', `ingest: ${ctx.file} byte 0: file is empty; expected Arrow IPC data`);
  const fh = await open(path, 'r');
  let isFile: boolean;
  try {
    const head = Buffer.alloc(6);
    await fh.read(head, 0, 6, 0);
    isFile = head.toString('latin1') === ARROW_MAGIC;
  } catch (err) {
    await fh.close();
    throw err;
  }
  // apache-arrow ends a stream quietly where the bytes end: a stream cut exactly after a record batch
  // would read as complete. The framing is walked first so a missing end-of-stream marker or footer is refused.
  try {
    const cut = await arrowCut(fh, size, isFile);
    if (cut) throw new RaftNsError('ingest.arrow-truncated', `ingest: ${ctx.file} ${cut}; expected a complete Arrow IPC ${isFile ? 'file' : 'stream'} (re-export it, or cut it at a batch and write the end-of-stream marker)`);
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
  let reader: Awaited<ReturnType<typeof RecordBatchReader.from>>;
  try {
    if (isFile) {
      reader = await RecordBatchReader.from(fh);
      await reader.open();
    } else {
      await fh.close();
      reader = await RecordBatchReader.from(createReadStream(path, { highWaterMark: 1 << 20 }));
      await reader.open();
    }
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw damagedArrow(ctx.file, isFile, 'schema', err);
  }
  const schema = reader.schema;
  if (!schema) {
    await fh.close().catch(() => undefined);
    throw damagedArrow(ctx.file, isFile, 'schema', new Error('no schema message'));
  }
  const names = schema.fields.map((f) => f.name);
  const { index, extra } = mapColumns(names, ctx, 'schema');
  for (const spec of COLUMN_SPECS) {
    const i = index[spec.index]!;
    if (i < 0) continue;
    const type = schema.fields[i]!.type as DataType;
    if (!arrowTypeFits(type, spec.kind)) {
      await fh.close().catch(() => undefined);
      throw new RaftNsError(
        'ingest.column-type',
        `ingest: ${ctx.file} column "${spec.name}" (field ${i + 1}): Arrow type ${String(type)} cannot hold ${kindText(spec.kind)}; expected ${arrowExpected(spec.kind)}`,
      );
    }
  }

  const tsField = index[0]! >= 0 ? schema.fields[index[0]!]! : null;
  const tsConversion = tsField && tsField.type.typeId === Type.Timestamp ? arrowTsConversion(tsField.type as DataType) : undefined;

  async function* batches(): AsyncGenerator<RawBatch> {
    let rowBase = 0;
    let batchNo = 0;
    let total = 0;
    const it = (reader as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<RecordBatch>;
        try {
          next = await it.next();
        } catch (err) {
          throw damagedArrow(ctx.file, isFile, `batch ${batchNo + 1} (after row ${rowBase})`, err);
        }
        if (next.done) break;
        const batch = next.value;
        batchNo++;
        const n = batch.numRows;
        if (n === 0) continue;
        // A buffer shorter than the row count would be read past its end, into other columns' bytes.
        for (let c = 0; c < COLUMNS.length; c++) {
          const i = index[c]!;
          const short = i < 0 ? null : shortBufferOf(batch.getChildAt(i)!.data[0]!, n);
          if (short) {
            throw new RaftNsError('ingest.arrow-damaged', `ingest: ${ctx.file} batch ${batchNo} (rows ${rowBase + 1}-${rowBase + n}), column ${COLUMNS[c]}: ${short}; expected buffers that hold every row of the batch`);
          }
        }
        const cols: Array<ColumnValues | null> = COLUMNS.map((_, c) => {
          const i = index[c]!;
          return i < 0 ? null : columnValues(batch.getChildAt(i)!.data[0]!, COLUMN_SPECS[c]!.kind === 'integer');
        });
        const base = rowBase;
        rowBase += n;
        total += n;
        const estBytes = isFile && 'numRecordBatches' in reader ? Math.round((size * batchNo) / Math.max(1, (reader as { numRecordBatches: number }).numRecordBatches)) : Math.min(size, rowBase * 64);
        yield { length: n, columns: cols, positionOf: (i) => base + i + 1, syntaxErrors: null, bytesDone: estBytes };
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (total === 0) throw new RaftNsError('ingest.empty', `ingest: ${ctx.file} row 1: no rows in the Arrow data; expected at least one telemetry row`);
  }
  return { format: isFile ? 'arrow-file' : 'arrow-stream', positionKind: 'row', extraColumns: extra, ...(tsConversion ? { tsConversion } : {}), batches: batches() };
}

const UNITS = ['s', 'ms', 'us', 'ns'] as const;
/** The rule columnValues (./arrow-io.ts) and PARQUET_PARSERS apply: floor to whole ms, so units never round up. */
const TS_RULES: Record<TsConversion['source_unit'], string> = { s: 's * 1000', ms: 'ms (unchanged)', us: 'floor(us / 1000)', ns: 'floor(ns / 1000000)' };

function arrowTsConversion(type: DataType): TsConversion {
  const unit = UNITS[(type as unknown as { unit: number }).unit]!; // Arrow's TimeUnit: 0 s, 1 ms, 2 µs, 3 ns
  return { source_type: String(type), source_unit: unit, conversion: TS_RULES[unit] };
}

/**
 * Where an Arrow IPC file or stream was cut short, or null when its framing is whole. A stream is a run of
 * messages (0xFFFFFFFF, int32 metadata length, metadata, body; pre-0.15 writers omit the 0xFFFFFFFF) ended by
 * a zero length; a file is "ARROW1", padding, a stream, a footer, its int32 length and "ARROW1". Reads only
 * the 8-byte prefixes and metadata of the messages, never a body.
 */
async function arrowCut(fh: FileHandle, size: number, isFile: boolean): Promise<string | null> {
  const word = Buffer.alloc(8);
  const readAt = async (pos: number, len: number, into: Buffer = Buffer.alloc(len)): Promise<Buffer> => {
    const { bytesRead } = await fh.read(into, 0, len, pos);
    return into.subarray(0, bytesRead);
  };
  if (isFile) {
    const tail = size >= 18 ? await readAt(size - 10, 10) : Buffer.alloc(0);
    if (tail.length < 10 || tail.subarray(4).toString('latin1') !== ARROW_MAGIC) return `byte ${size}: the file ends without the Arrow footer and closing "ARROW1" (cut short)`;
    const footerLen = tail.readInt32LE(0);
    if (footerLen <= 0 || footerLen > size - 18) return `byte ${size - 10}: footer length ${footerLen} does not fit the file of ${size} bytes`;
    return null;
  }
  let pos = 0;
  for (let message = 1; ; message++) {
    if (pos === size) return `byte ${size}: the stream ends after message ${message - 1} without the end-of-stream marker (cut at a batch boundary)`;
    const head = await readAt(pos, 8, word);
    if (head.length < 4) return `byte ${pos}: message ${message} is cut inside its length prefix`;
    let metaLen = head.readInt32LE(0);
    let metaStart = pos + 4;
    if (metaLen === -1) {
      if (head.length < 8) return `byte ${pos}: message ${message} is cut inside its length prefix`;
      metaLen = head.readInt32LE(4);
      metaStart = pos + 8;
    }
    if (metaLen === 0) return null; // the end-of-stream marker
    if (metaLen < 0 || metaStart + metaLen > size) return `byte ${pos}: message ${message} announces ${metaLen} bytes of metadata, past the end of the ${size}-byte stream (cut short)`;
    let bodyLength: number;
    try {
      bodyLength = Message.decode(await readAt(metaStart, metaLen)).bodyLength;
    } catch {
      return `byte ${metaStart}: message ${message} has unreadable metadata (damaged)`;
    }
    pos = metaStart + metaLen + bodyLength;
    if (pos > size) return `byte ${size}: message ${message}'s body of ${bodyLength} bytes runs past the end of the stream (cut short)`;
  }
}

function damagedArrow(file: string, isFile: boolean, where: string, err: unknown): RaftNsError {
  const msg = (err as Error)?.message?.split('\n')[0] ?? String(err);
  if (missingCodec(err)) {
    return new RaftNsError(
      'ingest.arrow-codec',
      `ingest: ${file} ${where}: the Arrow IPC body uses a compression this build cannot read; expected uncompressed or ${ARROW_CODECS.join(' or ')}`,
      { cause: err },
    );
  }
  return new RaftNsError(
    'ingest.arrow-damaged',
    `ingest: ${file} ${where}: truncated or damaged Arrow IPC ${isFile ? 'file' : 'stream'} (${msg}); expected a complete Arrow IPC file or stream`,
    { cause: err },
  );
}

function kindText(kind: ColumnKind): string {
  return kind === 'integer' ? 'integers' : kind === 'number' ? 'numbers' : kind === 'string' ? 'strings' : 'booleans';
}

function arrowExpected(kind: ColumnKind): string {
  return kind === 'string' ? 'Utf8, LargeUtf8, Utf8View or Dictionary<Utf8>' : kind === 'boolean' ? 'Bool' : 'Int, Float or Timestamp';
}

// ---------------------------------------------------------------------------------------------------
// Parquet
// ---------------------------------------------------------------------------------------------------

const PARQUET_FITS: Record<ColumnKind, readonly string[]> = {
  // INT96 is the legacy Impala/Spark timestamp; hyparquet decodes it (and TIMESTAMP INT64s) to Dates.
  integer: ['INT32', 'INT64', 'FLOAT', 'DOUBLE', 'INT96'],
  number: ['INT32', 'INT64', 'FLOAT', 'DOUBLE'],
  string: ['BYTE_ARRAY'],
  boolean: ['BOOLEAN'],
};

/** Opens a Parquet file with hyparquet: checks the physical column types, then reads row slices. */
export async function openParquet(path: string, ctx: SourceContext): Promise<OpenedSource> {
  const size = (await stat(path)).size;
  if (size === 0) throw new RaftNsError('ingest.empty', `ingest: ${ctx.file} byte 0: file is empty; expected Parquet data`);
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    if (err instanceof RaftNsError) throw err;
    throw new RaftNsError('ingest.parquet-damaged', `ingest: ${ctx.file} footer: not a readable Parquet file (${(err as Error).message}); expected Parquet data`, { cause: err });
  }
  const fields = parquetSchema(metadata).children;
  const names = fields.map((f) => f.element.name);
  const { index, extra } = mapColumns(names, ctx, 'schema');
  for (const spec of COLUMN_SPECS) {
    const i = index[spec.index]!;
    if (i < 0) continue;
    const el = fields[i]!.element;
    const physical = fields[i]!.children.length > 0 ? 'group' : el.type ?? 'group';
    if (!PARQUET_FITS[spec.kind].includes(physical)) {
      const logical = el.logical_type?.type ?? el.converted_type;
      throw new RaftNsError(
        'ingest.column-type',
        `ingest: ${ctx.file} column "${spec.name}" (field ${i + 1}): Parquet type ${physical}${logical ? ` (${logical})` : ''} cannot hold ${kindText(spec.kind)}; expected ${PARQUET_FITS[spec.kind].join(' or ')}`,
      );
    }
  }
  const tsConversion = parquetTsConversion(fields[index[0]!]!.element);
  const present = COLUMNS.filter((_, c) => index[c]! >= 0);
  // A codec outside the wired set is a missing capability, named before any row is read.
  for (const rg of metadata.row_groups) {
    for (const chunk of rg.columns) {
      const codec = chunk.meta_data?.codec;
      if (codec && !PARQUET_CODECS.includes(codec)) {
        throw new RaftNsError('ingest.parquet-codec', `ingest: ${ctx.file} column "${chunk.meta_data!.path_in_schema.join('.')}": Parquet compression ${codec} is not supported by this build; expected one of ${PARQUET_CODECS.join(', ')}`);
      }
    }
  }
  const totalRows = Number(metadata.num_rows);
  const integer = COLUMN_SPECS.map((s) => s.kind === 'integer');

  async function* batches(): AsyncGenerator<RawBatch> {
    if (totalRows === 0) throw new RaftNsError('ingest.empty', `ingest: ${ctx.file} row 1: no rows in the Parquet file; expected at least one telemetry row`);
    // Slices never straddle a row group, so each read decodes only one group's pages.
    let groupStart = 0;
    for (const rg of metadata.row_groups) {
      const groupEnd = groupStart + Number(rg.num_rows);
      for (let s = groupStart; s < groupEnd; s += ctx.batchRows) {
        const e = Math.min(groupEnd, s + ctx.batchRows);
        let objs: Array<Record<string, unknown>>;
        try {
          objs = (await parquetReadObjects({ file, metadata, rowStart: s, rowEnd: e, columns: present, compressors: PARQUET_COMPRESSORS, parsers: PARQUET_PARSERS })) as Array<Record<string, unknown>>;
        } catch (err) {
          const codec = missingCodec(err);
          if (codec) throw new RaftNsError('ingest.parquet-codec', `ingest: ${ctx.file} rows ${s + 1}-${e}: Parquet compression ${codec} is not supported by this build; expected one of ${PARQUET_CODECS.join(', ')}`, { cause: err });
          throw new RaftNsError('ingest.parquet-damaged', `ingest: ${ctx.file} rows ${s + 1}-${e}: cannot decode Parquet data (${(err as Error).message})`, { cause: err });
        }
        const n = objs.length;
        const cols: Array<unknown[] | null> = COLUMNS.map((name, c) => {
          if (index[c]! < 0) return null;
          const a: unknown[] = new Array(n);
          for (let r = 0; r < n; r++) {
            const v = objs[r]![name];
            // TIMESTAMP columns of any unit (and INT96) arrive as Dates: epoch milliseconds, as ts_ms wants.
            // An INT64 beyond ±(2^53 - 1) in an integer column stays a bigint, exact, for the range check.
            a[r] = typeof v === 'bigint' ? (integer[c] && (v > MAX_SAFE_BIG || v < -MAX_SAFE_BIG) ? v : Number(v)) : v instanceof Date ? v.getTime() : v === undefined ? null : v;
          }
          return a;
        });
        const base = s;
        yield { length: n, columns: cols, positionOf: (i) => base + i + 1, syntaxErrors: null, bytesDone: Math.round((size * e) / Math.max(1, totalRows)) };
      }
      groupStart = groupEnd;
    }
  }
  return { format: 'parquet', positionKind: 'row', extraColumns: extra, ...(tsConversion ? { tsConversion } : {}), batches: batches() };
}

/** hyparquet's timestamp parsers divide BigInts (toward zero); these floor, as the Arrow path does. */
const floorDiv = (v: bigint, d: bigint): number => Number(v / d - (v % d < 0n ? 1n : 0n));
const PARQUET_PARSERS = {
  timestampFromMicroseconds: (us: bigint) => new Date(floorDiv(us, 1000n)),
  timestampFromNanoseconds: (ns: bigint) => new Date(floorDiv(ns, 1000000n)),
};

/** The recorded conversion when ts_ms is a Parquet TIMESTAMP (logical or legacy converted type) or INT96. */
function parquetTsConversion(el: { type?: string; logical_type?: { type: string; unit?: string; isAdjustedToUTC?: boolean }; converted_type?: string }): TsConversion | undefined {
  let unit: TsConversion['source_unit'] | null = null;
  let what = '';
  if (el.logical_type?.type === 'TIMESTAMP') {
    unit = el.logical_type.unit === 'MICROS' ? 'us' : el.logical_type.unit === 'NANOS' ? 'ns' : 'ms';
    what = `TIMESTAMP(${el.logical_type.unit ?? 'MILLIS'}${el.logical_type.isAdjustedToUTC ? ', UTC' : ''})`;
  } else if (el.converted_type === 'TIMESTAMP_MILLIS' || el.converted_type === 'TIMESTAMP_MICROS') {
    unit = el.converted_type === 'TIMESTAMP_MILLIS' ? 'ms' : 'us';
    what = el.converted_type;
  } else if (el.type === 'INT96') {
    unit = 'ns';
    what = 'legacy Impala/Spark timestamp';
  }
  if (unit === null) return undefined;
  return { source_type: `${el.type ?? '?'} ${what}`, source_unit: unit, conversion: TS_RULES[unit] };
}
