/**
 * Steady state allocates nothing: 1M observe() calls with the heap and the garbage collector watched. In its
 * own file (its own process) so other tests' type feedback cannot change what the optimizer does here.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { artifactFromBytes } from '../runtime/artifact.js';
import { makeSharedModel, NeuroSymbolicTimeout, type TimeoutObservation } from '../runtime/timeout.js';
import { buildFixtureArtifact, prng } from './runtime-fixtures/artifact-writer.js';

const fx = buildFixtureArtifact(7);
const artifact = artifactFromBytes(JSON.stringify(fx.manifest), fx.weights);

describe('NeuroSymbolicTimeout heap', () => {
  it.each([
    ['wasm', 1_000_000],
    ['js', 300_000],
  ] as const)('allocates nothing per observe() in steady state (%s kernel, %i calls, heap watched)', (kernel, calls) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const p = new NeuroSymbolicTimeout({ model: makeSharedModel(artifact, 'int8', kernel) });
    expect(p.explain().model!.kernel).toBe(kernel);
    const o: TimeoutObservation = {
      nowMs: 0, tickMs: 100, role: 'follower', term: 3, leaderId: 'n1', heartbeatLatencyMs: 0.5, logReplicationGap: 0, rpcRetries: 0,
      cpuIdlePct: 80.5, heartbeatReceived: true, clusterSize: 5, peersReachable: 4, heartbeatIntervalMs: 100,
    };
    const r = prng(5);
    const lat = Float64Array.from({ length: 1024 }, () => r() * 20);
    drive(p, o, lat, 0, 200_000); // warm up: let the optimizing compiler settle
    gc();
    let gcs = 0;
    const po = new PerformanceObserver((list) => void (gcs += list.getEntries().length));
    po.observe({ entryTypes: ['gc'] });
    const before = process.memoryUsage().heapUsed;
    const sum = drive(p, o, lat, 200_000, calls);
    const grownBytes = process.memoryUsage().heapUsed - before;
    po.disconnect();
    expect(sum).toBeGreaterThan(0);
    expect(p.explain().fallbackCount).toBe(0);
    // 300K calls allocating even 16 bytes each would grow the heap by 4.8 MB and trigger scavenges.
    expect(grownBytes).toBeLessThan(1_000_000);
    expect(gcs).toBeLessThanOrEqual(1);
  });
});

/** The steady-state loop of a Raft node: one observation object updated in place, locals only (no closures). */
function drive(p: NeuroSymbolicTimeout, o: TimeoutObservation, lat: Float64Array, from: number, n: number): number {
  let sum = 0;
  for (let i = from; i < from + n; i++) {
    o.nowMs = i * 100;
    o.heartbeatLatencyMs = lat[i & 1023]!;
    o.heartbeatReceived = (i & 7) !== 0;
    o.rpcRetries = i & 3;
    p.observe(o);
    sum += p.electionTimeoutMs();
  }
  return sum;
}
