/**
 * Feature 0 is the effective heartbeat delay log1p(max(latency, silence)) (docs/CONTRACTS.md §3): the model
 * must see the leader go quiet, which a carried-forward latency cannot show (docs/EVALUATION.md, finding 1).
 */
import { describe, expect, it } from 'vitest';
import { FeatureState, type SignalSample } from '../runtime/features.js';

const tick = (nowMs: number, over: Partial<SignalSample> = {}): SignalSample => ({
  nowMs, heartbeatReceived: false, term: 1, leaderId: 'n1', heartbeatLatencyMs: null, logReplicationGap: 0, rpcRetries: 0, cpuIdlePct: 90, ...over,
});

function delayMs(fs: FeatureState, s: SignalSample): number {
  const out = new Float64Array(4);
  fs.rawInto(s, out);
  return Math.expm1(out[0]!);
}

describe('FeatureState silence clock', () => {
  it('is the latency while heartbeats arrive and grows with the silence after the last one', () => {
    const fs = new FeatureState();
    expect(delayMs(fs, tick(10, { heartbeatReceived: true, heartbeatLatencyMs: 4 }))).toBeCloseTo(4, 9);
    expect(delayMs(fs, tick(20))).toBeCloseTo(10, 9); // silence 10 ms > carried latency 4 ms
    expect(delayMs(fs, tick(500))).toBeCloseTo(490, 9);
    expect(delayMs(fs, tick(510, { heartbeatReceived: true, heartbeatLatencyMs: 3 }))).toBeCloseTo(3, 9);
  });

  it('keeps a latency above the silence (a slow network is not silence)', () => {
    const fs = new FeatureState();
    delayMs(fs, tick(0, { heartbeatReceived: true, heartbeatLatencyMs: 800 }));
    expect(delayMs(fs, tick(300))).toBeCloseTo(800, 9);
    expect(delayMs(fs, tick(900))).toBeCloseTo(900, 9);
  });

  it('restarts the clock for a new leader or term, at the first observation and after reset', () => {
    const fs = new FeatureState();
    expect(delayMs(fs, tick(5000))).toBe(0); // no history: no evidence of silence
    expect(delayMs(fs, tick(6000))).toBeCloseTo(1000, 9);
    expect(delayMs(fs, tick(6010, { leaderId: 'n2' }))).toBe(0);
    expect(delayMs(fs, tick(6500, { leaderId: 'n2' }))).toBeCloseTo(490, 9);
    expect(delayMs(fs, tick(6510, { leaderId: 'n2', term: 2 }))).toBe(0);
    fs.reset();
    expect(delayMs(fs, tick(9000, { leaderId: 'n2', term: 2 }))).toBe(0);
  });
});
