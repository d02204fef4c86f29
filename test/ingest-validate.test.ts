/**
 * The fast row validator (compiled from schemas/telemetry.schema.json by pipeline/ingest/telemetry.ts)
 * must say exactly what ajv says about the same rows: same verdict, and the same broken keyword.
 */
import { describe, expect, it } from 'vitest';
import { loadSchema, schemaValidator } from '../pipeline/schemas.js';
import { COLUMNS, checkRowObject, compileColumnSpecs } from '../pipeline/ingest/telemetry.js';
import { synthRows } from './fixtures/ingest/synth.js';

const good = [...synthRows({ seed: 11, clusters: 2, nodesPerCluster: 3, ticks: 40, tickMs: 50 })] as unknown as Array<Record<string, unknown>>;

const badValues: Record<string, unknown[]> = {
  ts_ms: [-1, 1.5, '1000', null, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, true],
  cluster_id: ['', 'x'.repeat(257), 5, null, ['a']],
  node_id: ['', 'é'.repeat(257), 0, null, {}],
  term: [-3, 0.5, '2', null, Number.NEGATIVE_INFINITY],
  role: ['Follower', 'observer', '', null, 1],
  leader_id: ['y'.repeat(300), 7, false],
  heartbeat_latency_ms: [-0.001, Number.NaN, Number.POSITIVE_INFINITY, '1.2', true],
  log_replication_gap: [-1, 2.5, 2 ** 31, '0', null],
  rpc_retries: [-1, 0.1, null, 'none'],
  cpu_idle_pct: [100.0001, -0.1, null, Number.NaN, '50'],
  heartbeat_received: ['true', 1, 0, null],
  event: ['leader_elected', '', 3, true],
};
// Values that are valid but sit on a boundary (both must accept).
const edgeValues: Record<string, unknown[]> = {
  ts_ms: [0, 2 ** 53 - 1],
  cluster_id: ['a', 'ü'.repeat(256)],
  leader_id: [null, 'z'.repeat(256)],
  heartbeat_latency_ms: [0, null, 1e9],
  log_replication_gap: [0, 2 ** 31 - 1],
  cpu_idle_pct: [0, 100, 99.99],
  event: [null, 'crashed', 'restarted'],
};

function cases(): Array<{ name: string; row: Record<string, unknown> }> {
  const out: Array<{ name: string; row: Record<string, unknown> }> = good.slice(0, 60).map((row, i) => ({ name: `good ${i}`, row }));
  const base = good[7]!;
  for (const [col, values] of Object.entries({ ...badValues })) {
    for (const v of values) out.push({ name: `${col}=${String(v).slice(0, 20)}`, row: { ...base, [col]: v } });
  }
  for (const [col, values] of Object.entries(edgeValues)) {
    for (const v of values) out.push({ name: `edge ${col}=${String(v).slice(0, 20)}`, row: { ...base, [col]: v } });
  }
  for (const col of COLUMNS) {
    const { [col]: _dropped, ...rest } = base;
    void _dropped;
    out.push({ name: `missing ${col}`, row: rest });
  }
  out.push({ name: 'extra column', row: { ...base, hostname: 'db-1.internal' } });
  return out;
}

describe('fast row validator vs ajv', () => {
  const ajv = schemaValidator('telemetry');
  const all = cases();

  it('covers good, bad, boundary, missing and extra-column rows', () => {
    expect(all.length).toBeGreaterThan(120);
  });

  it('gives the same verdict and the same broken keyword on every row', () => {
    let rejected = 0;
    for (const { name, row } of all) {
      const ajvOk = ajv(row) as boolean;
      const fast = checkRowObject(row);
      expect(fast === null, name).toBe(ajvOk);
      if (fast) {
        rejected++;
        const path = fast.brk.rule === 'required' || fast.brk.rule === 'additionalProperties' ? '' : `/${fast.column}`;
        const keywords = (ajv.errors ?? []).filter((e) => e.instancePath === path).map((e) => e.keyword);
        expect(keywords, name).toContain(fast.brk.rule);
      }
    }
    expect(rejected).toBeGreaterThan(60);
  });

  it('refuses to compile a schema keyword it does not implement (so the schema cannot silently outgrow it)', () => {
    const schema = loadSchema('telemetry');
    const props = schema.properties as Record<string, Record<string, unknown>>;
    props.cpu_idle_pct = { ...props.cpu_idle_pct, multipleOf: 0.1 };
    expect(() => compileColumnSpecs(schema)).toThrow(/keyword "multipleOf"/);
  });
});
