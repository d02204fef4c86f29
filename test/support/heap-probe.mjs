// Steady-state allocation probe of the SHIPPED runtime (dist/, the tsc output users import), run in a process
// of its own by test/runtime-heap.test.ts: `node heap-probe.mjs <js|wasm|batch> <calls> <default|survived>` prints
// {"perWindow": [bytes, ...], "sum": n, "fallbacks": n}. Why a child process on dist/ and not the test's own
// import: the test runner's TypeScript transform emits class fields differently from tsc, and V8 then boxes a
// double per call in code users never run; in the shipped JS the same loop allocates nothing.
import { Session } from 'node:inspector/promises';
import { readFileSync } from 'node:fs';
import { artifactFromBytes } from '../../dist/runtime/artifact.js';
import { makeSharedModel, NeuroSymbolicTimeout } from '../../dist/runtime/timeout.js';
import { DEFAULT_RULES } from '../../dist/runtime/default-rules.js';
import { LstmBatch } from '../../dist/runtime/batch.js';

const [kernel, callsArg, rulesArg] = process.argv.slice(2);
const calls = Number(callsArg);
const dir = new URL('../../artifacts/raft-ns-default/2.0.0/', import.meta.url);
const artifact = artifactFromBytes(new Uint8Array(readFileSync(new URL('manifest.json', dir))), new Uint8Array(readFileSync(new URL('weights.bin', dir))));
// 'survived': the default rules with a tighter survived-silence floor, so the ring is written and read every tick.
const rules = rulesArg === 'survived'
  ? { ...DEFAULT_RULES, rules: DEFAULT_RULES.rules.map((r) => (r.kind === 'survived_silence_floor' ? { ...r, window_ms: 5000, margin: 2 } : r)) }
  : undefined;
// 'batch': five nodes stepping in one LstmBatch (runtime/batch.ts), as the simulator drives them: every node's
// willObserve, then every node's observe; `calls` counts observe() calls over all five.
const batched = kernel === 'batch';
const shared = makeSharedModel(artifact, 'int8', batched ? 'wasm' : kernel);
const batch = batched ? LstmBatch.create(shared) : null;
const nodes = Array.from({ length: batched ? 5 : 1 }, (_, i) => new NeuroSymbolicTimeout({
  model: shared, batch, randomization: { seed: Number(process.env.SEED ?? 1) + i }, ...(rules ? { rules } : {}),
}));
const p = nodes[0];
const obsOf = () => ({
  nowMs: 0, tickMs: 100, role: 'follower', term: 3, leaderId: 'n1', heartbeatLatencyMs: 0.5, logReplicationGap: 0, rpcRetries: 0,
  cpuIdlePct: 80.5, heartbeatReceived: true, clusterSize: 5, peersReachable: 4, heartbeatIntervalMs: 100,
});
const o = obsOf();
const os = nodes.map(() => obsOf());
let seed = 5;
const lat = Float64Array.from({ length: 1024 }, () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) * 20);
/** The steady-state loop of a Raft node: one observation object updated in place, locals only (no closures). */
function drive(from, n) {
  return batched ? driveBatch(from, n) : driveOne(from, n);
}
function driveOne(from, n) {
  let sum = 0;
  for (let i = from; i < from + n; i++) {
    o.nowMs = i * 100;
    o.heartbeatLatencyMs = lat[i & 1023];
    o.heartbeatReceived = (i & 7) !== 0;
    o.rpcRetries = i & 3;
    p.observe(o);
    sum += p.electionTimeoutMs();
  }
  return sum;
}
function driveBatch(from, n) {
  let sum = 0;
  for (let i = from; i < from + n; i += nodes.length) {
    for (let k = 0; k < nodes.length; k++) {
      const ok = os[k];
      ok.nowMs = i * 100;
      ok.heartbeatLatencyMs = lat[(i + k) & 1023];
      ok.heartbeatReceived = ((i + k) & 7) !== 0;
      ok.rpcRetries = (i + k) & 3;
      nodes[k].willObserve(ok);
    }
    for (let k = 0; k < nodes.length; k++) {
      nodes[k].observe(os[k]);
      sum += nodes[k].electionTimeoutMs();
    }
  }
  return sum;
}
function bytesUnder(node, fn, inside = false) {
  const here = inside || node.callFrame.functionName === fn;
  let total = here ? node.selfSize : 0;
  for (const c of node.children) total += bytesUnder(c, fn, here);
  return total;
}
drive(0, 200_000); // warm up: let the optimizing compiler settle
// V8's sampling heap profiler, keeping objects a scavenge already freed, sees every allocation (one sample per
// 64 bytes on average). Windows of calls/4: on a loaded machine the optimizer may finish late.
const session = new Session();
session.connect();
const window = calls / 4;
const perWindow = [];
let sum = 0;
for (let w = 0; w < 4; w++) {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  sum += drive(200_000 + w * window, window);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  perWindow.push(bytesUnder(profile.head, 'drive'));
}
session.disconnect();
process.stdout.write(`${JSON.stringify({ perWindow, sum, fallbacks: p.explain().fallbackCount, activations: p.explain().ruleActivationCounts })}\n`);
