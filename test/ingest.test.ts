import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Bool, Dictionary, Float32, Float64, Int32, Int64, Table, TimestampMicrosecond, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
import { readDataset } from '../pipeline/ingest/read.js';
import type { TelemetryRow } from '../pipeline/ingest/telemetry.js';
import { clusterName, nodeName, synthRows, writeArrow, writeCsv, writeNdjson, writeParquet } from './fixtures/ingest/synth.js';

const KEY = Buffer.from('test key: 0123456789abcdef');
const CREATED = '2026-01-01T00:00:00.000Z';
const synth = { seed: 7, clusters: 2, nodesPerCluster: 3, ticks: 300, tickMs: 100 };
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-ingest-'));
  const rows = [...synthRows(synth)];
  await writeCsv(join(dir, 'in.csv'), rows);
  await writeNdjson(join(dir, 'in.ndjson'), rows);
  writeArrow(join(dir, 'in.arrow'), rows, { batchRows: 500 });
  writeArrow(join(dir, 'in.arrows'), rows, { stream: true, batchRows: 700 });
  writeParquet(join(dir, 'in.parquet'), rows);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function allRows(out: string): Promise<TelemetryRow[]> {
  const ds = await readDataset(out, { verifyHashes: true });
  const rows: TelemetryRow[] = [];
  for await (const b of ds.batches) rows.push(...b);
  return rows;
}

describe('ingest: every input format gives the same dataset', () => {
  it('CSV, NDJSON, Arrow file, Arrow stream and Parquet → identical rows and parts', async () => {
    const results: Array<{ rows: TelemetryRow[]; partHash: string }> = [];
    for (const f of ['in.csv', 'in.ndjson', 'in.arrow', 'in.arrows', 'in.parquet']) {
      // One folder name under a parent per format: the name is part of each part's schema metadata.
      const out = join(dir, `out-${f}`, 'dataset');
      const { manifest } = await ingest([join(dir, f)], { out, anonKey: KEY, createdAt: CREATED, batchRows: 1000, partRows: 4000 });
      expect(manifest.row_count).toBe(1800);
      expect(manifest.tick_ms).toBe(100);
      expect(manifest.tick_ms_source).toBe('inferred');
      expect(manifest.stream_count).toBe(6);
      expect(manifest.parts.map((p) => p.row_count)).toEqual([1800]);
      results.push({ rows: await allRows(out), partHash: manifest.parts[0]!.sha256 });
    }
    for (const r of results.slice(1)) {
      expect(r.rows).toEqual(results[0]!.rows);
      expect(r.partHash).toBe(results[0]!.partHash);
    }
  });
});

describe('ingest: anonymization', () => {
  it('no raw identifier (or hostname / IP fragment) survives in any output byte, quarantine included', async () => {
    const rows = [...synthRows({ ...synth, ticks: 100 })];
    // Some bad rows so the quarantine holds records about rows with raw ids.
    rows[10] = { ...rows[10]!, cpu_idle_pct: 140 };
    rows[20] = { ...rows[20]!, cluster_id: `${rows[20]!.cluster_id}${'x'.repeat(300)}` };
    await writeCsv(join(dir, 'anon.csv'), rows);
    const out = join(dir, 'anon-out');
    const { manifest } = await ingest([join(dir, 'anon.csv')], { out, anonKey: KEY, createdAt: CREATED, onInvalid: 'quarantine' });
    expect(manifest.invalid.row_count).toBe(2);
    const secrets: string[] = [];
    for (let c = 0; c < synth.clusters; c++) {
      secrets.push(clusterName(c));
      for (let n = 0; n < synth.nodesPerCluster; n++) secrets.push(nodeName(c, n));
    }
    // Fragments: hostnames and IP addresses inside the ids, and the key itself.
    secrets.push('payments.example.com', 'internal', 'etcd-0', 'etcd-2', '10.1.0.11', '10.2.0.11', ':2380', KEY.toString());
    const files = readdirSync(out);
    expect(files.sort()).toEqual(['manifest.json', 'part-00000.arrow', 'quarantine.ndjson']);
    for (const f of files) {
      const bytes = readFileSync(join(out, f));
      for (const s of secrets) expect(bytes.includes(Buffer.from(s)), `${s} in ${f}`).toBe(false);
    }
    expect(manifest.anonymization.key_fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('same id + same key → same pseudonym across files and runs; leader_id matches the leader node_id', async () => {
    const a = await allRows(join(dir, 'out-in.csv', 'dataset'));
    const out2 = join(dir, 'anon-again');
    await ingest([join(dir, 'in.parquet')], { out: out2, anonKey: KEY, createdAt: CREATED });
    const b = await allRows(out2);
    expect(b).toEqual(a);
    const nodes = new Set(a.map((r) => r.node_id));
    expect(nodes.size).toBe(6);
    for (const r of a) if (r.leader_id !== null) expect(nodes.has(r.leader_id)).toBe(true);
    expect(a[0]!.node_id).toMatch(/^n-[0-9a-f]{16}$/);
    expect(a[0]!.cluster_id).toMatch(/^c-[0-9a-f]{16}$/);
    // A different key gives different pseudonyms.
    const out3 = join(dir, 'anon-other-key');
    await ingest([join(dir, 'in.csv')], { out: out3, anonKey: Buffer.from('another key, also 16+ bytes'), createdAt: CREATED });
    const c = await allRows(out3);
    expect(c[0]!.node_id).not.toBe(a[0]!.node_id);
  });
});

describe('ingest: Arrow inputs as other tools write them', () => {
  it('accepts Timestamp(µs) ts_ms, Dictionary<Utf8> ids, Float32 and Int64 numbers, any column order', async () => {
    const rows = [...synthRows({ ...synth, ticks: 50 })];
    const col = <K extends keyof TelemetryRow>(k: K) => rows.map((r) => r[k] ?? null);
    const dict = () => new Dictionary(new Utf8(), new Int32());
    const table = new Table({
      node_id: vectorFromArray(col('node_id'), dict()),
      cluster_id: vectorFromArray(col('cluster_id'), dict()),
      ts_ms: vectorFromArray(rows.map((r) => r.ts_ms), new TimestampMicrosecond()), // the builder takes epoch ms, stores µs
      term: vectorFromArray(rows.map((r) => BigInt(r.term)), new Int64()),
      role: vectorFromArray(col('role'), dict()),
      leader_id: vectorFromArray(col('leader_id'), new Utf8()),
      heartbeat_latency_ms: vectorFromArray(col('heartbeat_latency_ms'), new Float64()),
      log_replication_gap: vectorFromArray(col('log_replication_gap'), new Int32()),
      rpc_retries: vectorFromArray(col('rpc_retries'), new Int32()),
      cpu_idle_pct: vectorFromArray(rows.map((r) => r.cpu_idle_pct), new Float32()),
      heartbeat_received: vectorFromArray(col('heartbeat_received'), new Bool()),
    });
    const file = join(dir, 'foreign.arrow');
    writeFileSync(file, tableToIPC(table, 'file'));
    const out = join(dir, 'foreign-out');
    const { manifest } = await ingest([file], { out, anonKey: KEY, createdAt: CREATED });
    expect(manifest.row_count).toBe(rows.length);
    const got = await allRows(out);
    const ref = await allRows(join(dir, 'out-in.csv', 'dataset'));
    // Same rows as the CSV ingest of the same generator, except Float32 rounding of cpu_idle_pct.
    got.forEach((r, i) => {
      expect({ ...r, cpu_idle_pct: 0, event: null }).toEqual({ ...ref[i]!, cpu_idle_pct: 0, event: null });
      expect(r.cpu_idle_pct).toBeCloseTo(ref[i]!.cpu_idle_pct, 4);
    });
  });
});
