/**
 * Integers are exact end to end. The telemetry schema bounds ts_ms and term to
 * [0, 2^53 - 1] (the range a double, and so every stage downstream, holds exactly; the Int64 part column
 * holds it too). Every input format either round-trips a value exactly or refuses it naming the file,
 * the row, the column, the value the file holds (never its rounded or wrapped neighbour) and the range.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bool, Float64, Int32, Int64, Table, TimestampNanosecond, Uint64, Utf8, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
import { readDataset } from '../pipeline/ingest/read.js';
import type { TelemetryRow } from '../pipeline/ingest/telemetry.js';
import { writeParquet } from './fixtures/ingest/synth.js';

const root = mkdtempSync(join(tmpdir(), 'raft-ns-exact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let caseNo = 0;

const MAX = 2n ** 53n - 1n;
const P53 = 2n ** 53n + 1n;
const P63 = 2n ** 63n + 1n;
const RANGE = /expected an integer in \[0, 9007199254740991\]/;
const HEADER = 'ts_ms,cluster_id,node_id,term,role,leader_id,heartbeat_latency_ms,log_replication_gap,rpc_retries,cpu_idle_pct,heartbeat_received,event';

type Col = 'ts_ms' | 'term';
/** Two rows of one stream; row 2's `col` is `v`, written as its exact decimal digits. */
const base = (col: Col, v: bigint): Array<{ ts_ms: bigint; term: bigint }> =>
  [{ ts_ms: 1000n, term: 1n }, col === 'ts_ms' ? { ts_ms: v, term: 1n } : { ts_ms: 1100n, term: v }];

async function run(file: string, opts: { quarantine?: boolean } = {}): Promise<{ rows: TelemetryRow[] } | { error: string; out: string }> {
  const out = join(root, `out-${++caseNo}`);
  try {
    await ingest([file], { out, anonKey: null, createdAt: '2026-01-01T00:00:00.000Z', tickMs: 100, ...(opts.quarantine ? { onInvalid: 'quarantine' as const } : {}) });
  } catch (err) {
    return { error: (err as Error).message, out };
  }
  const rows: TelemetryRow[] = [];
  for await (const b of (await readDataset(out)).batches) rows.push(...b);
  return { rows };
}

function writeText(name: string, text: string): string {
  const f = join(root, `${++caseNo}-${name}`);
  writeFileSync(f, `${text}\n`);
  return f;
}

const csv = (col: Col, v: bigint): string =>
  writeText('in.csv', [HEADER, ...base(col, v).map((r) => `${r.ts_ms},c1,n1,${r.term},follower,n2,3.5,0,0,80,true,`)].join('\n'));
const ndjson = (col: Col, v: bigint): string =>
  writeText('in.ndjson', base(col, v).map((r) => `{"ts_ms":${r.ts_ms},"cluster_id":"c1","node_id":"n1","term":${r.term},"role":"follower","leader_id":"n2","heartbeat_latency_ms":3.5,"log_replication_gap":0,"rpc_retries":0,"cpu_idle_pct":80,"heartbeat_received":true}`).join('\n'));

function arrow(col: Col, v: bigint, type: 'int64' | 'uint64', format: 'file' | 'stream'): string {
  const rows = base(col, v);
  const t = (): DataType => (type === 'int64' ? new Int64() : new Uint64());
  // BigInt64Array wraps 2^63 + 1 to -(2^63 - 1), as any Int64 writer would; Uint64 holds it exactly.
  const table = new Table({
    ts_ms: vectorFromArray(rows.map((r) => r.ts_ms), t()),
    cluster_id: vectorFromArray(['c1', 'c1'], new Utf8()),
    node_id: vectorFromArray(['n1', 'n1'], new Utf8()),
    term: vectorFromArray(rows.map((r) => r.term), t()),
    role: vectorFromArray(['follower', 'follower'], new Utf8()),
    leader_id: vectorFromArray(['n2', 'n2'], new Utf8()),
    heartbeat_latency_ms: vectorFromArray([3.5, 3.5], new Float64()),
    log_replication_gap: vectorFromArray([0, 0], new Int32()),
    rpc_retries: vectorFromArray([0, 0], new Int32()),
    cpu_idle_pct: vectorFromArray([80, 80], new Float64()),
    heartbeat_received: vectorFromArray([true, true], new Bool()),
  });
  const f = join(root, `${++caseNo}-in.${format === 'file' ? 'arrow' : 'arrows'}`);
  writeFileSync(f, tableToIPC(table, format));
  return f;
}

function parquet(col: Col, v: bigint): string {
  const f = join(root, `${++caseNo}-in.parquet`);
  const rows = base(col, v).map((r) => ({
    ts_ms: r.ts_ms, cluster_id: 'c1', node_id: 'n1', term: r.term, role: 'follower', leader_id: 'n2', heartbeat_latency_ms: 3.5,
    log_replication_gap: 0, rpc_retries: 0, cpu_idle_pct: 80, heartbeat_received: true, event: null,
  }));
  // An INT64 holds 2^63 + 1 only wrapped (two's complement), as a writer that casts would store it.
  const asIs = { type: 'INT64' as const, map: (x: unknown) => (typeof x === 'bigint' ? BigInt.asIntN(64, x) : x) };
  writeParquet(f, rows as unknown as TelemetryRow[], { ts_ms: asIs, term: asIs });
  return f;
}

/** Format, writer, how the second row is named in messages, and the value the file then holds. */
const FORMATS: Array<[string, (col: Col, v: bigint) => string, string, (v: bigint) => bigint]> = [
  ['CSV', csv, 'line 3', (v) => v],
  ['NDJSON', ndjson, 'line 2', (v) => v],
  ['Parquet INT64', parquet, 'row 2', (v) => BigInt.asIntN(64, v)],
  ['Arrow file Int64', (c, v) => arrow(c, v, 'int64', 'file'), 'row 2', (v) => BigInt.asIntN(64, v)],
  ['Arrow stream Int64', (c, v) => arrow(c, v, 'int64', 'stream'), 'row 2', (v) => BigInt.asIntN(64, v)],
  ['Arrow file UInt64', (c, v) => arrow(c, v, 'uint64', 'file'), 'row 2', (v) => v],
];

describe('ingest: 64-bit integers are exact or refused, in every format', () => {
  describe.each(FORMATS)('%s', (_fmt, write, pos, stored) => {
    it.each(['ts_ms', 'term'] as const)('%s: 2^53 - 1 round-trips exactly', async (col) => {
      const r = await run(write(col, MAX));
      expect(r).not.toHaveProperty('error');
      if ('rows' in r) expect(r.rows[1]![col]).toBe(Number.MAX_SAFE_INTEGER);
    });

    it.each([
      ['ts_ms', P53], ['term', P53], ['ts_ms', P63], ['term', P63],
    ] as const)('%s = %s is refused with the exact value the file holds and the range', async (col, v) => {
      const r = await run(write(col, v));
      expect('error' in r).toBe(true);
      if (!('error' in r)) return;
      const held = stored(v);
      expect(r.error).toContain(`${pos}, column ${col}: ${held} breaks "${held < 0n ? 'minimum' : 'maximum'}"`);
      expect(r.error).toMatch(RANGE);
      expect(r.error).not.toContain('\n');
    });
  });

  it('quarantine records the refused value as its exact digits', async () => {
    const r = await run(csv('term', P63), { quarantine: true });
    expect(r).toHaveProperty('rows');
    const outs = readFileSync(join(root, `out-${caseNo}`, 'quarantine.ndjson'), 'utf8');
    expect(JSON.parse(outs.trim())).toMatchObject({ line: 3, column: 'term', value: '9223372036854775809', rule: 'maximum' });
  });

  it.each([
    ['4503599627370495.9', 'a fraction its double rounds away'],
    ['9007199254740990.6', 'a fraction that rounds to an in-range integer'],
    ['1e-1', 'an exponent leaving a fraction'],
  ])('CSV: term %s (%s) is not an integer', async (text) => {
    const f = writeText('frac.csv', [HEADER, '1000,c1,n1,1,follower,n2,3.5,0,0,80,true,', `1100,c1,n1,${text},follower,n2,3.5,0,0,80,true,`].join('\n'));
    const r = await run(f);
    expect('error' in r && r.error).toContain(`line 3, column term: "${text}" breaks "type" (expected an integer)`);
  });

  it('CSV: integers in exponent or fraction form are read exactly when they are integers', async () => {
    const f = writeText('exp.csv', [HEADER, '1e3,c1,n1,1,follower,n2,3.5,0,0,80,true,', '9007199254740.991e3,c1,n1,5.000,follower,n2,3.5,0,0,80,true,'].join('\n'));
    const r = await run(f);
    expect(r).toHaveProperty('rows');
    if ('rows' in r) expect(r.rows.map((x) => [x.ts_ms, x.term])).toEqual([[1000, 1], [Number.MAX_SAFE_INTEGER, 5]]);
  });

  it('Arrow Timestamp(ns): epoch milliseconds are floored exactly, not from the rounded double', async () => {
    // 1700000000123999999 ns: its nearest double is ...124000000, which would floor to the next millisecond.
    const ns = [1700000000000000000n, 1700000000123999999n];
    const table = new Table({
      ts_ms: vectorFromArray(ns.map((x) => Number(x / 1000000n)), new TimestampNanosecond()),
      cluster_id: vectorFromArray(['c1', 'c1'], new Utf8()), node_id: vectorFromArray(['n1', 'n1'], new Utf8()),
      term: vectorFromArray([1n, 1n], new Int64()), role: vectorFromArray(['follower', 'follower'], new Utf8()),
      leader_id: vectorFromArray(['n2', 'n2'], new Utf8()), heartbeat_latency_ms: vectorFromArray([3.5, 3.5], new Float64()),
      log_replication_gap: vectorFromArray([0, 0], new Int32()), rpc_retries: vectorFromArray([0, 0], new Int32()),
      cpu_idle_pct: vectorFromArray([80, 80], new Float64()), heartbeat_received: vectorFromArray([true, true], new Bool()),
    });
    // Overwrite the stored nanoseconds with the exact values (the builder takes milliseconds).
    const values = table.getChild('ts_ms')!.data[0]!.values as unknown as BigInt64Array | Int32Array;
    const words = new BigInt64Array(values.buffer, values.byteOffset, 2);
    words[0] = ns[0]!;
    words[1] = ns[1]!;
    const f = join(root, `${++caseNo}-ns.arrow`);
    writeFileSync(f, tableToIPC(table, 'file'));
    const r = await run(f);
    expect(r).toHaveProperty('rows');
    if ('rows' in r) expect(r.rows.map((x) => x.ts_ms)).toEqual([1700000000000, 1700000000123]);
  });
});
