/**
 * `raft-ns dataset export --format parquet`: a dataset's rows as one Parquet file for tools that prefer
 * Parquet to Arrow IPC parts. Rows stream through one row group at a time (bounded memory); the file is
 * written under a temporary name and renamed, so a failed export leaves nothing half-written. The dataset's
 * identity travels in the file's key/value metadata (format, schema version, tick, row count, tool version).
 */
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import zlib from 'node:zlib';
import { fileWriter, parquetWriteRows } from 'hyparquet-writer';
import { readDataset } from '../ingest/read.js';
import type { TelemetryRow } from '../ingest/telemetry.js';
import { RaftNsError } from '../util/errors.js';
import { TOOL_VERSION } from '../version.js';

/** Codecs `--codec` names. */
export const EXPORT_CODECS = ['ZSTD', 'SNAPPY', 'GZIP', 'UNCOMPRESSED'] as const;
export type ExportCodec = (typeof EXPORT_CODECS)[number];

type Compressors = Partial<Record<'GZIP' | 'ZSTD', (bytes: Uint8Array) => Uint8Array>>;

/**
 * hyparquet-writer compresses SNAPPY itself and takes any other codec as a synchronous function. gzip is
 * Node's zlib; zstd is zlib's from Node 22.15 (`zlib.zstdCompressSync`) and otherwise libzstd compiled to
 * WebAssembly (@bokuweb/zstd-wasm, no native build), level 3 — zstd's own default, as DuckDB and polars write.
 */
async function compressorsFor(codec: ExportCodec): Promise<Compressors> {
  if (codec === 'GZIP') return { GZIP: (b) => zlib.gzipSync(b) };
  if (codec === 'ZSTD') {
    const native = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;
    if (typeof native === 'function') return { ZSTD: (b) => native(b) };
    const zstd = await import('@bokuweb/zstd-wasm');
    await zstd.init();
    return { ZSTD: (b) => zstd.compress(b, 3) };
  }
  return {};
}

export interface ExportOptions {
  /** Output .parquet path. */
  out: string;
  /** Page compression; default ZSTD (DuckDB's and polars' own default; every reader of theirs and pyarrow reads it). */
  codec?: ExportCodec;
  /** Rows per row group; default 65,536. */
  rowGroupRows?: number;
}

/**
 * Writes every row of the dataset at `dir` to `options.out` as Parquet.
 *
 * @example
 * await exportParquet('datasets/sample', { out: 'sample.parquet' });
 * // duckdb: SELECT count(*) FROM 'sample.parquet';  polars: pl.readParquet('sample.parquet')
 */
export async function exportParquet(dir: string, options: ExportOptions): Promise<{ rows: number }> {
  const codec = options.codec ?? 'ZSTD';
  const compressors = await compressorsFor(codec);
  const ds = await readDataset(dir);
  const tmp = `${options.out}.tmp-${process.pid}`;
  let rows = 0;
  async function* all(): AsyncGenerator<Record<string, unknown>> {
    for await (const batch of ds.batches) {
      for (const r of batch) {
        rows++;
        yield { ...r, ts_ms: BigInt(r.ts_ms), term: BigInt(r.term), event: r.event ?? null } satisfies Record<keyof TelemetryRow, unknown>;
      }
    }
  }
  try {
    await parquetWriteRows({
      writer: fileWriter(tmp),
      rows: all(),
      columns: [
        { name: 'ts_ms', type: 'INT64', nullable: false },
        { name: 'cluster_id', type: 'STRING', nullable: false },
        { name: 'node_id', type: 'STRING', nullable: false },
        { name: 'term', type: 'INT64', nullable: false },
        { name: 'role', type: 'STRING', nullable: false },
        { name: 'leader_id', type: 'STRING', nullable: true },
        { name: 'heartbeat_latency_ms', type: 'DOUBLE', nullable: true },
        { name: 'log_replication_gap', type: 'INT32', nullable: false },
        { name: 'rpc_retries', type: 'INT32', nullable: false },
        { name: 'cpu_idle_pct', type: 'DOUBLE', nullable: false },
        { name: 'heartbeat_received', type: 'BOOLEAN', nullable: false },
        { name: 'event', type: 'STRING', nullable: true },
      ],
      codec,
      compressors,
      rowGroupSize: options.rowGroupRows ?? 65_536,
      createdBy: `raft-ns ${TOOL_VERSION}`,
      kvMetadata: [
        { key: 'raft_ns.format', value: ds.manifest.format },
        { key: 'raft_ns.schema_version', value: String(ds.manifest.schema_version) },
        { key: 'raft_ns.tick_ms', value: String(ds.manifest.tick_ms) },
        { key: 'raft_ns.dataset', value: basename(dir) },
        { key: 'raft_ns.row_count', value: String(ds.manifest.row_count) },
        { key: 'raft_ns.tool_version', value: TOOL_VERSION },
      ],
    });
    await rename(tmp, options.out);
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof RaftNsError) throw err;
    throw new RaftNsError('dataset.export', `dataset: cannot write ${options.out} (${(err as Error).message})`, { cause: err });
  }
  return { rows };
}
