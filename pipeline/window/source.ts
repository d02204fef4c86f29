/**
 * The thin adapter from a dataset folder (docs/CONTRACTS.md §2, written by `raft-ns ingest`) to the rows the
 * window core consumes, plus the input hashes recorded in the windows manifest. Reading goes through
 * ingest's `readDataset` (one batch in memory at a time); this file adds only the hashing.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { readDataset } from '../ingest/read.js';
import { MANIFEST_FILE } from '../ingest/manifest.js';
import { sha256Hex } from '../util/fs.js';
import type { WindowInputRow } from './streams.js';
import type { InputInfo } from './build.js';

export interface DatasetSource {
  info: InputInfo;
  tickMs: number;
  /** Rows in file order, in batches of at most 65,536. */
  batches: AsyncIterable<WindowInputRow[]>;
}

/**
 * Opens a dataset folder: validates its manifest (readDataset), verifies every part's sha256 against it (the
 * windows manifest records those hashes as its inputs, so they must be true) and hashes the manifest itself.
 */
export async function openDataset(dir: string): Promise<DatasetSource> {
  const ds = await readDataset(dir, { verifyHashes: true });
  const manifestBytes = await readFile(join(dir, MANIFEST_FILE));
  return {
    tickMs: ds.manifest.tick_ms,
    info: {
      dataset: basename(resolve(dir)),
      datasetManifestSha256: sha256Hex(manifestBytes),
      parts: ds.manifest.parts.map((p) => ({ file: p.file, sha256: p.sha256 })),
      rowCount: ds.manifest.row_count,
    },
    batches: ds.batches,
  };
}
