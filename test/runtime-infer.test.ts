import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatInferReport, infer } from '../pipeline/infer/infer.js';
import { buildFixtureArtifact, prng, writeFixtureArtifact } from './runtime-fixtures/artifact-writer.js';

const root = mkdtempSync(join(tmpdir(), 'raft-ns-infer-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A 3-node cluster, 300 ticks of 100 ms: n1 leads; followers hear it on 9 ticks of 10; one hostile row. */
function writeTrace(path: string): number {
  const r = prng(9);
  const lines: string[] = [];
  for (let t = 1; t <= 300; t++) {
    for (const node of ['n1', 'n2', 'n3']) {
      const leader = node === 'n1';
      lines.push(JSON.stringify({
        ts_ms: t * 100, cluster_id: 'c1', node_id: node, term: 2, role: leader ? 'leader' : 'follower', leader_id: 'n1',
        heartbeat_latency_ms: t < 3 ? null : 0.5 + r() * 4, log_replication_gap: Math.floor(r() * 3), rpc_retries: r() < 0.95 ? 0 : 1,
        cpu_idle_pct: node === 'n3' && t === 150 ? 100 : 60 + r() * 30, heartbeat_received: leader || r() < 0.9,
      }));
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return lines.length;
}

describe('raft-ns infer', () => {
  const fx = buildFixtureArtifact(31);
  const artDir = join(root, 'artifact');
  writeFixtureArtifact(artDir, fx);
  const trace = join(root, 'trace.ndjson');
  const rows = writeTrace(trace);

  it('checks the golden vectors and replays a trace file within the bounds', async () => {
    const rep = await infer(artDir, { tracePath: trace });
    expect(rep.failures).toEqual([]);
    expect(rep.ok).toBe(true);
    expect(rep.golden).toMatchObject([{ ok: true, cases: 3, kernel: 'js' }, { ok: true, cases: 3, kernel: 'wasm' }]);
    expect(rep.trace).toMatchObject({ rows, nodes: 3, tick_ms: 100 });
    const t = rep.timeouts!;
    expect(t.count).toBe(rows);
    expect(t.minMs).toBeGreaterThanOrEqual(50);
    expect(t.maxMs).toBeLessThanOrEqual(10_000);
    expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
    expect(t.medianMs).toBeLessThanOrEqual(t.p99Ms);
    expect(rep.out_of_bounds).toBe(0);
    expect(rep.fallback_count).toBe(0);
    expect(rep.artifact).toMatchObject({ name: 'fixture', precision: 'int8', kernel: 'wasm', weights_sha256: fx.manifest.weights_sha256 });
    const text = formatInferReport(rep);
    expect(text).toMatch(/timeouts {2}min \d+ ms, median \d+ ms, p99 \d+ ms, max \d+ ms/);
    expect(text).toMatch(/infer: ok\n$/);
  });

  it('is deterministic: the same artifact and trace give the same report', async () => {
    const a = await infer(artDir, { tracePath: trace, precision: 'float32', kernel: 'js' });
    const b = await infer(artDir, { tracePath: trace, precision: 'float32', kernel: 'js' });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('fails (ok: false) when a golden vector does not match', async () => {
    const bad = join(root, 'bad-golden');
    writeFixtureArtifact(bad, fx);
    const g = JSON.parse(readFileSync(join(bad, 'golden.json'), 'utf8')) as { cases: Array<{ expected: { float32: number[][] } }> };
    g.cases[0]!.expected.float32[3]![1]! += 0.01;
    writeFileSync(join(bad, 'golden.json'), JSON.stringify(g));
    const rep = await infer(bad, {});
    expect(rep.ok).toBe(false);
    expect(rep.failures[0]).toMatch(/^golden \(js kernel\): 1 outputs off by more than 0\.00001 \(first: random-0 tick 3 float32 logit/);
  });

  it('refuses a tampered artifact with an infer: error naming the file', async () => {
    const bad = join(root, 'tampered');
    writeFixtureArtifact(bad, fx);
    const w = readFileSync(join(bad, 'weights.bin'));
    w[100]! ^= 0xff;
    writeFileSync(join(bad, 'weights.bin'), w);
    await expect(infer(bad, {})).rejects.toThrow(/^infer: .*tampered\/weights\.bin: sha256 [0-9a-f]+ does not match/);
  });
});
