/**
 * The functions behind the notebooks (pipeline/notebook/): dataset exploration, model inspection through
 * the runtime, the policy comparison's table and sentences, the model setup, and that every chart renders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../pipeline/ingest/read.js';
import { readDataset } from '../pipeline/ingest/read.js';
import type { TelemetryRow } from '../pipeline/ingest/telemetry.js';
import { renderSvg } from '../pipeline/report/charts.js';
import {
  boundsSpec, clampSpec, comparePolicies, comparisonFindings, exploreDataset, goalFindings, goalRows, guardrailSummary, heartbeatGapSpec, leaderChangesSpec, leaderLosses,
  leaderLossSpec, loadSharedModel, missingDataSpec, modelKnobFindings, modelKnobRows, notebookModel, paretoSpec, pooledRows, provedBounds, readAllRows, replayStream,
  SAMPLE_DATASET_DIR, showTable, signalDistributionSpec, signalSweep, streamsOf, sweepSpec, sweepValues, tableHtml, timelineSpec, typicalSignals,
  verifyArtifact, type NotebookModel, type ReplayTick,
} from '../pipeline/notebook/index.js';
import { RaftNsError } from '../pipeline/util/errors.js';
import { sweepPolicies } from '../pipeline/evaluate/policies.js';
import type { EvaluationReport } from '../pipeline/evaluate/evaluate.js';

const TICK = 100;
function row(ts: number, node: string, o: Partial<TelemetryRow> = {}): TelemetryRow {
  return {
    ts_ms: ts, cluster_id: 'c1', node_id: node, term: 1, role: 'follower', leader_id: 'L', heartbeat_latency_ms: 2, log_replication_gap: 0,
    rpc_retries: 0, cpu_idle_pct: 90, heartbeat_received: true, event: null, ...o,
  };
}
function fakeDataset(rows: TelemetryRow[]): Dataset {
  const manifest = { tick_ms: TICK, row_count: rows.length, parts: [{ sha256: 'abc' }], tool_version: 'test' };
  return { dir: 'fake', manifest, batches: { async *[Symbol.asyncIterator]() { yield rows; } } } as unknown as Dataset;
}

describe('exploreDataset', () => {
  // Follower f: heartbeats at 0, 100, 300 (a 200 ms gap), nothing at 400–500 (absent rows), then a new
  // leader M in term 2 from 600. Leader L reports itself at 0, M at 600.
  const rows: TelemetryRow[] = [
    row(0, 'L', { role: 'leader', heartbeat_latency_ms: null }),
    row(0, 'f'), row(100, 'f'), row(200, 'f', { heartbeat_received: false, heartbeat_latency_ms: null }), row(300, 'f', { rpc_retries: 2 }),
    row(600, 'f', { term: 2, leader_id: null, heartbeat_received: false }), row(700, 'f', { term: 2, leader_id: 'M' }), row(800, 'f', { term: 2, leader_id: 'M' }),
    row(600, 'M', { term: 2, role: 'leader' }),
  ];

  it('measures heartbeat gaps per (leader, term), never across a leader change', async () => {
    const ex = await exploreDataset(fakeDataset(rows));
    expect([...ex.heartbeat_gaps_ms].sort((a, b) => a - b)).toEqual([100, 100, 200]);
    expect(ex.heartbeat_gap_quantiles.max).toBe(200);
  });

  it('counts absent ticks, null latencies and leaderless follower ticks per node', async () => {
    const ex = await exploreDataset(fakeDataset(rows));
    const f = ex.streams.find((s) => s.node_id === 'f')!;
    expect(f).toMatchObject({ rows: 7, missing_ticks: 2, heartbeat_latency_nulls: 1, leaderless_follower_ticks: 1 });
    const retries = ex.signals.find((s) => s.node_id === 'f' && s.signal === 'rpc_retries')!;
    expect(retries.max).toBe(2);
    expect(retries.n).toBe(7);
  });

  it('lists leader changes in time order with the interval between them', async () => {
    const ex = await exploreDataset(fakeDataset(rows));
    expect(ex.leader_changes.map((c) => [c.leader_id, c.term, c.since_previous_ms])).toEqual([['L', 1, null], ['M', 2, 600]]);
  });

  it('summarizes the bundled sample and draws every chart', async () => {
    const ex = await exploreDataset(await readDataset(SAMPLE_DATASET_DIR));
    // datasets/sample: the simulator's 5-node LAN leader crash and 3-node WAN jitter clusters, 10 ms ticks.
    expect(ex.dataset).toMatchObject({ row_count: 9201, clusters: 2, streams: 8, tick_ms: 10 });
    expect(ex.signals).toHaveLength(32);
    // Under 200 req/s every tick carries AppendEntries; idle stretches show the 100 ms heartbeat.
    expect(ex.heartbeat_gap_quantiles.p50).toBe(10);
    expect(ex.heartbeat_gap_quantiles.p99).toBe(100);
    expect(ex.leader_changes.length).toBeGreaterThan(2);
    for (const spec of [signalDistributionSpec(ex), heartbeatGapSpec(ex), missingDataSpec(ex), leaderChangesSpec(ex)]) {
      expect(await renderSvg(spec)).toMatch(/^<svg/);
    }
  });
});

describe('model inspection', () => {
  let cache: string;
  let m: NotebookModel;
  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), 'raft-ns-nbtest-'));
    m = await notebookModel({ cacheDir: cache, env: {}, registryDir: join(cache, 'no-registry') });
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('without RAFT_NS_MODEL or a committed model, makes one from the sample with the real stages, once', async () => {
    expect(m.source).toBe('sample-built');
    expect(m.provenance).toMatchObject({ seed: 1, tool_version: expect.any(String), dataset_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = await notebookModel({ cacheDir: cache, env: {}, registryDir: join(cache, 'no-registry') });
    expect(again.provenance.weights_sha256).toBe(m.provenance.weights_sha256);
  });

  it('uses RAFT_NS_MODEL when set, and names the file when it is not an artifact', async () => {
    const fromEnv = await notebookModel({ env: { RAFT_NS_MODEL: m.artifactDir } });
    expect(fromEnv.source).toBe('env');
    await expect(notebookModel({ env: { RAFT_NS_MODEL: join(cache, 'nothing') } })).rejects.toThrow(RaftNsError);
    await expect(notebookModel({ env: { RAFT_NS_MODEL: join(cache, 'nothing') } })).rejects.toThrow(/^notebook: RAFT_NS_MODEL=.*manifest\.json not found/);
  });

  it('sweeps a signal deterministically and arms timeouts inside the rules bounds', async () => {
    const model = await loadSharedModel(m.artifactDir);
    const ex = await exploreDataset(await readDataset(SAMPLE_DATASET_DIR));
    const opts = { base: typicalSignals(ex), signal: 'heartbeat_latency_ms' as const, values: sweepValues(ex, 'heartbeat_latency_ms', 5), tickMs: 100, heartbeatIntervalMs: 100 };
    const a = signalSweep(model, opts);
    expect(a).toHaveLength(5);
    expect(signalSweep(model, opts)).toEqual(a);
    for (const p of a) {
      expect(p.source).toBe('model');
      expect(p.timeout_ms).toBeGreaterThanOrEqual(50); // the default rules' absolute floor
      expect(p.timeout_ms).toBeLessThanOrEqual(10_000); // and ceiling
    }
    expect(await renderSvg(sweepSpec(a))).toContain('heartbeat_latency_ms');
  });

  it('replays a stream tick by tick, finds its leader losses and counts the guardrails', async () => {
    const model = await loadSharedModel(m.artifactDir);
    const rows = await readAllRows(await readDataset(SAMPLE_DATASET_DIR));
    const streams = [...streamsOf(rows).values()];
    expect(streams).toHaveLength(8);
    const s = streams[0]!;
    const ticks = replayStream(model, s, { tickMs: 10, heartbeatIntervalMs: 100, clusterSize: 5 });
    expect(ticks.map((t) => t.ts_ms)).toEqual(s.map((r) => r.ts_ms));
    const losses = streams.flatMap((x) => leaderLosses(x));
    expect(losses.length).toBeGreaterThan(0);
    const l = leaderLosses(s)[0] ?? leaderLosses(streams.find((x) => leaderLosses(x).length)!)[0]!;
    expect(l.next_term_ts_ms).toBeGreaterThan(l.last_beat_ts_ms);
    expect(await renderSvg(leaderLossSpec(ticks, l))).toMatch(/^<svg/);
    expect(await renderSvg(clampSpec(ticks))).toMatch(/^<svg/);
  });

  it('guardrailSummary counts follower ticks changed per rule', () => {
    const t = (role: string, rules: string, source: 'model' | 'fallback' = 'model', composed = 1): ReplayTick => ({
      ts_ms: 0, role, term: 1, heartbeat_received: true, heartbeat_latency_ms: 1, raw_proposal_ms: 1, composed_ms: composed, timeout_ms: 1, p_leader_lost: 0, confidence: 1, silence_ms: 0, source, rules,
    });
    const g = guardrailSummary([t('follower', ''), t('follower', 'floor ceiling'), t('follower', 'floor'), t('leader', 'floor'), t('follower', '', 'fallback'), t('follower', '', 'model', 0.5)]);
    expect(g).toEqual({ ticks: 5, clamped_ticks: 2, dropped_ticks: 1, fallback_ticks: 1, by_rule: [{ rule: 'floor', ticks: 2, share: 0.4 }, { rule: 'ceiling', ticks: 1, share: 0.2 }] });
  });

  it('shows the bounds verify proved, with unbounded sides as null', async () => {
    const report = await verifyArtifact(m.artifactDir, { windowsDir: m.windowsDir!, prove: { splitBudget: 16, searchBudget: 10 } });
    const bounds = provedBounds(report);
    expect(bounds.map((b) => b.rule)).toEqual(report.proof!.claims.map((c) => c.rule_id));
    for (const b of bounds) {
      expect(['proved', 'refuted', 'unproved']).toContain(b.status);
      if (b.bound_lo !== null && b.bound_hi !== null) expect(b.bound_lo).toBeLessThanOrEqual(b.bound_hi);
    }
    expect(await renderSvg(boundsSpec(bounds))).toMatch(/^<svg/);
  });
});

describe('policy comparison', () => {
  it('turns an evaluation report into a table, sentences and charts', async () => {
    const report = await comparePolicies({ model: null, suite: 'short', seeds: 1, workers: 1 });
    const rows = pooledRows(report);
    expect(rows.map((r) => r.policy)).toEqual(['static-etcd', 'static-raft-paper', 'jacobson-karels', 'phi-accrual', 'oracle']);
    const findings = comparisonFindings(report);
    expect(findings.at(-1)).toBe(`Safety violations: 0 in ${report.runs} runs.`);
    expect(findings.some((f) => f.startsWith('Lowest failover time: '))).toBe(true);
    expect(findings.some((f) => f.startsWith('Lowest failover time: ') && !f.includes('oracle'))).toBe(true); // the reference is no contender
    expect(findings.some((f) => f.startsWith('Waiting for a leader costs static etcd'))).toBe(true);
    expect(findings.some((f) => f.startsWith('Pareto frontier of the sweep'))).toBe(true);
    expect(await renderSvg(paretoSpec(report))).toMatch(/^<svg/);
    expect(await renderSvg(timelineSpec(report))).toContain('static-etcd');
    // The goals, one row per policy; the oracle's sentence says which goals even it misses.
    const goals = goalRows(report);
    expect(goals.map((r) => r.policy)).toEqual(rows.map((r) => r.policy));
    expect(goals.find((r) => r.policy === 'oracle')!['4. Pareto']).toBe('—'); // a point, not a family
    expect(goals.find((r) => r.policy === 'static-etcd')!['2. unnecessary (jitter)']).toMatch(/^✓ /); // etcd is its own bar
    const oracle = report.goals!.policies.find((g) => g.policy === 'oracle')!;
    const said = goalFindings(report);
    expect(said).toHaveLength(1); // no model in this report
    expect(said[0]).toMatch(oracle.failover.met && oracle.unnecessary.met && oracle.latency.met && oracle.safety.met ? /^The oracle .* meets every goal/ : /^Even the oracle .* misses: /);
  });
});

describe('the goals', () => {
  const goal = (policy: string, met: [boolean, boolean, boolean, boolean | null, boolean]) => ({
    policy,
    failover: { mean_ms: 900, best_other: 'phi-accrual', best_other_ms: 1000, capture: 0.85, met: met[0] },
    unnecessary: { total: 3, jitter: 1, etcd_total: 4, etcd_jitter: 1, excess_vs_etcd: { total: { diff: -1, se: 1.5, runs: 8 }, jitter: { diff: 0, se: 0, runs: 2 } }, met: met[1] },
    latency: { mean: [], p99: [], downtime_share_of_etcd: 0.6, met: met[2] },
    pareto: met[3] === null ? null : { family_points: 9, baseline_frontier_points: 11, unmatched: ['x'], unmatched_by_oracle_too: ['x'], met: met[3] },
    safety: { violations: 0, met: met[4] },
    all_met: false,
  });
  it('says which goals the model meets and which even the oracle misses', () => {
    const report = { goals: { baselines: [], policies: [goal('neuro-symbolic', [true, true, false, false, true]), goal('oracle', [true, false, false, null, true])] } } as unknown as EvaluationReport;
    expect(goalFindings(report)).toEqual([
      'The model meets: failover, unnecessary elections, safety; misses: latency, Pareto.',
      "Even the oracle (a perfect failure detector) misses: unnecessary elections, latency — out of any timeout policy's reach on this suite as written.",
    ]);
    expect(goalRows(report)[0]).toEqual({
      policy: 'neuro-symbolic', '1. failover ms (capture)': '✓ 900 (0.85)', '2. unnecessary (jitter)': '✓ 3 (1) vs 4 (1); excess −1 ± 3, 95%',
      '3. latency; waiting vs etcd': '✗ 60%', '4. Pareto': '✗ 10 of 11', '5. safety': '✓',
    });
  });
});

describe('the model\'s serving knob', () => {
  // A report cut down to its sweep: two baseline points and the model's margins, given out of order.
  const pt = (family: string, param: string, value: number, failover: number, perHour: number, front: boolean) => ({
    policy: `${family}-${value}`, label: `${family} ${value}`, family, param, value, pareto_optimal: front,
    failover_ms: { mean: failover, ci95: 10 }, unnecessary_elections_per_hour: { mean: perHour, ci95: Number.NaN }, commit_latency_mean_ms: { mean: 50, ci95: 1 },
  });
  const report = { sweep: [
    pt('static', 'base_ms', 150, 400, 90, true), pt('static', 'base_ms', 1000, 1600, 10, false),
    pt('neuro-symbolic', 'survived_margin', 2, 1500, 5, true), pt('neuro-symbolic', 'survived_margin', 0, 900, 40, true),
    pt('neuro-symbolic', 'survived_margin', 1.75, 1300, 12, false), // the default rules' margin
  ] } as unknown as EvaluationReport;

  it('evaluate sweeps the model over the survived-silence margins, the default rules\' 1.75 among them', () => {
    const knob = sweepPolicies().filter((p) => p.family === 'neuro-symbolic');
    expect(knob.map((p) => [p.param, p.value])).toEqual([0, 0.5, 1, 1.25, 1.5, 1.75, 2, 3, 4, 6].map((v) => ['survived_margin', v]));
    expect(knob.every((p) => p.spec.kind === 'model')).toBe(true);
  });

  it('tabulates the knob by margin and says what its curve shows', () => {
    expect(modelKnobRows(report)).toEqual([
      { margin: '0', 'failover ms': '900 ± 10', 'unnecessary elections / h': '40.0', 'latency ms': '50.0 ± 1.0', frontier: 'on the frontier', served: '' },
      { margin: '1.75', 'failover ms': '1300 ± 10', 'unnecessary elections / h': '12.0', 'latency ms': '50.0 ± 1.0', frontier: 'dominated', served: 'default rules' },
      { margin: '2', 'failover ms': '1500 ± 10', 'unnecessary elections / h': '5.0', 'latency ms': '50.0 ± 1.0', frontier: 'on the frontier', served: '' },
    ]);
    expect(modelKnobFindings(report)).toEqual([
      'Survived-silence margin 0 → 2: 900 ms failover, 40.0 unnecessary elections per hour → 1500 ms failover, 5.0 unnecessary elections per hour.',
      'The default rules serve margin 1.75: 1300 ms failover, 12.0 unnecessary elections per hour, dominated by another swept point.',
      'The model\'s margins on the frontier of every swept policy: 0, 2.',
    ]);
    const flat = { sweep: [0, 1, 2].map((v) => pt('neuro-symbolic', 'survived_margin', v, 170, 0, true)) } as unknown as EvaluationReport;
    expect(modelKnobFindings(flat)[0]).toBe('Every survived-silence margin (0–2) gives the same point on this sweep, 170 ms failover, 0.0 unnecessary elections per hour: no election in its runs depended on the floor.');
    const none = { sweep: report.sweep!.filter((p) => p.family === 'static') } as unknown as EvaluationReport;
    expect(modelKnobRows(none)).toEqual([]);
    expect(modelKnobFindings(none)).toEqual(['The sweep has no model points: the evaluation ran without a model.']);
  });
});

describe('display', () => {
  it('renders tables with escaped text and fixed digits, and shows them through display.html', () => {
    const shown: string[] = [];
    showTable({ html: (s) => shown.push(s) }, [{ a: 1.23456, b: '<x>', c: null }], { digits: 2 });
    expect(shown).toEqual([tableHtml([{ a: 1.23456, b: '<x>', c: null }], { digits: 2 })]);
    expect(shown[0]).toBe('<table><tr><th>a</th><th>b</th><th>c</th></tr><tr><td>1.23</td><td>&lt;x&gt;</td><td>—</td></tr></table>');
  });
});
