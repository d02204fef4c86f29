import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateAgainst } from '../pipeline/schemas.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import {
  applyGuardrails, compileRules, GuardrailTrace, hardFloorMs, normalizedDomainViolation, rawDomainViolation, validateRules,
  type GuardrailContext, type SafetyRules,
} from '../runtime/rules.js';

const fileRules = JSON.parse(readFileSync(new URL('../rules/default.rules.json', import.meta.url), 'utf8')) as SafetyRules & { $schema?: string };
const cr = compileRules(DEFAULT_RULES);
const ctx = (over: Partial<GuardrailContext> = {}): GuardrailContext => ({
  role: 'follower', heartbeatIntervalMs: 100, worstRttMs: 10, smoothedRttMs: 10, clusterSize: 5, peersReachable: 4, survivedSilenceMs: 0, steppedDownThisTerm: false, previousMs: Number.NaN, ...over,
});
const run = (proposal: number, c: GuardrailContext): { ms: number; active: string[]; trace: GuardrailTrace } => {
  const trace = new GuardrailTrace(cr.rules.length);
  const ms = applyGuardrails(cr, proposal, c, trace);
  return { ms, active: cr.rules.filter((_, i) => trace.active[i] === 1).map((r) => r.id), trace };
};
const copy = (): SafetyRules => JSON.parse(JSON.stringify(DEFAULT_RULES)) as SafetyRules;
/** The default rules' survived-silence margin (1.5 since 2.8.0). */
const MARGIN = DEFAULT_RULES.rules.find((r) => r.kind === 'survived_silence_floor')!.margin as number;
/** The default rules' cap on a follower's proposal (static-timeout-cap; chosen in closed loop, docs/EVALUATION.md). */
const FOLLOWER_CAP = (DEFAULT_RULES.rules.find((r) => r.id === 'static-timeout-cap') as { max_ms: number }).max_ms;

describe('safety rules file', () => {
  it('the embedded default equals rules/default.rules.json', () => {
    const { $schema, ...rest } = fileRules;
    void $schema;
    expect(rest).toEqual(DEFAULT_RULES);
  });

  it('the default is valid for the JSON Schema and for the engine', () => {
    expect(validateAgainst('safety-rules', fileRules)).toMatchObject({ ok: true });
    expect(validateRules(DEFAULT_RULES).ok).toBe(true);
    expect(cr.absoluteFloorMs).toBe(50);
    expect(cr.ceilingMs).toBe(10_000);
    expect(cr.staticFallbackMs).toBe(1000);
  });

  it('schema and engine both reject unknown kinds, unknown keys and bad numbers', () => {
    const unknownKind = copy();
    (unknownKind.rules[0] as unknown as { kind: string }).kind = 'wishful';
    const extraKey = copy();
    (extraKey.rules[1] as unknown as Record<string, unknown>).max_seconds = 3;
    const negK = copy();
    (negK.rules[0] as unknown as { k: number }).k = -1;
    for (const bad of [unknownKind, extraKey, negK]) {
      expect(validateAgainst('safety-rules', bad).ok).toBe(false);
      expect(validateRules(bad).ok).toBe(false);
    }
    const r = validateRules(extraKey);
    expect(r.ok || r.issues[0]).toMatchObject({ path: '/rules/1', message: 'unknown key "max_seconds"' });
  });

  it('the engine rejects what a schema cannot see: floor above ceiling, fallback outside bounds', () => {
    const inverted = copy();
    (inverted.rules[1] as unknown as { max_ms: number }).max_ms = 40;
    const r = validateRules(inverted);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.message).join(' ')).toContain('absolute floor 50 ms exceeds the ceiling 40 ms');
    const fb = copy();
    fb.static_fallback_ms = 20_000;
    expect(() => compileRules(fb, 'my.rules.json')).toThrow(/my\.rules\.json: invalid safety rules \(\/static_fallback_ms: 20000 ms is outside \[50, 10000\] ms\)/);
  });
});

describe('guardrails (applyGuardrails)', () => {
  it('Raft timing floor: timeout ≥ k × (heartbeat interval + worst RTT)', () => {
    // Default rules: k = 1, one heartbeat interval plus the worst recent RTT (above the follower floor's 150 ms here).
    const r = run(220, ctx({ heartbeatIntervalMs: 200, worstRttMs: 30 }));
    expect(r.ms).toBe(230);
    expect(r.active).toEqual(['raft-timing-floor']);
    expect(hardFloorMs(cr, ctx({ heartbeatIntervalMs: 200, worstRttMs: 30 }))).toBe(230);
  });

  it('a follower of a live leader waits at least 150 ms (the Raft paper\'s shortest timeout); not once it stepped down', () => {
    const lan = { heartbeatIntervalMs: 100, worstRttMs: 1 }; // timing floor 101 ms
    const r = run(120, ctx(lan));
    expect(r.ms).toBe(150);
    expect(r.active).toEqual(['raft-paper-follower-floor']);
    expect(hardFloorMs(cr, ctx(lan))).toBe(150);
    expect(run(120, ctx({ ...lan, steppedDownThisTerm: true })).ms).toBe(120); // no live leader to stall
    expect(run(120, ctx({ ...lan, role: 'pre-candidate' })).ms).toBe(120);
  });

  it('absolute floor holds even with a zero heartbeat interval', () => {
    expect(run(1, ctx({ heartbeatIntervalMs: 0, worstRttMs: 0, role: 'candidate' })).ms).toBe(50);
  });

  it('an in-bounds proposal passes untouched', () => {
    const r = run(750, ctx());
    expect(r.ms).toBe(750);
    expect(r.active).toEqual([]);
  });

  it('pre-vote floor applies only to a pre-candidate with more than N/2 peers unreachable', () => {
    const base = { heartbeatIntervalMs: 10, worstRttMs: 1 }; // timing floor 22 → absolute 50
    expect(run(60, ctx({ ...base, role: 'pre-candidate', clusterSize: 5, peersReachable: 1 })).ms).toBe(150); // 3 of 4 unreachable
    expect(run(60, ctx({ ...base, role: 'pre-candidate', clusterSize: 5, peersReachable: 2 })).ms).toBe(60); // 2 of 4: not more than half
    expect(run(60, ctx({ ...base, role: 'follower', clusterSize: 5, peersReachable: 0 })).active).toEqual(['raft-paper-follower-floor']); // not the pre-vote floor
    expect(run(60, ctx({ ...base, role: 'pre-candidate', clusterSize: 5, peersReachable: 0 })).active).toEqual(['prevote-partition-floor']);
  });

  it('maximum change per tick, asymmetric, relative to the previous armed timeout', () => {
    // A pre-candidate reaching a majority: none of the default caps applies to it.
    const pre = (over: Partial<GuardrailContext>): GuardrailContext => ctx({ role: 'pre-candidate', ...over });
    expect(run(5000, pre({ previousMs: 1000 })).ms).toBe(2000);
    expect(run(300, pre({ previousMs: 1000 })).ms).toBe(600);
    expect(run(300, pre({ previousMs: 1000 })).active).toEqual(['max-change-per-tick']);
    expect(run(300, pre({})).ms).toBe(300); // first tick: nothing to compare with
  });

  it("candidate retry cap: a candidate's proposal is at most 150 ms, and the timing floor keeps its vote round trip", () => {
    const candidate = (over: Partial<GuardrailContext> = {}): GuardrailContext => ctx({ role: 'candidate', ...over });
    expect(run(3000, candidate()).ms).toBe(150);
    expect(run(3000, candidate()).active).toEqual(['candidate-retry-cap']);
    expect(run(120, candidate()).active).toEqual([]); // below the cap: untouched
    // Raft's timing floor still holds it above a heartbeat interval plus a round trip (the votes' way back):
    // the smoothed one when lower than the worst (candidate_rtt: smoothed), the worst for every other role.
    expect(run(3000, candidate({ worstRttMs: 300, smoothedRttMs: 300 })).ms).toBe(400);
    expect(run(3000, candidate({ worstRttMs: 300, smoothedRttMs: 300 })).active).toEqual(['raft-timing-floor', 'candidate-retry-cap']);
    expect(run(3000, candidate({ worstRttMs: 3500, smoothedRttMs: 200 })).ms).toBe(300);
    expect(run(3000, candidate({ worstRttMs: 200, smoothedRttMs: 3500 })).ms).toBe(300); // never above the worst
    expect(run(900, ctx({ worstRttMs: 3500, smoothedRttMs: 200 })).ms).toBe(3600); // a follower waits for the worst
    expect(run(3000, candidate({ worstRttMs: 3500, smoothedRttMs: 200, steppedDownThisTerm: true })).ms).toBe(150); // no leader: no round trip
    // The rate limit still slows the drop from a long previous timeout.
    expect(run(3000, candidate({ previousMs: 2500 })).ms).toBe(2100);
    // Only candidates: a follower keeps the static-timeout cap, a pre-candidate no cap.
    expect(run(3000, ctx()).ms).toBe(FOLLOWER_CAP);
    expect(run(3000, ctx({ role: 'pre-candidate' })).ms).toBe(3000);
  });

  it("proposal cap: a follower's proposal is at most the static base, and the floors may still lift it", () => {
    expect(FOLLOWER_CAP).toBeLessThanOrEqual(1000); // never above etcd's base, the static timeout it replaces
    expect(run(5000, ctx()).ms).toBe(FOLLOWER_CAP);
    expect(run(5000, ctx()).active).toEqual(['static-timeout-cap']);
    expect(run(FOLLOWER_CAP - 50, ctx()).active).toEqual([]); // below the cap: untouched
    expect(run(5000, ctx({ role: 'pre-candidate' })).ms).toBe(5000); // only followers
    // Applied before the rate limit: 5000 → the cap, then at most 400 below the previous 2000.
    expect(run(5000, ctx({ previousMs: 2000 })).ms).toBe(1600);
    // The floors come after it: margin × a 2000 ms survived silence and Raft's timing floor lift the value again.
    expect(run(5000, ctx({ survivedSilenceMs: 2000 })).ms).toBe(MARGIN * 2000);
    expect(run(5000, ctx({ worstRttMs: 3000 })).ms).toBe(3100);
    const lifted = run(5000, ctx({ worstRttMs: 3000 }));
    expect(lifted.active).toEqual(['raft-timing-floor', 'static-timeout-cap']);
    expect(lifted.trace.conflict).toBe(false);
    // Schema and engine agree on its shape.
    for (const bad of [{ max_ms: 0 }, { when: {} }, { when: { roles: ['boss'] } }, { min_ms: 5 }]) {
      const b = copy();
      const i = b.rules.findIndex((r) => r.kind === 'proposal_cap');
      b.rules[i] = { ...b.rules[i]!, ...bad } as never;
      expect(validateAgainst('safety-rules', b).ok).toBe(false);
      expect(validateRules(b).ok).toBe(false);
    }
  });

  it('a follower whose leader resigned the term: capped at 150 ms, no survived-silence floor, no RTT in the timing floor', () => {
    // steppedDownThisTerm is also set for a follower whose leader asked it for votes in a later term.
    const resigned = ctx({ steppedDownThisTerm: true, survivedSilenceMs: 1500, worstRttMs: 300 });
    expect(run(800, resigned).ms).toBe(150);
    expect(run(800, resigned).active).toEqual(['stepped-down-retry-cap']);
    expect(hardFloorMs(cr, resigned)).toBe(100);
    // The same follower while its leader may still serve the term: both floors hold.
    const live = ctx({ survivedSilenceMs: 1500, worstRttMs: 300 });
    expect(run(800, live).ms).toBe(MARGIN * 1500);
    expect(hardFloorMs(cr, live)).toBe(MARGIN * 1500);
    expect(hardFloorMs(cr, ctx({ worstRttMs: 300 }))).toBe(400);
  });

  it('stepped-down retry cap: a leader that check-quorum deposed proposes at most 150 ms, still under the floors', () => {
    // Any role but leader, as long as the node led in this term.
    for (const role of ['follower', 'pre-candidate', 'candidate'] as const) {
      expect(run(5000, ctx({ role, steppedDownThisTerm: true })).ms).toBe(150);
    }
    expect(run(5000, ctx({ role: 'pre-candidate', steppedDownThisTerm: true })).active).toEqual(['stepped-down-retry-cap']);
    expect(run(5000, ctx({ role: 'pre-candidate' })).ms).toBe(5000); // never led this term: not capped
    // Raft's timing floor (its heartbeat interval; no live leader's round trip to wait for) and the
    // unreachable-majority floor still lift it; the rate limit still slows the drop.
    expect(run(5000, ctx({ role: 'pre-candidate', steppedDownThisTerm: true, worstRttMs: 3000 })).ms).toBe(150);
    expect(run(5000, ctx({ role: 'pre-candidate', steppedDownThisTerm: true, heartbeatIntervalMs: 400, worstRttMs: 3000 })).ms).toBe(400);
    expect(hardFloorMs(cr, ctx({ role: 'pre-candidate', worstRttMs: 3000 }))).toBe(3100);
    expect(run(5000, ctx({ role: 'pre-candidate', steppedDownThisTerm: true, peersReachable: 1 })).ms).toBe(150);
    expect(run(5000, ctx({ role: 'pre-candidate', steppedDownThisTerm: true, previousMs: 2000 })).ms).toBe(1600);
    // false is a condition too: the cap then applies only to nodes that did not step down.
    const b = copy();
    b.rules.push({ id: 'not-deposed', kind: 'proposal_cap', max_ms: 700, when: { stepped_down_this_term: false }, why: 'test' } as never);
    const c = compileRules(b);
    const t = new GuardrailTrace(c.rules.length);
    expect(applyGuardrails(c, 5000, ctx({ role: 'pre-candidate' }), t)).toBe(700);
    expect(applyGuardrails(c, 5000, ctx({ role: 'pre-candidate', steppedDownThisTerm: true }), t)).toBe(150);
    // Schema and engine refuse a value that is not a boolean, the engine naming the path.
    const bad = copy();
    const i = bad.rules.findIndex((r) => r.id === 'stepped-down-retry-cap');
    bad.rules[i] = { ...bad.rules[i]!, when: { stepped_down_this_term: 1 } } as never;
    expect(validateAgainst('safety-rules', bad).ok).toBe(false);
    const v = validateRules(bad);
    expect(v.ok).toBe(false);
    expect(JSON.stringify(v)).toContain(`/rules/${i}/when/stepped_down_this_term`);
    expect(JSON.stringify(v)).toContain('expected true or false');
  });

  it('the floors win over the rate limit; the ceiling wins over everything and a conflict is flagged', () => {
    expect(run(100, ctx({ previousMs: 150, heartbeatIntervalMs: 100, worstRttMs: 50 })).ms).toBe(150);
    const high = run(50_000, ctx({ role: 'pre-candidate', previousMs: 9900 }));
    expect(high.ms).toBe(10_000);
    expect(high.trace.conflict).toBe(false);
    const conflict = run(500, ctx({ heartbeatIntervalMs: 8000, worstRttMs: 4000 }));
    expect(conflict.ms).toBe(10_000);
    expect(conflict.trace.conflict).toBe(true);
    expect(conflict.active).toEqual(['raft-timing-floor', 'ceiling']);
  });

  it('survived-silence floor: timeout ≥ margin × the longest silence the leader survived, checked by schema and engine alike', () => {
    const rules = copy();
    rules.rules = rules.rules.filter((r) => r.kind !== 'survived_silence_floor');
    rules.rules.splice(1, 0, { id: 'survived', kind: 'survived_silence_floor', window_ms: 30_000, margin: 1.5, why: 'test' });
    expect(validateAgainst('safety-rules', rules)).toMatchObject({ ok: true });
    const c = compileRules(rules);
    expect(c.survivedWindowMs).toBe(30_000);
    expect(cr.survivedWindowMs).toBe(30_000); // the default rules carry one (30 s, margin 1.0)
    const trace = new GuardrailTrace(c.rules.length);
    expect(applyGuardrails(c, 300, ctx({ survivedSilenceMs: 400 }), trace)).toBe(600);
    expect(c.rules.filter((_, i) => trace.active[i] === 1).map((r) => r.id)).toEqual(['survived']);
    expect(hardFloorMs(c, ctx({ survivedSilenceMs: 400 }))).toBe(600);
    expect(applyGuardrails(c, 300, ctx({ survivedSilenceMs: 100 }), trace)).toBe(300);
    expect(applyGuardrails(c, 300, ctx({ survivedSilenceMs: 9000 }), trace)).toBe(10_000); // the ceiling still wins
    expect(trace.conflict).toBe(true);
    expect(applyGuardrails(c, 300, ctx({ survivedSilenceMs: Number.NaN }), trace)).toBe(10_000);
    for (const bad of [{ margin: -1 }, { window_ms: 0 }, { margin: 11 }, { extra: 1 }]) {
      const b = copy();
      b.rules = b.rules.filter((r) => r.kind !== 'survived_silence_floor');
      b.rules.splice(1, 0, { id: 'survived', kind: 'survived_silence_floor', window_ms: 30_000, margin: 1.5, why: 'test', ...bad } as never);
      expect(validateAgainst('safety-rules', b).ok).toBe(false);
      expect(validateRules(b).ok).toBe(false);
    }
  });

  it('non-finite proposals and contexts still yield a value in [floor, ceiling]', () => {
    for (const p of [Number.NaN, Infinity, -Infinity, -5, 0]) {
      for (const c of [ctx(), ctx({ heartbeatIntervalMs: Number.NaN }), ctx({ worstRttMs: Infinity }), ctx({ previousMs: -Infinity })]) {
        const ms = run(p, c).ms;
        expect(ms).toBeGreaterThanOrEqual(50);
        expect(ms).toBeLessThanOrEqual(10_000);
      }
    }
  });

  it('counts activations per rule across ticks', () => {
    const trace = new GuardrailTrace(cr.rules.length);
    for (let i = 0; i < 5; i++) applyGuardrails(cr, 10, ctx(), trace);
    expect(trace.counts[0]).toBe(5);
  });
});

describe('input domain', () => {
  it('accepts typical signals and a null latency', () => {
    expect(rawDomainViolation(cr, 12, 3, 0, 80, 100)).toBe(0);
    expect(rawDomainViolation(cr, null, 3, 0, 80, 100)).toBe(0);
  });
  it('names the first field that is non-finite, negative or absurd', () => {
    expect(rawDomainViolation(cr, Number.NaN, 3, 0, 80, 100)).toBe(1);
    expect(rawDomainViolation(cr, 5, -1, 0, 80, 100)).toBe(2);
    expect(rawDomainViolation(cr, 5, 1, Infinity, 80, 100)).toBe(3);
    expect(rawDomainViolation(cr, 5, 1, 0, 101, 100)).toBe(4);
    expect(rawDomainViolation(cr, 5, 1, 0, 50, 1e9)).toBe(5);
  });
  it('checks the normalized box', () => {
    expect(normalizedDomainViolation(cr, [0, 0, 0, 0])).toBe(0);
    expect(normalizedDomainViolation(cr, [0, 0, 5.5, 0])).toBe(3);
  });
});
