/**
 * Fixtures for the window tests: hand-made traces (one node, known gaps) and a small deterministic
 * multi-cluster generator, plus a writer for a minimal dataset folder in the ingest layout (CONTRACTS.md §2).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Table, tableToIPC } from 'apache-arrow';
import { PartBatchBuilder, partColumnsForManifest } from '../pipeline/ingest/arrow-io.js';
import type { WindowInputRow } from '../pipeline/window/streams.js';
import { sha256Hex } from '../pipeline/util/fs.js';
import { mulberry32 } from '../pipeline/util/prng.js';

export const TICK_MS = 100;

/** One tick of a hand-made trace: [role, term, leader, heartbeat]. */
export type TickSpec = [role: WindowInputRow['role'], term: number, leader: string | null, hb: 0 | 1];

/** Rows of one node from a tick list; tick i ends at ts (i + 1) · 100 ms. */
export function traceRows(ticks: TickSpec[], node = 'n1', cluster = 'c1'): WindowInputRow[] {
  return ticks.map(([role, term, leader, hb], i) => ({
    ts_ms: (i + 1) * TICK_MS, cluster_id: cluster, node_id: node, term, role, leader_id: leader,
    heartbeat_latency_ms: hb ? 2 + (i % 3) : null, log_replication_gap: i % 4, rpc_retries: i % 5 === 0 ? 1 : 0,
    cpu_idle_pct: 80 + (i % 7), heartbeat_received: hb === 1,
  }));
}


/**
 * Synthetic telemetry for `clusters`, 3 nodes each, `ticks` ticks: node n0 leads term 1 with jittery
 * heartbeats, crashes at 60% of the trace, n1 wins term 2 after a silence. Rows interleaved by tick.
 */
export function syntheticRows(clusters: string[], ticks: number, seed: number): WindowInputRow[] {
  const rand = mulberry32(seed);
  const rows: WindowInputRow[] = [];
  const crashAt = Math.floor(ticks * 0.6);
  const electedAt = crashAt + 12;
  for (let t = 0; t < ticks; t++) {
    for (const c of clusters) {
      for (const node of ['n0', 'n1', 'n2']) {
        const ts = (t + 1) * TICK_MS;
        let role: WindowInputRow['role'] = 'follower';
        let term = 1;
        let leader: string | null = 'n0';
        let hb = false;
        if (t < crashAt) {
          if (node === 'n0') role = 'leader';
          else hb = rand() < 0.6;
        } else if (t < electedAt) {
          if (node === 'n0') continue; // crashed: no rows
          if (t >= crashAt + 8) {
            term = 2;
            leader = null;
            role = node === 'n1' ? 'candidate' : 'follower';
          }
        } else {
          if (node === 'n0') continue;
          term = 2;
          leader = 'n1';
          if (node === 'n1') role = 'leader';
          else hb = rand() < 0.7;
        }
        rows.push({
          ts_ms: ts, cluster_id: c, node_id: node, term, role, leader_id: leader,
          heartbeat_latency_ms: hb ? 1 + 4 * rand() : null, log_replication_gap: Math.floor(3 * rand()),
          rpc_retries: rand() < 0.1 ? 1 : 0, cpu_idle_pct: 50 + 40 * rand(), heartbeat_received: hb,
        });
      }
    }
  }
  return rows;
}

/** Writes `rows` as a one-part dataset folder in ingest's layout with a schema-valid manifest. */
export function writeDatasetFolder(dir: string, rows: WindowInputRow[]): void {
  mkdirSync(dir, { recursive: true });
  const batches = [];
  let b = new PartBatchBuilder();
  for (const r of rows) {
    b.push(r.ts_ms, r.cluster_id, r.node_id, r.term, r.role, r.leader_id, r.heartbeat_latency_ms, r.log_replication_gap,
      r.rpc_retries, r.cpu_idle_pct, r.heartbeat_received, null);
    if (b.full) (batches.push(b.build()), (b = new PartBatchBuilder()));
  }
  if (b.length > 0 || batches.length === 0) batches.push(b.build());
  const bytes = tableToIPC(new Table(batches), 'file');
  writeFileSync(join(dir, 'part-00000.arrow'), bytes);
  const streams = new Set(rows.map((r) => `${r.cluster_id}/${r.node_id}`));
  const manifest = {
    format: 'raft-ns-dataset', schema_version: 1, tool_version: '0.0.0-test', created_at: '2026-01-01T00:00:00Z',
    tick_ms: TICK_MS, tick_ms_source: 'flag', row_count: rows.length, columns: partColumnsForManifest(), stats: {},
    stream_count: streams.size, cluster_count: new Set(rows.map((r) => r.cluster_id)).size, sources: [],
    parts: [{ file: 'part-00000.arrow', sha256: sha256Hex(bytes), byte_length: bytes.byteLength, row_count: rows.length, batch_count: batches.length }],
    invalid: { on_invalid: 'fail', row_count: 0 }, anonymization: { method: 'none' },
    options: { allow_extra_columns: false, part_rows: 1_000_000, batch_rows: 65_536 },
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
