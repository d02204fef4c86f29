/**
 * Bad input: each case gives a one-line error naming the file and the position, and writes nothing
 * (or, when asked, only the quarantine). Fixtures: test/fixtures/ingest/good.csv and variants of it.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, type IngestOptions } from '../pipeline/ingest/ingest.js';
import { readDataset } from '../pipeline/ingest/read.js';
import type { TelemetryEvent, TelemetryRow } from '../pipeline/ingest/telemetry.js';
import { RaftNsError } from '../pipeline/util/errors.js';
import { writeArrow, writeParquet } from './fixtures/ingest/synth.js';

const KEY = Buffer.from('bad-input test key 0123456789');
const GOOD_CSV = readFileSync(new URL('./fixtures/ingest/good.csv', import.meta.url), 'utf8');
const GOOD_LINES = GOOD_CSV.trimEnd().split('\n');
let dir: string;
let caseNo = 0;
/** The raw ids in good.csv (and fragments a leak would show): no message or output byte may hold them. */
const RAW_IDS = ['db-east.example.net', 'db-east', '10.0.0.1', '10.0.0.2', ':2380'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-bad-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh folder holding one input file; the dataset would go to <folder>/out. */
function input(name: string, content: string | Uint8Array): { file: string; out: string; parent: string } {
  const parent = join(dir, `case-${++caseNo}`);
  rmSync(parent, { recursive: true, force: true });
  const file = join(parent, 'in', name);
  mkdirSync(join(parent, 'in'), { recursive: true });
  writeFileSync(file, content);
  return { file, out: join(parent, 'out', 'ds'), parent };
}

/** CSV text from good.csv with `edit` applied to the data lines (index 0 = line 2). */
function csvWith(edit: (lines: string[]) => string[]): string {
  return `${[GOOD_LINES[0]!, ...edit(GOOD_LINES.slice(1))].join('\n')}\n`;
}

/** Replaces field `col` of data line `i`. */
function setField(lines: string[], i: number, col: string, value: string): string[] {
  const idx = GOOD_LINES[0]!.split(',').indexOf(col);
  return lines.map((l, k) => {
    if (k !== i) return l;
    const f = l.split(',');
    f[idx] = value;
    return f.join(',');
  });
}

async function expectRefused(files: string[], out: string, pattern: RegExp, extra: Partial<IngestOptions> = {}): Promise<RaftNsError> {
  let caught: unknown;
  try {
    await ingest(files, { out, anonKey: KEY, createdAt: '2026-01-01T00:00:00.000Z', ...extra });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RaftNsError);
  const e = caught as RaftNsError;
  expect(e.message).toMatch(pattern);
  // No bad-input message names a raw id of the fixtures: rows and columns, pseudonyms at most.
  if ((extra.anonKey ?? KEY) !== null) for (const id of RAW_IDS) expect(e.message, id).not.toContain(id);
  expect(e.message).toMatch(/^ingest: /);
  expect(e.message).not.toContain('\n');
  // Nothing written: no dataset folder and no temporary leftovers beside it.
  expect(existsSync(out)).toBe(false);
  const outParent = join(out, '..');
  if (existsSync(outParent)) expect(readdirSync(outParent)).toEqual([]);
  return e;
}

async function rowsOf(out: string): Promise<TelemetryRow[]> {
  const ds = await readDataset(out);
  const rows: TelemetryRow[] = [];
  for await (const b of ds.batches) rows.push(...b);
  return rows;
}

describe('ingest bad input: text files', () => {
  it('empty file', async () => {
    const c = input('empty.csv', '');
    await expectRefused([c.file], c.out, /empty\.csv line 1: file is empty/);
  });

  it('header only', async () => {
    const c = input('header-only.csv', `${GOOD_LINES[0]}\n`);
    await expectRefused([c.file], c.out, /header-only\.csv line 2: no data rows after the header/);
  });

  it('missing column', async () => {
    const hdr = GOOD_LINES[0]!.replace(',cpu_idle_pct', '');
    const body = GOOD_LINES.slice(1).map((l) => { const f = l.split(','); f.splice(9, 1); return f.join(','); });
    const c = input('missing.csv', `${[hdr, ...body].join('\n')}\n`);
    await expectRefused([c.file], c.out, /missing\.csv line 1 \(header\): missing column "cpu_idle_pct"/);
  });

  it('wrong type', async () => {
    const c = input('wrong-type.csv', csvWith((l) => setField(l, 1, 'term', 'abc')));
    await expectRefused([c.file], c.out, /wrong-type\.csv line 3, column term: \(text withheld: 3 chars\) breaks "type" \(expected an integer\)/);
    const d = input('wrong-type.ndjson', readFileSync(new URL('./fixtures/ingest/good.ndjson', import.meta.url), 'utf8').replace('"term": 1', '"term": "1"'));
    await expectRefused([d.file], d.out, /wrong-type\.ndjson line 1, column term: "1" breaks "type" \(expected an integer\)/);
  });

  it('NaN, Infinity and negative latency', async () => {
    for (const [value, shown, rule] of [['NaN', 'NaN', 'type'], ['Infinity', 'Infinity', 'type'], ['-0.5', '-0.5', 'minimum']] as const) {
      const c = input(`latency-${value}.csv`, csvWith((l) => setField(l, 3, 'heartbeat_latency_ms', value)));
      await expectRefused([c.file], c.out, new RegExp(`latency-${value}\\.csv line 5, column heartbeat_latency_ms: ${shown} breaks "${rule}"`));
    }
  });

  it('CPU idle above 100', async () => {
    const c = input('cpu.csv', csvWith((l) => setField(l, 6, 'cpu_idle_pct', '100.5')));
    await expectRefused([c.file], c.out, /cpu\.csv line 8, column cpu_idle_pct: 100\.5 breaks "maximum" \(expected a number <= 100\)/);
  });

  it('CRLF line ends and a UTF-8 BOM are accepted, with the same rows', async () => {
    const plain = input('plain.csv', GOOD_CSV);
    await ingest([plain.file], { out: plain.out, anonKey: KEY, createdAt: '2026-01-01T00:00:00.000Z' });
    const crlf = input('crlf-bom.csv', `\ufeff${GOOD_CSV.replace(/\n/g, '\r\n')}`);
    const { manifest } = await ingest([crlf.file], { out: crlf.out, anonKey: KEY, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(manifest.row_count).toBe(8);
    expect(await rowsOf(crlf.out)).toEqual(await rowsOf(plain.out));
  });

  it('non-UTF-8 bytes', async () => {
    const bytes = Buffer.from(csvWith((l) => setField(l, 1, 'event', 'XX')));
    const at = bytes.indexOf('XX');
    bytes[at] = 0xff;
    const c = input('latin.csv', bytes);
    await expectRefused([c.file], c.out, /latin\.csv line 3: byte \d+ \(0xff\) is not valid UTF-8/);
  });

  it('a single line longer than 16 MB', async () => {
    const c = input('long.csv', '');
    const fd = openSync(c.file, 'w');
    writeSync(fd, `${GOOD_LINES[0]}\n${GOOD_LINES[1]}\n`);
    const chunk = Buffer.alloc(1 << 20, 'a');
    for (let i = 0; i < 17; i++) writeSync(fd, chunk);
    writeSync(fd, '\n');
    closeSync(fd);
    await expectRefused([c.file], c.out, /long\.csv line 3: line longer than 16 MiB/);
  });

  it('out-of-order and duplicate timestamps, with the earlier position', async () => {
    const ooo = input('ooo.csv', csvWith((l) => setField(l, 5, 'ts_ms', '1050')));
    await expectRefused([ooo.file], ooo.out, /ooo\.csv line 7, column ts_ms: 1050 breaks "time-order" \(expected ts_ms after 1100 \(at .*ooo\.csv line 5\)/);
    const dup = input('dup.csv', csvWith((l) => setField(l, 3, 'ts_ms', '1000')));
    await expectRefused([dup.file], dup.out, /dup\.csv line 5, column ts_ms: 1000 breaks "duplicate-timestamp" \(expected ts_ms after 1000 \(at .*dup\.csv line 3\)/);
  });

  it('extra columns are refused unless --allow-extra-columns, which drops and records them', async () => {
    const text = csvWith((l) => l.map((x) => `${x},db-host-7.corp`)).replace(GOOD_LINES[0]!, `${GOOD_LINES[0]},hostname`);
    const c = input('extra.csv', text);
    await expectRefused([c.file], c.out, /extra\.csv line 1 \(header\): column "hostname" not in the telemetry schema/);
    const { manifest } = await ingest([c.file], { out: c.out, anonKey: KEY, createdAt: '2026-01-01T00:00:00.000Z', allowExtraColumns: true });
    expect(manifest.sources[0]!.extra_columns_dropped).toEqual([expect.stringMatching(/^column-[0-9a-f]{16}$/)]);
    for (const f of readdirSync(c.out)) expect(readFileSync(join(c.out, f)).includes('db-host-7')).toBe(false);
  });
});

describe('ingest bad input: columnar files', () => {
  const rows: TelemetryRow[] = GOOD_LINES.slice(1).map((l) => {
    const f = l.split(',');
    return {
      ts_ms: Number(f[0]), cluster_id: f[1]!, node_id: f[2]!, term: Number(f[3]), role: f[4] as TelemetryRow['role'], leader_id: f[5] || null,
      heartbeat_latency_ms: f[6] ? Number(f[6]) : null, log_replication_gap: Number(f[7]), rpc_retries: Number(f[8]), cpu_idle_pct: Number(f[9]),
      heartbeat_received: f[10] === 'true', event: (f[11] || null) as TelemetryEvent | null,
    };
  });

  it('a truncated Arrow file', async () => {
    const c = input('cut.arrow', '');
    writeArrow(c.file, rows, { batchRows: 3 });
    truncateSync(c.file, Math.floor(statSync(c.file).size * 0.6));
    await expectRefused([c.file], c.out, /cut\.arrow byte \d+: the file ends without the Arrow footer .*\(cut short\); expected a complete Arrow IPC file/);
  });

  it('a truncated Arrow stream', async () => {
    const c = input('cut.arrows', '');
    writeArrow(c.file, rows, { batchRows: 3, stream: true });
    truncateSync(c.file, Math.floor(statSync(c.file).size * 0.6));
    await expectRefused([c.file], c.out, /cut\.arrows byte \d+: message \d+.* past the end of the (\d+-byte )?stream \(cut short\); expected a complete Arrow IPC stream/);
  });

  it('a Parquet file with a wrong column type', async () => {
    const c = input('wrong.parquet', '');
    writeParquet(c.file, rows, { cpu_idle_pct: { type: 'STRING', map: (v) => String(v) } });
    await expectRefused([c.file], c.out, /wrong\.parquet column "cpu_idle_pct" \(field 10\): Parquet type BYTE_ARRAY.* cannot hold numbers; expected INT32 or INT64 or FLOAT or DOUBLE/);
  });

  it('a bad value inside an Arrow column names the row (typed and string columns)', async () => {
    const cpu = input('cpu.arrow', '');
    writeArrow(cpu.file, rows.map((r, i) => (i === 5 ? { ...r, cpu_idle_pct: 120 } : r)), { batchRows: 4 });
    await expectRefused([cpu.file], cpu.out, /cpu\.arrow row 6, column cpu_idle_pct: 120 breaks "maximum" \(expected a number <= 100\)/);
    const inf = input('inf.arrow', '');
    // No nulls in the column, so it arrives as one Float64Array and takes the whole-column check.
    writeArrow(inf.file, rows.map((r, i) => ({ ...r, heartbeat_latency_ms: i === 3 ? Number.POSITIVE_INFINITY : r.heartbeat_latency_ms ?? 1 })));
    await expectRefused([inf.file], inf.out, /inf\.arrow row 4, column heartbeat_latency_ms: Infinity breaks "type" \(expected a finite number or null\)/);
    const role = input('role.arrow', '');
    writeArrow(role.file, rows.map((r, i) => (i === 2 ? { ...r, role: 'observer' as TelemetryRow['role'] } : r)));
    await expectRefused([role.file], role.out, /role\.arrow row 3, column role: \(text withheld: 8 chars\) breaks "enum" \(expected one of follower, pre-candidate, candidate, leader\)/);
    const ts = input('ts.arrow', '');
    writeArrow(ts.file, rows.map((r, i) => (i === 7 ? { ...r, ts_ms: 1150 } : r)), { batchRows: 4 });
    await expectRefused([ts.file], ts.out, /ts\.arrow row 8, column ts_ms: 1150 breaks "time-order" \(expected ts_ms after 1200 \(at .*ts\.arrow row 6\)/);
  });

  it('a bad value inside Parquet names the row', async () => {
    const c = input('neg.parquet', '');
    writeParquet(c.file, rows.map((r, i) => (i === 4 ? { ...r, rpc_retries: -2 } : r)));
    await expectRefused([c.file], c.out, /neg\.parquet row 5, column rpc_retries: -2 breaks "minimum"/);
  });
});

describe('ingest text details', () => {
  it('quoted CSV fields may hold commas and quotes', async () => {
    const text = csvWith((l) => l.map((x) => x.replaceAll('db-east.example.net', '"db-east, ""blue"""')));
    const c = input('quoted.csv', text);
    const { manifest } = await ingest([c.file], { out: c.out, anonKey: null, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(manifest.row_count).toBe(8);
    expect((await rowsOf(c.out))[0]!.cluster_id).toBe('db-east, "blue"');
  });

  it('NDJSON: an extra key is a row error, or dropped and recorded with --allow-extra-columns', async () => {
    const text = readFileSync(new URL('./fixtures/ingest/good.ndjson', import.meta.url), 'utf8').replace('"event": null}', '"event": null, "hostname": "db-7.corp"}');
    const c = input('extra.ndjson', text);
    await expectRefused([c.file], c.out, /extra\.ndjson line 2, column column-[0-9a-f]{16}: \(withheld: may contain identifiers\) breaks "additionalProperties"/);
    const { manifest } = await ingest([c.file], { out: c.out, anonKey: KEY, createdAt: '2026-01-01T00:00:00.000Z', allowExtraColumns: true });
    expect(manifest.row_count).toBe(8);
    expect(manifest.sources[0]!.extra_columns_dropped).toEqual([expect.stringMatching(/^column-[0-9a-f]{16}$/)]);
  });

  it('a wrong field count is a syntax error naming the line', async () => {
    const c = input('short.csv', csvWith((l) => l.map((x, i) => (i === 4 ? x.slice(0, x.lastIndexOf(',')) : x))));
    await expectRefused([c.file], c.out, /short\.csv line 6: the line breaks "syntax" \(expected 12 comma-separated fields as in the header, got 11\)/);
  });

  it('quarantine with no valid row left writes nothing', async () => {
    const c = input('allbad.csv', csvWith((l) => l.map((x) => x.replace(/,(follower|leader),/, ',observer,'))));
    await expectRefused([c.file], c.out, /no valid rows in .*allbad\.csv \(8 refused\); nothing written/, { onInvalid: 'quarantine' });
  });
});

describe('ingest --on-invalid quarantine', () => {
  it('sets bad rows aside with reasons, ingests the rest, counts them', async () => {
    const text = csvWith((l) => setField(setField(setField(l, 1, 'cpu_idle_pct', '140'), 3, 'heartbeat_latency_ms', 'NaN'), 7, 'ts_ms', '1200'));
    const c = input('mixed.csv', text);
    await expectRefused([c.file], c.out, /mixed\.csv line 3, column cpu_idle_pct: 140 breaks "maximum"/);
    const { manifest } = await ingest([c.file], { out: c.out, anonKey: KEY, createdAt: '2026-01-01T00:00:00.000Z', onInvalid: 'quarantine' });
    expect(manifest.row_count).toBe(5);
    expect(manifest.invalid).toMatchObject({ on_invalid: 'quarantine', row_count: 3, file: 'quarantine.ndjson', by_rule: { maximum: 1, type: 1, 'duplicate-timestamp': 1 } });
    expect(manifest.sources[0]).toMatchObject({ row_count: 8, invalid_row_count: 3 });
    const q = readFileSync(join(c.out, 'quarantine.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(q.map((r) => [r.line, r.column, r.rule])).toEqual([[3, 'cpu_idle_pct', 'maximum'], [5, 'heartbeat_latency_ms', 'type'], [9, 'ts_ms', 'duplicate-timestamp']]);
    expect(q[0]!.value).toBe(140);
    expect(q[1]!.value).toBe('NaN');
    const bytes = readdirSync(c.out).map((f) => readFileSync(join(c.out, f)).toString('latin1')).join('\n');
    for (const id of RAW_IDS) expect(bytes.includes(id), id).toBe(false);
  });
});

describe('anonymization key strength', () => {
  it.each([['16 spaces', ' '.repeat(16)], ['one letter repeated', 'a'.repeat(32)], ['two values', 'ab'.repeat(12)]])('refuses a key of %s', async (_what, key) => {
    const c = input('k.csv', GOOD_CSV);
    const err = await ingest([c.file], { out: c.out, anonKey: Buffer.from(key), createdAt: '2026-01-01T00:00:00.000Z' }).catch((e: unknown) => e);
    expect((err as RaftNsError).code).toBe('ingest.key-weak');
    expect(existsSync(c.out)).toBe(false);
  });
});

