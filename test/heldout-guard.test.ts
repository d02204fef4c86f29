/**
 * The held-out guard at the one place traces are written: every CLI path that writes
 * telemetry refuses held-out seeds and held-out scenarios, however they are spelled, and writes nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinScenario, type Scenario } from '../sim/index.js';
import { scenarioFingerprint } from '../pipeline/util/heldout.js';
import { makeEvaluationModel } from '../pipeline/evaluate/make-model.js';
import { DEFAULT_RUN_CONFIG, mainJobStages } from '../pipeline/run/pipeline.js';
import { writeSimulatedTraceSet } from '../pipeline/simulate/write.js';

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'raft-ns-heldout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const suite = JSON.parse(readFileSync(new URL('../pipeline/evaluate/suites/heldout.json', import.meta.url), 'utf8')) as { scenarios: Array<{ scenario: Scenario }> };
const held = suite.scenarios[0]!.scenario;

/** The held-out scenario renamed, with defaults it left implicit spelled out and one it spelled out left implicit. */
function disguised(): Scenario {
  const { tick_ms: _t, ...rest } = held;
  void _t;
  return { ...rest, name: 'my-metro-4', description: 'nothing to see', cluster: { ...held.cluster, max_entries_per_append: 256 }, nodes: { base_busy_pct: 8 } };
}

function simulate(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'simulate', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe.runIf(existsSync(cli))('the held-out guard through the CLI', () => {
  it('fingerprints the resolved scenario: defaults spelled out or left out give the same fingerprint', () => {
    expect(scenarioFingerprint(disguised())).toBe(scenarioFingerprint(held));
    expect(scenarioFingerprint(builtinScenario('lan-3-calm')!)).not.toBe(scenarioFingerprint(held));
  });

  it.each([
    ['a single run of any scenario on a reserved seed', () => ['--scenario', 'lan-3-calm', '--seed', '900007'], /reserved held-out range/],
    ['a single run of the exact held-out scenario file', () => ['--scenario', file('exact', held), '--seed', '5'], /belongs to the held-out suite/],
    ['a single run of the held-out scenario renamed, defaults spelled out', () => ['--scenario', file('disguised', disguised()), '--seed', '5'], /parameters of a held-out scenario/],
    ['a trace set holding the disguised scenario', () => ['--scenarios', `lan-3-calm,${file('set', disguised())}`, '--seeds', '5'], /parameters of a held-out scenario/],
  ])('refuses %s and writes nothing', (_what, args, message) => {
    const out = join(root, `out-${_what.length}`);
    const r = simulate([...args(), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('still simulates a training scenario on a training seed', () => {
    const out = join(root, 'ok');
    expect(simulate(['--scenario', 'lan-3-calm', '--seed', '5', '--out', out]).status).toBe(0);
    expect(existsSync(join(out, 'telemetry.ndjson'))).toBe(true);
  });
});

// The main job's source and make-model take their seeds from a config or a suite, not from a flag, so they are
// driven through their functions: both must refuse a held-out seed before a byte of telemetry is written.
describe('the held-out guard on the main job\'s source and on make-model', () => {
  it('the main job\'s source stage refuses a held-out seed and writes nothing', async () => {
    const cfg = { ...DEFAULT_RUN_CONFIG, source: 'simulate' as const, sim_seeds: [5, 900007] };
    const source = mainJobStages(cfg).find((st) => st.name === 'source')!;
    const out = join(root, 'job-source');
    await expect(source.run({ outDir: out, inputs: {}, log: () => undefined })).rejects.toThrow(/reserved held-out range/);
    expect(existsSync(out)).toBe(false);
  });

  it('make-model refuses a held-out seed and writes nothing', async () => {
    const out = join(root, 'make-model');
    await expect(makeEvaluationModel(out, { seeds: [900007], durationMs: 1000, log: () => undefined })).rejects.toThrow(/reserved held-out range/);
    expect(existsSync(join(out, 'traces'))).toBe(false);
  });

  it('the one writer every path shares (writeSimulatedTraceSet) refuses the disguised held-out scenario', async () => {
    const out = join(root, 'set-api');
    await expect(writeSimulatedTraceSet(out, { scenarios: [disguised()], seeds: [5], format: 'ndjson' })).rejects.toThrow(/parameters of a held-out scenario/);
    expect(existsSync(out)).toBe(false);
  });
});

function file(name: string, s: Scenario): string {
  const p = join(root, `${name}.json`);
  writeFileSync(p, JSON.stringify(s));
  return p;
}
