/**
 * A dataset opens in the tools users reach for: `raft-ns dataset export --format parquet` gives DuckDB and
 * polars one Parquet file with the same rows and the dataset's identity in its key/value metadata.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportParquet } from '../pipeline/dataset/export.js';
import { readDataset } from '../pipeline/ingest/read.js';

const sample = new URL('../datasets/sample', import.meta.url).pathname;
let dir: string;
let rowCount: number;
let tickMs: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-open-'));
  const ds = await readDataset(sample);
  rowCount = ds.manifest.row_count;
  tickMs = ds.manifest.tick_ms;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening a dataset in DuckDB and polars', () => {
  it('the Parquet export opens in DuckDB with every row, its metadata, and in polars', async () => {
    const out = join(dir, 'sample.parquet');
    const { rows } = await exportParquet(sample, { out });
    expect(rows).toBe(rowCount);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const n = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT node_id)::INTEGER AS nodes FROM '${out}'`)).getRowObjects()[0]!;
    expect(n['n']).toBe(rowCount);
    expect(n['nodes']).toBeGreaterThan(1);
    const meta = (await db.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${out}')`)).getRowObjects();
    const kv = Object.fromEntries(meta.map((m) => [m['k'], m['v']]));
    expect(kv['raft_ns.format']).toBe('raft-ns-dataset');
    expect(kv['raft_ns.tick_ms']).toBe(String(tickMs));
    expect(pl.readParquet(out).height).toBe(rowCount);
  });
});
