/**
 * Steady state allocates nothing with a survived_silence_floor in the rules (the runtime then keeps its ring of
 * survived silences; every call here is a contact, so every call records one). Its own file, as
 * test/runtime-heap.test.ts and for the same reason: other code's type feedback changes what the optimizer does.
 */
import { Session } from 'node:inspector/promises';
import { describe, expect, it } from 'vitest';
import { artifactFromBytes } from '../runtime/artifact.js';
import { makeSharedModel, NeuroSymbolicTimeout, type TimeoutObservation } from '../runtime/timeout.js';
import { buildFixtureArtifact, prng } from './runtime-fixtures/artifact-writer.js';
import type { SafetyRules } from '../runtime/rules.js';
import defaults from '../rules/default.rules.json' with { type: 'json' };

const fx = buildFixtureArtifact(7);
const artifact = artifactFromBytes(JSON.stringify(fx.manifest), fx.weights);

describe('NeuroSymbolicTimeout heap', () => {
  const rules = { ...(defaults as unknown as SafetyRules) };
  rules.rules = [...rules.rules.filter((r) => r.kind !== 'survived_silence_floor'), { id: 'survived', kind: 'survived_silence_floor', window_ms: 30_000, margin: 1, why: 'test' }];
  it.each([
    ['js', 300_000],
  ] as const)('allocates nothing per observe() in steady state (%s kernel, %i calls, a survived-silence floor, every allocation sampled)', async (kernel, calls) => {
    const p = new NeuroSymbolicTimeout({ model: makeSharedModel(artifact, 'int8', kernel), rules });
    expect(p.explain().model!.kernel).toBe(kernel);
    const o: TimeoutObservation = {
      nowMs: 0, tickMs: 100, role: 'follower', term: 3, leaderId: 'n1', heartbeatLatencyMs: 0.5, logReplicationGap: 0, rpcRetries: 0,
      cpuIdlePct: 80.5, heartbeatReceived: true, clusterSize: 5, peersReachable: 4, heartbeatIntervalMs: 100,
    };
    const r = prng(5);
    const lat = Float64Array.from({ length: 1024 }, () => r() * 20);
    drive(p, o, lat, 0, 200_000); // warm up: let the optimizing compiler settle
    // V8's sampling heap profiler, keeping objects a scavenge already freed, sees every allocation (one
    // sample per 64 bytes on average) whether or not the heap grows. Windows of calls/4: on a loaded machine
    // the optimizer may finish late, so the claim is about the last window — the steady state.
    const session = new Session();
    session.connect();
    const window = calls / 4;
    const perWindow: number[] = [];
    let sum = 0;
    for (let w = 0; w < 4; w++) {
      await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
      sum += drive(p, o, lat, 200_000 + w * window, window);
      const { profile } = await session.post('HeapProfiler.stopSampling');
      perWindow.push(bytesUnder(profile.head, 'drive'));
    }
    session.disconnect();
    expect(sum).toBeGreaterThan(0);
    expect(p.explain().fallbackCount).toBe(0);
    // 16 bytes per call (one boxed double) would show as window × 16 bytes here.
    expect(perWindow[3]!, `bytes allocated per window: ${perWindow.join(', ')}`).toBeLessThan(window / 16);
  });
});

interface ProfileNode {
  callFrame: { functionName: string };
  selfSize: number;
  children: ProfileNode[];
}

/** Bytes allocated in frames at or below any frame named `fn`. */
function bytesUnder(node: ProfileNode, fn: string, inside = false): number {
  const here = inside || node.callFrame.functionName === fn;
  let total = here ? node.selfSize : 0;
  for (const c of node.children) total += bytesUnder(c, fn, here);
  return total;
}

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
