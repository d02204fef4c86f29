/**
 * Files as other tools write them: every Parquet codec DuckDB writes (ZSTD is its default and polars'),
 * Parquet timestamps of each unit, polars' Arrow IPC (Utf8View strings, LZ4 and ZSTD body compression),
 * and RFC 4180 CSV with line breaks inside quoted fields. Each must ingest to the rows of a plain CSV.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Bool, Float64, Int32, Int64, LargeUtf8, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
import { readDataset } from '../pipeline/ingest/read.js';
import type { DatasetManifest } from '../pipeline/ingest/manifest.js';
import type { TelemetryRow } from '../pipeline/ingest/telemetry.js';
import { synthRows, writeCsv } from './fixtures/ingest/synth.js';

const KEY = Buffer.from('test key: 0123456789abcdef');
const CREATED = '2026-01-01T00:00:00.000Z';
const synth = { seed: 11, clusters: 2, nodesPerCluster: 3, ticks: 200, tickMs: 100 };
const ROWS = synth.clusters * synth.nodesPerCluster * synth.ticks;
let dir: string;
let db: DuckDBConnection;
let reference: TelemetryRow[];
/** The manifest of the last ingestRows call (its sources record how a timestamp ts_ms was converted). */
let lastManifest: DatasetManifest;

// DuckDB reads the reference CSV with the telemetry types spelled out, so only the file format varies.
const CSV_TYPES = `{'ts_ms': 'BIGINT', 'cluster_id': 'VARCHAR', 'node_id': 'VARCHAR', 'term': 'BIGINT', 'role': 'VARCHAR',
  'leader_id': 'VARCHAR', 'heartbeat_latency_ms': 'DOUBLE', 'log_replication_gap': 'BIGINT', 'rpc_retries': 'BIGINT',
  'cpu_idle_pct': 'DOUBLE', 'heartbeat_received': 'BOOLEAN', 'event': 'VARCHAR'}`;

async function ingestRows(file: string): Promise<TelemetryRow[]> {
  const out = join(dir, `out-${file.split('/').pop()}`);
  const { manifest } = await ingest([file], { out, anonKey: KEY, createdAt: CREATED, batchRows: 1000, partRows: 4000 });
  expect(manifest.row_count).toBe(ROWS);
  lastManifest = manifest;
  const rows: TelemetryRow[] = [];
  for await (const b of (await readDataset(out)).batches) rows.push(...b);
  return rows;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-interop-'));
  await writeCsv(join(dir, 'ref.csv'), synthRows(synth));
  db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`CREATE TABLE t AS SELECT * FROM read_csv('${join(dir, 'ref.csv')}', header = true, columns = ${CSV_TYPES})`);
  reference = await ingestRows(join(dir, 'ref.csv'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ingest: Parquet as DuckDB writes it', () => {
  for (const codec of ['zstd', 'gzip', 'lz4_raw', 'brotli', 'snappy', 'uncompressed']) {
    it(`${codec.toUpperCase()} pages ingest to the same rows`, async () => {
      const path = join(dir, `duck-${codec}.parquet`);
      await db.run(`COPY t TO '${path}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 500)`);
      expect(await ingestRows(path)).toEqual(reference);
    });
  }

  for (const [unit, expr] of [
    // Seconds would merge 100 ms ticks, so this file reads ts_ms as seconds (ingest then sees ×1000).
    ['s', 'to_timestamp(ts_ms)::TIMESTAMP_S'],
    ['ms', 'epoch_ms(ts_ms)::TIMESTAMP_MS'],
    ['µs', 'epoch_ms(ts_ms)'],
    ['ns', 'epoch_ms(ts_ms)::TIMESTAMP_NS'],
  ] as const) {
    it(`a TIMESTAMP (${unit}) ts_ms column becomes epoch milliseconds`, async () => {
      const path = join(dir, `duck-ts-${unit === 'µs' ? 'us' : unit}.parquet`);
      await db.run(`COPY (SELECT * REPLACE (${expr} AS ts_ms) FROM t) TO '${path}' (FORMAT parquet)`);
      const rows = await ingestRows(path);
      expect(rows).toEqual(unit === 's' ? reference.map((r) => ({ ...r, ts_ms: r.ts_ms * 1000 })) : reference);
      const conv = lastManifest.sources[0]!.ts_ms_conversion;
      // Parquet has no seconds unit: DuckDB stores TIMESTAMP_S as MICROS.
      expect(conv?.source_unit).toBe(unit === 'µs' || unit === 's' ? 'us' : unit);
      expect(conv?.source_type).toMatch(/^INT64 TIMESTAMP\((MILLIS|MICROS|NANOS)/);
      expect(conv?.conversion).toMatch(unit === 'ms' ? /ms/ : /^floor\(/);
    });
  }
});

describe('ingest: Arrow IPC as polars writes it', () => {
  const df = () => pl.readCSV(readFileSync(join(dir, 'ref.csv'), 'utf8'), { inferSchemaLength: 0 })
    .select(
      pl.col('ts_ms').cast(pl.Int64), pl.col('cluster_id'), pl.col('node_id'), pl.col('term').cast(pl.Int64), pl.col('role'),
      pl.col('leader_id'), pl.col('heartbeat_latency_ms').cast(pl.Float64), pl.col('log_replication_gap').cast(pl.Int64),
      pl.col('rpc_retries').cast(pl.Int64), pl.col('cpu_idle_pct').cast(pl.Float64),
      pl.col('heartbeat_received').eq(pl.lit('true')).alias('heartbeat_received'), pl.col('event'),
    );
  for (const compression of ['uncompressed', 'lz4', 'zstd'] as const) {
    it(`write_ipc (${compression}) ingests to the same rows`, async () => {
      const path = join(dir, `polars-${compression}.arrow`);
      df().writeIPC(path, { compression });
      expect(await ingestRows(path)).toEqual(reference);
      expect(lastManifest.sources[0]!.ts_ms_conversion).toBeUndefined();
    });
  }

  it('a Datetime(ns) ts_ms column becomes epoch milliseconds, and the manifest says how', async () => {
    const path = join(dir, 'polars-datetime-ns.arrow');
    df().withColumns(pl.col('ts_ms').mul(1_000_000).add(999_999).cast(pl.Datetime('ns')).alias('ts_ms')).writeIPC(path);
    expect(await ingestRows(path)).toEqual(reference); // +999,999 ns floors back to the same ms
    expect(lastManifest.sources[0]!.ts_ms_conversion).toEqual({ source_type: 'Timestamp<NANOSECOND>', source_unit: 'ns', conversion: 'floor(ns / 1000000)' });
  });
});

describe('ingest: Arrow IPC with LargeUtf8 strings (64-bit offsets, as pyarrow writes large_string)', () => {
  it('ingests to the same rows', async () => {
    const rows = [...synthRows(synth)];
    const col = <T,>(k: keyof TelemetryRow, type: T) => vectorFromArray(rows.map((r) => (k === 'ts_ms' || k === 'term' ? BigInt(r[k] as number) : (r[k] ?? null))), type as never);
    const table = new Table({
      ts_ms: col('ts_ms', new Int64()), cluster_id: col('cluster_id', new LargeUtf8()), node_id: col('node_id', new LargeUtf8()),
      term: col('term', new Int64()), role: col('role', new LargeUtf8()), leader_id: col('leader_id', new LargeUtf8()),
      heartbeat_latency_ms: col('heartbeat_latency_ms', new Float64()), log_replication_gap: col('log_replication_gap', new Int32()),
      rpc_retries: col('rpc_retries', new Int32()), cpu_idle_pct: col('cpu_idle_pct', new Float64()),
      heartbeat_received: col('heartbeat_received', new Bool()), event: col('event', new LargeUtf8()),
    });
    expect(String(table.schema.fields[1]!.type)).toBe('LargeUtf8');
    const path = join(dir, 'large-utf8.arrow');
    writeFileSync(path, tableToIPC(table, 'file'));
    expect(await ingestRows(path)).toEqual(reference);
  });
});

describe('ingest: RFC 4180 CSV', () => {
  it('a quoted field holding a line break is one field, and later rows and line numbers stay right', async () => {
    const lines = readFileSync(join(dir, 'ref.csv'), 'utf8').split('\n');
    // Line 4's cluster id becomes a quoted value spanning two lines: a new cluster of one node, not a
    // field-count error; a bad value two lines later must still be reported at its own line (7).
    const cells = lines[3]!.split(',');
    cells[1] = '"multi\nline, cluster"';
    lines[3] = cells.join(',');
    const later = lines[5]!.split(',');
    later[4] = 'leaderish';
    lines[5] = later.join(',');
    const path = join(dir, 'quoted.csv');
    writeFileSync(path, lines.join('\n'));
    await expect(ingest([path], { out: join(dir, 'out-quoted-bad'), anonKey: KEY, createdAt: CREATED })).rejects.toThrow(/quoted\.csv line 7, column role/);
    lines[5] = lines[5]!.replace('leaderish', 'follower');
    writeFileSync(path, lines.join('\n'));
    const { manifest } = await ingest([path], { out: join(dir, 'out-quoted'), anonKey: KEY, createdAt: CREATED });
    expect(manifest.row_count).toBe(ROWS);
    expect(manifest.stream_count).toBe(synth.clusters * synth.nodesPerCluster + 1);
  });
});
