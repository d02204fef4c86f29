/**
 * The node/host split (sim/README.md "Node and host"): the simulation's election hook observes without
 * changing a run, classifies each election with the ground truth, and the demo reaches the simulator only
 * through its public entry point (the demo stands on runtime/ and sim/ only).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation, builtinScenario, type ElectionEvent, type Scenario } from '../sim/index.js';

const crash: Scenario = { ...builtinScenario('lan-5-leader-crash')!, duration_ms: 25_000 };

describe('SimulationOptions.onElection', () => {
  it('changes nothing: the same seed gives the same telemetry and summary with and without the hook', () => {
    const plain = new Simulation(crash, { seed: 3 });
    const events: ElectionEvent[] = [];
    const observed = new Simulation(crash, { seed: 3, onElection: (e) => events.push(e) });
    expect(JSON.stringify(observed.run())).toBe(JSON.stringify(plain.run()));
    expect(observed.telemetry!.rows()).toEqual(plain.telemetry!.rows());
    expect(events.length).toBe(observed.elections);
  });

  it('reports one event per term increment with its ground-truth cause: startup first, then the crashed leader', () => {
    const events: ElectionEvent[] = [];
    const sim = new Simulation(crash, { seed: 3, telemetry: false, onElection: (e) => events.push(e) });
    sim.run();
    expect(events[0]!.cause).toBe('startup');
    expect(events.some((e) => e.cause === 'leader down' && e.tMs >= 20_000)).toBe(true);
    expect(events.filter((e) => e.cause === 'spurious').length).toBe(sim.unnecessaryElections);
    for (const e of events) expect(sim.nodeIds).toContain(e.node);
  });

  it('a candidacy in the live leader\'s own term is a lost race, not an unnecessary election: it cannot depose it', () => {
    // wan-9-calm, seed 13: a far node's timer fires before the term-1 leader's first heartbeat reaches it.
    const events: ElectionEvent[] = [];
    const sim = new Simulation(builtinScenario('wan-9-calm')!, { seed: 13, telemetry: false, onElection: (e) => events.push(e) });
    const s = sim.run();
    const races = events.filter((e) => e.cause === 'lost race');
    expect(races.length).toBeGreaterThan(0);
    for (const r of races) {
      const winner = events.find((e) => e.term === r.term && e.node !== r.node && e.tMs <= r.tMs);
      expect(winner, `a leader won term ${r.term} before the race`).toBeDefined();
    }
    expect(s.lost_races).toBe(races.length);
    expect(s.unnecessary_elections).toBe(events.filter((e) => e.cause === 'spurious').length);
    expect(s.elections).toBe(events.length);
  });
});

describe('the demo', () => {
  it('imports the simulator only through sim/index.ts', () => {
    const dir = join(import.meta.dirname ?? __dirname, '..', 'demo');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const imports = [...readFileSync(join(dir, f), 'utf8').matchAll(/from '(\.\.\/sim\/[^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) expect(spec, `demo/${f}`).toBe('../sim/index.js');
    }
  });

  it('stands on sim/ and runtime/ only: no import from pipeline/ (the baselines live in sim/baselines.ts)', () => {
    const dir = join(import.meta.dirname ?? __dirname, '..', 'demo');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const specs = [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of specs.filter((x) => x.startsWith('..'))) expect(spec, `demo/${f}`).toMatch(/^\.\.\/(sim|runtime)\//);
    }
  });
});
