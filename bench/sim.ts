/**
 * `npm run bench -- sim [seconds]`: simulated seconds per wall second (and per CPU second, which the
 * shared two-core machine disturbs less) for a 5-node LAN cluster at 200 requests/s and a 9-node WAN
 * cluster, with and without telemetry. Baseline measured in the same run: the bare event queue pushing
 * and popping the same number of events, i.e. the ceiling the Raft logic is paid for against.
 * Goal (issue 3): >= 2000x real time for the 5-node LAN case.
 */
import { EventQueue } from '../sim/queue.js';
import { Simulation, type Scenario } from '../sim/index.js';

function scenario(profile: 'lan' | 'wan', size: number, durationMs: number): Scenario {
  return {
    schema_version: 1, name: `bench-${profile}-${size}`, duration_ms: durationMs, tick_ms: 10,
    cluster: { size }, network: { profile }, workload: { rate_per_s: 200 },
  };
}

interface Measured { simS: number; wallS: number; cpuS: number; events: number; messages: number }

function measure(profile: 'lan' | 'wan', size: number, durationMs: number, telemetry: boolean): Measured {
  const sim = new Simulation(scenario(profile, size, durationMs), { seed: 1, telemetry });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let events = 0;
  const limitMs = durationMs;
  while (sim.nowMs < limitMs && sim.step()) events++;
  const wallS = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(cpu0);
  return { simS: durationMs / 1000, wallS, cpuS: (cu.user + cu.system) / 1e6, events, messages: sim.messagesSent };
}

function queueBaseline(events: number): number {
  const q = new EventQueue();
  const t0 = performance.now();
  let t = 0;
  for (let i = 0; i < 64; i++) q.push(i * 100, 0, null);
  for (let i = 0; i < events; i++) {
    const ev = q.pop()!;
    t = ev.atUs;
    q.release(ev);
    q.push(t + 50 + (i % 997), 0, null);
  }
  return events / ((performance.now() - t0) / 1000);
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 120);
  // Warm the JIT on every case first (one short pass is not enough: the first measured case ran ~40%
  // slower than the same case measured later), so the figures are steady state, not compile time.
  for (let pass = 0; pass < 2; pass++) {
    for (const telemetry of [true, false]) {
      measure('lan', 5, 30_000, telemetry);
      measure('wan', 9, 30_000, telemetry);
    }
  }
  const rows: Array<[string, Measured]> = [
    ['5-node LAN, 200 req/s, telemetry on', measure('lan', 5, seconds * 1000, true)],
    ['5-node LAN, 200 req/s, telemetry off', measure('lan', 5, seconds * 1000, false)],
    ['9-node WAN, 200 req/s, telemetry on', measure('wan', 9, seconds * 1000, true)],
    ['9-node WAN, 200 req/s, telemetry off', measure('wan', 9, seconds * 1000, false)],
  ];
  const baselineEventsPerS = queueBaseline(rows[0]![1].events);
  process.stdout.write(`sim bench: ${seconds} s simulated per case, seed 1, 10 ms ticks\n`);
  for (const [label, m] of rows) {
    const evPerS = m.events / m.wallS;
    process.stdout.write(
      `${label.padEnd(38)} ${(m.simS / m.wallS).toFixed(0).padStart(6)}x real time (wall), ${(m.simS / m.cpuS).toFixed(0).padStart(6)}x (CPU)` +
      `  ${(evPerS / 1e6).toFixed(2)} M events/s = ${(evPerS / baselineEventsPerS).toFixed(2)} of the bare queue  ${(m.messages / m.simS).toFixed(0)} msgs/sim-s\n`,
    );
  }
  process.stdout.write(`baseline: bare event queue ${(baselineEventsPerS / 1e6).toFixed(2)} M push+pop/s; goal: >= 2000x real time for 5-node LAN\n`);
}
