/**
 * The report's goals (pipeline/evaluate/goals.ts) on hand-made run results: each goal flips when the one
 * figure it rests on crosses its line, and the oracle's row is checked like any policy's.
 */
import { describe, expect, it } from 'vitest';
import { pooled, type SweepPoint } from '../pipeline/evaluate/aggregate.js';
import { goalsOf, type PolicyGoals } from '../pipeline/evaluate/goals.js';
import { METRIC_KEYS, type JobResult, type RunMetrics } from '../pipeline/evaluate/harness.js';

const POLICIES = ['static-etcd', 'static-raft-paper', 'jacobson-karels', 'phi-accrual', 'neuro-symbolic', 'oracle'];
const SCENARIOS = ['calm', 'jitter'];
const JITTER = new Set(['jitter']);

/** Per policy: failover, mean and p99 latency, downtime part, unnecessary elections per run (calm, jitter). */
type Figures = { failover: number; mean: number; p99: number; down: number; unnecessary: [number, number] };
const BASE: Record<string, Figures> = {
  'static-etcd': { failover: 2000, mean: 500, p99: 4000, down: 200, unnecessary: [1, 1] },
  'static-raft-paper': { failover: 1500, mean: 480, p99: 3900, down: 150, unnecessary: [3, 5] },
  'jacobson-karels': { failover: 1400, mean: 470, p99: 3800, down: 140, unnecessary: [2, 3] },
  'phi-accrual': { failover: 1300, mean: 475, p99: 3850, down: 130, unnecessary: [2, 2] },
  'neuro-symbolic': { failover: 1100, mean: 450, p99: 3700, down: 90, unnecessary: [1, 1] },
  oracle: { failover: 1000, mean: 440, p99: 3600, down: 80, unnecessary: [0, 0] },
};

function results(figures: Record<string, Figures>): JobResult[] {
  const out: JobResult[] = [];
  for (const p of POLICIES) {
    for (const [si, s] of SCENARIOS.entries()) {
      for (const seed of [1, 2, 3]) {
        const f = figures[p]!;
        const wobble = seed - 2; // paired noise, the same for every policy
        const metrics = Object.fromEntries(METRIC_KEYS.map((k) => [k, 0])) as unknown as RunMetrics;
        Object.assign(metrics, {
          failover_ms: f.failover + 10 * wobble, commit_latency_mean_ms: f.mean + 5 * wobble, commit_latency_p99_ms: f.p99 + 20 * wobble,
          commit_latency_downtime_mean_ms: f.down, commit_latency_with_leader_mean_ms: f.mean - f.down, unnecessary_elections: f.unnecessary[si]!,
        });
        out.push({ index: out.length, scenario: s, seed, policyId: p, metrics, violation: null, model: null } as JobResult);
      }
    }
  }
  return out;
}

function goalsFor(figures: Record<string, Figures>, sweep: SweepPoint[] | null = null, policy = 'neuro-symbolic'): PolicyGoals {
  const rs = results(figures);
  return goalsOf(rs, pooled(rs, POLICIES), POLICIES, JITTER, sweep).policies.find((g) => g.policy === policy)!;
}

function point(family: string, label: string, failover: number, unnecessaryPerHour: number): SweepPoint {
  const e = (mean: number) => ({ mean, ci95: 0, n: 2 });
  return { policy: label, label, family, param: 'x', value: 0, failover_ms: e(failover), unnecessary_elections_per_hour: e(unnecessaryPerHour), commit_latency_mean_ms: e(0), pareto_optimal: false };
}

describe('evaluation goals', () => {
  it('a model better than every baseline and 90% of the way to the oracle meets goals 1, 2, 3 and 5', () => {
    const g = goalsFor(BASE);
    expect(g.failover).toMatchObject({ best_other: 'phi-accrual', best_other_ms: 1300, met: true });
    expect(g.failover.capture).toBeCloseTo(0.9, 10);
    expect(g.unnecessary).toEqual({
      total: 6, jitter: 3, etcd_total: 6, etcd_jitter: 3, met: true,
      excess_vs_etcd: { total: { diff: 0, se: 0, runs: 6 }, jitter: { diff: 0, se: 0, runs: 3 } },
    });
    expect(g.latency.met).toBe(true);
    expect(g.latency.downtime_share_of_etcd).toBeCloseTo(0.45, 10);
    expect(g.latency.mean.find((d) => d.other === 'jacobson-karels')!.difference.mean).toBeCloseTo(-20, 10);
    expect(g.safety).toEqual({ violations: 0, met: true });
    expect(g.pareto).toBeNull(); // no sweep
    expect(g.all_met).toBe(false); // goal 4 unmeasured does not count as met
  });

  it('each goal fails on the one figure it rests on', () => {
    // Goal 1: faster than every baseline but only 70% of the way to the oracle.
    expect(goalsFor({ ...BASE, 'neuro-symbolic': { ...BASE['neuro-symbolic']!, failover: 1290 } }).failover.met).toBe(false);
    // Goal 2: one more unnecessary election per jitter run than etcd (total and jitter both exceed).
    const more = goalsFor({ ...BASE, 'neuro-symbolic': { ...BASE['neuro-symbolic']!, unnecessary: [0, 2] } }).unnecessary;
    expect(more).toMatchObject({ total: 6, jitter: 6, met: false });
    // The excess pairs run by run: −1 on each calm run and +1 on each jitter run sum to 0 in total, with the noise
    // of six ±1 differences (√6 × their SD); the jitter runs' +1 each is 3 with no spread.
    expect(more.excess_vs_etcd.jitter).toEqual({ diff: 3, se: 0, runs: 3 });
    expect(more.excess_vs_etcd.total.diff).toBe(0);
    expect(more.excess_vs_etcd.total.se).toBeCloseTo(Math.sqrt(6) * Math.sqrt(6 / 5), 10);
    // Goal 3: p99 above one baseline's; then the downtime part above half of etcd's.
    expect(goalsFor({ ...BASE, 'neuro-symbolic': { ...BASE['neuro-symbolic']!, p99: 3810 } }).latency.met).toBe(false);
    expect(goalsFor({ ...BASE, 'neuro-symbolic': { ...BASE['neuro-symbolic']!, down: 110 } }).latency.met).toBe(false);
  });

  it('checks the oracle like any policy: here it meets goals 1-3, and static etcd cannot beat itself', () => {
    const o = goalsFor(BASE, null, 'oracle');
    expect([o.failover.met, o.unnecessary.met, o.latency.met]).toEqual([true, true, true]);
    expect(o.pareto).toBeNull();
    const etcd = goalsFor(BASE, null, 'static-etcd');
    expect(etcd.latency.met).toBe(false);
    expect(etcd.failover.best_other).toBe('phi-accrual');
  });

  it('goal 4: every baseline frontier point must be matched on both axes by a point of the model family', () => {
    const sweep = [
      point('static', 'static 150', 2100, 70), point('static', 'static 1000', 1700, 0), point('static', 'static 400', 1600, 20), // 150 is dominated by 1000
      point('jacobson-karels', 'K = 2', 970, 10),
      point('neuro-symbolic', 'margin 0', 1150, 0), point('neuro-symbolic', 'margin 1', 1400, 0),
      point('oracle', 'oracle', 900, 0),
    ];
    const g = goalsFor(BASE, sweep).pareto!;
    expect(g).toEqual({ family_points: 2, baseline_frontier_points: 3, unmatched: ['K = 2'], unmatched_by_oracle_too: [], met: false }); // static 400 is matched by margin 0
    const better = goalsFor(BASE, [...sweep, point('neuro-symbolic', 'margin -', 960, 10)]).pareto!;
    expect(better).toMatchObject({ unmatched: [], met: true });
    // A point faster than the oracle's on the same runs is out of any detector's reach, and said so.
    const fast = goalsFor(BASE, [...sweep, point('jacobson-karels', 'K = 1', 850, 30)]).pareto!;
    expect(fast).toMatchObject({ unmatched: ['K = 2', 'K = 1'], unmatched_by_oracle_too: ['K = 1'], met: false });
  });
});
