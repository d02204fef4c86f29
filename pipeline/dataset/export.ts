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

/** Codecs `--codec` names; ZSTD only where Node's zlib can compress it (see zstdCompressor). */
export const EXPORT_CODECS = ['ZSTD', 'SNAPPY', 'GZIP', 'UNCOMPRESSED'] as const;
export type ExportCodec = (typeof EXPORT_CODECS)[number];

/**
 * hyparquet-writer compresses SNAPPY itself and takes any other codec as a synchronous function. Node's
 * zlib has gzip everywhere and zstd from Node 22.15 (`zlib.zstdCompressSync`); no zstd compressor is among
 * this package's dependencies, so on older Node ZSTD is refused before any work, naming what to use.
 */
function zstdCompressor(): ((b: Uint8Array) => Uint8Array) | null {
  const f = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;
  return typeof f === 'function' ? (b) => f(b) : null;
}

/** Whether this Node can write `codec`; the CLI checks it while parsing, the export again before writing. */
export function codecAvailable(codec: ExportCodec): boolean {
  return codec !== 'ZSTD' || zstdCompressor() !== null;
}

export const ZSTD_UNAVAILABLE = `zstd needs Node >= 22.15 (zlib.zstdCompressSync); this is Node ${process.versions.node}: use --codec snappy or gzip`;

type Compressors = Partial<Record<'GZIP' | 'ZSTD', (bytes: Uint8Array) => Uint8Array>>;

function compressorsFor(codec: ExportCodec): Compressors {
  if (codec === 'GZIP') return { GZIP: (b) => zlib.gzipSync(b) };
  if (codec === 'ZSTD') {
    const z = zstdCompressor();
    if (!z) throw new RaftNsError('usage.codec', `dataset: --codec ${ZSTD_UNAVAILABLE}`);
    return { ZSTD: z };
  }
  return {};
}

export interface ExportOptions {
  /** Output .parquet path. */
  out: string;
  /** Page compression; default SNAPPY (what DuckDB, polars and pyarrow all read, and every Node writes). */
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
  const codec = options.codec ?? 'SNAPPY';
  const compressors = compressorsFor(codec);
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
