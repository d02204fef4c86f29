/**
 * Dataset part files: Arrow IPC *file* format (magic, schema, record batches, footer; what pyarrow's
 * `ipc.open_file`, polars' `read_ipc`/`scan_ipc` and arrow-rs' FileReader expect), each carrying the
 * dataset's identity in its schema metadata so a part opened alone still says what it is.
 *
 * apache-arrow's RecordBatchFileWriter (21.x) puts the schema only in the footer, while the format says
 * the magic is followed by a complete stream, schema message first; a reader that reads the file front to
 * back (a stream reader after the 8-byte magic, DuckDB's nanoarrow) then finds a record batch where the
 * schema should be. SpecFileWriter adds that schema message, so both copies exist and agree.
 *
 * Invariant: a part's schema metadata equals `partMetadata(name, tick)` of its dataset; the columns equal
 * PART_SCHEMA's. The tick is known only after every row is read when ingest infers it, so such parts are
 * written first without it and stamped afterwards (`stampPart`), which yields the same bytes as writing
 * them with the tick from the start (test/dataset-open.test.ts checks this).
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { AsyncByteQueue, Message, RecordBatch, RecordBatchFileWriter, RecordBatchReader, Schema } from 'apache-arrow';
import { PART_SCHEMA } from './arrow-io.js';
import type { PartEntry } from './manifest.js';
import { TELEMETRY_SCHEMA_VERSION } from './telemetry.js';

/** Schema-metadata keys, shared with the Parquet export's key/value metadata (pipeline/dataset/export.ts). */
export const META_KEYS = {
  format: 'raft_ns.format',
  schemaVersion: 'raft_ns.schema_version',
  tickMs: 'raft_ns.tick_ms',
  dataset: 'raft_ns.dataset',
} as const;

/** The metadata every part of dataset `name` carries; `tickMs` null while ingest has not inferred it yet. */
export function partMetadata(name: string, tickMs: number | null): Map<string, string> {
  const m = new Map<string, string>([
    [META_KEYS.format, 'raft-ns-dataset'],
    [META_KEYS.schemaVersion, String(TELEMETRY_SCHEMA_VERSION)],
    [META_KEYS.dataset, name],
  ]);
  if (tickMs !== null) m.set(META_KEYS.tickMs, String(tickMs));
  return m;
}

/** PART_SCHEMA's fields with the given metadata. */
export function partSchema(metadata: Map<string, string>): Schema {
  return new Schema(PART_SCHEMA.fields, metadata);
}

/**
 * One Arrow IPC part file, written as batches arrive: Arrow's writer emits bytes into a queue we replace
 * with a sink that writes them straight to the file descriptor.
 */
export class PartWriter {
  rows = 0;
  private batches = 0;
  private readonly fd: number;
  private bytes = 0;
  private readonly writer = new SpecFileWriter();
  readonly file: string;

  constructor(dir: string, index: number, private readonly schema: Schema) {
    this.file = `part-${String(index).padStart(5, '0')}.arrow`;
    this.fd = openSync(join(dir, this.file), 'w');
    this.writer.reset(new FileSink(this.fd, (n) => (this.bytes += n)) as unknown as AsyncByteQueue);
  }

  write(batch: RecordBatch): void {
    this.writer.write(new RecordBatch(this.schema, batch.data));
    this.rows += batch.numRows;
    this.batches++;
  }

  close(): PartEntry {
    this.writer.finish();
    closeSync(this.fd);
    return { file: this.file, sha256: '', byte_length: this.bytes, row_count: this.rows, batch_count: this.batches };
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Rewrites the part at `path` with `schema` (same columns, new metadata), batch for batch, through a
 * temporary file renamed over it. Returns the new byte length. One read and one write of the part: the
 * price of a tick that is known only at the end.
 */
export async function stampPart(path: string, schema: Schema): Promise<number> {
  // Through a file handle, batch by batch: memory holds one record batch, not the whole part.
  const fh = await open(path, 'r');
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  try {
    const reader = await RecordBatchReader.from(fh);
    const writer = new SpecFileWriter();
    writer.reset(new FileSink(fd, (n) => (bytes += n)) as unknown as AsyncByteQueue);
    for await (const batch of reader) writer.write(new RecordBatch(schema, batch.data));
    writer.finish();
  } finally {
    closeSync(fd);
    await fh.close();
  }
  renameSync(tmp, path);
  return bytes;
}

/** The Arrow IPC file writer with the schema message after the leading magic, as the format specifies. */
class SpecFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    return super._writeSchema(schema)._writeMessage(Message.from(schema));
  }
}

class FileSink extends AsyncByteQueue {
  constructor(private readonly fd: number, private readonly count: (n: number) => void) {
    super();
  }

  override write(value: unknown): void {
    const b = value as Uint8Array;
    if (b.byteLength === 0) return;
    writeSync(this.fd, b);
    this.count(b.byteLength);
  }
}
