import { describe, expect, it } from 'vitest';
import { artifactFromBytes } from '../runtime/artifact.js';
import { makeSharedModel, NeuroSymbolicTimeout, type TimeoutObservation } from '../runtime/timeout.js';
import { buildFixtureArtifact } from './runtime-fixtures/artifact-writer.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { validateRules, type SafetyRules } from '../runtime/rules.js';

const fx = buildFixtureArtifact(7);
const artifact = artifactFromBytes(JSON.stringify(fx.manifest), fx.weights);
const shared = makeSharedModel(artifact, 'int8');

const obs = (over: Partial<TimeoutObservation> = {}): TimeoutObservation => ({
  nowMs: 0, tickMs: 100, role: 'follower', term: 3, leaderId: 'n1', heartbeatLatencyMs: 2, logReplicationGap: 0, rpcRetries: 0,
  cpuIdlePct: 80, heartbeatReceived: true, clusterSize: 5, peersReachable: 4, heartbeatIntervalMs: 100, ...over,
});

/** Drives a policy over a steady trace: heartbeat every tick for `n` ticks. Returns the policy. */
function steady(p: NeuroSymbolicTimeout, n: number, startMs = 0): number {
  let t = startMs;
  for (let i = 0; i < n; i++) p.observe(obs({ nowMs: (t += 100) }));
  return t;
}

describe('NeuroSymbolicTimeout', () => {
  it('holds the deadline set at the last contact while the leader is silent, and takes a new one on contact', () => {
    // lostThreshold 1: no leader-lost drop, so the composed value is the held proposal alone.
    const p = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 }, lostThreshold: 1 });
    let t = steady(p, 20);
    const atContact = p.explain();
    expect(atContact.composedMs).toBeCloseTo(Math.exp(atContact.q), 6);
    const qs = new Set<number>();
    for (let i = 0; i < 15; i++) {
      p.observe(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null }));
      const e = p.explain();
      qs.add(e.q);
      expect(e.composedMs).toBe(atContact.composedMs); // the silence moves q (feature 0), not the deadline
    }
    expect(qs.size).toBeGreaterThan(1);
    p.observe(obs({ nowMs: (t += 100), heartbeatReceived: true }));
    expect(p.explain().composedMs).toBeCloseTo(Math.exp(p.explain().q), 6);
  });

  it('follows exp(q) inside the bounds and explains itself', () => {
    const p = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 } });
    steady(p, 20);
    const e = p.explain();
    expect(e.source).toBe('model');
    expect(e.fallbackCount).toBe(0);
    expect(e.rawProposalMs).toBeCloseTo(Math.exp(e.q), 6);
    expect(e.pLeaderLost).toBeCloseTo(1 / (1 + Math.exp(-e.leaderLostLogit)), 12);
    expect(e.model).toMatchObject({ name: 'fixture', precision: 'int8', weightsSha256: fx.manifest.weights_sha256 });
    // with no rule active, the armed timeout is the (composed) proposal rounded up to whole ms
    if (e.rules.length === 0) expect(p.electionTimeoutMs()).toBe(Math.ceil(e.composedMs));
    expect(Number.isInteger(p.electionTimeoutMs())).toBe(true);
    expect(p.electionTimeoutMs()).toBeGreaterThanOrEqual(e.hardFloorMs);
    expect(p.electionTimeoutMs()).toBeLessThanOrEqual(10_000);
  });

  it('randomizes like Raft: a factor in [1, 1 + spread) held per term and role, distinct per node seed', () => {
    const exact = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 } });
    steady(exact, 20);
    const base = exact.electionTimeoutMs();
    const armed = [1, 2, 3, 4, 5].map((seed) => {
      const p = new NeuroSymbolicTimeout({ model: shared, randomization: { seed } });
      steady(p, 20);
      const t = p.electionTimeoutMs();
      expect(t).toBeGreaterThanOrEqual(base);
      expect(t).toBeLessThanOrEqual(Math.ceil(base * 2)); // default spread 1: U[1, 2)
      expect(p.explain().randomFactor).toBeGreaterThanOrEqual(1);
      return t;
    });
    expect(new Set(armed).size).toBeGreaterThan(1); // nodes on the same heartbeats no longer arm the same timeout
    const again = new NeuroSymbolicTimeout({ model: shared, randomization: { seed: 3 } });
    steady(again, 20);
    expect(again.electionTimeoutMs()).toBe(armed[2]); // reproducible from the seed
    const f = again.explain().randomFactor;
    again.observe(obs({ nowMs: 5000, term: 4 })); // a new term redraws
    expect(again.explain().randomFactor).not.toBe(f);
  });

  it("draws its factor from the rules' randomization_spread unless the provider is given a spread, and refuses one outside [0, 4]", () => {
    const narrow: SafetyRules = { ...DEFAULT_RULES, randomization_spread: 0.25 };
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const fromRules = new NeuroSymbolicTimeout({ model: shared, rules: narrow, randomization: { seed } });
      const overridden = new NeuroSymbolicTimeout({ model: shared, rules: narrow, randomization: { seed, spread: 1 } });
      steady(fromRules, 20);
      steady(overridden, 20);
      const f = fromRules.explain().randomFactor;
      expect(f).toBeGreaterThanOrEqual(1);
      expect(f).toBeLessThan(1.25);
      // the same uniform draw, scaled by the spread in force
      expect(f - 1).toBeCloseTo((overridden.explain().randomFactor - 1) * 0.25, 12);
    }
    expect(validateRules({ ...DEFAULT_RULES, randomization_spread: 4.5 })).toMatchObject({ ok: false, issues: [{ path: '/randomization_spread' }] });
    expect(() => new NeuroSymbolicTimeout({ model: shared, randomization: { spread: -1 } })).toThrow(/randomization.spread -1 is outside \[0, 4\]/);
  });

  it('names the rule that changed the value and why', () => {
    // A model biased to propose ~5 ms: the Raft timing floor must lift it to 100 + 2 = 102 ms (k = 1). The
    // survived-silence floor is off here: with it, steady 100 ms gaps alone give margin × 100 ms, which a
    // margin of 1.0 leaves under the timing floor and a larger one (the default 1.75, or 1.25) puts above it;
    // and so is the follower floor (150 ms), which the defaults add on top.
    const low = buildFixtureArtifact(11, { qBias: Math.log(5) });
    const timingOnly = JSON.parse(JSON.stringify(DEFAULT_RULES)) as SafetyRules;
    timingOnly.rules = timingOnly.rules.filter((r) => r.kind !== 'survived_silence_floor' && r.id !== 'raft-paper-follower-floor');
    const model = artifactFromBytes(JSON.stringify(low.manifest), low.weights);
    const p = new NeuroSymbolicTimeout({ model, rules: timingOnly, precision: 'float32', randomization: { spread: 0 } });
    steady(p, 5);
    const e = p.explain();
    expect(p.electionTimeoutMs()).toBe(102);
    const withDefaults = new NeuroSymbolicTimeout({ model, precision: 'float32', randomization: { spread: 0 } });
    steady(withDefaults, 5);
    expect(withDefaults.electionTimeoutMs()).toBe(175); // the default margin 1.75 × the 100 ms gaps a live leader survived, above the 150 ms follower floor
    const withMargin = (margin: number): number => {
      const rules = JSON.parse(JSON.stringify(DEFAULT_RULES)) as SafetyRules;
      rules.rules = rules.rules.filter((r) => r.id !== 'raft-paper-follower-floor');
      for (const r of rules.rules) if (r.kind === 'survived_silence_floor') r.margin = margin;
      const q = new NeuroSymbolicTimeout({ model, rules, precision: 'float32', randomization: { spread: 0 } });
      steady(q, 5);
      return q.electionTimeoutMs();
    };
    expect(withMargin(1)).toBe(102);
    expect(withMargin(1.25)).toBe(125);
    expect(e.rules.map((r) => r.id)).toContain('raft-timing-floor');
    expect(e.rules.find((r) => r.id === 'raft-timing-floor')!.why).toMatch(/broadcastTime/);
    expect(e.ruleActivationCounts['raft-timing-floor']).toBe(5);
  });

  it('drops toward the floor when P(leader_lost) is high and the silence exceeds the usual gap', () => {
    // head bias for ℓ = +8 → P(lost) ≈ 1; q biased to ~3 s.
    const a = buildFixtureArtifact(12, { qBias: Math.log(3000) });
    a.float.headBias[1] = 8;
    const m = JSON.parse(JSON.stringify(a.manifest)) as Record<string, any>;
    const off = (m.tensors as Array<{ name: string; offset: number }>).find((t) => t.name === 'head/bias')!.offset;
    const w = a.weights.slice();
    new DataView(w.buffer).setFloat32(off + 4, 8, true);
    m.weights_sha256 = artifactFromBytes(JSON.stringify(m), w, { skipHashCheck: true }).weightsSha256;
    const p = new NeuroSymbolicTimeout({ model: artifactFromBytes(JSON.stringify(m), w), precision: 'float32', randomization: { spread: 0 } });
    let t = steady(p, 30);
    const before = p.electionTimeoutMs();
    expect(p.explain().pLeaderLost).toBeGreaterThan(0.99);
    for (let i = 0; i < 10; i++) p.observe(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null }));
    const e = p.explain();
    expect(e.silenceMs).toBe(1000);
    expect(e.composedMs).toBeLessThan(e.rawProposalMs);
    expect(p.electionTimeoutMs()).toBeLessThan(before);
    expect(p.electionTimeoutMs()).toBeGreaterThanOrEqual(e.hardFloorMs);
  });

  it('a leader deposed in its own term campaigns again soon: capped at the stepped-down rule until the term moves on', () => {
    const p = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 }, lostThreshold: 1 });
    const other = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 }, lostThreshold: 1 });
    let t = 0;
    for (let i = 0; i < 30; i++) {
      t += 100;
      p.observe(obs({ nowMs: t, role: 'leader', leaderId: 'n1', heartbeatReceived: false, heartbeatLatencyMs: 1 }));
      other.observe(obs({ nowMs: t }));
    }
    const capped = (x: NeuroSymbolicTimeout): boolean => x.explain().rules.some((r) => r.id === 'stepped-down-retry-cap');
    // Check-quorum deposes it: same term, no leader; then it pre-votes, still in that term.
    const deposed: number[] = [];
    for (let i = 0; i < 15; i++) {
      t += 100;
      const o = obs({ nowMs: t, role: i < 2 ? 'follower' : 'pre-candidate', leaderId: null, heartbeatReceived: false, heartbeatLatencyMs: null });
      p.observe(o);
      other.observe({ ...o });
      deposed.push(p.electionTimeoutMs());
      if (p.explain().rawProposalMs > 150 && p.explain().hardFloorMs <= 150) expect(capped(p)).toBe(true);
      expect(capped(other)).toBe(false); // a follower that never led this term waits as before
    }
    // The rate limit walks it down (400 ms a tick at most) to the cap or the floor above it, whichever is higher.
    expect(deposed[deposed.length - 1]).toBe(Math.max(150, Math.ceil(p.explain().hardFloorMs)));
    expect(p.explain().rawProposalMs).toBeGreaterThan(150); // the cap had something to cut
    expect(capped(p)).toBe(true);
    // A new term (a new leader heard, or its own candidacy) ends it.
    t += 100;
    p.observe(obs({ nowMs: t, term: 4, leaderId: 'n2' }));
    expect(capped(p)).toBe(false);
  });

  it("a candidate's timing floor waits for a usual round trip (RFC 6298's smoothed RTT), not the spike that lost the leader", () => {
    const p = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 }, lostThreshold: 1 });
    let t = 0;
    // Samples 100 (repeated every tick: one sample), 200, then a 3 s spike: srtt 100 → 112.5 → 473.4375.
    for (const rtt of [100, 100, 100, 200, 200, 3000]) p.observe(obs({ nowMs: (t += 100), heartbeatLatencyMs: rtt }));
    expect(p.explain().hardFloorMs).toBe(3100); // a follower: heartbeat interval + the worst round trip
    // The leader is gone; this node campaigns in term 4. Its latency stays at the spike, which is no new sample.
    for (let i = 0; i < 70; i++) p.observe(obs({ nowMs: (t += 100), role: 'candidate', term: 4, leaderId: null, heartbeatReceived: false, heartbeatLatencyMs: 3000 }));
    expect(p.explain().hardFloorMs).toBe(100 + 473.4375);
    expect(p.electionTimeoutMs()).toBe(Math.ceil(100 + 473.4375)); // the 150 ms cap, lifted by the floor
    // Under rules without candidate_rtt (the worst, as for every role) the same candidate waits the spike out.
    const worst: SafetyRules = { ...DEFAULT_RULES, rules: DEFAULT_RULES.rules.map((r) => (r.kind === 'timing_floor' ? { ...r, candidate_rtt: 'worst' as const } : r)) };
    const q = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 }, lostThreshold: 1, rules: worst });
    t = 0;
    for (const rtt of [100, 200, 3000]) q.observe(obs({ nowMs: (t += 100), heartbeatLatencyMs: rtt }));
    q.observe(obs({ nowMs: (t += 100), role: 'candidate', term: 4, leaderId: null, heartbeatReceived: false, heartbeatLatencyMs: 3000 }));
    expect(q.explain().hardFloorMs).toBe(3100);
  });

  it('a follower whose leader asked for votes in a later term is capped like a deposed leader, until the term moves on', () => {
    const p = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 }, lostThreshold: 1 });
    let t = 0;
    for (let i = 0; i < 30; i++) p.observe(obs({ nowMs: (t += 100) }));
    const capped = (): boolean => p.explain().rules.some((r) => r.id === 'stepped-down-retry-cap');
    // The leader goes quiet; 300 ms in, its pre-vote request for term 4 arrives (this node stays in term 3).
    for (let i = 0; i < 3; i++) p.observe(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null }));
    expect(capped()).toBe(false);
    const served: number[] = [];
    for (let i = 0; i < 10; i++) {
      p.observe(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null, leaderResigned: true }));
      served.push(p.electionTimeoutMs());
    }
    expect(capped() || p.explain().rawProposalMs <= 150).toBe(true);
    expect(served[served.length - 1]).toBe(Math.max(150, Math.ceil(p.explain().hardFloorMs)));
    expect(p.explain().hardFloorMs).toBe(100); // the heartbeat interval, no round trip: no leader to hear from
    // A new term ends it; a value that is not a boolean is invalid input.
    p.observe(obs({ nowMs: (t += 100), term: 4, leaderId: 'n2' }));
    expect(capped()).toBe(false);
    p.observe(obs({ nowMs: (t += 100), leaderResigned: 1 as never }));
    expect(p.explain()).toMatchObject({ source: 'fallback', fallbackReason: 'invalid-input' });
  });

  it('falls back to the static timeout on invalid input, counted by reason, never throwing', () => {
    const p = new NeuroSymbolicTimeout({ model: shared, fallbackTimeoutMs: 1500, randomization: { spread: 0 } });
    steady(p, 3);
    const bad: Array<[Partial<TimeoutObservation>, string]> = [
      [{ heartbeatLatencyMs: Number.NaN }, 'invalid-input'],
      [{ cpuIdlePct: Infinity }, 'invalid-input'],
      [{ rpcRetries: -1 }, 'invalid-input'],
      [{ logReplicationGap: 5e12 }, 'outside-domain'],
      [{ heartbeatLatencyMs: 3_600_000 }, 'outside-domain'],
      [{ nowMs: Number.NaN }, 'invalid-input'],
      [{ clusterSize: 0 }, 'invalid-input'],
      [{ role: 'observer' as never }, 'invalid-input'],
    ];
    for (const [over, reason] of bad) {
      expect(() => p.observe(obs(over))).not.toThrow();
      expect(p.electionTimeoutMs()).toBe(1500);
      expect(p.explain()).toMatchObject({ source: 'fallback', fallbackReason: reason });
    }
    expect(() => p.observe(null as never)).not.toThrow();
    const hostile = obs();
    Object.defineProperty(hostile, 'cpuIdlePct', { get: () => { throw new Error('boom'); } });
    expect(() => p.observe(hostile)).not.toThrow();
    const e = p.explain();
    expect(e.fallbackCount).toBe(bad.length + 2);
    expect(e.fallbackCounts['engine-fault']).toBe(1);
    expect(e.fallbackDetail).toBeNull();
    p.observe(obs({ nowMs: 10_000 }));
    expect(p.explain().source).toBe('model');
  });

  it('without an artifact (missing or refused) it serves the fallback and says why', () => {
    const p = new NeuroSymbolicTimeout({ model: null, modelError: 'runtime: weights.bin: sha256 mismatch', randomization: { spread: 0 } });
    steady(p, 3);
    expect(p.electionTimeoutMs()).toBe(1000);
    expect(p.explain()).toMatchObject({ source: 'fallback', fallbackReason: 'no-model', fallbackCount: 3, fallbackDetail: 'runtime: weights.bin: sha256 mismatch' });
  });

  it('refuses a fallback timeout outside the rules at construction (configuration time)', () => {
    expect(() => new NeuroSymbolicTimeout({ model: shared, fallbackTimeoutMs: 20 })).toThrow(/fallbackTimeoutMs 20 is outside/);
  });

  it('compares leader ids by value and refuses a NaN term: fresh String objects campaign exactly as strings do', () => {
    // 300 s at 10 ms ticks of a live leader whose heartbeats (100 ms) sometimes stall up to 600 ms.
    const run = (leader: () => string | null, term: () => number): { campaigns: number; invalid: number; timeouts: number[] } => {
      const p = new NeuroSymbolicTimeout({ model: shared, randomization: { spread: 0 } });
      let lastContact = 0;
      let nextBeat = 100;
      let campaigns = 0;
      const timeouts: number[] = [];
      for (let now = 10; now <= 300_000; now += 10) {
        const beat = now >= nextBeat;
        if (beat) {
          nextBeat = now + (Math.floor(now / 10) % 97 === 0 ? 600 : 100);
          lastContact = now;
        }
        p.observe(obs({ nowMs: now, tickMs: 10, heartbeatReceived: beat, heartbeatLatencyMs: beat ? 2 : null, leaderId: leader(), term: term() }));
        timeouts.push(p.electionTimeoutMs());
        if (now - lastContact >= p.electionTimeoutMs()) {
          campaigns++;
          lastContact = now;
        }
      }
      return { campaigns, invalid: p.explain().fallbackCounts['invalid-input'], timeouts };
    };
    const plain = run(() => 'n1', () => 3);
    const boxed = run(() => new String('n1') as unknown as string, () => 3);
    expect(boxed.timeouts.every((t, i) => t === plain.timeouts[i])).toBe(true);
    expect(boxed.campaigns).toBe(plain.campaigns);
    expect(boxed.invalid).toBe(0);
    const nan = run(() => 'n1', () => Number.NaN);
    expect(nan.invalid).toBe(30_000); // every tick counted as a fallback, never a silent re-arm
    for (const bad of [-1, 1.5, Number.POSITIVE_INFINITY]) {
      const p = new NeuroSymbolicTimeout({ model: shared });
      p.observe(obs({ term: bad }));
      expect(p.explain().fallbackReason).toBe('invalid-input');
    }
  });
});

describe('survived_silence_floor', () => {
  const withFloor = JSON.parse(JSON.stringify(DEFAULT_RULES)) as SafetyRules;
  withFloor.rules = withFloor.rules.filter((r) => r.kind !== 'survived_silence_floor');
  withFloor.rules.splice(1, 0, { id: 'survived', kind: 'survived_silence_floor', window_ms: 8000, margin: 1.25, why: 'test' });
  const quiet = (p: NeuroSymbolicTimeout, t: number, ms: number): number => {
    for (let s = 0; s < ms; s += 100) p.observe(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null }));
    return t;
  };

  it('after a live leader survives a stall, the timeout stays above margin × that stall for the window, then follows the rules without it', () => {
    // Two nodes fed the same stream, one guarded with the floor and one without: the floor alone separates them.
    const p = new NeuroSymbolicTimeout({ model: shared, rules: withFloor, randomization: { spread: 0 }, lostThreshold: 1 });
    const twin = new NeuroSymbolicTimeout({ model: shared, rules: { ...withFloor, rules: withFloor.rules.filter((r) => r.id !== 'survived') }, randomization: { spread: 0 }, lostThreshold: 1 });
    const both = (o: TimeoutObservation): void => { p.observe(o); twin.observe(o); };
    let t = 0;
    for (let i = 0; i < 20; i++) both(obs({ nowMs: (t += 100) }));
    expect(p.electionTimeoutMs()).toBe(twin.electionTimeoutMs());
    for (let i = 0; i < 19; i++) both(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null }));
    both(obs({ nowMs: (t += 100) })); // the leader spoke again after 2 s, in the same term
    expect(p.explain().rules.map((r) => r.id)).toContain('survived');
    expect(twin.explain().rules.map((r) => r.id)).not.toContain('survived');
    for (let i = 0; i < 60; i++) {
      both(obs({ nowMs: (t += 100) }));
      expect(p.electionTimeoutMs()).toBeGreaterThanOrEqual(Math.min(1.25 * 2000, 2000 + 1000 * (i + 1))); // the rate limit lifts it
    }
    for (let i = 0; i < 40; i++) both(obs({ nowMs: (t += 100) })); // 10 s after the stall ended: past window × 9/8
    expect(p.electionTimeoutMs()).toBe(twin.electionTimeoutMs());
    expect(p.electionTimeoutMs()).toBeLessThan(2500);
  });

  it('a silence heard while cut off from every peer is not a survived one, and (pre-)candidates are not held by the floor', () => {
    const p = new NeuroSymbolicTimeout({ model: shared, rules: withFloor, randomization: { spread: 0 }, lostThreshold: 1 });
    let t = steady(p, 20);
    for (let i = 0; i < 19; i++) p.observe(obs({ nowMs: (t += 100), heartbeatReceived: false, heartbeatLatencyMs: null, peersReachable: i > 10 ? 0 : 4 }));
    p.observe(obs({ nowMs: (t += 100) })); // the cut heals: the same leader, the same term
    expect(p.explain().rules.map((r) => r.id)).not.toContain('survived');
    const q = new NeuroSymbolicTimeout({ model: shared, rules: withFloor, randomization: { spread: 0 }, lostThreshold: 1 });
    t = steady(q, 20);
    t = quiet(q, t, 1900);
    t = steady(q, 1, t);
    expect(q.electionTimeoutMs()).toBeGreaterThanOrEqual(2500);
    q.observe(obs({ nowMs: t + 100, role: 'pre-candidate', heartbeatReceived: false, heartbeatLatencyMs: null }));
    expect(q.explain().rules.map((r) => r.id)).not.toContain('survived');
  });

  it('a silence that ended with a new leader or a new term is not a survived one', () => {
    for (const next of [{ leaderId: 'n2' }, { term: 4 }]) {
      const p = new NeuroSymbolicTimeout({ model: shared, rules: withFloor, randomization: { spread: 0 }, lostThreshold: 1 });
      let t = steady(p, 20);
      t = quiet(p, t, 1900);
      p.observe(obs({ nowMs: t + 100, ...next }));
      expect(p.explain().rules.map((r) => r.id)).not.toContain('survived');
      expect(p.electionTimeoutMs()).toBeLessThan(2500);
    }
  });
});
