/**
 * The physical limit of a timeout policy (docs/EVALUATION.md, "The physical limit: the oracle, capture and the latency split"): the oracle reads the
 * simulator's ground truth (sim/ground-truth.ts, sim/oracle.ts), the view it reads leaves every other
 * policy's run untouched, and the latency split and capture mean what docs/EVALUATION.md says.
 */
import { describe, expect, it } from 'vitest';
import {
  builtinScenario, OracleTimeout, runClosedLoop, Simulation, splitLatencies, staticRandomizedTimeout,
  type PolicyFactory, type RunSummary, type Scenario,
} from '../sim/index.js';
import { captureOf } from '../pipeline/evaluate/aggregate.js';
import { evaluationScenario } from '../pipeline/evaluate/harness.js';

/** lan-5-leader-crash up to just after its first crash (20 s) and the new leader's first commits. */
const crash: Scenario = evaluationScenario({ ...builtinScenario('lan-5-leader-crash')!, duration_ms: 25_000 });
const oracle: PolicyFactory = (id, rng, truth) => new OracleTimeout(id, truth!, rng);
const etcd: PolicyFactory = (_id, rng) => staticRandomizedTimeout(1000, rng);

function run(scenario: Scenario, seed: number, policyFactory: PolicyFactory, groundTruth = true): RunSummary {
  return new Simulation(scenario, { seed, telemetry: false, policyFactory, groundTruth }).run();
}

describe('the ground-truth view', () => {
  it('changes nothing for a policy that ignores it: static etcd gives the same bytes with and without it, even read every tick', () => {
    const scenario = evaluationScenario({ ...builtinScenario('lan-5-partition')!, duration_ms: 40_000 });
    const reads: number[] = [];
    // Reads every question the view answers, every tick, then decides exactly as static etcd does.
    const nosy: PolicyFactory = (id, rng, truth) => {
      const inner = staticRandomizedTimeout(1000, rng);
      return {
        observe(o) {
          reads.push(truth!.leaderFor(id) === null ? 0 : 1, Number(truth!.reachesQuorum(id)), truth!.quorumRoundTripMs(id), truth!.electionTimerOriginMs(id));
          inner.observe(o);
        },
        electionTimeoutMs: () => inner.electionTimeoutMs(),
      };
    };
    const without = JSON.stringify(run(scenario, 3, etcd, false));
    expect(JSON.stringify(run(scenario, 3, etcd, true))).toBe(without);
    expect(JSON.stringify(run(scenario, 3, nosy, true))).toBe(without);
    expect(JSON.stringify(runClosedLoop(scenario, 3, etcd))).toBe(without); // the evaluation's own entry point
    expect(reads.length).toBeGreaterThan(10_000);
  });

  it('reports the leader lost the moment it crashes, and no leader to a follower cut off from it', () => {
    const sim = new Simulation(crash, { seed: 1, telemetry: false, policyFactory: etcd });
    sim.advanceTo(5_000);
    const truth = sim.groundTruth!;
    const leader = sim.nodeIds[sim.trueLeader()]!;
    const follower = sim.nodeIds.find((id) => id !== leader)!;
    expect(truth.leaderFor(follower)).toBe(leader);
    expect(truth.reachesQuorum(follower)).toBe(true);
    expect(truth.quorumRoundTripMs(follower)).toBeLessThan(5); // LAN: well under a millisecond each way
    sim.controls.partition(follower);
    expect(truth.leaderFor(follower)).toBeNull();
    expect(truth.reachesQuorum(follower)).toBe(false);
    expect(truth.leaderFor(sim.nodeIds.find((id) => id !== leader && id !== follower)!)).toBe(leader);
    sim.controls.heal();
    sim.controls.crash('leader');
    expect(truth.leaderFor(follower)).toBeNull();
    expect(truth.reachesQuorum(follower)).toBe(true); // four of five still up
  });
});

describe('the oracle', () => {
  it('fails over within a few round trips of a leader crash, where static etcd waits out its timeout', () => {
    for (const seed of [1, 2, 3]) {
      const o = run(crash, seed, oracle);
      const e = run(crash, seed, etcd);
      expect(o.failovers.map((f) => f.cause)).toEqual(['leader-crash']);
      expect(e.failovers.map((f) => f.cause)).toEqual(['leader-crash']);
      expect(o.failovers[0]!.duration_ms, `seed ${seed}`).toBeLessThan(150); // U[0, 50 ms) + a pre-vote, a vote and a commit
      expect(e.failovers[0]!.duration_ms, `seed ${seed}`).toBeGreaterThan(800); // ≥ 1000 ms after the last heartbeat
      expect(o.commit_latency_downtime_ms.mean!).toBeLessThan(e.commit_latency_downtime_ms.mean!);
      expect(o.availability).toBeGreaterThan(e.availability);
    }
  });

  it('never campaigns while the leader lives: no unnecessary election through jitter, and a cut-off follower stays quiet', () => {
    const jitter = evaluationScenario(builtinScenario('lan-5-jitter')!);
    for (const seed of [1, 2]) expect(run(jitter, seed, oracle).unnecessary_elections).toBe(0);

    const sims = [oracle, etcd].map((policyFactory) => new Simulation(crash, { seed: 2, telemetry: false, policyFactory }));
    const preVotes = sims.map((sim) => {
      sim.advanceTo(3_000);
      const leader = sim.trueLeader();
      const cut = sim.nodes.find((n) => n.index !== leader)!;
      const before = cut.preVoteRounds;
      sim.controls.partition(cut.id); // it cannot reach a quorum, so campaigning could not win
      sim.advanceTo(12_000);
      return cut.preVoteRounds - before;
    });
    expect(preVotes[0]).toBe(0); // the oracle
    expect(preVotes[1]).toBeGreaterThan(0); // static etcd keeps timing out and pre-voting into the void
  });

  it('elects the first leader within a round of the start, since there is none to wait for', () => {
    const s = run({ ...crash, duration_ms: 3_000 }, 4, oracle);
    expect(s.commit_latency_downtime_ms.max!).toBeLessThan(150);
    expect(run({ ...crash, duration_ms: 3_000 }, 4, etcd).commit_latency_downtime_ms.max!).toBeGreaterThan(900);
  });
});

describe('the latency split', () => {
  it('gives each request its overlap with the intervals when no leader could commit', () => {
    // Downtime [0, 100), [300, 400) and from 900 on (still open at 1200 µs).
    const split = splitLatencies([50, 120, 450, 950, 10], [350, 250, 1000, 1100, -1], [0, 300, 900], [100, 400], 1200);
    expect(split.downtime).toEqual([0.1, 0, 0.1, 0.15]); // ms; the pending request is skipped
    expect(split.withLeader).toEqual([0.2, 0.13, 0.45, 0]);
  });

  it('sums to the mean commit latency in every run', () => {
    for (const [scenario, policy] of [[crash, etcd], [crash, oracle], [evaluationScenario({ ...builtinScenario('wan-3-partition')!, duration_ms: 30_000 }), etcd]] as const) {
      const s = run(scenario, 1, policy);
      expect(s.commit_latency_with_leader_ms.count).toBe(s.commit_latency_ms.count);
      expect(s.commit_latency_with_leader_ms.mean! + s.commit_latency_downtime_ms.mean!).toBeCloseTo(s.commit_latency_ms.mean!, 2);
      expect(s.commit_latency_downtime_ms.mean!).toBeGreaterThan(0); // the startup election at least
    }
  });
});

describe('capture', () => {
  it('is 0 for the baseline, 1 for the oracle, and null when the oracle has nothing to gain', () => {
    expect(captureOf(1000, 1000, 200)).toBe(0);
    expect(captureOf(200, 1000, 200)).toBe(1);
    expect(captureOf(600, 1000, 200)).toBe(0.5);
    expect(captureOf(1100, 1000, 200)).toBeCloseTo(-0.125, 12); // worse than the baseline
    expect(captureOf(100, 1000, 200)).toBeCloseTo(1.125, 12); // better than the oracle: it is no strict bound
    expect(captureOf(990, 1000, 995)).toBeNull(); // the oracle gains under 1%
    expect(captureOf(990, 1000, 1200)).toBeNull(); // or loses
    expect(captureOf(990, Number.NaN, 200)).toBeNull(); // nothing measured (e.g. no failover)
  });
});
