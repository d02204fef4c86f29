/**
 * Fuzz: millions of random and adversarial inputs, and no timeout may leave [absolute floor, ceiling].
 * Two layers: the rules engine alone (4M proposals × contexts, cheap), and the whole provider (observe →
 * features → LSTM → composition → guardrails) over adversarial observation streams, including models whose
 * outputs are pushed to extremes.
 */
import { describe, expect, it } from 'vitest';
import { artifactFromBytes } from '../runtime/artifact.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { compileRules, guardInPlace, GuardrailTrace, type GuardrailContext, type Role } from '../runtime/rules.js';
import { makeSharedModel, NeuroSymbolicTimeout, type TimeoutObservation } from '../runtime/timeout.js';
import { buildFixtureArtifact, prng } from './runtime-fixtures/artifact-writer.js';

const cr = compileRules(DEFAULT_RULES);
const FLOOR = cr.absoluteFloorMs;
const CEIL = cr.ceilingMs;
const ROLES: Role[] = ['follower', 'pre-candidate', 'candidate', 'leader'];
const NASTY = [Number.NaN, Infinity, -Infinity, -1, 0, -0, 1e308, -1e308, 5e-324, 2 ** 53, 1e-9];

/** A value that is usually plausible and sometimes hostile. */
function wild(r: () => number, scale: number): number {
  const u = r();
  if (u < 0.08) return NASTY[Math.floor(r() * NASTY.length)]!;
  if (u < 0.15) return -r() * scale;
  if (u < 0.25) return r() * scale * 1e6;
  return r() * scale;
}

describe('fuzz: no timeout outside [floor, ceiling]', () => {
  it('rules engine: 4M random and adversarial proposals and contexts', () => {
    const r = prng(2024);
    const trace = new GuardrailTrace(cr.rules.length);
    const ctx: GuardrailContext = { role: 'follower', heartbeatIntervalMs: 100, worstRttMs: 0, smoothedRttMs: 0, clusterSize: 5, peersReachable: 4, survivedSilenceMs: 0, steppedDownThisTerm: false, previousMs: Number.NaN };
    let outside = 0;
    let firstBad = '';
    for (let i = 0; i < 4_000_000; i++) {
      ctx.role = ROLES[i & 3]!;
      ctx.heartbeatIntervalMs = wild(r, 500);
      ctx.worstRttMs = wild(r, 200);
      ctx.smoothedRttMs = wild(r, 200);
      ctx.clusterSize = 1 + Math.floor(r() * 9);
      ctx.peersReachable = Math.floor(r() * ctx.clusterSize);
      ctx.previousMs = i % 5 === 0 ? Number.NaN : wild(r, 12_000);
      trace.valueMs = (i & 1) === 0 ? wild(r, 20_000) : Math.exp(wild(r, 12));
      guardInPlace(cr, ctx, trace);
      const v = trace.valueMs;
      if (!(v >= FLOOR && v <= CEIL)) {
        if (outside++ === 0) firstBad = JSON.stringify({ ...ctx, v });
      }
    }
    expect(firstBad).toBe('');
    expect(outside).toBe(0);
  });

  it('whole provider: 3 × 200K adversarial ticks on normal and extreme models', () => {
    const models = [
      buildFixtureArtifact(21), // ordinary
      buildFixtureArtifact(22, { qBias: 40 }), // exp(q) overflows towards Infinity
      buildFixtureArtifact(23, { qBias: -40 }), // exp(q) ≈ 0
    ].map((a) => makeSharedModel(artifactFromBytes(JSON.stringify(a.manifest), a.weights), 'int8'));
    const r = prng(77);
    let outside = 0;
    let ticks = 0;
    for (const model of models) {
      const p = new NeuroSymbolicTimeout({ model });
      const o: TimeoutObservation = {
        nowMs: 0, tickMs: 100, role: 'follower', term: 1, leaderId: 'n1', heartbeatLatencyMs: 1, logReplicationGap: 0, rpcRetries: 0,
        cpuIdlePct: 50, heartbeatReceived: true, clusterSize: 5, peersReachable: 4, heartbeatIntervalMs: 100,
      };
      for (let i = 0; i < 200_000; i++) {
        const hostile = r() < 0.3;
        o.nowMs = hostile && r() < 0.1 ? wild(r, 1e9) : i * 100;
        o.tickMs = hostile && r() < 0.05 ? wild(r, 100) : 100;
        o.role = ROLES[Math.floor(r() * 4)]!;
        o.heartbeatLatencyMs = r() < 0.1 ? null : hostile ? wild(r, 100) : r() * 30;
        o.logReplicationGap = hostile ? wild(r, 1000) : Math.floor(r() * 20);
        o.rpcRetries = hostile ? wild(r, 10) : r() < 0.9 ? 0 : Math.floor(r() * 4);
        o.cpuIdlePct = hostile ? wild(r, 100) : r() * 100;
        o.heartbeatReceived = r() < 0.7;
        o.clusterSize = hostile && r() < 0.1 ? Math.floor(wild(r, 10)) : 5;
        o.peersReachable = Math.floor(r() * 5);
        o.heartbeatIntervalMs = hostile ? wild(r, 300) : 100;
        p.observe(o);
        const t = p.electionTimeoutMs();
        ticks++;
        if (!(t >= FLOOR && t <= CEIL)) outside++;
      }
      const e = p.explain();
      expect(e.fallbackCount).toBeGreaterThan(0); // the hostile inputs were seen and refused
      expect(e.ticks).toBe(200_000);
    }
    expect(ticks).toBe(600_000);
    expect(outside).toBe(0);
  });
});
