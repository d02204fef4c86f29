/**
 * CLI conventions for every command in the program's command tree (read from pipeline/program.ts, so a
 * new command without an entry in CASES fails here). Parse-time refusals run in process through the same
 * `main` the binary runs (no work starts before them, so this is exact and fast); the --json runs and one
 * refusal per kind go through the built CLI (dist/, built by `npm test`) to check real exit codes:
 * - a bad flag is a usage error: exit 2, one line naming the command and its --help, nothing on stdout;
 * - a missing input path is refused while parsing: exit 2, one line naming the path, nothing on stdout;
 * - --json puts exactly one parseable result document on stdout, whatever else the command prints.
 * Inputs are tiny (a 3-node, 3 s scenario; 1 epoch of the fused engine; the committed artifact read-only).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, makeProgram } from '../pipeline/program.js';
import { synthRows, writeCsv } from './fixtures/ingest/synth.js';

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
const sample = new URL('../datasets/sample', import.meta.url).pathname;
// Read-only: published versions are immutable; commands that write get an --out outside it.
const published = new URL('../artifacts/raft-ns-default/2.1.0', import.meta.url).pathname;
let dir: string;
const d = (...p: string[]): string => join(dir, ...p);

interface Result { code: number; stdout: string; stderr: string }

function raftNs(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, RAFT_NS_DEBUG: '', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `main` in this process with stdout and stderr captured; for refusals that happen while parsing. */
async function inProcess(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  try {
    await main([process.execPath, cli, ...args]);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

/** Every runnable command path in the tree: leaves, and parents with an action of their own (simulate, evaluate). */
function commandPaths(cmd: Command, path: string[] = []): string[] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  const own = path.length > 0 && (cmd as unknown as { _actionHandler: unknown })._actionHandler ? [path.join(' ')] : [];
  return [...own, ...subs.flatMap((c) => commandPaths(c, [...path, c.name()]))];
}

/**
 * Per command: `missing` runs it with an input path that does not exist (null: the command reads no file
 * the user names); `json` is a successful run on tiny inputs, in dependency order, with the exit codes
 * allowed and a key the document must have, or `exempt` with the reason it cannot be tiny.
 */
interface Case {
  missing: ((m: string) => string[]) | { none: string };
  json: { args: () => string[]; key: string; codes?: number[] } | { exempt: string };
}
const CASES: Record<string, Case> = {
  'simulate': { missing: (m) => ['simulate', '--scenario', `${m}.json`, '--out', d('o')], json: { args: () => ['simulate', '--scenario', d('scenario.json'), '--out', d('sim'), '--json'], key: 'summary' } },
  'simulate election-time': { missing: { none: 'reads no file (its --cdf and --report are outputs)' }, json: { args: () => ['simulate', 'election-time', '--trials', '20', '--json'], key: 'results' } },
  'ingest': { missing: (m) => ['ingest', m, '--out', d('o'), '--no-anonymize'], json: { args: () => ['ingest', d('t.csv'), '--out', d('ds'), '--no-anonymize', '--json'], key: 'parts' } },
  'dataset inspect': { missing: (m) => ['dataset', 'inspect', m], json: { args: () => ['dataset', 'inspect', d('ds'), '--json'], key: 'row_count' } },
  'dataset export': { missing: (m) => ['dataset', 'export', m, '--out', d('o.parquet')], json: { args: () => ['dataset', 'export', d('ds'), '--out', d('ds.parquet'), '--codec', 'gzip', '--json'], key: 'rows' } },
  'window': { missing: (m) => ['window', '--dataset', m, '--out', d('o')], json: { args: () => ['window', '--dataset', d('ds'), '--out', d('win'), '--json'], key: 'splits' } },
  'train': { missing: (m) => ['train', '--windows', m, '--out', d('o')], json: { args: () => ['train', '--windows', d('win'), '--out', d('run'), '--engine', 'fused', '--epochs', '1', '--json'], key: 'best_epoch' } },
  'quantize': { missing: (m) => ['quantize', '--run', m, '--out', d('o')], json: { args: () => ['quantize', '--run', d('run'), '--out', d('art'), '--json'], key: 'weights_sha256' } },
  // The tiny artifact may fail a check after one epoch: exit 1 still prints the report.
  'verify': { missing: (m) => ['verify', m], json: { args: () => ['verify', d('art'), '--out', d('ver'), '--split-budget', '4', '--search-budget', '2', '--search-ticks', '8', '--json'], key: 'checks', codes: [0, 1] } },
  'publish': { missing: (m) => ['publish', m, '--registry', d('reg')], json: { args: () => ['publish', published, '--registry', d('reg'), '--json'], key: 'status' } },
  'registry check': { missing: (m) => ['registry', 'check', '--registry', m], json: { args: () => ['registry', 'check', '--registry', d('reg'), '--json'], key: 'versions' } },
  'infer': { missing: (m) => ['infer', m, '--trace', sample], json: { args: () => ['infer', published, '--trace', sample, '--json'], key: 'ok' } },
  'evaluate': { missing: (m) => ['evaluate', '--model', m], json: { args: () => ['evaluate', '--model', published, '--suite', 'short', '--seeds', '1', '--no-sweep', '--no-timeline', '--workers', '1', '--json'], key: 'pooled' } },
  'evaluate make-model': {
    missing: (m) => ['evaluate', 'make-model', '--out', d('o'), '--floor-rules', `${m}.json`],
    json: { exempt: 'simulates the whole default suite and trains (minutes); its --json goes through the same makeOutput as tune' },
  },
  'evaluate tune': {
    missing: (m) => ['evaluate', 'tune', '--windows', m, '--out', d('o')],
    json: { args: () => ['evaluate', 'tune', '--windows', dir, '--out', d('tune'), '--taus', 'none', '--artifacts', published, '--spreads', '1', '--seeds', '1', '--scenarios', 'lan-3-calm', '--json'], key: 'rows' },
  },
  'conformance': { missing: (m) => ['conformance', m, '--out', d('o')], json: { args: () => ['conformance', published, '--out', d('conf'), '--json'], key: 'files' } },
  'demo': { missing: (m) => ['demo', '--model', m, '--static', d('o')], json: { args: () => ['demo', '--static', d('demo'), '--no-model', '--json'], key: 'files' } },
  'run': {
    missing: { none: 'reads no file the user names (its inputs are the simulator or the bundled sample)' },
    json: { exempt: 'the main job trains the full model (minutes; test/run.test.ts runs it in process); its --json goes through makeOutput' },
  },
};

const paths = commandPaths(makeProgram());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-conv-'));
  await writeCsv(d('t.csv'), synthRows({ seed: 5, clusters: 3, nodesPerCluster: 3, ticks: 240, tickMs: 10 }));
  writeFileSync(d('scenario.json'), JSON.stringify({
    schema_version: 1, name: 'tiny-lan-3', description: 'LAN, 3 nodes, 3 s', duration_ms: 3000, tick_ms: 10,
    cluster: { size: 3, heartbeat_interval_ms: 100, election_timeout_ms: 1000, pre_vote: true, check_quorum: true },
    network: { profile: 'lan', loss: 0 }, workload: { rate_per_s: 20 }, faults: [],
  }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLine(r: Result, name: string): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, `${name}: ${r.stderr}`).toHaveLength(1);
  expect(lines[0], name).toMatch(new RegExp(`^raft-ns ${name}: `));
  expect(lines[0], name).not.toMatch(/internal error|\n\s+at /);
  return lines[0]!;
}

describe('raft-ns CLI conventions', () => {
  it('every command in the tree has a case here, and every case is a command', () => {
    expect([...paths].sort()).toEqual(Object.keys(CASES).sort());
    for (const c of ['simulate election-time', 'run', 'ingest', 'dataset inspect', 'dataset export', 'publish', 'registry check', 'window', 'train', 'quantize', 'verify', 'infer', 'evaluate', 'conformance', 'demo']) expect(paths).toContain(c);
  });

  it('every command offers --json and --quiet in its --help', async () => {
    const helps: Result[] = [];
    for (const p of paths) helps.push(await inProcess([...p.split(' '), '--help']));
    paths.forEach((p, i) => {
      expect(helps[i]!.code, p).toBe(0);
      expect(helps[i]!.stdout, p).toMatch(/--json\b/);
      expect(helps[i]!.stdout, p).toMatch(/--quiet\b/);
    });
  }, 120_000);

  it('a bad flag exits 2 with one line: the command, the problem, and where help is', async () => {
    const rs: Result[] = [];
    for (const p of paths) rs.push(await inProcess([...p.split(' '), '--no-such-flag']));
    rs.push(await raftNs(['verify', published, '--no-such-flag'])); // and once through the binary
    [...paths, 'verify'].forEach((p, i) => {
      const r = rs[i]!;
      expect(r.code, p).toBe(2);
      expect(expectOneLine(r, p), p).toMatch(new RegExp(`; see \`raft-ns ${p} --help\`$`));
      expect(r.stdout, p).toBe('');
    });
  }, 120_000);

  it('a missing input path is refused before any work: exit 2, one line naming the path', async () => {
    const missing = join(tmpdir(), 'raft-ns-conv-does-not-exist');
    const withFile = paths.filter((p) => typeof CASES[p]!.missing === 'function');
    const rs: Result[] = [];
    for (const p of withFile) rs.push(await inProcess((CASES[p]!.missing as (m: string) => string[])(missing)));
    rs.push(await raftNs(['ingest', missing, '--out', d('o'), '--no-anonymize'])); // and once through the binary
    [...withFile, 'ingest'].forEach((p, i) => {
      const r = rs[i]!;
      expect(r.code, `${p}: ${r.stderr}`).toBe(2);
      expect(expectOneLine(r, p), p).toContain(missing);
      expect(r.stdout, p).toBe('');
    });
    for (const p of paths.filter((x) => typeof CASES[x]!.missing !== 'function')) expect((CASES[p]!.missing as { none: string }).none.length, p).toBeGreaterThan(10);
  }, 120_000);

  it('an invalid option value is refused before any work (exit 2), e.g. --model-version 1.0', async () => {
    const r = await raftNs(['quantize', '--run', sample, '--out', d('q'), '--model-version', '1.0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^raft-ns quantize: .*--model-version.*semantic version.*; see `raft-ns quantize --help`$/);
    const w = await raftNs(['window', '--dataset', sample, '--out', d('w'), '--window', '0']);
    expect(w.code).toBe(2);
    expect(w.stderr.trim()).toMatch(/^raft-ns window: .*--window.*integer >= 1/);
  }, 60_000);

  it('--json prints exactly one parseable result document on stdout, for every command that is not exempt', async () => {
    // In order: each step's output is the next one's input (ingest → window → train → quantize → verify …).
    for (const p of paths) {
      const j = CASES[p]!.json;
      if ('exempt' in j) {
        expect(j.exempt.length, p).toBeGreaterThan(10);
        continue;
      }
      const r = await raftNs(j.args());
      expect(j.codes ?? [0], `${p}: exit ${r.code}: ${r.stderr.slice(-500)}`).toContain(r.code);
      let doc: Record<string, unknown> = {};
      expect(() => (doc = JSON.parse(r.stdout) as Record<string, unknown>), `${p}: stdout is not one JSON document`).not.toThrow();
      expect(doc, p).toHaveProperty(j.key);
      expect(r.stderr, p).not.toMatch(/\n\s+at /);
    }
  }, 300_000);

  it('--quiet prints nothing on success', async () => {
    const r = await raftNs(['dataset', 'export', sample, '--out', d('q.parquet'), '--quiet']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
  }, 60_000);
});
