/**
 * A dataset opens in the tools users reach for: its Arrow parts carry the dataset's identity in their
 * schema metadata and open in polars with the snippet docs/DATASETS.md shows; `raft-ns dataset export
 * --format parquet` gives DuckDB and polars one Parquet file with the same rows and the same identity.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { RecordBatchFileReader, RecordBatchStreamReader } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
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

describe('the Arrow parts of a dataset', () => {
  const raw = new URL('../datasets/sample/raw/telemetry.csv', import.meta.url).pathname;
  const key = Buffer.from('dataset-open test key 0123456789');
  const ingestTo = (name: string, tickMs?: number) => ingest([raw], {
    out: join(dir, name), anonKey: key, createdAt: '2026-01-01T00:00:00.000Z', partRows: 4096, batchRows: 1024, ...(tickMs === undefined ? {} : { tickMs }),
  });

  it('carry format, schema version, tick and dataset name in both schema copies (stream header and file footer)', async () => {
    const { manifest } = await ingestTo('prod-eu');
    expect(manifest.parts.length).toBeGreaterThan(1);
    for (const p of manifest.parts) {
      const bytes = readFileSync(join(dir, 'prod-eu', p.file));
      const footer = RecordBatchFileReader.from(bytes).open().schema.metadata; // what polars, pyarrow open_file read
      const header = RecordBatchStreamReader.from(Uint8Array.prototype.slice.call(bytes, 8)).open().schema.metadata; // what a stream reader sees
      for (const meta of [footer, header]) {
        expect(Object.fromEntries(meta)).toEqual({
          'raft_ns.format': 'raft-ns-dataset', 'raft_ns.schema_version': '1', 'raft_ns.tick_ms': String(manifest.tick_ms), 'raft_ns.dataset': 'prod-eu',
        });
      }
    }
  });

  it('carry the name given with --name instead of the folder name (the main job names its cache folders so)', async () => {
    const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
    const out = join(dir, 'cache-3f2a');
    const r = spawnSync(process.execPath, [cli, 'ingest', raw, '--out', out, '--no-anonymize', '--name', 'prod-eu', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout) as { parts: Array<{ file: string }> };
    const meta = RecordBatchFileReader.from(readFileSync(join(out, manifest.parts[0]!.file))).open().schema.metadata;
    expect(meta.get('raft_ns.dataset')).toBe('prod-eu');
  });

  it('an inferred tick, stamped after reading, gives the same part bytes as the tick given up front', async () => {
    // Same folder name (the name is in the metadata) under two parents.
    const inferred = (await ingestTo(join('inferred', 'same'))).manifest;
    const given = (await ingestTo(join('given', 'same'), inferred.tick_ms)).manifest;
    expect([inferred.tick_ms_source, given.tick_ms_source]).toEqual(['inferred', 'flag']);
    expect(given.parts.map((p) => p.sha256)).toEqual(inferred.parts.map((p) => p.sha256));
    expect(given.parts.map((p) => p.byte_length)).toEqual(inferred.parts.map((p) => p.byte_length));
  });

  it('open in polars (nodejs-polars) with the documented snippet: a glob over the parts', async () => {
    const { manifest } = await ingestTo('for-polars');
    const parts = join(dir, 'for-polars', 'part-*.arrow');
    // docs/DATASETS.md, polars (Node): scanIPC over a glob; readIPC takes a Buffer (a string not ending .ipc is parsed as data).
    const df = pl.scanIPC(parts).collectSync();
    expect(df.height).toBe(manifest.row_count);
    expect(df.columns).toEqual(manifest.columns.map((c) => c.name));
    const one = pl.readIPC(readFileSync(join(dir, 'for-polars', manifest.parts[0]!.file)));
    expect(one.height).toBe(manifest.parts[0]!.row_count);
  });
});

describe('docs/DATASETS.md', () => {
  const doc = readFileSync(new URL('../docs/DATASETS.md', import.meta.url), 'utf8');
  const root = new URL('..', import.meta.url).pathname;
  const blocks = (lang: string): string[] => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

  it('the polars (Node) block runs as written against datasets/sample', () => {
    const js = blocks('js')[0]!;
    const probe = `${js}\nprocess.stdout.write(JSON.stringify({ all: df.height, one: one.height, cols: df.columns }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { all: number; one: number; cols: string[] };
    expect(got.all).toBe(rowCount);
    expect(got.one).toBe(rowCount); // the sample has one part
    expect(got.cols[0]).toBe('ts_ms');
  });

  it('the DuckDB blocks run as written: the export command, then the SQL', async () => {
    const sh = blocks('sh').find((b) => b.includes('dataset export'))!.split('#')[0]!.trim().split(/\s+/);
    expect(sh.slice(0, 3)).toEqual(['raft-ns', 'dataset', 'export']);
    const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
    // Run from the temporary folder (the block's relative --out lands there), with the sample's absolute path.
    const rr = spawnSync(process.execPath, [cli, ...sh.slice(1).map((a) => (a === 'datasets/sample' ? sample : a))], { cwd: dir, encoding: 'utf8' });
    expect(rr.status, rr.stderr).toBe(0);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const sql = blocks('sql')[0]!.split(';').map((q) => q.replace(/--.*$/gm, '').trim()).filter(Boolean);
    await db.run(`SET file_search_path = '${dir}'`);
    const byNode = (await db.runAndReadAll(sql[0]!)).getRowObjects();
    expect(byNode.reduce((a, row) => a + Number(row['count_star()'] ?? Object.values(row)[1]), 0)).toBe(rowCount);
    const kv = Object.fromEntries((await db.runAndReadAll(sql[1]!)).getRowObjects().map((m) => [m['k'], m['v']]));
    expect(kv['raft_ns.tick_ms']).toBe(String(tickMs));
    expect(kv['raft_ns.dataset']).toBe('sample');
  });
});

describe('dataset export: zstd by default', () => {
  it('writes ZSTD pages on every Node (zlib where it has zstd, else libzstd in WebAssembly) that DuckDB and polars read back', async () => {
    const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
    for (const args of [[], ['--codec', 'zstd']]) {
      const out = join(dir, `zstd${args.length}.parquet`);
      const r = spawnSync(process.execPath, [cli, 'dataset', 'export', sample, '--out', out, '--json', ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ rows: rowCount, codec: 'zstd' });
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      const meta = (await db.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${out}')`)).getRowObjects();
      expect(meta.map((m) => m['compression'])).toEqual(['ZSTD']);
      expect(pl.readParquet(out).height).toBe(rowCount);
    }
  });
});
