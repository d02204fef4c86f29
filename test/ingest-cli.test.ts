/**
 * `raft-ns ingest` and `raft-ns dataset inspect` through the built CLI (dist/, built by `npm test`):
 * exit codes, one-line errors on stderr, nothing written on failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAgainst } from '../pipeline/schemas.js';

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
const goodCsv = new URL('./fixtures/ingest/good.csv', import.meta.url).pathname;
const goodNdjson = new URL('./fixtures/ingest/good.ndjson', import.meta.url).pathname;
let dir: string;
let keyFile: string;

function raftNs(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const { RAFT_NS_ANON_KEY: _k, ...base } = process.env;
  void _k;
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...base, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-cli-'));
  keyFile = join(dir, 'anon.key');
  writeFileSync(keyFile, 'cli test key, long enough\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('raft-ns ingest (CLI)', () => {
  it('refuses to run without a key unless --no-anonymize, writing nothing', () => {
    const out = join(dir, 'nokey');
    const r = raftNs(['ingest', goodCsv, '--out', out]);
    expect(r.code).toBe(2); // a usage error: the key is a required input
    expect(r.stderr.trim()).toMatch(/^raft-ns ingest: no anonymization key; pass --anon-key-file <file> or set RAFT_NS_ANON_KEY/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    const plain = raftNs(['ingest', goodCsv, '--out', out, '--no-anonymize', '--quiet']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe('');
    expect(readFileSync(join(out, 'part-00000.arrow')).includes('10.0.0.2:2380')).toBe(true);
  });

  it('ingests CSV + NDJSON with a key from the environment, then inspect shows the table and valid JSON', () => {
    const out = join(dir, 'ok');
    const r = raftNs(['ingest', goodCsv, goodNdjson, '--out', out, '--tick-ms', '100'], { RAFT_NS_ANON_KEY: 'environment key 0123456789' });
    // Both files hold the same node streams, so the second file's rows are duplicates in time.
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/good\.ndjson line 1, column ts_ms: 1000 breaks "time-order" \(expected ts_ms after 1300 \(at .*good\.csv line 8\)/);
    const ok = raftNs(['ingest', goodCsv, '--out', out, '--tick-ms', '100'], { RAFT_NS_ANON_KEY: 'environment key 0123456789', SOURCE_DATE_EPOCH: '1767225600' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ingest: 8 rows from 1 file\(s\) → .*ok \(1 part\(s\), 2 node stream\(s\), tick 100 ms flag, 0 refused/);
    const text = raftNs(['dataset', 'inspect', out]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/8 rows in 1 part\(s\); 2 node stream\(s\) in 1 cluster\(s\); tick 100 ms \(flag\)/);
    expect(text.stdout).toMatch(/cpu_idle_pct\s+Float64\s+0\s+78\.200\s+90\s+84\.625/);
    const json = raftNs(['dataset', 'inspect', out, '--json', '--verify']);
    expect(json.code).toBe(0);
    const m = JSON.parse(json.stdout) as { created_at: string; row_count: number };
    expect(validateAgainst('dataset-manifest', m).ok).toBe(true);
    expect(m.created_at).toBe('2026-01-01T00:00:00.000Z');
  });

  it('a bad row: exit 1, one line naming file, line and column, nothing written', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, readFileSync(goodCsv, 'utf8').replace('88.5,false,\n', '188.5,false,\n'));
    const out = join(dir, 'bad-out', 'ds');
    const r = raftNs(['ingest', bad, '--out', out, '--anon-key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^raft-ns ingest: .*bad\.csv line 4, column cpu_idle_pct: 188\.5 breaks "maximum" \(expected a number <= 100\)\n$/);
    expect(existsSync(join(dir, 'bad-out')) ? readdirSync(join(dir, 'bad-out')) : []).toEqual([]);
    const q = raftNs(['ingest', bad, '--out', out, '--anon-key-file', keyFile, '--on-invalid', 'quarantine']);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/7 rows .* 1 refused → .*quarantine\.ndjson/);
  });

  it('never overwrites a dataset without --force', () => {
    const out = join(dir, 'twice');
    expect(raftNs(['ingest', goodCsv, '--out', out, '--anon-key-file', keyFile, '--quiet']).code).toBe(0);
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    const again = raftNs(['ingest', goodNdjson, '--out', out, '--anon-key-file', keyFile, '--quiet']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; pass --force to replace it/);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(before);
    const forced = raftNs(['ingest', goodNdjson, '--out', out, '--anon-key-file', keyFile, '--quiet', '--force']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).sources[0].format).toBe('ndjson');
  });
});
