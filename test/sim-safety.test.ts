/**
 * The safety checker's own rules (Raft §5.4.3, Leader Completeness: "if a log entry is committed in a given
 * term, then that entry will be present in the logs of the leaders for all higher-numbered terms").
 * Regression: during an election storm on wan-5-cpu-storm the checker once reported "leader n5 of term 66
 * lacks committed entry 2747 (term 67)". A candidate whose granted votes reach it late (it was stalled) may
 * become leader of term T after a leader of term T + 1 has committed entries; that is legal, since the stale
 * leader can commit nothing (a quorum has moved on), so the checker must not report it. The same holds for a
 * node still in the older term: the stale leader may overwrite its copy of an entry committed later.
 */
import { describe, expect, it } from 'vitest';
import { SafetyChecker } from '../sim/safety.js';
import { SafetyViolation, Simulation, builtinScenario, type PolicyFactory, type Scenario } from '../sim/index.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

describe('SafetyChecker: Leader Completeness concerns leaders of later terms only', () => {
  // Entries 1–2 committed in term 1; entry 3 (term 3) committed by the leader of term 3.
  function checker(): SafetyChecker {
    const c = new SafetyChecker(ids);
    c.onBecameLeader(0, 0, 1, [0]);
    c.onCommit(0, 1, 1, 1);
    c.onCommit(0, 2, 1, 1);
    c.onBecameLeader(10, 2, 3, [0, 1, 1]);
    c.onCommit(2, 3, 3, 3);
    return c;
  }

  it('a leader of an older term that lacks an entry committed in a newer one is no violation', () => {
    expect(() => checker().onBecameLeader(20, 4, 2, [0, 1, 1])).not.toThrow();
  });

  it('a leader of an older term that lacks an entry committed before its term is one', () => {
    expect(() => checker().onBecameLeader(20, 4, 2, [0, 1])).toThrow(/leader n5 of term 2 lacks entry 2 \(term 1\), committed in term 1/);
  });

  it('a leader of a later term that lacks the newest committed entry is one', () => {
    expect(() => checker().onBecameLeader(20, 4, 4, [0, 1, 1])).toThrow(/leader n5 of term 4 lacks entry 3 \(term 3\), committed in term 3/);
  });

  it('an old entry committed by a later leader counts from that leader\'s term', () => {
    // Entry 4 of term 2 is committed only by the leader of term 5 (Raft §5.4.2: through an entry of its own term).
    const c = checker();
    c.onBecameLeader(30, 1, 5, [0, 1, 1, 3, 2]);
    c.onCommit(1, 4, 2, 5);
    expect(() => c.onBecameLeader(40, 3, 4, [0, 1, 1, 3])).not.toThrow();
    expect(() => c.onBecameLeader(40, 3, 6, [0, 1, 1, 3])).toThrow(SafetyViolation);
  });
});

describe('SafetyChecker: no leader removes an entry committed in a term up to its own', () => {
  function checker(): SafetyChecker {
    const c = new SafetyChecker(ids);
    c.onCommit(0, 1, 1, 1);
    c.onCommit(0, 2, 2, 4); // entry 2 (term 2) committed by the leader of term 4
    return c;
  }

  it('the leader of term 3 may overwrite a lagging copy of an entry committed in term 4', () => {
    expect(() => checker().onTruncate(4, 2, 1, [0, 1, 2], 3)).not.toThrow();
  });

  it('the leader of term 4 or later removing it is a violation', () => {
    expect(() => checker().onTruncate(4, 2, 1, [0, 1, 2], 4)).toThrow(/n5 dropped entry 2 \(term 2\), committed in term 4/);
    expect(() => checker().onTruncate(4, 1, 0, [0, 1, 2], 9)).toThrow(/dropped entry 1 \(term 1\), committed in term 1/);
  });

  it('truncating at or below the node\'s own commit index is a violation whatever the term', () => {
    expect(() => checker().onTruncate(4, 2, 2, [0, 1, 3], 3)).toThrow(/at or below its commit index 2/);
  });
});

/** An unguarded policy: mostly one tick (10 ms), otherwise up to 200 ms, redrawn every tick. */
const erratic: PolicyFactory = (_id, rng) => {
  let timeoutMs = 200;
  return {
    observe() { timeoutMs = rng.chance(0.8) ? 10 : rng.uniform(10, 200); },
    electionTimeoutMs: () => timeoutMs,
  };
};

describe('election storms on the CPU-storm scenarios break no safety rule', () => {
  it('lan-5-cpu-storm, seed 4, used to throw "n5 dropped committed entry 2909 (term 420)"; the run completes', () => {
    const sim = new Simulation(builtinScenario('lan-5-cpu-storm')!, { seed: 4, telemetry: false, policyFactory: erratic });
    const s = sim.run();
    expect(s.elections).toBeGreaterThan(1000);
    expect(s.requests.committed).toBeGreaterThan(0);
  });
});

describe('the simulator: a stalled candidate that wins late is a stale leader, not a violation', () => {
  const sc: Scenario = {
    schema_version: 1, name: 'stale-leader', duration_ms: 60_000, tick_ms: 10,
    cluster: { size: 5, pre_vote: false, check_quorum: false, election_timeout_ms: 150, heartbeat_interval_ms: 50, policy: { kind: 'fixed-range', min_ms: 150, max_ms: 300 } },
    network: { profile: 'lan' }, workload: { rate_per_s: 0 },
  };

  it('used to throw "leader … of term 2 lacks committed entry 2 (term 3)"; now the late leader steps down to the term-3 leader', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const sim = new Simulation(sc, { seed, telemetry: false });
      sim.advanceTo(2_000);
      sim.controls.crash('leader');
      // The first candidate sends its vote requests and then stalls for 3 s: the grants wait in its queue
      // while the others elect a leader of the next term, which commits its no-op entry.
      let candidate = '';
      while (candidate === '' && sim.step()) candidate = sim.snapshot().nodes.find((n) => n.up && n.role === 'candidate')?.id ?? '';
      const staleTerm = sim.snapshot().nodes.find((n) => n.id === candidate)!.term;
      sim.controls.gcPause(candidate, 3_000);
      sim.advanceTo(sim.nowMs + 2_900);
      const snap = sim.snapshot();
      expect(snap.leaderId, `seed ${seed}`).not.toBe(candidate);
      expect(snap.nodes.find((n) => n.id === snap.leaderId)!.term, `seed ${seed}`).toBe(staleTerm + 1);
      expect(snap.committedEntries, `seed ${seed}`).toBeGreaterThanOrEqual(2);
      sim.advanceTo(sim.nowMs + 2_000); // the candidate wakes, counts its old grants, leads term 2 briefly and steps down
      const after = sim.snapshot();
      expect(after.leaderId, `seed ${seed}`).toBe(snap.leaderId);
      expect(after.nodes.find((n) => n.id === candidate)!.term, `seed ${seed}`).toBe(staleTerm + 1);
      expect(sim.leaderChanges, `seed ${seed}`).toBeGreaterThanOrEqual(2);
    }
  });
});
