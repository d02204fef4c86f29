/**
 * The built-in scenario suite: LAN and WAN × 3, 5, 7, 9 nodes × {calm, jitter, leader-crash, partition,
 * cpu-storm, lossy, burst-crash}, named `<profile>-<size>-<kind>` (e.g. `lan-5-leader-crash`). Generated here so the
 * browser demo needs no file access; `sim/scenarios/*.json` are the same scenarios written out for people
 * to copy and edit (test/sim.test.ts keeps the two identical).
 */
import type { FaultSpec, Scenario } from './scenario.js';

export const SUITE_PROFILES = ['lan', 'wan'] as const;
export const SUITE_SIZES = [3, 5, 7, 9] as const;
export const SUITE_KINDS = ['calm', 'jitter', 'leader-crash', 'partition', 'cpu-storm', 'lossy', 'burst-crash'] as const;
export type SuiteKind = (typeof SUITE_KINDS)[number];

/** Every built-in scenario name, in suite order. */
export function builtinScenarioNames(): string[] {
  const out: string[] = [];
  for (const p of SUITE_PROFILES) for (const n of SUITE_SIZES) for (const k of SUITE_KINDS) out.push(`${p}-${n}-${k}`);
  return out;
}

const DESCRIPTIONS: Record<SuiteKind, string> = {
  calm: 'steady network (rare short jitter spells), no faults',
  jitter: 'transient jitter bursts on every link, long enough to stretch heartbeat gaps past static timeouts',
  'leader-crash': 'the leader crashes twice and restarts',
  partition: 'the leader is isolated, then a follower, then the leader can receive but not send',
  'cpu-storm': 'CPU contention with scheduler stalls on the leader and a follower, a GC pause, a slow disk',
  lossy: 'lossy links throughout, with a degradation window of heavier loss and extra delay',
  'burst-crash': 'the leader crashes inside a jitter burst twice, and a long burst (12 s) passes with the leader alive',
};

/** The built-in scenario `name`, or undefined when there is none. */
export function builtinScenario(name: string): Scenario | undefined {
  const m = /^(lan|wan)-(\d+)-([a-z-]+)$/.exec(name);
  if (!m) return undefined;
  const profile = m[1] as 'lan' | 'wan';
  const size = Number(m[2]);
  const kind = m[3] as SuiteKind;
  if (!(SUITE_SIZES as readonly number[]).includes(size) || !(SUITE_KINDS as readonly string[]).includes(kind)) return undefined;
  const wan = profile === 'wan';
  const faults: FaultSpec[] = [];
  let loss = 0;
  switch (kind) {
    case 'calm':
      break;
    case 'jitter': {
      const mean = wan ? 450 : 350;
      faults.push(
        { kind: 'jitter_burst', at_ms: 12_000, duration_ms: 3_000, jittery_mean_ms: mean },
        { kind: 'jitter_burst', at_ms: 27_000, duration_ms: 6_000, jittery_mean_ms: mean * 1.5 },
        { kind: 'jitter_burst', at_ms: 45_000, duration_ms: 2_000, jittery_mean_ms: mean * 2, nodes: ['leader'] },
      );
      break;
    }
    case 'leader-crash':
      faults.push(
        { kind: 'crash', at_ms: 20_000, node: 'leader', restart_after_ms: 10_000 },
        { kind: 'crash', at_ms: 42_000, node: 'leader', restart_after_ms: 5_000 },
      );
      break;
    case 'partition':
      faults.push(
        { kind: 'partition', at_ms: 15_000, duration_ms: 8_000, node: 'leader' },
        { kind: 'partition', at_ms: 32_000, duration_ms: 10_000, node: 'n2' },
        { kind: 'partition', at_ms: 50_000, duration_ms: 4_000, node: 'leader', direction: 'outbound' },
      );
      break;
    case 'cpu-storm':
      faults.push(
        { kind: 'cpu', at_ms: 12_000, duration_ms: 10_000, node: 'leader', busy_pct: 70, stalls_per_s: 1, stall_mean_ms: wan ? 500 : 400 },
        { kind: 'slow_disk', at_ms: 20_000, duration_ms: 20_000, node: 'n3', fsync_ms: 40 },
        { kind: 'cpu', at_ms: 32_000, duration_ms: 10_000, node: 'n2', busy_pct: 85, stalls_per_s: 2, stall_mean_ms: 300 },
        { kind: 'gc_pause', at_ms: 50_000, node: 'leader', pause_ms: 1_500 },
      );
      break;
    case 'burst-crash': {
      // The case jitter alone never shows: a leader that dies while its links are jittery, whose followers must
      // tell a crash from a long jitter silence (and a long burst the leader survives, so both end in the data).
      const mean = wan ? 450 : 400;
      faults.push(
        { kind: 'jitter_burst', at_ms: 10_000, duration_ms: 8_000, jittery_mean_ms: mean },
        { kind: 'crash', at_ms: 14_000, node: 'leader', restart_after_ms: 6_000 },
        { kind: 'jitter_burst', at_ms: 30_000, duration_ms: 12_000, jittery_mean_ms: mean * 0.875 },
        { kind: 'jitter_burst', at_ms: 48_000, duration_ms: 4_000, jittery_mean_ms: mean * 1.25 },
        { kind: 'crash', at_ms: 49_000, node: 'leader', restart_after_ms: 5_000 },
      );
      break;
    }
    case 'lossy':
      loss = 0.02;
      faults.push({ kind: 'degrade', at_ms: 20_000, duration_ms: 15_000, loss: 0.15, extra_latency_ms: wan ? 40 : 5 });
      break;
  }
  return {
    schema_version: 1,
    name,
    description: `${wan ? 'WAN (3 regions, 30–40 ms / 80–150 ms one-way)' : 'LAN (0.1–0.5 ms one-way)'}, ${size} nodes: ${DESCRIPTIONS[kind]}`,
    duration_ms: 60_000,
    tick_ms: 10,
    seed: 1,
    cluster: {
      size,
      heartbeat_interval_ms: 100,
      election_timeout_ms: 1000,
      pre_vote: true,
      check_quorum: true,
      policy: { kind: 'static-randomized', base_ms: 1000 },
    },
    network: { profile, loss },
    workload: { rate_per_s: 200 },
    faults,
  };
}
