/**
 * Raft behaviour of the simulator, each test named after the rule it checks (Ongaro & Ousterhout 2014;
 * etcd's pre-vote and check-quorum). Small clusters, a few simulated seconds each.
 */
import { describe, expect, it } from 'vitest';
import {
  SafetyViolation, Simulation, builtinScenario, fixedRangeTimeout, makePrng, runClosedLoop, staticRandomizedTimeout, type Prng, type Scenario,
  type TimeoutPolicy,
} from '../sim/index.js';

function lan(size: number, durationMs: number, extra: Partial<Scenario['cluster']> = {}, ratePerS = 50): Scenario {
  return {
    schema_version: 1, name: `t-lan-${size}`, duration_ms: durationMs, tick_ms: 10,
    cluster: { size, ...extra }, network: { profile: 'lan' }, workload: { rate_per_s: ratePerS },
  };
}

/** The index of a follower that is up, for partitioning something other than the leader. */
function someFollower(sim: Simulation): string {
  return sim.snapshot().nodes.find((n) => n.role === 'follower' && n.up)!.id;
}

describe('Election Safety: at most one leader per term (the checker is always on)', () => {
  // Three nodes with the same fixed timeout time out together; n3 votes for both rivals in term 1.
  const contested: Scenario = {
    schema_version: 1, name: 'double-vote', duration_ms: 2_000, tick_ms: 10,
    cluster: { size: 3, pre_vote: false, check_quorum: false, election_timeout_ms: 150, policy: { kind: 'fixed-range', min_ms: 150, max_ms: 150 } },
    network: { profile: 'lan', one_way_ms: [5, 5] }, workload: { rate_per_s: 0 },
  };

  it('aborts with the event history when a node votes twice in a term', () => {
    const sim = new Simulation(contested, { seed: 1, bugs: { doubleVote: ['n3'] } });
    let caught: unknown;
    try {
      sim.run();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SafetyViolation);
    const v = caught as SafetyViolation;
    expect(v.message).toMatch(/two leaders in term 1/);
    expect(v.history.some((l) => /Vote n[12] -> n3 term 1/.test(l))).toBe(true);
    expect(v.history.some((l) => /became leader of term 1/.test(l))).toBe(true);
  });

  it('the same contested election without the bug only splits the vote (no violation)', () => {
    const s = new Simulation(contested, { seed: 1 }).run();
    expect(s.safety_violations).toBe(0);
    expect(s.elections).toBeGreaterThan(3); // identical timeouts: repeated split votes, never two leaders
  });
});

describe('pre-vote (etcd): a partitioned node does not inflate terms when it rejoins', () => {
  function isolateAndRejoin(preVote: boolean): { isolatedTermBefore: number; isolatedTermAfter: number; leaderTermBefore: number; leaderTermAfter: number; leaderBefore: string | null; leaderAfter: string | null } {
    const sim = new Simulation(lan(5, 30_000, { pre_vote: preVote }), { seed: 4, telemetry: false });
    sim.advanceTo(5_000);
    const before = sim.snapshot();
    const victim = someFollower(sim);
    sim.controls.partition(victim);
    sim.advanceTo(15_000);
    const isolatedTermAfter = sim.snapshot().nodes.find((n) => n.id === victim)!.term;
    sim.controls.heal();
    sim.advanceTo(20_000);
    const after = sim.snapshot();
    const leaderTerm = (s: typeof before): number => s.nodes.find((n) => n.id === s.leaderId)?.term ?? -1;
    return {
      isolatedTermBefore: before.nodes.find((n) => n.id === victim)!.term, isolatedTermAfter,
      leaderTermBefore: leaderTerm(before), leaderTermAfter: leaderTerm(after), leaderBefore: before.leaderId, leaderAfter: after.leaderId,
    };
  }

  it('with pre-vote the isolated node keeps its term and the leader keeps its term', () => {
    const r = isolateAndRejoin(true);
    expect(r.isolatedTermAfter).toBe(r.isolatedTermBefore);
    expect(r.leaderAfter).toBe(r.leaderBefore);
    expect(r.leaderTermAfter).toBe(r.leaderTermBefore);
  });

  it('without pre-vote the isolated node inflates its term and deposes the leader on rejoin', () => {
    const r = isolateAndRejoin(false);
    expect(r.isolatedTermAfter).toBeGreaterThan(r.isolatedTermBefore + 3);
    expect(r.leaderTermAfter).toBeGreaterThan(r.leaderTermBefore);
  });
});

describe('check-quorum: a leader without quorum contact for an election timeout steps down', () => {
  function isolateLeader(checkQuorum: boolean): { oldLeaderRole: string; newLeader: string | null; oldLeader: string; oldLeaderTermDelta: number } {
    const sim = new Simulation(lan(5, 20_000, { check_quorum: checkQuorum }), { seed: 2, telemetry: false });
    sim.advanceTo(5_000);
    const oldLeader = sim.snapshot().leaderId!;
    const termBefore = sim.snapshot().nodes.find((n) => n.id === oldLeader)!.term;
    sim.controls.partition('leader');
    sim.advanceTo(8_500);
    const snap = sim.snapshot();
    const majority = snap.nodes.filter((n) => n.id !== oldLeader && n.role === 'leader').map((n) => n.id);
    const old = snap.nodes.find((n) => n.id === oldLeader)!;
    return { oldLeaderRole: old.role, newLeader: majority[0] ?? null, oldLeader, oldLeaderTermDelta: old.term - termBefore };
  }

  it('the isolated leader steps down (then only pre-votes, term unchanged) while the majority elects a new leader', () => {
    const r = isolateLeader(true);
    expect(['follower', 'pre-candidate']).toContain(r.oldLeaderRole);
    expect(r.oldLeaderTermDelta).toBe(0);
    expect(r.newLeader).not.toBeNull();
    expect(r.newLeader).not.toBe(r.oldLeader);
  });

  it('without check-quorum the isolated leader still believes it leads', () => {
    expect(isolateLeader(false).oldLeaderRole).toBe('leader');
  });

  it('counts the check-quorum period in the ticks the leader ran, as etcd does: a GC pause alone does not depose it', () => {
    // Followers with a 2.5–4 s timeout never campaign during a 1.5 s pause of the leader. etcd's leader counts
    // check-quorum in ticks (electionElapsed), which a paused process misses, so it resumes, hears its
    // followers answer, and keeps leading; a wall-clock check would depose it the moment it resumed.
    const sc: Scenario = { ...lan(3, 14_000, { election_timeout_ms: 1000, policy: { kind: 'fixed-range', min_ms: 2500, max_ms: 4000 } }) };
    const sim = new Simulation({ ...sc, faults: [{ kind: 'gc_pause', at_ms: 9_000, node: 'leader', pause_ms: 1_500 }] }, { seed: 4, telemetry: false });
    sim.advanceTo(8_900);
    const leader = sim.snapshot().leaderId!;
    const term = sim.snapshot().nodes.find((n) => n.id === leader)!.term;
    const s = sim.run();
    const after = sim.snapshot().nodes.find((n) => n.id === leader)!;
    expect(after.role).toBe('leader');
    expect(after.term).toBe(term);
    expect(s.failovers).toHaveLength(0);
    // A leader that really lost its quorum still steps down (the isolation test above) after one period of ticks.
  });
});

describe('replication and client workload', () => {
  it('commits every request in a calm cluster and measures per-request commit latency', () => {
    const s = new Simulation(lan(3, 10_000), { seed: 9, telemetry: false }).run();
    expect(s.requests.submitted).toBeGreaterThan(400);
    expect(s.requests.pending).toBeLessThanOrEqual(2);
    expect(s.commit_latency_ms.p50!).toBeLessThan(5); // LAN: about one round trip plus fsync
    expect(s.committed_entries).toBeGreaterThanOrEqual(s.requests.committed);
  });

  it('a leader crash is followed by a failover measured to the first commit of a new leader', () => {
    const sc: Scenario = { ...lan(5, 15_000), faults: [{ kind: 'crash', at_ms: 5_000, node: 'leader' }] };
    const s = new Simulation(sc, { seed: 3, telemetry: false }).run();
    expect(s.failovers).toHaveLength(1);
    expect(s.failovers[0]!.cause).toBe('leader-crash');
    // etcd defaults: the first follower to time out waits [1000, 2000) ms after the last heartbeat.
    expect(s.failovers[0]!.duration_ms).toBeGreaterThan(900);
    expect(s.failovers[0]!.duration_ms).toBeLessThan(2600);
    expect(s.availability).toBeLessThan(0.95);
  });

  it('an outage ends at the successor\'s first commit even when the old leader already took its term', () => {
    // wan-5-jitter, seed 5, etcd's timeouts: at 48.05 s the leader hears the successor's term (a vote granted
    // to it reaches the leader first) and steps down before the successor has won. The outage was keyed to
    // the old leader's term at that moment, the successor's own, so the successor's commits did not end it:
    // it stayed open for the last 12 s of the run.
    const s = new Simulation(builtinScenario('wan-5-jitter')!, { seed: 5, telemetry: false }).run();
    expect(s.open_outage).toBeNull();
    expect(s.failovers).toHaveLength(1);
    expect(s.failovers[0]!.cause).toBe('leader-lost');
    expect(s.failovers[0]!.duration_ms).toBeLessThan(1000);
  });
});

describe('a leader that asks for votes in a later term has resigned its own (the observation\'s leaderResigned)', () => {
  it('its followers see it from its first pre-vote, in the old term, until the term moves on', () => {
    // n1 leads, then hears nothing (inbound cut): check-quorum deposes it, and it asks for pre-votes in the
    // next term over its outbound links. The followers still hold its lease, so they ignore the request, but
    // they see it: no leader serves their term any more.
    const sc: Scenario = {
      ...lan(3, 8_000, { pre_vote: true, check_quorum: true }),
      faults: [{ kind: 'partition', at_ms: 3_000, duration_ms: 4_000, node: 'leader', direction: 'inbound' }],
    };
    const seen: Array<{ id: string; nowMs: number; role: string; term: number; resigned: boolean }> = [];
    const sim = new Simulation(sc, {
      seed: 2, telemetry: false,
      policyFactory: (id, rng) => {
        const inner = staticRandomizedTimeout(1000, rng);
        return {
          observe(o) { seen.push({ id, nowMs: o.nowMs, role: o.role, term: o.term, resigned: o.leaderResigned === true }); inner.observe(o); },
          electionTimeoutMs: () => inner.electionTimeoutMs(),
        };
      },
    });
    sim.run();
    const leader = seen.find((o) => o.nowMs === 2_500 && o.role === 'leader')!;
    const resigned = seen.filter((o) => o.resigned);
    expect(resigned.length).toBeGreaterThan(0);
    expect(seen.filter((o) => o.resigned && o.nowMs < 3_000)).toEqual([]);
    // Only the followers, and only in the deposed leader's term.
    expect(leader.term).toBe(1);
    expect(new Set(resigned.map((o) => o.id))).toEqual(new Set(['n1', 'n2', 'n3'].filter((id) => id !== leader.id)));
    expect(new Set(resigned.map((o) => o.term))).toEqual(new Set([1]));
    // Once the term moves on it no longer holds.
    expect(seen.some((o) => o.term > 1 && o.resigned)).toBe(false);
  });
});

describe('closed loop: a policy per node, identical seeds across policies', () => {
  const sc: Scenario = { ...lan(5, 20_000), faults: [{ kind: 'crash', at_ms: 8_000, node: 'leader' }] };

  it('a policy that behaves like the default reproduces the default run exactly', () => {
    const a = runClosedLoop(sc, 5);
    // Same draws from the same per-node stream: the world is unchanged.
    const b = runClosedLoop(sc, 5, (_id, rng) => staticRandomizedTimeout(1000, rng));
    expect(b).toEqual(a);
  });

  it('an aggressive timeout fails over faster but calls unnecessary elections under GC pauses', () => {
    const paused: Scenario = { ...sc, faults: [...sc.faults!, { kind: 'gc_pause', at_ms: 14_000, node: 'leader', pause_ms: 700 }] };
    const aggressive = (_id: string, rng: Prng): TimeoutPolicy => fixedRangeTimeout(250, 500, rng);
    const base = runClosedLoop(paused, 5);
    const fast = runClosedLoop(paused, 5, aggressive);
    expect(fast.failover_ms.max!).toBeLessThan(base.failover_ms.min!);
    expect(fast.unnecessary_elections).toBeGreaterThan(base.unnecessary_elections);
  });
});

describe('safety and liveness under random faults (crash, restart, one-way partitions, GC pauses, jitter, loss)', () => {
  it('never violates safety, and elects a leader and commits again once the faults stop', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const size = [3, 5, 7][seed % 3]!;
      const sc: Scenario = {
        schema_version: 1, name: 'chaos', duration_ms: 40_000, tick_ms: 10,
        cluster: { size, pre_vote: seed % 2 === 0, check_quorum: seed % 4 < 2, election_timeout_ms: 300, heartbeat_interval_ms: 50 },
        network: { profile: 'lan', loss: 0.05 }, workload: { rate_per_s: 300 },
      };
      const sim = new Simulation(sc, { seed, telemetry: false });
      const rng = makePrng(seed * 7 + 1);
      for (let t = 0; t < 30_000; t += 250) {
        sim.advanceTo(t); // throws SafetyViolation on any violation
        const r = rng.next();
        const node = `n${1 + rng.int(size)}`;
        if (r < 0.05) sim.controls.crash(rng.chance(0.5) ? 'leader' : node);
        else if (r < 0.12) sim.controls.restart(node);
        else if (r < 0.16) sim.controls.partition(rng.chance(0.5) ? 'leader' : node, (['both', 'inbound', 'outbound'] as const)[rng.int(3)]);
        else if (r < 0.22) sim.controls.heal();
        else if (r < 0.25) sim.controls.gcPause(node, rng.uniform(50, 800));
        else if (r < 0.28) sim.controls.setJitterMs(rng.chance(0.5) ? 0 : rng.uniform(5, 200));
      }
      for (let i = 1; i <= size; i++) sim.controls.restart(`n${i}`);
      sim.controls.heal();
      sim.controls.setJitterMs(0);
      const committedBefore = sim.snapshot().committedEntries;
      sim.advanceTo(40_000);
      const snap = sim.snapshot();
      expect(snap.leaderId, `seed ${seed}`).not.toBeNull();
      expect(snap.committedEntries, `seed ${seed}`).toBeGreaterThan(committedBefore + 1000);
    }
  });
});
