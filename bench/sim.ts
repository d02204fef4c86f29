/**
 * `npm run bench -- sim [seconds] [--against <older dist/>]`: simulated seconds per wall second (and per CPU
 * second, which the shared two-core machine disturbs less) for a 5-node LAN cluster at 200 requests/s and a
 * 9-node WAN cluster, with and without telemetry. Baselines measured in the same run: the bare event queue
 * pushing and popping the same number of events, i.e. the ceiling the Raft logic is paid for against, and
 * with `--against`, the same cases on an older build's simulator (today's path before a change).
 * Goal: >= 2000x real time for the 5-node LAN case.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventQueue } from '../sim/queue.js';
import { Simulation, type Scenario } from '../sim/index.js';

type SimulationClass = typeof Simulation;

function scenario(profile: 'lan' | 'wan', size: number, durationMs: number): Scenario {
  return {
    schema_version: 1, name: `bench-${profile}-${size}`, duration_ms: durationMs, tick_ms: 10,
    cluster: { size }, network: { profile }, workload: { rate_per_s: 200 },
  };
}

interface Measured { simS: number; wallS: number; cpuS: number; events: number; messages: number }

function measure(profile: 'lan' | 'wan', size: number, durationMs: number, telemetry: boolean, Sim: SimulationClass = Simulation): Measured {
  const sim = new Sim(scenario(profile, size, durationMs), { seed: 1, telemetry });
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
    q.pop();
    t = q.lastAtUs;
    q.push(t + 50 + (i % 997), 0, null);
  }
  return events / ((performance.now() - t0) / 1000);
}

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--against');
  const against = i >= 0 ? args.splice(i, 2)[1] : undefined;
  const Older = against ? ((await import(pathToFileURL(resolve(against, 'sim/index.js')).href)) as { Simulation: SimulationClass }).Simulation : null;
  const seconds = Number(args[0] ?? 120);
  // Warm the JIT on every case first (one short pass is not enough: the first measured case ran ~40%
  // slower than the same case measured later), so the figures are steady state, not compile time.
  for (let pass = 0; pass < 2; pass++) {
    for (const telemetry of [true, false]) {
      measure('lan', 5, 30_000, telemetry);
      measure('wan', 9, 30_000, telemetry);
      if (Older) {
        measure('lan', 5, 30_000, telemetry, Older);
        measure('wan', 9, 30_000, telemetry, Older);
      }
    }
  }
  // Each case 3 times, interleaved (the load drifts): the median rep by wall time, and the spread.
  const cases: Array<[string, 'lan' | 'wan', number, boolean]> = [
    ['5-node LAN, 200 req/s, telemetry on', 'lan', 5, true],
    ['5-node LAN, 200 req/s, telemetry off', 'lan', 5, false],
    ['9-node WAN, 200 req/s, telemetry on', 'wan', 9, true],
    ['9-node WAN, 200 req/s, telemetry off', 'wan', 9, false],
  ];
  const reps: Measured[][] = cases.map(() => []);
  for (let r = 0; r < 3; r++) cases.forEach(([, profile, size, telemetry], i) => reps[i]!.push(measure(profile, size, seconds * 1000, telemetry)));
  const baselineEventsPerS = queueBaseline(reps[0]![0]!.events);
  process.stdout.write(`sim bench: ${seconds} s simulated per case, seed 1, 10 ms ticks; median of 3 reps [lowest–highest wall figure]\n`);
  cases.forEach(([label], i) => {
    const byWall = [...reps[i]!].sort((a, b) => b.wallS - a.wallS);
    const m = byWall[1]!;
    const x = (r: Measured): string => (r.simS / r.wallS).toFixed(0);
    const evPerS = m.events / m.wallS;
    process.stdout.write(
      `${label.padEnd(38)} ${x(m).padStart(6)}x real time (wall) [${x(byWall[0]!)}–${x(byWall[2]!)}], ${(m.simS / m.cpuS).toFixed(0).padStart(6)}x (CPU)` +
      `  ${(evPerS / 1e6).toFixed(2)} M events/s = ${(evPerS / baselineEventsPerS).toFixed(2)} of the bare queue  ${(m.messages / m.simS).toFixed(0)} msgs/sim-s\n`,
    );
  });
  if (Older) {
    // Every case on both builds, alternating, median of 5 each: the machine's load drifts between runs.
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[2]!;
    for (const [label, profile, size, telemetry] of cases) {
      const newer: number[] = [], older: number[] = [], newerCpu: number[] = [], olderCpu: number[] = [];
      for (let r = 0; r < 5; r++) {
        const a = measure(profile, size, seconds * 1000, telemetry, Older);
        const b = measure(profile, size, seconds * 1000, telemetry);
        older.push(a.simS / a.wallS); olderCpu.push(a.simS / a.cpuS);
        newer.push(b.simS / b.wallS); newerCpu.push(b.simS / b.cpuS);
      }
      process.stdout.write(
        `${label}, median of 5 alternating: this build ${med(newer).toFixed(0)}x (CPU ${med(newerCpu).toFixed(0)}x), ` +
        `${against} ${med(older).toFixed(0)}x (CPU ${med(olderCpu).toFixed(0)}x): ${(med(newer) / med(older)).toFixed(2)}x (CPU ${(med(newerCpu) / med(olderCpu)).toFixed(2)}x)\n`,
      );
    }
  }
  process.stdout.write(`baseline: bare event queue ${(baselineEventsPerS / 1e6).toFixed(2)} M push+pop/s; goal: >= 2000x real time for 5-node LAN\n`);
}
