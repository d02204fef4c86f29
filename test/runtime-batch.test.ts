/**
 * runtime/batch.ts: the nodes of a cluster stepping their models in one kernel call compute the same bits
 * as each node stepping alone — the kernel's outputs and state, and NeuroSymbolicTimeout's outputs and armed
 * timeouts tick by tick in a simulated cluster with faults, restarts and nodes that skip ticks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { artifactFromBytes, type LoadedArtifact } from '../runtime/artifact.js';
import { LstmBatch } from '../runtime/batch.js';
import { LstmState } from '../runtime/engine.js';
import { makeSharedModel, NeuroSymbolicTimeout, type SharedModel } from '../runtime/timeout.js';
import { builtinScenario, Simulation, type PolicyFactory, type TimeoutObservation, type TimeoutPolicy } from '../sim/index.js';
import { evaluationScenario } from '../pipeline/evaluate/harness.js';
import { makePolicyFactory } from '../pipeline/evaluate/policies.js';
import { buildFixtureArtifact } from './runtime-fixtures/artifact-writer.js';

const dir = new URL('../artifacts/raft-ns-default/2.1.0/', import.meta.url);
const shipped = artifactFromBytes(new Uint8Array(readFileSync(new URL('manifest.json', dir))), new Uint8Array(readFileSync(new URL('weights.bin', dir))));
const fx = buildFixtureArtifact(7);
const fixture = artifactFromBytes(JSON.stringify(fx.manifest), fx.weights);

/** xorshift32 in [−s, s): inputs from calm to far outside the trained range (the activations clamp there). */
function inputs(seed: number): (scale: number) => number {
  let x = seed >>> 0 || 1;
  return (scale) => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return (x / 4294967296 * 2 - 1) * scale;
  };
}

describe.each([
  ['shipped int8', shipped, 'int8'], ['shipped float32', shipped, 'float32'], ['fixture int8', fixture, 'int8'],
] as Array<[string, LoadedArtifact, 'int8' | 'float32']>)('LstmBatch (%s)', (_name, artifact, precision) => {
  it('gives every slot the same outputs and state bits as the per-node WASM kernel, whichever slots step', () => {
    const model = makeSharedModel(artifact, precision, 'wasm');
    const batch = LstmBatch.create(model)!;
    expect(batch).not.toBeNull();
    const n = 7;
    const alone = Array.from({ length: n }, () => new LstmState());
    const slots = Array.from({ length: n }, () => batch.allocSlot());
    const rand = inputs(11);
    const x = new Float32Array(4);
    const y = new Float64Array(2);
    const h = new Float64Array(64);
    const c = new Float64Array(64);
    let compared = 0;
    for (let t = 0; t < 400; t++) {
      const stepping: number[] = [];
      for (let i = 0; i < n; i++) {
        if ((t * 7 + i * 3) % 11 === 0) continue; // this node skips the tick (down, paused)
        if (t === 200 && i === 2) { alone[i]!.reset(); batch.resetSlot(slots[i]!); } // a restart
        const scale = t % 50 < 5 ? 40 : 2;
        for (let k = 0; k < 4; k++) x[k] = rand(scale);
        batch.x.set(x, slots[i]! * 4);
        batch.enqueue(slots[i]!);
        model.lstm.step(alone[i]!, x, y);
        stepping.push(i, y[0]!, y[1]!);
      }
      batch.flush();
      for (let j = 0; j < stepping.length; j += 3) {
        const i = stepping[j]!;
        const s = slots[i]!;
        expect(Object.is(batch.y[2 * s]!, stepping[j + 1]!) && Object.is(batch.y[2 * s + 1]!, stepping[j + 2]!)).toBe(true);
        batch.stateOf(s, h, c);
        expect(h).toEqual(alone[i]!.h);
        expect(c).toEqual(alone[i]!.c);
        expect(batch.ok[s]).toBe(alone[i]!.isFinite() ? 1 : 0);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });
});

describe('LstmBatch boundaries', () => {
  it('exists only for a model the WASM kernel serves (the JS kernel computes a different last bit)', () => {
    expect(LstmBatch.create(makeSharedModel(shipped, 'int8', 'js'))).toBeNull();
    expect(LstmBatch.create(makeSharedModel(shipped, 'int8', 'wasm'))).not.toBeNull();
  });

  it('refuses a node of another model, and a full batch leaves the extra node stepping alone', () => {
    const a = makeSharedModel(shipped, 'int8', 'wasm');
    const b = makeSharedModel(fixture, 'int8', 'wasm');
    const batch = LstmBatch.create(a)!;
    expect(() => new NeuroSymbolicTimeout({ model: b, batch })).toThrow(/another model/);
    for (let i = 0; i < batch.capacity; i++) expect(batch.allocSlot()).toBe(i);
    expect(batch.allocSlot()).toBe(-1);
    const extra = new NeuroSymbolicTimeout({ model: a, batch, randomization: { seed: 1 } });
    const ref = new NeuroSymbolicTimeout({ model: a, randomization: { seed: 1 } });
    const o: TimeoutObservation = {
      nowMs: 10, tickMs: 10, role: 'follower', term: 1, leaderId: 'n1', heartbeatLatencyMs: 0.4, logReplicationGap: 0, rpcRetries: 0,
      cpuIdlePct: 90, heartbeatReceived: true, clusterSize: 3, peersReachable: 2, heartbeatIntervalMs: 100,
    };
    extra.willObserve(o);
    extra.observe(o);
    ref.observe(o);
    expect(extra.electionTimeoutMs()).toBe(ref.electionTimeoutMs());
    expect(extra.explain().q).toBe(ref.explain().q);
  });
});

describe('NeuroSymbolicTimeout in a batch', () => {
  it('falls back exactly as alone on invalid, out-of-domain and hostile observations, and on observe without willObserve', () => {
    const model = makeSharedModel(shipped, 'int8', 'wasm');
    const batch = LstmBatch.create(model)!;
    const n = 3;
    const inBatch = Array.from({ length: n }, (_, i) => new NeuroSymbolicTimeout({ model, batch, randomization: { seed: 10 + i } }));
    const alone = Array.from({ length: n }, (_, i) => new NeuroSymbolicTimeout({ model, randomization: { seed: 10 + i } }));
    const hostile = { get nowMs(): number { throw new Error('boom'); } } as unknown as TimeoutObservation;
    let checked = 0;
    for (let t = 1; t <= 300; t++) {
      const obs = Array.from({ length: n }, (_, i): TimeoutObservation => {
        const o: TimeoutObservation = {
          nowMs: t * 10, tickMs: 10, role: t % 97 < 3 ? 'candidate' : 'follower', term: 1 + Math.floor(t / 97), leaderId: 'n1',
          heartbeatLatencyMs: t % 10 === i ? 0.3 + i : null, logReplicationGap: 0, rpcRetries: t % 7 === 0 ? 1 : 0, cpuIdlePct: 90,
          heartbeatReceived: t % 10 === i, clusterSize: 3, peersReachable: 2, heartbeatIntervalMs: 100,
        };
        if (t % 41 === i) o.heartbeatLatencyMs = Number.NaN; // invalid input
        if (t % 53 === i) o.logReplicationGap = 1e12; // outside the input domain
        return t % 67 === i ? hostile : o;
      });
      const skipAhead = t % 5 === 0 ? 1 : -1; // this node observes without willObserve (steps alone in the batch)
      for (let i = 0; i < n; i++) if (i !== skipAhead) inBatch[i]!.willObserve(obs[i]!);
      for (let i = 0; i < n; i++) {
        inBatch[i]!.observe(obs[i]!);
        alone[i]!.observe(obs[i]!);
        expect(inBatch[i]!.electionTimeoutMs()).toBe(alone[i]!.electionTimeoutMs());
        const [a, b] = [inBatch[i]!.explain(), alone[i]!.explain()];
        expect(a).toEqual(b);
        checked++;
      }
    }
    const e = inBatch[0]!.explain();
    expect(e.fallbackCounts['invalid-input']).toBeGreaterThan(0);
    expect(e.fallbackCounts['outside-domain']).toBeGreaterThan(0);
    expect(e.fallbackCounts['engine-fault']).toBeGreaterThan(0);
    expect(checked).toBe(900);
  });
});

/** Per node per tick: the armed timeout and every output explain() reports. */
type Trace = Array<Array<number | string | null>>;

/** Wraps each node's policy to record what it gives the simulator after every observe. */
function recording(inner: PolicyFactory, trace: Trace): PolicyFactory {
  return (id, rng, truth) => {
    const p = inner(id, rng, truth) as TimeoutPolicy & { explain?: () => ReturnType<NeuroSymbolicTimeout['explain']> };
    const wrapped: TimeoutPolicy = {
      observe(o) {
        p.observe(o);
        const e = p.explain?.();
        trace.push([id, o.nowMs, p.electionTimeoutMs(), ...(e ? [e.q, e.leaderLostLogit, e.composedMs, e.source, e.fallbackReason, e.randomFactor, e.ticks] : [])]);
      },
      electionTimeoutMs: () => p.electionTimeoutMs(),
    };
    if (p.willObserve) wrapped.willObserve = (o) => p.willObserve!(o);
    return wrapped;
  };
}

function runTraced(scenarioName: string, seed: number, model: SharedModel, guardrails: boolean, batched: boolean): { trace: Trace; summary: string } {
  const trace: Trace = [];
  const { factory } = makePolicyFactory({ kind: 'model', guardrails }, model, batched);
  const sim = new Simulation(evaluationScenario(builtinScenario(scenarioName)!), { seed, telemetry: false, policyFactory: recording(factory, trace) });
  return { trace, summary: JSON.stringify(sim.run()) };
}

describe('batched model policies in the closed loop', () => {
  const model = makeSharedModel(shipped, 'int8', 'wasm');
  it.each([
    ['lan-5-leader-crash', 2, true], ['lan-5-jitter', 1, true], ['wan-9-partition', 1, true], ['lan-5-leader-crash', 3, false],
  ] as Array<[string, number, boolean]>)('%s seed %i (guardrails %s): every tick, node and output is the same as stepping alone', (name, seed, guardrails) => {
    const alone = runTraced(name, seed, model, guardrails, false);
    const flush = vi.spyOn(LstmBatch.prototype, 'flush');
    const batched = runTraced(name, seed, model, guardrails, true);
    // The batch did the stepping, several nodes per kernel call (not one call per node).
    expect(flush.mock.calls.length).toBeGreaterThan(1000);
    expect(flush.mock.calls.length).toBeLessThan(batched.trace.length / 2);
    flush.mockRestore();
    expect(batched.trace.length).toBe(alone.trace.length);
    expect(alone.trace.length).toBeGreaterThan(10_000);
    for (let i = 0; i < alone.trace.length; i++) {
      if (JSON.stringify(batched.trace[i]) !== JSON.stringify(alone.trace[i])) expect(batched.trace[i]).toEqual(alone.trace[i]);
    }
    expect(batched.summary).toBe(alone.summary);
  });
});
