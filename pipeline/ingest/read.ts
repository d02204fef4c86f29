/**
 * `readDataset(dir)`: the one way other stages read an ingested dataset (docs/CONTRACTS.md §2).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { sha256File } from '../util/fs.js';
import { rowsFromPartBatch } from './arrow-io.js';
import { MANIFEST_FILE, type DatasetManifest } from './manifest.js';
import type { TelemetryRow } from './telemetry.js';

export interface ReadDatasetOptions {
  /** Re-hash every part and compare with the manifest before reading (a full extra pass). Default false. */
  verifyHashes?: boolean;
}

export interface Dataset {
  /** The dataset folder. */
  dir: string;
  /** The validated manifest. */
  manifest: DatasetManifest;
  /**
   * Row batches in file order (parts in manifest order, record batches in file order; at most 65,536 rows
   * each). Per-node time order is guaranteed by ingest: for every (cluster_id, node_id), ts_ms strictly
   * increases. Every row has `event` (null when none). Iterable more than once; each pass re-reads the
   * parts from disk, so memory stays at one batch whatever the dataset size.
   */
  batches: AsyncIterable<TelemetryRow[]>;
}

/**
 * Opens a dataset folder written by `raft-ns ingest`: validates manifest.json against
 * schemas/dataset-manifest.schema.json and checks each part's size (and, if asked, its sha256).
 *
 * @example
 * const ds = await readDataset('datasets/sample');
 * console.log(ds.manifest.tick_ms, ds.manifest.row_count);
 * for await (const rows of ds.batches) for (const r of rows) use(r.ts_ms, r.node_id, r.heartbeat_latency_ms);
 */
export async function readDataset(dir: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const manifest = await readManifest(dir);
  for (const part of manifest.parts) {
    const path = join(dir, part.file);
    const st = await stat(path).catch(() => null);
    if (!st) throw new RaftNsError('dataset.part-missing', `dataset: ${path} is listed in ${join(dir, MANIFEST_FILE)} but missing`);
    if (st.size !== part.byte_length) {
      throw new RaftNsError('dataset.part-size', `dataset: ${path} has ${st.size} bytes, manifest says ${part.byte_length}; the dataset is damaged, re-run ingest`);
    }
    if (options.verifyHashes) {
      const got = await sha256File(path);
      if (got !== part.sha256) throw new RaftNsError('dataset.part-hash', `dataset: ${path} sha256 ${got} differs from the manifest's ${part.sha256}; re-run ingest`);
    }
  }
  const batches: AsyncIterable<TelemetryRow[]> = {
    async *[Symbol.asyncIterator]() {
      for (const part of manifest.parts) {
        for await (const batch of partBatches(join(dir, part.file))) yield rowsFromPartBatch(batch);
      }
    },
  };
  return { dir, manifest, batches };
}

/** Reads and validates `<dir>/manifest.json`. */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new RaftNsError('dataset.no-manifest', `dataset: ${path} not found; expected a dataset folder written by \`raft-ns ingest\``);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RaftNsError('dataset.manifest-json', `dataset: ${path} is not valid JSON (${(err as Error).message})`);
  }
  const v = validateAgainst<DatasetManifest>('dataset-manifest', json);
  if (!v.ok) {
    const first = v.issues[0]!;
    throw new RaftNsError('dataset.manifest-schema', `dataset: ${path} at ${first.path}: ${first.message} (schemas/dataset-manifest.schema.json)`);
  }
  return v.value;
}

/** Record batches of one Arrow IPC part, read lazily through a file handle (random access, bounded memory). */
export async function* partBatches(path: string): AsyncGenerator<RecordBatch> {
  const fh = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    for await (const batch of reader) yield batch;
  } catch (err) {
    if (err instanceof RaftNsError) throw err;
    throw new RaftNsError('dataset.part-read', `dataset: ${path}: cannot read Arrow part (${(err as Error).message})`, { cause: err });
  } finally {
    await fh.close().catch(() => undefined);
  }
}
