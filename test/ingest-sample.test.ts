/**
 * datasets/sample is what ingest makes of datasets/sample/raw/telemetry.csv, byte for byte: the bundled
 * dataset is reproducible, and ingest is deterministic (same input + key + created_at → same bytes).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
import { readDataset } from '../pipeline/ingest/read.js';
import { SAMPLE_CREATED_AT, SAMPLE_KEY } from './fixtures/ingest/synth.js';

const sample = new URL('../datasets/sample/', import.meta.url).pathname;

describe('datasets/sample', () => {
  it('reads back with verified hashes, in per-node time order', async () => {
    const ds = await readDataset(sample, { verifyHashes: true });
    expect(ds.manifest.row_count).toBeGreaterThanOrEqual(2000);
    const last = new Map<string, number>();
    let n = 0;
    for await (const batch of ds.batches) {
      for (const r of batch) {
        const k = `${r.cluster_id}/${r.node_id}`;
        expect(r.ts_ms).toBeGreaterThan(last.get(k) ?? -1);
        last.set(k, r.ts_ms);
        n++;
      }
    }
    expect(n).toBe(ds.manifest.row_count);
    expect(last.size).toBe(ds.manifest.stream_count);
  });

  it('re-ingesting raw/telemetry.csv gives the same manifest and part bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raft-ns-sample-'));
    try {
      const out = join(dir, 'sample');
      await ingest([join(sample, 'raw', 'telemetry.csv')], { out, anonKey: Buffer.from(SAMPLE_KEY), createdAt: SAMPLE_CREATED_AT });
      expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(readFileSync(join(sample, 'manifest.json'), 'utf8'));
      expect(readFileSync(join(out, 'part-00000.arrow')).equals(readFileSync(join(sample, 'part-00000.arrow')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
