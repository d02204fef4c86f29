/**
 * Gap labels floored at the rules' Raft timing floor (build.ts WindowConfig.labelFloor) and the per-tick
 * worst_rtt_ms column: the column is the runtime's RTT ring buffer restarted per segment, every supervised
 * label is max(raw label, ln F_t) with F_t from hardFloorMs, and the window stage's options behave.
 */
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { hardFloorMs, type GuardrailContext } from '../runtime/rules.js';
import { buildWindows, worstRttOver, type InputInfo, type LabelFloorConfig, type WindowConfig, type WindowsBuild } from '../pipeline/window/build.js';
import { decodeSplit, readWindows } from '../pipeline/window/format.js';
import { StreamCollector, type WindowInputRow } from '../pipeline/window/streams.js';
import { SPLIT_NAMES } from '../pipeline/window/types.js';
import { windowDataset } from '../pipeline/window/window.js';
import { register } from '../pipeline/window/command.js';
import { loadRulesFile } from '../pipeline/util/rules-file.js';
import { mulberry32 } from '../pipeline/util/prng.js';
import { TICK_MS, syntheticRows } from './window-fixtures.js';

const INPUT: InputInfo = { dataset: 'synthetic', datasetManifestSha256: '0'.repeat(64), parts: [], rowCount: 0 };
const BASE: WindowConfig = { windowLen: 16, stride: 16, seed: 5, fractions: { train: 0.6, val: 0.2, test: 0.2 }, clip: 5, tickMs: TICK_MS };
const DEFAULT = loadRulesFile('window', undefined);

function floorOf(heartbeatIntervalMs: number): LabelFloorConfig {
  return { rules: DEFAULT.rules, rulesName: DEFAULT.rulesInfo.name, rulesSha256: DEFAULT.rulesInfo.sha256, heartbeatIntervalMs };
}

function build(rows: WindowInputRow[], labelFloor: LabelFloorConfig | null): WindowsBuild {
  const c = new StreamCollector('synthetic');
  for (const r of rows) c.add(r);
  return buildWindows(c.finish(), { ...BASE, labelFloor }, { ...INPUT, rowCount: c.rowCount });
}

function decoded(b: WindowsBuild) {
  const m = b.manifest;
  return Object.fromEntries(SPLIT_NAMES.map((n) => [n, decodeSplit(n, b.files[n], m.splits[n].chunks, m.T, m.F, m.record)])) as Record<
    (typeof SPLIT_NAMES)[number], ReturnType<typeof decodeSplit>
  >;
}

/** Brute force: max of the non-null latencies among the last `w` rows (0 when none). */
function bruteWorst(lat: Array<number | null>, i: number, w: number): number {
  const seen = lat.slice(Math.max(0, i - w + 1), i + 1).filter((v): v is number => v !== null && !Number.isNaN(v));
  return seen.length === 0 ? 0 : Math.max(...seen);
}

describe('worstRttOver', () => {
  it('equals a brute-force max over the last w ticks, NaN skipped, restarting at the segment start', () => {
    const rand = mulberry32(11);
    const n = 300;
    const lat = Float64Array.from({ length: n }, () => (rand() < 0.45 ? Number.NaN : 1 + 50 * rand() * rand()));
    lat[40] = 500; // a spike before the segment starts must not leak into it
    for (let i = 90; i < 110; i++) lat[i] = Number.NaN; // a long silence: the window empties
    lat[110] = 7;
    for (const [start, end, w] of [[0, n, 8], [41, 260, 8], [41, 260, 1], [100, 105, 64], [0, n, 64], [50, 51, 3]] as const) {
      const got = worstRttOver(lat, start, end, w);
      expect(got.length).toBe(end - start);
      const seg = [...lat.subarray(start, end)].map((v) => (Number.isNaN(v) ? null : v));
      expect([...got]).toEqual(seg.map((_, i) => bruteWorst(seg, i, w)));
    }
    // Hand-checked: the silence 90..109 with w = 8 is 0 from tick 97 on, until a latency arrives at 110.
    const s = worstRttOver(lat, 41, 260, 8);
    expect(s[97 - 41]).toBe(0);
    expect(s[109 - 41]).toBe(0);
    expect(s[110 - 41]).toBe(7);
    expect(worstRttOver(lat, 41, 50, 64).every((v) => v < 500)).toBe(true);
    expect(worstRttOver(lat, 0, 50, 64)[45]).toBe(500);
  });
});

describe('labels floored at the Raft timing floor', () => {
  // Two clusters: split by time block, so streams are cut into segments and the RTT buffer restarts.
  const rows = syntheticRows(['a', 'b'], 240, 3);
  const raw = build(rows, null);
  const floored = build(rows, floorOf(100));
  const rawS = decoded(raw);
  const flS = decoded(floored);

  /** Float64 worst RTT of every real tick of a split, keyed by record index, from the rows themselves. */
  const rowWorst = (name: (typeof SPLIT_NAMES)[number]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const st of floored.manifest.splits[name].stream_table) {
      const seg = rows.filter((r) => r.cluster_id === st.cluster_id && r.node_id === st.node_id && r.ts_ms >= st.first_ts_ms && r.ts_ms <= st.last_ts_ms);
      const lat = seg.map((r) => r.heartbeat_latency_ms);
      seg.forEach((_, t) => m.set(st.first_chunk * floored.manifest.T + t, bruteWorst(lat, t, 64)));
    }
    return m;
  };

  it('records the floor in the manifest and nothing without one', () => {
    expect(raw.manifest.labels.floor).toBeNull();
    expect(floored.manifest.labels.floor).toMatchObject({
      rules: 'default', rules_sha256: DEFAULT.rulesInfo.sha256, heartbeat_interval_ms: 100, absolute_floor_ms: 50, rtt_window_ticks: 64,
    });
    expect(floored.manifest.split.mode).toBe('time');
  });

  it('writes worst_rtt_ms = the max latency over the last 64 ticks of the segment, matching the rows', () => {
    let cutSegments = 0;
    let compared = 0;
    for (const name of SPLIT_NAMES) {
      const split = flS[name];
      for (const st of floored.manifest.splits[name].stream_table) {
        const seg = rows.filter((r) => r.cluster_id === st.cluster_id && r.node_id === st.node_id && r.ts_ms >= st.first_ts_ms && r.ts_ms <= st.last_ts_ms);
        expect(seg.length).toBe(st.ticks);
        if (st.first_ts_ms > TICK_MS) cutSegments++;
        const lat = seg.map((r) => r.heartbeat_latency_ms);
        seg.forEach((_, t) => {
          const i = st.first_chunk * split.T + t;
          expect(split.worstRttMs[i]).toBe(Math.fround(bruteWorst(lat, t, 64)));
          compared++;
        });
        // Padding after the last tick of the segment is NaN.
        const end = st.first_chunk * split.T + st.ticks;
        for (let i = end; i < (st.first_chunk + st.chunks) * split.T; i++) expect(Number.isNaN(split.worstRttMs[i]!)).toBe(true);
      }
    }
    expect(compared).toBe(rows.length);
    expect(cutSegments).toBeGreaterThan(0); // some segment starts mid-stream: the buffer restarted there
    // The column does not depend on the floor.
    for (const name of SPLIT_NAMES) expect([...rawS[name].worstRttMs]).toEqual([...flS[name].worstRttMs]);
  });

  it('raises each supervised label to max(raw, ln F_t), leaves everything else alone, and counts the raised ticks', () => {
    let raised = 0;
    let kept = 0;
    const ctx: GuardrailContext = { role: 'follower', heartbeatIntervalMs: 100, worstRttMs: 0, smoothedRttMs: 0, clusterSize: 1, peersReachable: 0, survivedSilenceMs: 0, steppedDownThisTerm: false, previousMs: Number.NaN };
    for (const name of SPLIT_NAMES) {
      const r = rawS[name];
      const f = flS[name];
      expect([...f.censored]).toEqual([...r.censored]);
      expect([...f.wGap]).toEqual([...r.wGap]);
      expect([...f.wLost]).toEqual([...r.wLost]);
      expect([...f.lost]).toEqual([...r.lost]);
      expect([...f.x]).toEqual([...r.x]);
      expect([...f.jkLn]).toEqual([...r.jkLn]);
      const worst = rowWorst(name);
      for (let i = 0; i < r.count * r.T; i++) {
        if (r.wGap[i] === 0) {
          expect(f.gapLn[i]).toBe(r.gapLn[i]);
          continue;
        }
        ctx.worstRttMs = worst.get(i)!;
        const floorMs = hardFloorMs(DEFAULT.rules, ctx);
        expect(floorMs).toBe(Math.max(150, 100 + ctx.worstRttMs)); // the default rules' k = 1 timing floor, over the follower floor
        const expected = Math.max(r.gapLn[i]!, Math.fround(Math.log(floorMs)));
        expect(f.gapLn[i]).toBe(expected);
        if (f.gapLn[i]! > r.gapLn[i]!) raised++;
        else kept++;
      }
    }
    expect(raised).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
    expect(floored.manifest.labels.floor!.floored_ticks).toBe(raised);
    // Split counts are about masks and censoring, which the floor does not touch.
    for (const name of SPLIT_NAMES) {
      const a = raw.manifest.splits[name];
      const b = floored.manifest.splits[name];
      expect([b.supervised_ticks, b.censored_ticks, b.lost_known_ticks, b.lost_ticks]).toEqual([a.supervised_ticks, a.censored_ticks, a.lost_known_ticks, a.lost_ticks]);
    }
  });

  it('raises labels when the heartbeat interval is raised', () => {
    const slow = build(rows, floorOf(300));
    const slowS = decoded(slow);
    let strictlyHigher = 0;
    for (const name of SPLIT_NAMES) {
      const a = flS[name];
      const b = slowS[name];
      for (let i = 0; i < a.count * a.T; i++) {
        if (a.wGap[i] === 0) continue;
        expect(b.gapLn[i]!).toBeGreaterThanOrEqual(a.gapLn[i]!);
        expect(b.gapLn[i]!).toBeGreaterThanOrEqual(Math.fround(Math.log(300))); // 1 · (300 + RTT ≥ 0)
        if (b.gapLn[i]! > a.gapLn[i]!) strictlyHigher++;
      }
    }
    expect(strictlyHigher).toBeGreaterThan(0);
    expect(slow.manifest.labels.floor!.floored_ticks).toBeGreaterThan(floored.manifest.labels.floor!.floored_ticks);
    expect(slow.manifest.labels.floor!.heartbeat_interval_ms).toBe(300);
  });
});

describe('window stage options for the floor', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'raft-ns-window-floor-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  async function runCli(args: string[]): Promise<void> {
    const program = new Command();
    program.exitOverride();
    register(program);
    await program.parseAsync(['node', 'raft-ns', 'window', ...args]);
  }

  it('--floor-rules none writes labels.floor: null and raw labels; the default floors them', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await runCli(['--dataset', 'datasets/sample', '--out', join(tmp, 'none'), '--floor-rules', 'none']);
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toContain('labels: raw gaps (no floor)');
    } finally {
      write.mockRestore();
    }
    await windowDataset({ dataset: 'datasets/sample', out: join(tmp, 'default'), quiet: true });
    const none = readWindows(join(tmp, 'none'));
    const def = readWindows(join(tmp, 'default'));
    expect(none.manifest.labels.floor).toBeNull();
    expect(def.manifest.labels.floor).toMatchObject({ rules: 'default', heartbeat_interval_ms: 100 });
    let raised = 0;
    let below = 0;
    for (const name of SPLIT_NAMES) {
      const r = none.splits[name];
      const f = def.splits[name];
      expect([...f.censored]).toEqual([...r.censored]);
      for (let i = 0; i < r.count * r.T; i++) {
        if (r.wGap[i] === 0) continue;
        const floorLn = Math.fround(Math.log(Math.max(150, 100 + r.worstRttMs[i]!))); // timing floor, follower floor
        if (r.gapLn[i]! < floorLn - 1e-6) below++;
        // The column is float32, the floor was computed from the float64 RTT: equal up to float32 rounding.
        expect(Math.abs(f.gapLn[i]! - Math.max(r.gapLn[i]!, floorLn))).toBeLessThanOrEqual(2e-6);
        if (f.gapLn[i]! > r.gapLn[i]!) raised++;
      }
    }
    expect(below).toBeGreaterThan(0); // the raw labels really are raw: some lie below the floor
    expect(def.manifest.labels.floor!.floored_ticks).toBe(raised);
  });

  it.each(['0', '-5', 'abc'])('--heartbeat-interval-ms %s fails with a one-line error naming the flag and writes nothing', async (bad) => {
    const out = join(tmp, `bad-${bad}`);
    const err = await runCli(['--dataset', 'datasets/sample', '--out', out, '--heartbeat-interval-ms', bad, '--quiet']).then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain('--heartbeat-interval-ms');
    expect(err!.message).toContain(bad);
    expect(err!.message).not.toContain('\n');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.startsWith('bad-') || f.includes('.tmp'))).toEqual([]);
    // The library entry point refuses the same values.
    const n = Number(bad);
    if (Number.isFinite(n)) {
      await expect(windowDataset({ dataset: 'datasets/sample', out, heartbeatIntervalMs: n, quiet: true })).rejects.toThrow(/--heartbeat-interval-ms/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
