/**
 * Splits are by cluster or by time block, never by window: no chunk spans two splits, a stream is cut only
 * at its cluster's block boundaries, normalization comes from the training split only, and the same input
 * and seed give the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { buildWindows, type InputInfo, type WindowConfig } from '../pipeline/window/build.js';
import { decodeSplit } from '../pipeline/window/format.js';
import { StreamCollector, type WindowInputRow } from '../pipeline/window/streams.js';
import { splitCounts } from '../pipeline/window/split.js';
import { SPLIT_NAMES } from '../pipeline/window/types.js';
import { TICK_MS, syntheticRows } from './window-fixtures.js';

const INPUT: InputInfo = { dataset: 'synthetic', datasetManifestSha256: '0'.repeat(64), parts: [], rowCount: 0 };
const CONFIG: WindowConfig = { windowLen: 16, stride: 16, seed: 7, fractions: { train: 0.7, val: 0.15, test: 0.15 }, clip: 5, tickMs: TICK_MS };

function build(rows: WindowInputRow[], config: WindowConfig = CONFIG) {
  const c = new StreamCollector('synthetic');
  for (const r of rows) c.add(r);
  return buildWindows(c.finish(), config, { ...INPUT, rowCount: c.rowCount });
}

const CLUSTERS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];

describe('window split by cluster (≥ 3 clusters)', () => {
  const rows = syntheticRows(CLUSTERS, 150, 1);
  const { manifest, files } = build(rows);

  it('puts every cluster, and so every stream and chunk, in exactly one split', () => {
    expect(manifest.split.mode).toBe('cluster');
    const seen = new Map<string, string>();
    for (const name of SPLIT_NAMES) {
      for (const row of manifest.splits[name].stream_table) {
        const prev = seen.get(row.cluster_id);
        expect(prev === undefined || prev === name).toBe(true);
        seen.set(row.cluster_id, name);
      }
    }
    expect([...seen.keys()].sort()).toEqual(CLUSTERS);
    expect(SPLIT_NAMES.map((n) => manifest.splits[n].clusters.length)).toEqual([5, 1, 1]);
  });

  it('writes consecutive chunks per stream with chunk indices 0, 1, 2, … and pads the last one with weight 0', () => {
    const s = manifest.splits.train;
    const split = decodeSplit('train', files.train, s.chunks, manifest.T, manifest.F, manifest.record);
    for (const row of s.stream_table) {
      expect(row.chunks).toBe(Math.ceil(row.ticks / manifest.T));
      for (let k = 0; k < row.chunks; k++) {
        expect(split.streamId[row.first_chunk + k]).toBe(row.stream_id);
        expect(split.chunkIndex[row.first_chunk + k]).toBe(k);
      }
      const last = row.first_chunk + row.chunks - 1;
      for (let t = row.ticks - (row.chunks - 1) * manifest.T; t < manifest.T; t++) {
        expect(split.wGap[last * manifest.T + t]).toBe(0);
        expect(split.wLost[last * manifest.T + t]).toBe(0);
      }
    }
    expect(s.supervised_ticks).toBeGreaterThan(0);
    expect(s.lost_ticks).toBeGreaterThan(0); // the crash of n0 is seen from n1 and n2 in every cluster
  });

  it('assigns clusters deterministically from the seed, and another seed can choose differently', () => {
    const again = build(syntheticRows(CLUSTERS, 150, 1));
    expect(again.manifest.split).toEqual(manifest.split);
    const other = [1, 2, 3, 4, 5].map((seed) => JSON.stringify(build(rows, { ...CONFIG, seed }).manifest.split.clusters));
    expect(new Set(other).size).toBeGreaterThan(1);
  });

  it('fits normalization on the training split only', () => {
    const valCluster = manifest.splits.val.clusters[0]!;
    const testCluster = manifest.splits.test.clusters[0]!;
    const trainCluster = manifest.splits.train.clusters[0]!;
    const changed = (cluster: string) =>
      rows.map((r) => (r.cluster_id === cluster ? { ...r, cpu_idle_pct: 1, heartbeat_latency_ms: r.heartbeat_latency_ms === null ? null : 900, rpc_retries: 7 } : r));
    const vt = build(changed(valCluster).map((r) => (r.cluster_id === testCluster ? { ...r, log_replication_gap: 1000 } : r)));
    expect(vt.manifest.normalization).toEqual(manifest.normalization);
    expect(Buffer.from(vt.files.train).equals(Buffer.from(files.train))).toBe(true);
    expect(Buffer.from(vt.files.val).equals(Buffer.from(files.val))).toBe(false);
    const tr = build(changed(trainCluster));
    expect(tr.manifest.normalization.mean).not.toEqual(manifest.normalization.mean);
  });

  it('gives the same bytes for the same input and seed, whatever the row interleaving', () => {
    // The same rows grouped by node instead of interleaved by tick (per-node order kept).
    const byNode = [...rows].sort((a, b) => (a.node_id < b.node_id ? -1 : a.node_id > b.node_id ? 1 : 0));
    const again = build(byNode);
    expect(JSON.stringify(again.manifest)).toBe(JSON.stringify(manifest));
    for (const n of SPLIT_NAMES) expect(Buffer.from(again.files[n]).equals(Buffer.from(files[n]))).toBe(true);
  });
});

describe('window split by time block (< 3 clusters)', () => {
  const rows = syntheticRows(['alpha', 'bravo'], 300, 2);
  const { manifest, files } = build(rows);
  const blocks = manifest.split.blocks!;

  it('cuts each cluster into contiguous train, val and test blocks', () => {
    expect(manifest.split.mode).toBe('time');
    for (const c of ['alpha', 'bravo']) {
      const mine = blocks.filter((b) => b.cluster_id === c);
      expect(mine.map((b) => b.split)).toEqual(['train', 'val', 'test']);
      expect(mine[0]!.to_ts_ms).toBe(mine[1]!.from_ts_ms);
      expect(mine[1]!.to_ts_ms).toBe(mine[2]!.from_ts_ms);
    }
  });

  it('keeps every chunk inside one block and cuts a stream only at block boundaries', () => {
    const segments = new Map<string, Array<{ split: string; first: number; last: number; ticks: number }>>();
    for (const name of SPLIT_NAMES) {
      for (const row of manifest.splits[name].stream_table) {
        const block = blocks.find((b) => b.cluster_id === row.cluster_id && b.split === name)!;
        // Every tick of the segment, hence of each of its chunks, is inside this split's block.
        expect(row.first_ts_ms).toBeGreaterThanOrEqual(block.from_ts_ms);
        expect(row.last_ts_ms).toBeLessThan(block.to_ts_ms);
        const key = `${row.cluster_id}/${row.node_id}`;
        segments.set(key, [...(segments.get(key) ?? []), { split: name, first: row.first_ts_ms, last: row.last_ts_ms, ticks: row.ticks }]);
      }
    }
    for (const [key, segs] of segments) {
      const [cluster, node] = key.split('/');
      const nodeRows = rows.filter((r) => r.cluster_id === cluster && r.node_id === node);
      // No tick lost or duplicated, and consecutive segments meet exactly at a block boundary.
      expect(segs.reduce((a, s) => a + s.ticks, 0)).toBe(nodeRows.length);
      for (let i = 1; i < segs.length; i++) {
        const boundary = blocks.find((b) => b.cluster_id === cluster && b.split === segs[i]!.split)!.from_ts_ms;
        expect(segs[i - 1]!.last).toBeLessThan(boundary);
        expect(segs[i]!.first).toBeGreaterThanOrEqual(boundary);
        const lastBefore = nodeRows.filter((r) => r.ts_ms < boundary).at(-1)!.ts_ms;
        expect(segs[i - 1]!.last).toBe(lastBefore);
      }
    }
  });

  it('labels each block on its own: no train label looks past the end of the train block', () => {
    const train = decodeSplit('train', files.train, manifest.splits.train.chunks, manifest.T, manifest.F, manifest.record);
    for (const row of manifest.splits.train.stream_table) {
      const end = blocks.find((b) => b.cluster_id === row.cluster_id && b.split === 'train')!.to_ts_ms;
      // For every supervised tick, an observed gap must end inside the block: ts + gap ≤ block end.
      for (let t = 0; t < row.ticks; t++) {
        const i = row.first_chunk * manifest.T + t;
        if (!train.wGap[i] || train.censored[i]) continue;
        const tsMs = row.first_ts_ms + t * TICK_MS;
        expect(tsMs + Math.exp(train.gapLn[i]!) - 1e-3).toBeLessThanOrEqual(end);
      }
    }
  });
});

describe('split counts', () => {
  it('gives every split at least one cluster from 3 clusters up, and follows the fractions', () => {
    const f = { train: 0.7, val: 0.15, test: 0.15 };
    expect(splitCounts(3, f)).toEqual({ train: 1, val: 1, test: 1 });
    expect(splitCounts(10, f)).toEqual({ train: 7, val: 2, test: 1 });
    expect(splitCounts(20, f)).toEqual({ train: 14, val: 3, test: 3 });
  });
});

describe('window stride', () => {
  it('marks overlapping windows (stride < T) as zero-state and covers every tick', () => {
    const rows = syntheticRows(['a', 'b', 'c'], 100, 5);
    const { manifest, files } = build(rows, { ...CONFIG, windowLen: 16, stride: 8 });
    expect(manifest.state).toBe('zero');
    const s = manifest.splits.train;
    const split = decodeSplit('train', files.train, s.chunks, manifest.T, manifest.F, manifest.record);
    for (const row of s.stream_table) {
      // Starts 0, 8, 16, … up to the first window reaching the end of the stream.
      expect(row.chunks).toBe(Math.max(1, Math.ceil((row.ticks - 16) / 8) + 1));
      expect(split.chunkIndex[row.first_chunk + row.chunks - 1]).toBe(row.chunks - 1);
    }
    expect(build(rows).manifest.state).toBe('carried');
  });
});

describe('window restarts', () => {
  it('starts a new segment (fresh state, chunk index 0, own labels) where a node restarted', () => {
    const rows = syntheticRows(['a', 'b', 'c'], 100, 6);
    let seen = 0;
    const marked = rows.map((r) => (r.cluster_id === 'a' && r.node_id === 'n2' && seen++ === 40 ? { ...r, event: 'restarted' } : r));
    const { manifest, files } = build(marked);
    const name = SPLIT_NAMES.find((n) => manifest.splits[n].clusters.includes('a'))!;
    const table = manifest.splits[name].stream_table.filter((r) => r.cluster_id === 'a' && r.node_id === 'n2');
    expect(table.map((r) => r.ticks)).toEqual([40, 60]);
    expect(table[1]!.first_ts_ms).toBe(41 * TICK_MS);
    const split = decodeSplit(name, files[name], manifest.splits[name].chunks, manifest.T, manifest.F, manifest.record);
    expect(split.chunkIndex[table[1]!.first_chunk]).toBe(0);
    expect(split.streamId[table[1]!.first_chunk]).not.toBe(split.streamId[table[0]!.first_chunk]);
    // The first lifetime ends mid-period: its last supervised tick is censored with leader_lost unknown.
    const last = table[0]!.first_chunk * manifest.T + 39;
    expect([split.wGap[last], split.censored[last], split.wLost[last]]).toEqual([1, 1, 0]);
    expect(build(rows).manifest.splits[name].stream_table.filter((r) => r.cluster_id === 'a' && r.node_id === 'n2')).toHaveLength(1);
  });
});
