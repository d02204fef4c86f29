/**
 * The simulator as a data source: deterministic replay, telemetry that the schema (and so ingest) accepts,
 * ground truth kept apart, the built-in scenario suite, the scenario schema at the boundary, the CLI, and
 * the rule that sim/ runs unchanged in a browser.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Simulation, builtinScenario, builtinScenarioNames, staticRandomizedTimeout, type Scenario } from '../sim/index.js';
import { validateAgainst } from '../pipeline/schemas.js';
import { loadScenario } from '../pipeline/simulate/scenario-file.js';
import { writeSimulatedTraceSet, writeSimulationRun } from '../pipeline/simulate/write.js';
import { RaftNsError } from '../pipeline/util/errors.js';
import { ingest } from '../pipeline/ingest/ingest.js';

const tmp = mkdtempSync(join(tmpdir(), 'raft-ns-sim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A built-in scenario cut short (the crash at 20 s stays inside). */
function short(name: string, durationMs: number): Scenario {
  return { ...builtinScenario(name)!, duration_ms: durationMs };
}

describe('deterministic replay', () => {
  it('same scenario and seed → byte-identical telemetry, ground truth and summary; another seed differs', async () => {
    const sc = short('lan-3-leader-crash', 24_000);
    const a = await writeSimulationRun(join(tmp, 'a'), sc, { seed: 11, format: 'both' });
    await writeSimulationRun(join(tmp, 'b'), sc, { seed: 11, format: 'both' });
    const c = await writeSimulationRun(join(tmp, 'c'), sc, { seed: 12, format: 'ndjson' });
    for (const f of ['telemetry.ndjson', 'telemetry.csv', 'ground-truth.ndjson', 'requests.csv', 'summary.json']) {
      expect(readFileSync(join(tmp, 'b', f)).equals(readFileSync(join(tmp, 'a', f))), f).toBe(true);
    }
    expect(a.files.find((f) => f.name === 'telemetry.ndjson')!.sha256).not.toBe(c.files.find((f) => f.name === 'telemetry.ndjson')!.sha256);
    expect(a.summary.failovers.length).toBe(1);
  });

  it('stepping in small increments gives the same run as running straight through', () => {
    const sc = short('lan-5-cpu-storm', 15_000);
    const straight = new Simulation(sc, { seed: 3 });
    straight.run();
    const stepped = new Simulation(sc, { seed: 3 });
    for (let t = 0; t <= 15_000; t += 16.7) stepped.advanceTo(t);
    stepped.advanceTo(15_000);
    expect(stepped.telemetry!.toNdjson()).toBe(straight.telemetry!.toNdjson());
  });

  it('recording telemetry changes nothing a policy sees: the same observations and summary with it off', () => {
    // The closed loop runs with telemetry off, training data with it on: a leader's heartbeat latency (its
    // worst recent follower RTT, docs/ARTIFACT.md §3.2) must be the same in both, and in the leader's rows.
    const sc = short('wan-3-jitter', 30_000);
    const run = (telemetry: boolean): { seen: string[]; summary: string; sim: Simulation } => {
      const seen: string[] = [];
      const sim = new Simulation(sc, {
        seed: 5, telemetry,
        policyFactory: (id, rng) => {
          const p = staticRandomizedTimeout(1000, rng);
          return { observe: (o) => { seen.push(`${id} ${o.nowMs} ${o.role} ${o.heartbeatLatencyMs}`); p.observe(o); }, electionTimeoutMs: () => p.electionTimeoutMs() };
        },
      });
      const summary = sim.run();
      return { seen, summary: JSON.stringify({ ...summary, telemetry_rows: 0 }), sim };
    };
    const on = run(true);
    const off = run(false);
    expect(off.summary).toBe(on.summary);
    expect(off.seen.length).toBe(on.seen.length);
    expect(off.seen.filter((s, i) => s !== on.seen[i]).slice(0, 3)).toEqual([]);
    const leaderRows = [...on.sim.telemetry!.rows()].filter((r) => r.role === 'leader' && r.heartbeat_latency_ms !== null);
    expect(leaderRows.length).toBeGreaterThan(1000);
    const leaderSeen = new Set(on.seen.filter((s) => s.includes(' leader ')));
    for (const r of leaderRows.slice(0, 200)) expect(leaderSeen.has(`${r.node_id} ${r.ts_ms} leader ${r.heartbeat_latency_ms}`)).toBe(true);
  });
});

describe('telemetry and ground truth', () => {
  const sim = new Simulation(short('lan-5-partition', 26_000), { seed: 2 });
  const summary = sim.run();
  const rows = [...sim.telemetry!.rows()];

  it('one row per up node per tick, every row valid against the telemetry schema', () => {
    expect(rows.length).toBe(summary.telemetry_rows);
    expect(rows.length).toBeGreaterThanOrEqual(5 * 2_590);
    for (let i = 0; i < rows.length; i += 97) {
      const v = validateAgainst('telemetry', rows[i]);
      expect(v.ok, JSON.stringify(rows[i])).toBe(true);
    }
    const n1 = rows.filter((r) => r.node_id === 'n1').map((r) => r.ts_ms);
    expect(n1.every((t, i) => i === 0 || t > n1[i - 1]!)).toBe(true);
  });

  it('records the Raft story: elections, a leader, heartbeats, and the isolation in ground truth only', () => {
    expect(rows.some((r) => r.event === 'became_leader')).toBe(true);
    expect(rows.some((r) => r.event === 'pre_vote_started')).toBe(true);
    const followers = rows.filter((r) => r.role === 'follower' && r.leader_id !== null);
    expect(followers.filter((r) => r.heartbeat_received).length / followers.length).toBeGreaterThan(0.05);
    expect(followers.some((r) => r.heartbeat_latency_ms !== null && r.heartbeat_latency_ms > 0)).toBe(true);
    expect(Object.keys(rows[0]!)).not.toContain('leader_alive');
    const gt = [...sim.telemetry!.groundTruthRows()];
    expect(gt.some((g) => g.active_faults.some((f) => f.startsWith('partition:')))).toBe(true);
    expect(gt.some((g) => g.leader_alive && !g.leader_quorum_connected)).toBe(true);
  });

  it('CPU contention lowers cpu_idle_pct on the stressed node', () => {
    const s = new Simulation(short('lan-3-cpu-storm', 25_000), { seed: 1 });
    s.run();
    const rs = [...s.telemetry!.rows()];
    const idle = (node: string, from: number, to: number): number => {
      const xs = rs.filter((r) => r.node_id === node && r.ts_ms >= from && r.ts_ms < to).map((r) => r.cpu_idle_pct);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const gt = [...s.telemetry!.groundTruthRows()].find((g) => g.active_faults.some((f) => f.startsWith('cpu:')))!;
    const stressed = gt.active_faults.find((f) => f.startsWith('cpu:'))!.slice(4);
    expect(idle(stressed, 13_000, 21_000)).toBeLessThan(idle(stressed, 3_000, 11_000) - 40);
  });
});

describe('ingest accepts simulated traces unchanged', () => {
  it('NDJSON and CSV telemetry ingest with no refused rows and the 10 ms tick inferred', async () => {
    await writeSimulationRun(join(tmp, 'for-ingest'), short('wan-3-lossy', 4_000), { seed: 2, format: 'both' });
    for (const f of ['telemetry.ndjson', 'telemetry.csv']) {
      const { manifest } = await ingest([join(tmp, 'for-ingest', f)], { out: join(tmp, `ds-${f}`), anonKey: null, createdAt: '2026-01-01T00:00:00.000Z' });
      expect(manifest.row_count, f).toBe(3 * 400);
      expect(manifest.tick_ms, f).toBe(10);
    }
  });
});

describe('scenarios', () => {
  it('the built-in suite covers LAN and WAN × 3, 5, 7, 9 nodes × 7 situations, each valid and saved as JSON', () => {
    const names = builtinScenarioNames();
    expect(names).toHaveLength(56);
    const files = readdirSync(new URL('../sim/scenarios/', import.meta.url)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(names.map((n) => `${n}.json`).sort());
    for (const n of names) {
      const fromFile = JSON.parse(readFileSync(new URL(`../sim/scenarios/${n}.json`, import.meta.url), 'utf8')) as unknown;
      expect(fromFile, n).toEqual(builtinScenario(n));
      expect(validateAgainst('scenario', fromFile).ok, n).toBe(true);
    }
  });

  it('a bad scenario file is refused with the file, the JSON path and what was expected', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ schema_version: 1, name: 'x', duration_ms: 1000, cluster: { size: 12 }, network: { profile: 'lan' } }));
    expect(() => loadScenario(bad)).toThrow(RaftNsError);
    expect(() => loadScenario(bad)).toThrow(/bad\.json at \/cluster\/size: must be <= 9/);
    const badNode = join(tmp, 'bad-node.json');
    writeFileSync(badNode, JSON.stringify({ schema_version: 1, name: 'x', duration_ms: 1000, cluster: { size: 3 }, network: { profile: 'lan' }, faults: [{ kind: 'crash', at_ms: 10, node: 'n5' }] }));
    expect(() => loadScenario(badNode)).toThrow(/at \/faults\/0: node n5 is not in a 3-node cluster/);
    expect(() => loadScenario('lan-4-calm')).toThrow(/neither a built-in scenario/);
  });
});

describe('trace sets and the CLI', () => {
  it('writeSimulatedTraceSet writes one folder per (scenario, seed) and an index', async () => {
    const out = join(tmp, 'set');
    const { runs } = await writeSimulatedTraceSet(out, { scenarios: [short('lan-3-calm', 3_000), short('wan-3-lossy', 3_000)], seeds: [1, 2], format: 'csv' });
    expect(runs).toHaveLength(4);
    const index = JSON.parse(readFileSync(join(out, 'traceset.json'), 'utf8')) as { runs: Array<{ dir: string }>; tool_version: string };
    expect(index.runs.map((r) => r.dir)).toEqual(['sim-lan-3-calm-s1', 'sim-lan-3-calm-s2', 'sim-wan-3-lossy-s1', 'sim-wan-3-lossy-s2']);
    expect(existsSync(join(out, 'sim-wan-3-lossy-s2', 'telemetry.csv'))).toBe(true);
    expect(readFileSync(join(out, 'sim-lan-3-calm-s1', 'telemetry.csv'), 'utf8').split('\n')[0]).toBe(
      'ts_ms,cluster_id,node_id,term,role,leader_id,heartbeat_latency_ms,log_replication_gap,rpc_retries,cpu_idle_pct,heartbeat_received,event');
  });

  const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
  it.skipIf(!existsSync(cli))('raft-ns simulate writes a run folder and refuses to overwrite it without --force', () => {
    const scen = join(tmp, 'short.json');
    writeFileSync(scen, JSON.stringify(short('lan-3-calm', 2_000)));
    const out = join(tmp, 'cli-run');
    const text = execFileSync('node', [cli, 'simulate', '--scenario', scen, '--seed', '5', '--out', out], { encoding: 'utf8' });
    expect(text).toMatch(/simulate: lan-3-calm seed 5: 2\.0 s simulated/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { seed: number; tool_version: string; scenario_sha256: string };
    expect(summary.seed).toBe(5);
    expect(summary.scenario_sha256).toMatch(/^[0-9a-f]{64}$/);
    let err = '';
    try {
      execFileSync('node', [cli, 'simulate', '--scenario', scen, '--seed', '5', '--out', out], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toMatch(/already exists; pass --force/);
  });
});

describe('browser-safe core', () => {
  it('sim/ has no node: imports, clocks, timers or Math.random', () => {
    const dir = new URL('../sim/', import.meta.url);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const code = readFileSync(new URL(f, dir), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect(code, f).not.toMatch(/from ['"]node:|require\(|Math\.random|Date\.now|new Date\b|setTimeout|setInterval|performance\.now|process\./);
    }
  });
});
