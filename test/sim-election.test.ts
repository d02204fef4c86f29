/**
 * The Raft paper's leader-election experiment (§9.3, Fig. 16): its qualitative findings must hold.
 * "Without randomness, leader election consistently took longer than 10 seconds due to many split votes.
 * Adding just 5 ms of randomness helps significantly ... using more randomness improves worst-case behavior
 * ... reducing the election timeout reduces downtime."
 */
import { describe, expect, it } from 'vitest';
import { electionTimeCdf, runElectionTime } from '../sim/index.js';

const base = { servers: 5, broadcastMs: 15, trials: 80, seed: 1 };

describe('election-time experiment (Raft paper Fig. 16)', () => {
  const none = runElectionTime({ ...base, timeoutMinMs: 150, timeoutMaxMs: 150 });
  const little = runElectionTime({ ...base, timeoutMinMs: 150, timeoutMaxMs: 155 });
  const more = runElectionTime({ ...base, timeoutMinMs: 150, timeoutMaxMs: 300 });
  const small = runElectionTime({ ...base, timeoutMinMs: 12, timeoutMaxMs: 24 });

  it('no randomness gives repeated split votes and very long elections', () => {
    expect(none.meanElections).toBeGreaterThan(20);
    expect(none.distribution.p90!).toBeGreaterThan(5_000);
  });

  it('more randomness shortens the tail', () => {
    expect(little.distribution.mean!).toBeLessThan(none.distribution.mean!);
    expect(more.distribution.p99!).toBeLessThan(little.distribution.p99! / 3);
    expect(more.distribution.max!).toBeLessThan(1_000);
  });

  it('smaller timeouts elect faster', () => {
    expect(small.distribution.p50!).toBeLessThan(more.distribution.p50!);
  });

  it('every trial elects a leader after the crash, never sooner than the minimum timeout minus a heartbeat interval', () => {
    for (const r of [little, more]) {
      expect(r.gaveUp).toBe(0);
      expect(r.distribution.min!).toBeGreaterThan(r.options.timeoutMinMs - r.options.timeoutMinMs / 2);
    }
  });

  it('the CDF rises to 1 over the trials', () => {
    const cdf = electionTimeCdf(more.timesMs);
    expect(cdf[cdf.length - 1]!.cdf).toBe(1);
    expect(cdf.every((p, i) => i === 0 || (p.time_ms > cdf[i - 1]!.time_ms && p.cdf > cdf[i - 1]!.cdf))).toBe(true);
  });
});
