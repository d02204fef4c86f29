/**
 * Train/serve parity of the inputs: the features stored in the
 * windows are, tick by tick and bit for bit, what the runtime's FeatureState computes from the same rows with
 * the manifest's normalization.
 */
import { describe, expect, it } from 'vitest';
import { FeatureState } from '../runtime/features.js';
import { buildWindows } from '../pipeline/window/build.js';
import { decodeSplit } from '../pipeline/window/format.js';
import { StreamCollector } from '../pipeline/window/streams.js';
import { SPLIT_NAMES } from '../pipeline/window/types.js';
import { TICK_MS, syntheticRows } from './window-fixtures.js';

describe('window features match the runtime', () => {
  it('stores exactly FeatureState.normalizedInto of every tick, in every split', () => {
    const rows = syntheticRows(['a', 'b', 'c', 'd'], 100, 4);
    const c = new StreamCollector('synthetic');
    for (const r of rows) c.add(r);
    const { manifest, files } = buildWindows(c.finish(), {
      windowLen: 32, stride: 32, seed: 3, fractions: { train: 0.5, val: 0.25, test: 0.25 }, clip: 5, tickMs: TICK_MS,
    }, { dataset: 'synthetic', datasetManifestSha256: '0'.repeat(64), parts: [], rowCount: rows.length });
    let compared = 0;
    for (const name of SPLIT_NAMES) {
      const split = decodeSplit(name, files[name], manifest.splits[name].chunks, manifest.T, manifest.F, manifest.record);
      for (const st of manifest.splits[name].stream_table) {
        const mine = rows.filter((r) => r.cluster_id === st.cluster_id && r.node_id === st.node_id);
        expect(mine.length).toBe(st.ticks);
        const fs = new FeatureState(); // the runtime starts from a fresh state at its first observation
        const z = new Float64Array(4);
        mine.forEach((r, t) => {
          fs.normalizedInto({
            nowMs: r.ts_ms, heartbeatReceived: r.heartbeat_received, term: r.term, leaderId: r.leader_id,
            heartbeatLatencyMs: r.heartbeat_latency_ms, logReplicationGap: r.log_replication_gap,
            rpcRetries: r.rpc_retries, cpuIdlePct: r.cpu_idle_pct,
          }, manifest.normalization, z);
          const base = (st.first_chunk * manifest.T + t) * 4;
          expect([...split.x.subarray(base, base + 4)]).toEqual([...z].map(Math.fround));
          compared++;
        });
      }
    }
    expect(compared).toBe(rows.length);
  });
});
