/**
 * The simulated client fails over as etcd's clientv3 does (sim/client.ts): a crashed process refuses at
 * once and the client retries another node after a short backoff; only a node that cannot answer at all
 * (partitioned, hung) costs the request timeout. Each test is what a user of `simulate` or `evaluate`
 * would see in the commit latencies.
 */
import { describe, expect, it } from 'vitest';
import { Simulation, fixedRangeTimeout, type ClientSpec, type FaultSpec, type Scenario } from '../sim/index.js';
import { validateAgainst } from '../pipeline/schemas.js';

function lan5(faults: FaultSpec[], client?: ClientSpec, extra: Partial<NonNullable<Scenario['workload']>> = {}): Scenario {
  return {
    schema_version: 1, name: 't-client', duration_ms: 12_000, tick_ms: 10,
    cluster: { size: 5 }, network: { profile: 'lan' },
    workload: { rate_per_s: 200, ...extra, ...(client === undefined ? {} : { client }) }, faults,
  };
}

const CRASH: FaultSpec[] = [{ kind: 'crash', at_ms: 5_000, node: 'leader' }];
const PARTITION: FaultSpec[] = [{ kind: 'partition', at_ms: 5_000, duration_ms: 5_000, node: 'leader' }];

interface Outcome {
  sim: Simulation;
  failoverEndMs: number;
  failoverMs: number;
  /** The worst commit latency of a request submitted during the outage (ms). */
  maxLatencyMs: number;
  /** How long after the first commit of the new leader the last request submitted before it completed (ms). */
  lagAfterFailoverMs: number;
}

/** `beforeMs`: also count requests submitted this long before the fault (to catch those in flight at it). */
function run(sc: Scenario, seed = 3, beforeMs = 0): Outcome {
  const sim = new Simulation(sc, { seed, telemetry: false });
  const s = sim.run();
  expect(s.failovers).toHaveLength(1);
  const f = s.failovers[0]!;
  const { submitUs, doneUs } = sim.client;
  let lastDoneUs = 0;
  let maxLatencyUs = 0;
  for (let i = 1; i < submitUs.length; i++) {
    if (submitUs[i]! < (f.start_ms - beforeMs) * 1000) continue;
    if (submitUs[i]! >= f.end_ms * 1000) break;
    expect(doneUs[i]).toBeGreaterThan(0); // every request of the outage commits eventually
    lastDoneUs = Math.max(lastDoneUs, doneUs[i]!);
    maxLatencyUs = Math.max(maxLatencyUs, doneUs[i]! - submitUs[i]!);
  }
  return { sim, failoverEndMs: f.end_ms, failoverMs: f.duration_ms, maxLatencyMs: maxLatencyUs / 1000, lagAfterFailoverMs: lastDoneUs / 1000 - f.end_ms };
}

describe('a crashed leader: the connection is refused, the client retries elsewhere at once', () => {
  it('requests sent to the crashed leader commit as soon as a new leader does, not after the 2 s request timeout', () => {
    const o = run(lan5(CRASH));
    expect(o.failoverMs).toBeGreaterThan(900); // etcd's timeouts: the failover itself is ≥ 1 s
    expect(o.maxLatencyMs).toBeLessThan(o.failoverMs + 50);
    expect(o.lagAfterFailoverMs).toBeLessThan(50);
    expect(o.sim.client.refusals).toBeGreaterThan(0);
    expect(o.sim.client.timeouts).toBe(0);
  });

  it('requests the leader had accepted but not committed fail with the connection too', () => {
    // 20 ms links: a commit takes a round trip to the followers, so the crash catches entries the
    // leader has appended but not committed, and requests still on their way to it.
    const far: Scenario = { ...lan5(CRASH), network: { profile: 'lan', one_way_ms: [20, 20] } };
    const o = run(far, 3, 100);
    expect(o.lagAfterFailoverMs).toBeLessThan(3 * 40 + 30);
    expect(o.maxLatencyMs).toBeLessThan(o.failoverMs + 100 + 3 * 40 + 30);
    expect(o.sim.client.timeouts).toBe(0);
    const hang = run({ ...far, workload: { rate_per_s: 200, client: { crashed_node: 'hang' } } }, 3, 100);
    expect(hang.maxLatencyMs).toBeGreaterThanOrEqual(2_000);
  });

  it('with crashed_node "hang" (the machine vanished) the same requests wait the request timeout', () => {
    const o = run(lan5(CRASH, { crashed_node: 'hang' }));
    expect(o.maxLatencyMs).toBeGreaterThanOrEqual(2_000);
    expect(o.sim.client.refusals).toBe(0);
    expect(o.sim.client.timeouts).toBeGreaterThan(0);
  });

  it('a faster failover now shows in the commit latency', () => {
    const sc = lan5(CRASH);
    const slow = new Simulation(sc, { seed: 3, telemetry: false }).run();
    const fast = new Simulation(sc, { seed: 3, telemetry: false, policyFactory: (_id, rng) => fixedRangeTimeout(300, 600, rng) }).run();
    expect(fast.failover_ms.mean!).toBeLessThan(slow.failover_ms.mean! - 300);
    // Requests of the outage wait about the failover, so the mean follows it.
    expect(fast.commit_latency_ms.mean!).toBeLessThan(slow.commit_latency_ms.mean! * 0.75);
  });
});

describe('a partitioned leader: nothing answers, the request timeout decides', () => {
  it('requests sent to the isolated leader wait the request timeout', () => {
    const o = run(lan5(PARTITION));
    expect(o.maxLatencyMs).toBeGreaterThanOrEqual(2_000);
    expect(o.maxLatencyMs).toBeLessThan(2_000 + 100);
    expect(o.sim.client.timeouts).toBeGreaterThan(0);
  });

  it('a shorter request timeout shortens that wait', () => {
    const short = run(lan5(PARTITION, { request_timeout_ms: 800 }));
    expect(short.maxLatencyMs).toBeGreaterThanOrEqual(800);
    // Until the followers notice, their hints still name the isolated leader, so a resent request can
    // time out there once more (an etcd follower would forward it there just the same).
    expect(short.maxLatencyMs).toBeLessThan(Math.max(2 * 800, short.failoverMs) + 100);
    expect(short.maxLatencyMs).toBeLessThan(2_000);
  });

  it('with partitioned_node "refuse" (the network reports it unreachable) it behaves like a crash', () => {
    const o = run(lan5(PARTITION, { partitioned_node: 'refuse' }));
    expect(o.maxLatencyMs).toBeLessThan(o.failoverMs + 50);
    expect(o.sim.client.timeouts).toBe(0);
  });

  it('workload.client_timeout_ms still sets the request timeout (an alias)', () => {
    const alias = new Simulation(lan5(PARTITION, undefined, { client_timeout_ms: 800 }), { seed: 3, telemetry: false }).run();
    const named = new Simulation(lan5(PARTITION, { request_timeout_ms: 800 }), { seed: 3, telemetry: false }).run();
    expect(alias).toEqual(named);
    expect(alias.scenario.client.requestTimeoutMs).toBe(800);
  });
});

describe('the retry knobs', () => {
  it('a longer retry backoff lets the outage requests finish later after the new leader commits', () => {
    const quick = run(lan5(CRASH));
    const slow = run(lan5(CRASH, { retry_backoff_ms: 400 }));
    expect(slow.lagAfterFailoverMs).toBeGreaterThan(quick.lagAfterFailoverMs + 100);
    expect(slow.lagAfterFailoverMs).toBeLessThan(400 * 1.1 + 50);
  });

  it('a lost request costs a request timeout, but a silent leader is not avoided: the others still commit at once', () => {
    const lossy: Scenario = { ...lan5([]), network: { profile: 'lan', loss: 0.02 } };
    const sim = new Simulation(lossy, { seed: 3, telemetry: false });
    const s = sim.run();
    expect(sim.client.timeouts).toBeGreaterThan(0);
    expect(s.commit_latency_ms.p50!).toBeLessThan(5);
    expect(s.commit_latency_ms.mean!).toBeLessThan(500);
  });

  it('avoiding the refusing node saves the round trips a stale leader hint would cost', () => {
    const avoid = run(lan5(CRASH));
    const noAvoid = run(lan5(CRASH, { avoid_ms: 0 }));
    expect(noAvoid.sim.client.refusals).toBeGreaterThan(avoid.sim.client.refusals * 3);
  });

  it('the client knobs change what happens to requests, never which requests arrive', () => {
    const a = new Simulation(lan5(CRASH), { seed: 5, telemetry: false });
    const b = new Simulation(lan5(CRASH, { retry_backoff_ms: 300, avoid_ms: 0, crashed_node: 'hang' }), { seed: 5, telemetry: false });
    a.run();
    b.run();
    expect(b.client.submitUs).toEqual(a.client.submitUs);
    expect(b.client.doneUs).not.toEqual(a.client.doneUs);
  });
});

describe('workload.client in the scenario schema', () => {
  it('accepts the documented knobs and rejects unknown values', () => {
    const ok = validateAgainst('scenario', lan5(CRASH, {
      retry_backoff_ms: 25, retry_jitter_fraction: 0.1, request_timeout_ms: 5_000, avoid_ms: 3_000, crashed_node: 'refuse', partitioned_node: 'hang',
    }));
    expect(ok.ok).toBe(true);
    const bad = validateAgainst('scenario', lan5(CRASH, { crashed_node: 'explode' } as unknown as ClientSpec));
    expect(bad.ok).toBe(false);
    const typo = validateAgainst('scenario', lan5(CRASH, { retry_backof_ms: 25 } as unknown as ClientSpec));
    expect(typo.ok).toBe(false);
  });
});
