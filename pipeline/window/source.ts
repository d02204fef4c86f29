/**
 * The thin adapter from a dataset folder (docs/CONTRACTS.md §2, written by `raft-ns ingest`) to the rows the
 * window core consumes, plus the input hashes recorded in the windows manifest.
 *
 * Interim reader: it reads the Arrow parts listed in the dataset manifest directly with apache-arrow, checking
 * each part's sha256 first. When `readDataset` (pipeline/ingest/read.ts) is committed, `datasetRows` switches to
 * it; the rest of `window` only sees `WindowInputRow` batches.
 */
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';
import type { WindowInputRow } from './streams.js';
import type { InputInfo } from './build.js';

export interface DatasetSource {
  info: InputInfo;
  tickMs: number;
  /** Rows in file order, in batches. */
  batches(): AsyncIterable<WindowInputRow[]>;
}

interface DatasetManifestSubset {
  tick_ms?: unknown;
  row_count?: unknown;
  parts?: unknown;
}

/** Opens a dataset folder: reads and hashes its manifest, checks each part's sha256 against it. */
export function openDataset(dir: string): DatasetSource {
  const manifestPath = join(dir, 'manifest.json');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(manifestPath);
  } catch (err) {
    throw new RaftNsError('window.dataset', `window: ${manifestPath}: cannot read (${(err as Error).message}); expected a dataset folder written by raft-ns ingest`, { cause: err });
  }
  let m: DatasetManifestSubset;
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as DatasetManifestSubset;
  } catch (err) {
    throw new RaftNsError('window.dataset', `window: ${manifestPath}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof m.tick_ms !== 'number' || !(m.tick_ms > 0)) {
    throw new RaftNsError('window.dataset', `window: ${manifestPath} at /tick_ms: ${String(m.tick_ms)}; expected a positive number`);
  }
  if (!Array.isArray(m.parts)) throw new RaftNsError('window.dataset', `window: ${manifestPath} at /parts: expected an array of {file, sha256}`);
  const parts = m.parts.map((p: unknown, i: number) => {
    const part = p as { file?: unknown; sha256?: unknown };
    if (typeof part.file !== 'string' || typeof part.sha256 !== 'string' || basename(part.file) !== part.file) {
      throw new RaftNsError('window.dataset', `window: ${manifestPath} at /parts/${i}: expected {file: <base name>, sha256}`);
    }
    return { file: part.file, sha256: part.sha256 };
  });
  const tickMs = m.tick_ms;
  const rowCount = typeof m.row_count === 'number' ? m.row_count : -1;
  return {
    tickMs,
    info: { dataset: basename(resolve(dir)), datasetManifestSha256: sha256Hex(bytes), parts, rowCount },
    async *batches() {
      for (const part of parts) {
        const path = join(dir, part.file);
        const data = readPart(path, part.sha256);
        for (const batch of RecordBatchReader.from(data)) yield rowsOfBatch(batch, path);
      }
    },
  };
}

function readPart(path: string, sha256: string): Uint8Array {
  let data: Uint8Array;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new RaftNsError('window.dataset', `window: ${path}: cannot read the part (${(err as Error).message})`, { cause: err });
  }
  const got = sha256Hex(data);
  if (got !== sha256) throw new RaftNsError('window.dataset', `window: ${path}: sha256 ${got}; expected ${sha256} from the dataset manifest`);
  return data;
}

const NEEDED = ['ts_ms', 'cluster_id', 'node_id', 'term', 'role', 'leader_id', 'heartbeat_latency_ms', 'log_replication_gap',
  'rpc_retries', 'cpu_idle_pct', 'heartbeat_received'] as const;

function rowsOfBatch(batch: RecordBatch, path: string): WindowInputRow[] {
  const cols = NEEDED.map((name) => {
    const c = batch.getChild(name);
    if (!c) throw new RaftNsError('window.dataset', `window: ${path}: column ${name} missing; expected the telemetry columns`);
    return c;
  });
  const [ts, cluster, node, term, role, leader, lat, gap, retries, cpu, hb] = cols as [typeof cols[0], ...typeof cols];
  const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
  const rows: WindowInputRow[] = new Array(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) {
    const l = lat!.get(i) as number | null;
    rows[i] = {
      ts_ms: num(ts.get(i)),
      cluster_id: String(cluster!.get(i)),
      node_id: String(node!.get(i)),
      term: num(term!.get(i)),
      role: String(role!.get(i)),
      leader_id: (leader!.get(i) as string | null) ?? null,
      heartbeat_latency_ms: l === null || l === undefined ? null : l,
      log_replication_gap: num(gap!.get(i)),
      rpc_retries: num(retries!.get(i)),
      cpu_idle_pct: num(cpu!.get(i)),
      heartbeat_received: Boolean(hb!.get(i)),
    };
  }
  return rows;
}
