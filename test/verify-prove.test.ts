import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { compileRules, type Rule, type SafetyRules } from '../runtime/rules.js';
import { makeBox } from '../pipeline/verify/ibp.js';
import { netDequantized, randomNet, referenceRun, type VerifyNet } from '../pipeline/verify/net.js';
import { proveRules, type ClaimResult } from '../pipeline/verify/prove.js';
import type { MonotoneCounterexample, SequenceCounterexample } from '../pipeline/verify/search.js';

const clip = makeBox([-5, -5, -5, -5], [5, 5, 5, 5]);
const replayOf = (net: VerifyNet) => (xs: number[][]) => referenceRun(net, xs);
const opts = { splitBudget: 256, searchBudget: 120, searchTicks: 32, seed: 7 };

function rulesWith(extra: Rule[] = [], drop: string[] = []): ReturnType<typeof compileRules> {
  const s: SafetyRules = { ...DEFAULT_RULES, rules: [...DEFAULT_RULES.rules.filter((r) => !drop.includes(r.id)), ...extra] };
  return compileRules(s);
}

function claim(claims: ClaimResult[], id: string): ClaimResult {
  const c = claims.find((x) => x.rule_id === id);
  if (!c) throw new Error(`no claim ${id}`);
  return c;
}

/** A full-size int8 network whose head is tame: q stays within ~[ln 300, ln 1500] ms whatever the state. */
function tameNet(seed: number): VerifyNet {
  const net = randomNet(seed);
  for (let i = 0; i < net.Wd.length; i++) net.Wd[i] = Math.fround(net.Wd[i]! * 0.02);
  net.bd[0] = Math.fround(Math.log(700));
  return netDequantized(net);
}

/**
 * One unit, no recurrence, only heartbeat latency (feature 0) drives the cell input g; i and o are fixed
 * open gates, f is fixed. q = 5 + 2·h: an increasing function of latency at every state.
 */
function monotoneNet(): VerifyNet {
  const n = 1;
  const W = new Float64Array(4 * 4 * n);
  W[0 * 4 + 2] = 0.8; // feature 0 → g
  const b = new Float64Array(4 * n);
  b[0] = 3; // i ≈ 0.95
  b[1] = 0; // f = 0.5
  b[3] = 3; // o ≈ 0.95
  return { units: n, features: 4, W, U: new Float64Array(n * 4 * n), b, Wd: Float64Array.from([2, 0]), bd: Float64Array.from([5, -1]) };
}

describe('proveRules on the default rules', () => {
  it('proves the floor and the ceiling for a tame network, and the proofs survive sampling', () => {
    const net = tameNet(3);
    const res = proveRules(net, rulesWith(), clip, clip, replayOf(net), opts);
    const floor = claim(res.claims, 'raft-timing-floor');
    const ceiling = claim(res.claims, 'ceiling');
    expect(floor.status).toBe('proved');
    expect(ceiling.status).toBe('proved');
    expect(floor.bound.lo).toBeGreaterThanOrEqual(50);
    // The sound domain-wide timeout bound contains every proposal on long random sequences.
    const xs = Array.from({ length: 400 }, (_, t) => [Math.sin(t) * 5, Math.cos(t * 0.7) * 5, ((t * 37) % 11) - 5, (t % 3) - 1]);
    for (const [q] of referenceRun(net, xs)) {
      expect(Math.exp(q)).toBeGreaterThanOrEqual(res.domainBounds.timeout_ms.lo);
      expect(Math.exp(q)).toBeLessThanOrEqual(res.domainBounds.timeout_ms.hi);
    }
  });

  it('refutes a planted violation (head bias edited so the raw output falls below the floor) with a replayable counterexample', () => {
    const net = tameNet(4);
    net.bd[0] = Math.fround(Math.log(20)); // ≈ 20 ms, under the 50 ms absolute floor
    const res = proveRules(net, rulesWith(), clip, clip, replayOf(net), opts);
    const floor = claim(res.claims, 'raft-timing-floor');
    expect(floor.status).toBe('refuted');
    const cx = floor.counterexample as SequenceCounterexample;
    const ys = referenceRun(net, cx.inputs);
    expect(Math.exp(ys[cx.tick]![0])).toBeLessThan(50);
    for (const row of cx.inputs) for (const v of row) expect(Math.abs(v)).toBeLessThanOrEqual(5);
  });

  it('refutes a floor broken only by one planted unit driven by a corner of the input box', () => {
    const net = tameNet(5);
    // Unit 0's cell input follows rpc_retries strongly, and the head turns a high h_0 into a 4-unit drop in q.
    net.W[2 * 256 + 128] = 6;
    net.b[0] = 4;
    net.b[192] = 4;
    net.Wd[0] = -4;
    const res = proveRules(net, rulesWith(), clip, clip, replayOf(net), opts);
    const floor = claim(res.claims, 'raft-timing-floor');
    expect(floor.status).toBe('refuted');
    const cx = floor.counterexample as SequenceCounterexample;
    expect(Math.exp(referenceRun(net, cx.inputs)[cx.tick]![0])).toBeLessThan(50);
  });

  it('reports a wide-headed random network as unproved or refuted, never proved, when sampling finds outputs below the floor', () => {
    const net = netDequantized(randomNet(8));
    const res = proveRules(net, rulesWith(), clip, clip, replayOf(net), opts);
    const floor = claim(res.claims, 'raft-timing-floor');
    expect(floor.status).not.toBe('proved');
    expect(floor.bound.lo).toBeLessThan(50);
  });
});

describe('monotonicity through interval bounds on the directional derivative', () => {
  const monoRule = (feature: 'heartbeat_latency' | 'rpc_retries', direction: 'nondecreasing' | 'nonincreasing'): Rule => ({
    id: `mono-${feature}-${direction}`, kind: 'monotonic', output: 'log_gap_quantile', feature, direction,
    region: { min: [-5, -5, -5, -5], max: [5, 5, 5, 5] }, state: 'reachable', why: 'test',
  });

  it('proves a monotonicity rule that holds on a small hand-built network', () => {
    const net = monotoneNet();
    const rules = rulesWith([monoRule('heartbeat_latency', 'nondecreasing'), monoRule('rpc_retries', 'nondecreasing')], ['quantile-monotone-in-latency', 'quantile-monotone-in-retries']);
    const res = proveRules(net, rules, clip, clip, replayOf(net), opts);
    const c = claim(res.claims, 'mono-heartbeat_latency-nondecreasing');
    expect(c.status).toBe('proved');
    expect(c.bound.lo).toBeGreaterThanOrEqual(0);
    // rpc_retries has no path to q: derivative exactly 0, which is nondecreasing too.
    expect(claim(res.claims, 'mono-rpc_retries-nondecreasing').status).toBe('proved');
  });

  it('refutes the opposite direction with two inputs that differ only in the feature', () => {
    const net = monotoneNet();
    const rules = rulesWith([monoRule('heartbeat_latency', 'nonincreasing')], ['quantile-monotone-in-latency', 'quantile-monotone-in-retries']);
    const res = proveRules(net, rules, clip, clip, replayOf(net), opts);
    const c = claim(res.claims, 'mono-heartbeat_latency-nonincreasing');
    expect(c.status).toBe('refuted');
    const cx = c.counterexample as MonotoneCounterexample;
    expect(cx.high[0]!).toBeGreaterThan(cx.low[0]!);
    expect(cx.high.slice(1)).toEqual(cx.low.slice(1));
    const qLow = referenceRun(net, [...cx.prefix, cx.low]).at(-1)![0];
    const qHigh = referenceRun(net, [...cx.prefix, cx.high]).at(-1)![0];
    expect(qHigh).toBeGreaterThan(qLow);
  });
});
