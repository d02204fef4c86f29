/**
 * Ingest never silently changes a value, and no raw identifier reaches any
 * byte it writes — dataset files, quarantine, manifest — nor any line it prints, in fail or quarantine mode.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
import { readDataset } from '../pipeline/ingest/read.js';
import type { TelemetryRow } from '../pipeline/ingest/telemetry.js';
import { RaftNsError } from '../pipeline/util/errors.js';

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
const KEY = Buffer.from('privacy test key 0123456789abcdef');
const root = mkdtempSync(join(tmpdir(), 'raft-ns-privacy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Raw identifiers planted in the bad inputs below; none may appear in any output byte. */
const RAW = ['db-east.example.net', '10.0.0.1:2380', '10.0.0.2:2380', 'secret-host-9', '7777123'];
const HEADER = 'ts_ms,cluster_id,node_id,term,role,leader_id,heartbeat_latency_ms,log_replication_gap,rpc_retries,cpu_idle_pct,heartbeat_received,event';
const csvRow = (ts: number, node: string, over: Partial<Record<'term' | 'role' | 'lat', string>> = {}): string =>
  `${ts},db-east.example.net,${node},${over.term ?? '1'},${over.role ?? 'follower'},10.0.0.1:2380,${over.lat ?? '3.5'},0,0,80,true,`;
const ndRow = (ts: number, over: Record<string, unknown> = {}): string =>
  JSON.stringify({ ts_ms: ts, cluster_id: 'db-east.example.net', node_id: '10.0.0.2:2380', term: 1, role: 'follower', leader_id: '10.0.0.1:2380', heartbeat_latency_ms: 3.5, log_replication_gap: 0, rpc_retries: 0, cpu_idle_pct: 80, heartbeat_received: true, ...over });

/** Each case: one bad input holding raw ids in the places that used to leak. */
const CASES: Array<[string, string, string]> = [
  ['bad number in a row of raw ids', 'a.csv', [HEADER, csvRow(1000, '10.0.0.2:2380'), csvRow(1100, '10.0.0.2:2380', { term: 'x' })].join('\n')],
  ['a short CSV line starting with raw ids', 'b.csv', [HEADER, csvRow(1000, '10.0.0.2:2380'), '1100,db-east.example.net,10.0.0.2:2380,1'].join('\n')],
  ['an id in another column', 'c.csv', [HEADER, csvRow(1000, '10.0.0.2:2380'), csvRow(1100, '10.0.0.2:2380', { role: 'secret-host-9' })].join('\n')],
  ['time order', 'd.csv', [HEADER, csvRow(1000, '10.0.0.2:2380'), csvRow(900, '10.0.0.2:2380')].join('\n')],
  ['broken JSON holding ids', 'e.ndjson', [ndRow(1000), ndRow(1100).slice(0, 60)].join('\n')],
  ['a non-string id', 'f.ndjson', [ndRow(1000), ndRow(1100, { node_id: 7777123 })].join('\n')],
  ['an extra key named and valued like a host', 'g.ndjson', [ndRow(1000), ndRow(1100, { 'secret-host-9': '10.0.0.1:2380' })].join('\n')],
];

function allBytes(dir: string): Buffer[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? allBytes(join(dir, n)) : [readFileSync(join(dir, n))]));
}

describe.runIf(existsSync(cli))('no raw id in any byte', () => {
  const keyFile = join(root, 'key.txt');
  writeFileSync(keyFile, KEY);
  it.each(CASES)('%s: neither stderr in fail mode nor any output byte in quarantine mode holds a raw id', (_what, name, text) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, name);
    writeFileSync(file, `${text}\n`);
    const args = [cli, 'ingest', file, '--anon-key-file', keyFile, '--quiet', '--tick-ms', '100'];
    const fail = spawnSync(process.execPath, [...args, '--out', join(dir, 'fail')], { encoding: 'utf8' });
    expect(fail.status).toBe(1);
    expect(fail.stderr).toMatch(/^raft-ns ingest: .*(line|row) \d+/);
    const quarantine = spawnSync(process.execPath, [...args, '--out', join(dir, 'q'), '--on-invalid', 'quarantine', '--allow-extra-columns'], { encoding: 'utf8' });
    expect(quarantine.status, quarantine.stderr).toBe(0);
    expect(existsSync(join(dir, 'q', 'quarantine.ndjson'))).toBe(true);
    const outputs = [fail.stdout, fail.stderr, quarantine.stdout, quarantine.stderr, ...allBytes(join(dir, 'q')).map((b) => b.toString('latin1'))];
    for (const id of RAW) for (const o of outputs) expect(o.includes(id), `${id} in ${o.slice(0, 200)}`).toBe(false);
  });
});

async function ingestText(name: string, text: string): Promise<{ rows: TelemetryRow[] } | { error: string }> {
  const dir = join(root, `v-${name}-${Math.random().toString(16).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `${text}\n`);
  try {
    await ingest([join(dir, name)], { out: join(dir, 'out'), anonKey: null, createdAt: '2026-01-01T00:00:00.000Z', tickMs: 100 });
  } catch (err) {
    if (err instanceof RaftNsError) return { error: err.message };
    throw err;
  }
  const rows: TelemetryRow[] = [];
  for await (const b of (await readDataset(join(dir, 'out'))).batches) rows.push(...b);
  return { rows };
}

describe('ingest never silently changes a value', () => {
  const good = (over: Partial<Record<'term' | 'lat' | 'retries' | 'cpu', string>>): string =>
    [HEADER, `1000,c1,n1,${over.term ?? '1'},follower,n2,${over.lat ?? '3.5'},0,${over.retries ?? '0'},${over.cpu ?? '80'},true,`].join('\n');

  it.each([
    ['a whitespace term', { term: ' ' }, /column term: .* breaks "type"/],
    ['a blank required cpu_idle_pct', { cpu: '' }, /column cpu_idle_pct: .*breaks/],
    ['a hex rpc_retries', { retries: '0x10' }, /column rpc_retries: .* breaks "type"/],
    ['a binary term', { term: '0b101' }, /column term: .* breaks "type"/],
  ])('CSV: refuses %s instead of reading a number', async (_what, over, message) => {
    const r = await ingestText('v.csv', good(over));
    expect('error' in r && r.error).toMatch(message);
  });

  it('CSV: a blank nullable latency is null, a decimal is read exactly', async () => {
    const r = await ingestText('ok.csv', good({ lat: '' }));
    expect('rows' in r && r.rows[0]!.heartbeat_latency_ms).toBe(null);
    const e = await ingestText('ok2.csv', good({ lat: '1.5e1' }));
    expect('rows' in e && e.rows[0]!.heartbeat_latency_ms).toBe(15);
  });

  it('NDJSON: refuses a duplicate key instead of keeping the last', async () => {
    const line = ndRow(1000).replace('"term":1,', '"term":1,"term":7,');
    const r = await ingestText('dup.ndjson', line);
    expect('error' in r && r.error).toMatch(/line 1: the line breaks "syntax" \(expected each key once per object \(key term appears twice\)/);
  });

  it('NDJSON: an empty leader_id means no leader, as an empty CSV field does', async () => {
    const nd = await ingestText('e.ndjson', ndRow(1000, { cluster_id: 'c1', node_id: 'n1', leader_id: '' }));
    const csv = await ingestText('e.csv', [HEADER, '1000,c1,n1,1,follower,,3.5,0,0,80,true,'].join('\n'));
    expect('rows' in nd && nd.rows[0]!.leader_id).toBe(null);
    expect('rows' in csv && csv.rows[0]!.leader_id).toBe(null);
  });
});

describe('ingest: exact integers and extreme values (findings 4 and 5)', () => {
  const HDR = HEADER;
  it.each([
    ['CSV', 'big.csv', [HDR, '1000,c1,n1,9007199254740993,follower,n2,3.5,0,0,80,true,'].join('\n')],
    ['NDJSON', 'big.ndjson', ndRow(1000, { cluster_id: 'c1', node_id: 'n1', term: 18446744073709551617 })],
  ])('%s: a term beyond 2^53 - 1 is refused, never rounded', async (_fmt, name, text) => {
    const r = await ingestText(name, text);
    expect('error' in r && r.error).toMatch(/column term: .* breaks "maximum" \(expected an integer in \[0, 9007199254740991\]\)/);
  });

  it('extreme but finite values give finite statistics instead of an internal error', async () => {
    const rows = [1000, 1100, 1200].map((ts, i) => `${ts},c1,n1,1,follower,n2,${['1.7e308', '1e300', '3.5'][i]},0,0,80,true,`);
    const r = await ingestText('huge.csv', [HDR, ...rows].join('\n'));
    expect(r).not.toHaveProperty('error');
    if (!('rows' in r)) return;
    expect(r.rows[1]!.heartbeat_latency_ms).toBe(1e300);
    const dir = readdirSync(root).filter((d) => d.startsWith('v-huge.csv')).map((d) => join(root, d, 'out'))[0]!;
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { stats: Record<string, { mean: number; std: number }> };
    for (const c of ['heartbeat_latency_ms']) {
      expect(Number.isFinite(m.stats[c]!.mean), c).toBe(true);
      expect(Number.isFinite(m.stats[c]!.std), c).toBe(true);
    }
    expect(m.stats.heartbeat_latency_ms!.mean / ((1.7e308 + 1e300) / 3)).toBeCloseTo(1, 12);
  });
});

describe.runIf(existsSync(cli))('extreme but finite values through the CLI, in quarantine mode and in infer --trace', () => {
  const dir = join(root, 'extreme');
  const file = join(dir, 'extreme.csv');
  mkdirSync(dir, { recursive: true });
  const valid = join(dir, 'extreme-valid.csv');
  const lat = (i: number, negative: boolean): string => (i === 10 ? '1.7e308' : i === 11 ? '1e300' : i === 12 && negative ? '-1e308' : '3.5');
  const rows = (negative: boolean): string => `${[HEADER, ...Array.from({ length: 40 }, (_, i) => `${1000 + 100 * i},c1,n1,1,follower,n2,${lat(i, negative)},0,0,80,true,`)].join('\n')}\n`;
  writeFileSync(file, rows(true));
  writeFileSync(valid, rows(false));

  it('ingest --on-invalid quarantine: sets the negative one aside, finite statistics for the rest, no internal error', () => {
    const out = join(dir, 'q');
    const r = spawnSync(process.execPath, [cli, 'ingest', file, '--out', out, '--no-anonymize', '--on-invalid', 'quarantine', '--tick-ms', '100', '--quiet'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/bug:|\n\s+at /);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { invalid: { row_count: number }; stats: Record<string, { mean: number; std: number }> };
    expect(m.invalid.row_count).toBe(1);
    expect(Number.isFinite(m.stats.heartbeat_latency_ms!.mean) && Number.isFinite(m.stats.heartbeat_latency_ms!.std)).toBe(true);
  });

  it('infer --trace replays them, counting fallbacks instead of crashing', () => {
    const art = new URL('../artifacts/raft-ns-default/2.1.0', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [cli, 'infer', art, '--trace', valid], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/bug:|\n\s+at /);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/outside bounds: 0/);
    expect(r.stdout).toMatch(/fallbacks [1-9]\d* \(outside-domain/);
  }, 60_000);
});

describe('ingest: temporaries of a killed run are swept on the next run', () => {
  it('removes a dead process\'s hidden temporary folder beside the output, keeps a live one\'s', async () => {
    const dir = join(root, 'sweep');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'in.csv'), `${[HEADER, '1000,c1,n1,1,follower,n2,3.5,0,0,80,true,'].join('\n')}\n`);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const deadTmp = join(dir, `.ds.tmp-${dead}-1700000000000`);
    const liveTmp = join(dir, `.ds.tmp-${process.ppid}-1700000000000`);
    mkdirSync(deadTmp);
    writeFileSync(join(deadTmp, 'part-00000.arrow'), 'partial');
    mkdirSync(liveTmp);
    await ingest([join(dir, 'in.csv')], { out: join(dir, 'ds'), anonKey: null, createdAt: '2026-01-01T00:00:00.000Z', tickMs: 100 });
    expect(existsSync(deadTmp)).toBe(false);
    expect(existsSync(liveTmp)).toBe(true);
    expect(existsSync(join(dir, 'ds', 'manifest.json'))).toBe(true);
  });
});

