import { describe, expect, it } from 'vitest';
import { JacobsonKarelsTimeout, PhiAccrualTimeout, phi, phiCrossingMs } from '../sim/baselines.js';
import { rfc6298State, rfc6298Update } from '../sim/rfc6298.js';

/** Feeds heartbeats at the given inter-arrival gaps (ms) on a 10 ms tick grid; returns the final timeout. */
function feed(policy: JacobsonKarelsTimeout | PhiAccrualTimeout, gapsMs: number[], leaderId = 'L'): number {
  let nowMs = 0;
  const base = { leaderId, term: 1, heartbeatIntervalMs: 100 };
  policy.observe({ ...base, nowMs, heartbeatReceived: true });
  for (const gapMs of gapsMs) {
    for (let t = 10; t < gapMs; t += 10) policy.observe({ ...base, nowMs: nowMs + t, heartbeatReceived: false });
    nowMs += gapMs;
    policy.observe({ ...base, nowMs, heartbeatReceived: true });
  }
  return policy.electionTimeoutMs();
}

const steady = Array.from({ length: 200 }, () => 100);
const jittery = Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 250 : i % 2 === 0 ? 60 : 90));

describe('Jacobson/Karels (RFC 6298) over heartbeat inter-arrivals', () => {
  it('one estimator: RFC 6298 (2.2) then (2.3), and the baseline arms SRTT + 4·RTTVAR of it', () => {
    const s = rfc6298State();
    const seen: Array<[number, number]> = [];
    for (const g of [200, 100, 400]) {
      rfc6298Update(s, g);
      seen.push([s.srttMs, s.rttvarMs]);
    }
    // The window's Jacobson/Karels column (test/window-labels.test.ts) reads the same numbers from the same gaps.
    expect(seen).toEqual([[200, 100], [187.5, 100], [214.0625, 128.125]]);
    expect(feed(new JacobsonKarelsTimeout(), [200, 100, 400])).toBe(214.0625 + 4 * 128.125);
  });

  it('settles at the floor (2 heartbeat intervals) on a perfectly steady leader', () => {
    expect(feed(new JacobsonKarelsTimeout(), steady)).toBeCloseTo(200, 6);
  });
  it('rises under jitter, and more with a larger multiplier', () => {
    const k4 = feed(new JacobsonKarelsTimeout(), jittery);
    const k8 = feed(new JacobsonKarelsTimeout({ k: 8 }), jittery);
    expect(k4).toBeGreaterThan(250);
    expect(k8).toBeGreaterThan(k4);
  });
  it('forgets the old leader: a new leader starts from the initial timeout', () => {
    const p = new JacobsonKarelsTimeout();
    feed(p, jittery);
    p.observe({ nowMs: 1e6, heartbeatReceived: false, leaderId: 'M', term: 2, heartbeatIntervalMs: 100 });
    expect(p.electionTimeoutMs()).toBe(1000);
  });
});

describe('phi-accrual (Akka)', () => {
  it('phi is increasing in the elapsed silence and crosses the threshold where solved', () => {
    expect(phi(150, 100, 10)).toBeGreaterThan(phi(120, 100, 10));
    const t = phiCrossingMs(100, 10, 8);
    expect(phi(t, 100, 10)).toBeGreaterThanOrEqual(8);
    expect(phi(t - 0.02, 100, 10)).toBeLessThan(8);
  });
  it('on a steady leader uses the minimum std (10% of the interval): about 100 + 5.9 sd', () => {
    const t = feed(new PhiAccrualTimeout(), steady);
    expect(t).toBeGreaterThan(150);
    expect(t).toBeLessThan(170);
  });
  it('rises under jitter and with the threshold', () => {
    const calm = feed(new PhiAccrualTimeout(), steady);
    const j8 = feed(new PhiAccrualTimeout(), jittery);
    const j12 = feed(new PhiAccrualTimeout({ threshold: 12 }), jittery);
    expect(j8).toBeGreaterThan(calm);
    expect(j12).toBeGreaterThan(j8);
  });
});
