import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeSimulatedTraceSet } from '../pipeline/simulate/write.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinScenario, type Scenario } from '../sim/index.js';
import { validateAgainst } from '../pipeline/schemas.js';
import { RaftNsError } from '../pipeline/util/errors.js';
import { jsonText, sha256Hex } from '../pipeline/util/fs.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { evaluate, REPORT_HTML, REPORT_JSON, type EvaluationResult } from '../pipeline/evaluate/evaluate.js';
import { runJobs, type Job } from '../pipeline/evaluate/harness.js';
import { makeEvaluationModel } from '../pipeline/evaluate/make-model.js';
import { DEFAULT_RUN_CONFIG } from '../pipeline/run/pipeline.js';
import { MAIN_POLICIES } from '../pipeline/evaluate/policies.js';
import { RandomizedTimeout } from '../sim/index.js';
import { makePrng } from '../sim/index.js';
import { assertNotHeldOut, HELDOUT_SEED_MIN, loadSuite, suiteFromValue, type Suite } from '../pipeline/evaluate/suites.js';
import { buildFixtureArtifact, writeFixtureArtifact } from './runtime-fixtures/artifact-writer.js';

const tmp = mkdtempSync(join(tmpdir(), 'raftns-evaluate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tiny suite: one jitter and one crash scenario, 8 s each, 3 nodes, two seeds. */
function tinySuite(): Suite {
  const base = (name: string, faults: Scenario['faults']): Scenario => ({
    schema_version: 1, name, duration_ms: 8000, tick_ms: 10,
    cluster: { size: 3, heartbeat_interval_ms: 100, election_timeout_ms: 1000 },
    network: { profile: 'lan' }, workload: { rate_per_s: 50 }, faults: faults ?? [],
  });
  return suiteFromValue({
    format: 'raft-ns-eval-suite', format_version: 1, name: 'tiny', seeds: [11, 12],
    scenarios: [
      { tags: ['jitter'], scenario: base('tiny-jitter', [{ kind: 'jitter_burst', at_ms: 2000, duration_ms: 3000, jittery_mean_ms: 400 }]) },
      { scenario: base('tiny-crash', [{ kind: 'crash', at_ms: 3000, node: 'leader', restart_after_ms: 3000 }]) },
    ],
    sweep: { scenarios: ['tiny-crash'], seeds: [11] },
    timeline: { scenario: 'tiny-crash', seed: 11, node: 'n2' },
  }, 'tiny suite');
}

describe('suites and the held-out registry', () => {
  it('the bundled suites load, and held-out seeds never overlap the training seeds', () => {
    const d = loadSuite('default');
    const h = loadSuite('heldout');
    expect(d.trainingSeeds.length).toBeGreaterThan(0);
    expect(d.seeds.every((s) => d.trainingSeeds.includes(s))).toBe(true); // default = the training distribution
    expect(h.seeds.every((s) => s >= HELDOUT_SEED_MIN)).toBe(true);
    expect(h.scenarios.some((s) => s.tags.includes('jitter'))).toBe(true);
    const defaultSizes = new Set(d.scenarios.map((s) => s.scenario.cluster.size));
    expect(h.scenarios.some((s) => !defaultSizes.has(s.scenario.cluster.size))).toBe(true); // other cluster sizes
  });

  it('tune chooses knobs on tuning seeds that no training data comes from', async () => {
    const d = loadSuite('default');
    expect(d.tuningSeeds.length).toBeGreaterThanOrEqual(4);
    expect(d.tuningSeeds.some((s) => d.trainingSeeds.includes(s))).toBe(false);
    const { seedRole } = await import('../pipeline/evaluate/tune.js');
    expect(seedRole(d.tuningSeeds, d)).toBe('tuning');
    expect(seedRole(d.trainingSeeds, d)).toBe('training');
    expect(seedRole([d.trainingSeeds[0]!, d.tuningSeeds[0]!], d)).toBe('mixed');
    // A suite whose tuning seeds overlap its training seeds, or reach into the held-out range, is refused.
    const file = JSON.parse(readFileSync(join('pipeline', 'evaluate', 'suites', 'default.json'), 'utf8')) as Record<string, unknown>;
    expect(() => suiteFromValue({ ...file, tuning_seeds: [9, 3] }, 'my-suite.json')).toThrow(/my-suite\.json at \/tuning_seeds\/1: seed is also a training seed/);
    expect(() => suiteFromValue({ ...file, tuning_seeds: [HELDOUT_SEED_MIN + 1] }, 'my-suite.json')).toThrow(/at \/tuning_seeds\/0: .*held-out range/);
  });

  it('tune takes the lowest latency, but a latency difference inside its paired CI does not overrule a faster failover', async () => {
    const { chooseCandidate } = await import('../pipeline/evaluate/tune.js');
    const est = (mean: number) => ({ mean, ci95: 5, n: 4 });
    const row = (policy: string, perSeed: number[], failover: number, unnecessary: number, feasible = true, failoverPerSeed = perSeed.map(() => failover)) => ({
      policy, tau: 0.99, spread: 1, artifact_dir: policy, latency_ms: est(perSeed.reduce((a, b) => a + b, 0) / perSeed.length),
      latency_per_seed_ms: perSeed, failover_per_seed_ms: failoverPerSeed, p99_ms: est(0), failover_ms: est(failover), leaderless_s_per_hour: est(0), unnecessary_total: unnecessary, unnecessary_jitter: 0,
      unnecessary_excess: { total: { diff: 0, se: 0, runs: 4 }, jitter: { diff: 0, se: 0, runs: 4 } }, latency_vs_etcd: est(0), feasible, per_scenario: [],
    });
    // b is 2 ms faster on average, but seed by seed it is ahead on two seeds and behind on two: tied with a.
    const a = row('a', [700, 690, 710, 700], 1900, 100);
    const b = row('b', [690, 700, 692, 710], 1940, 109);
    expect(chooseCandidate([a, b])).toMatchObject({ best: { policy: 'a' }, tied: [{ policy: 'b' }, { policy: 'a' }] });
    // c is 2 ms faster on every seed: a real difference, so it wins on latency despite its slower failover.
    const c = row('c', [698, 688, 708, 698], 1990, 100);
    expect(chooseCandidate([a, c]).best?.policy).toBe('c');
    // An infeasible row never wins, however fast; nothing feasible, nothing chosen.
    const d = row('d', [500, 500, 500, 500], 1000, 300, false);
    expect(chooseCandidate([a, d]).best?.policy).toBe('a');
    expect(chooseCandidate([d]).best).toBeUndefined();
    // An incumbent stays unless beaten beyond noise: e leads a on failover by 40 ms on average, but seed by seed
    // the lead changes sign, so a (the incumbent) stays; f is ahead on every seed by 50–70 ms and replaces it.
    const e = row('e', [700, 690, 710, 700], 1860, 100, true, [1700, 2000, 1800, 1940]);
    const aa = row('a', [700, 690, 710, 700], 1900, 100, true, [1800, 1950, 1900, 1950]);
    expect(chooseCandidate([aa, e]).winner?.policy).toBe('e');
    expect(chooseCandidate([aa, e], 'a').best?.policy).toBe('a');
    const f = row('f', [700, 690, 710, 700], 1840, 100, true, [1740, 1880, 1840, 1880]);
    expect(chooseCandidate([aa, f], 'a').best?.policy).toBe('f');
    // An infeasible incumbent is no anchor: the rule's winner is chosen.
    expect(chooseCandidate([{ ...aa, feasible: false }, e], 'a').best?.policy).toBe('e');
  });

  it('tune runs on a suite file of your own: its tuning seeds by default, its scenarios only, and refuses what the suite lacks', async () => {
    const { tune } = await import('../pipeline/evaluate/tune.js');
    const calm = { ...builtinScenario('lan-3-calm')!, name: 'my-calm', duration_ms: 10_000 };
    const crash = { ...builtinScenario('lan-3-leader-crash')!, name: 'my-crash', duration_ms: 10_000, faults: [{ kind: 'crash' as const, at_ms: 5_000, node: 'leader', restart_after_ms: 3_000 }] };
    const suite = { format: 'raft-ns-eval-suite', format_version: 1, name: 'mine', seeds: [31], tuning_seeds: [41, 42], scenarios: [{ scenario: calm }, { scenario: crash }] };
    const file = join(tmp, 'mine.suite.json');
    writeFileSync(file, JSON.stringify(suite));
    const artifact = join('artifacts', DEFAULT_RUN_CONFIG.model.name, DEFAULT_RUN_CONFIG.model.version); // the committed default
    const opts = { windowsDir: tmp, outDir: join(tmp, 'tune-mine'), taus: [], artifacts: [artifact], spreads: [1], workers: 1 };
    const r = await tune({ ...opts, suite: file, scenarios: ['my-crash'] });
    expect(r.suite).toBe('mine');
    expect(r.seeds).toEqual([41, 42]);
    expect(r.seed_role).toBe('tuning');
    expect(r.scenarios).toEqual(['my-crash']);
    const etcd = r.rows.find((x) => x.policy === 'static-etcd')!;
    expect(etcd.per_scenario.map((x) => x.scenario)).toEqual(['my-crash']);
    expect(etcd.failover_ms.mean).toBeGreaterThan(0); // the crash was simulated: a failover on each seed
    // A registry folder's row is named by model and version, so two versions of one model stay two rows.
    expect(r.rows.at(-1)!.policy).toBe(`${DEFAULT_RUN_CONFIG.model.name}-${DEFAULT_RUN_CONFIG.model.version}-spread1-lost0.8`);
    await expect(tune({ ...opts, suite: file, scenarios: ['my-crash', 'lan-3-calm'] })).rejects.toThrow(/--scenarios item 2 is not a scenario of suite mine/);
    await expect(tune({ ...opts, suite: file, incumbent: 'raft-ns-default-0.0.0-spread1-lost0.8' })).rejects.toThrow(/--incumbent names no candidate of this tune/);
    const bare = join(tmp, 'bare.suite.json');
    writeFileSync(bare, JSON.stringify({ ...suite, tuning_seeds: undefined }));
    await expect(tune({ ...opts, suite: bare })).rejects.toThrow(/suite mine .*declares no tuning_seeds or training_seeds; expected --seeds/);
    await expect(tune({ ...opts, suite: bare })).rejects.toMatchObject({ code: 'usage.evaluate' }); // the CLI exits 2
  });

  it('refuses to make training data from held-out seeds or scenarios, renamed copies included', () => {
    const h = loadSuite('heldout');
    const scenario = builtinScenario('lan-3-calm')!;
    expect(() => assertNotHeldOut(scenario, 1)).not.toThrow();
    expect(() => assertNotHeldOut(scenario, h.seeds[0]!)).toThrow(RaftNsError);
    expect(() => assertNotHeldOut(scenario, HELDOUT_SEED_MIN + 12345)).toThrow(/reserved held-out range/);
    const held = h.scenarios[0]!.scenario;
    expect(() => assertNotHeldOut(held, 1)).toThrow(/belongs to the held-out suite/);
    const renamed = { ...held, name: 'my-copy', description: 'innocent' };
    expect(() => assertNotHeldOut(renamed, 1)).toThrow(/parameters of a held-out scenario/);
  });

  it('the training-data generator calls the guard before writing anything', async () => {
    const out = join(tmp, 'leak');
    await expect(makeEvaluationModel(out, { suite: 'heldout', seeds: [1] })).rejects.toThrow(/refusing to generate training data/);
    await expect(makeEvaluationModel(out, { seeds: [HELDOUT_SEED_MIN + 1] })).rejects.toThrow(/refusing to generate training data/);
    expect(existsSync(out)).toBe(false);
  });

  it('the trace-set writer (raft-ns simulate --scenarios, the main job\'s source) refuses held-out seeds too', async () => {
    const out = join(tmp, 'leak-traces');
    await expect(writeSimulatedTraceSet(out, { scenarios: [builtinScenario('lan-3-calm')!], seeds: [1, HELDOUT_SEED_MIN + 7] })).rejects.toThrow(/reserved held-out range/);
    expect(existsSync(out)).toBe(false);
  });

  it('a bad suite file is refused with the file, the position and what was expected', () => {
    expect(() => suiteFromValue({ format: 'raft-ns-eval-suite', format_version: 1, name: 'x', seeds: [1], scenarios: [{ builtin: 'lan-4-calm' }] }, 'bad.json'))
      .toThrow(/^evaluate: bad\.json at \/scenarios\/0\/builtin: lan-4-calm is not a built-in scenario/);
    expect(() => suiteFromValue({ format: 'raft-ns-eval-suite', format_version: 1, name: 'x', seeds: [], scenarios: [{ builtin: 'lan-3-calm' }] }, 'bad.json'))
      .toThrow(/^evaluate: bad\.json at \/seeds/);
  });
});

describe('the closed-loop harness', () => {
  it('runs every policy on identical seeds: the same world until decisions diverge it', async () => {
    const s = tinySuite().scenarios[1]!.scenario;
    const etcd = MAIN_POLICIES[0]!;
    const jobs: Job[] = [];
    for (const p of MAIN_POLICIES.slice(0, 4)) jobs.push({ index: jobs.length, scenario: s, seed: 11, policyId: p.id, spec: p.spec });
    // The same policy under a second id: the run must be identical to the bit.
    jobs.push({ index: jobs.length, scenario: s, seed: 11, policyId: 'etcd-again', spec: etcd.spec });
    const rs = await runJobs(jobs, { workers: 0 });
    expect(rs[4]!.metrics).toEqual(rs[0]!.metrics);
    // The client workload depends on the seed only: every policy faced the same requests.
    expect(new Set(rs.map((r) => r.metrics.requests_submitted)).size).toBe(1);
    expect(rs[0]!.metrics.requests_submitted).toBeGreaterThan(0);
    // ... and the policies did decide differently (otherwise the comparison would be vacuous).
    expect(new Set(rs.slice(0, 4).map((r) => r.metrics.failover_ms)).size).toBeGreaterThan(1);
  });
});

describe('randomized adaptive baselines', () => {
  it('scale the estimate by a factor in [1, 2) held within a term and role, redrawn on change', () => {
    const inner = { observe: () => {}, electionTimeoutMs: () => 300 };
    const p = new RandomizedTimeout(inner, makePrng(3));
    const obs = (term: number, role: 'follower' | 'candidate') => ({
      nowMs: 0, tickMs: 10, role, term, leaderId: 'n1', heartbeatLatencyMs: 1, logReplicationGap: 0, rpcRetries: 0, cpuIdlePct: 90,
      heartbeatReceived: true, clusterSize: 3, peersReachable: 2, heartbeatIntervalMs: 100,
    });
    const seen = new Set<number>();
    for (let term = 1; term <= 20; term++) {
      p.observe(obs(term, 'follower'));
      const t = p.electionTimeoutMs();
      p.observe(obs(term, 'follower'));
      expect(p.electionTimeoutMs()).toBe(t); // held
      expect(t).toBeGreaterThanOrEqual(300);
      expect(t).toBeLessThan(600);
      seen.add(t);
    }
    expect(seen.size).toBeGreaterThan(15); // two followers with equal estimates do not campaign together
  });
});

describe('evaluate on a tiny suite with a model', () => {
  let res: EvaluationResult;
  const out = join(tmp, 'eval');
  beforeAll(async () => {
    const art = join(tmp, 'artifact');
    writeFixtureArtifact(art, buildFixtureArtifact(7, { qBias: Math.log(600) }));
    res = await evaluate({ model: art, suite: tinySuite(), outDir: out, workers: 0, createdAt: '2026-01-01T00:00:00.000Z' });
  }, 120_000);

  it('reports finite metrics for all seven policies, the oracle last, and zero safety violations', () => {
    const r = res.report;
    expect(r.pooled.map((p) => p.policy)).toEqual(MAIN_POLICIES.map((p) => p.id));
    expect(r.pooled.at(-1)!.policy).toBe('oracle');
    for (const p of r.pooled) {
      for (const k of ['commit_latency_mean_ms', 'commit_latency_with_leader_mean_ms', 'commit_latency_downtime_mean_ms', 'commit_latency_p99_ms', 'failover_ms', 'elections_per_hour', 'availability'] as const) {
        expect(Number.isFinite(p.estimates[k].mean), `${p.policy} ${k}`).toBe(true);
      }
      expect(p.estimates.availability.mean).toBeGreaterThan(0);
      expect(p.estimates.availability.mean).toBeLessThanOrEqual(1);
      expect(p.safety_violations_total).toBe(0);
      expect(p.estimates.commit_latency_mean_ms.n).toBe(2); // one value per seed
    }
    expect(r.safety.violations).toBe(0);
    expect(r.claims.memory_per_node!.total_bytes).toBeGreaterThan(r.claims.memory_per_node!.shared_weights_bytes);
    expect(r.claims.latency_vs_static_etcd!.scenarios).toEqual(['tiny-jitter', 'tiny-crash']);
    expect(r.claims.jitter_unnecessary_vs_static_etcd!.scenarios).toEqual(['tiny-jitter']);
  });

  it('splits mean latency into time with a leader and time waiting for one, and shows the oracle as the limit', async () => {
    const r = res.report;
    const row = (id: string) => r.pooled.find((p) => p.policy === id)!;
    for (const p of [...r.pooled, ...r.per_scenario]) {
      const e = p.estimates;
      expect(e.commit_latency_with_leader_mean_ms.mean + e.commit_latency_downtime_mean_ms.mean).toBeCloseTo(e.commit_latency_mean_ms.mean, 2);
    }
    const etcd = row('static-etcd');
    const oracle = row('oracle');
    expect(oracle.estimates.failover_ms.mean).toBeLessThan(etcd.estimates.failover_ms.mean / 4); // a crash costs the oracle no timeout
    expect(oracle.estimates.commit_latency_downtime_mean_ms.mean).toBeLessThan(etcd.estimates.commit_latency_downtime_mean_ms.mean);
    expect(oracle.estimates.unnecessary_elections.mean).toBe(0);
    expect(etcd.capture).toEqual({ commit_latency_mean_ms: 0, commit_latency_downtime_mean_ms: 0, failover_ms: 0, leaderless_s_per_hour: 0 });
    expect(oracle.capture).toEqual({ commit_latency_mean_ms: 1, commit_latency_downtime_mean_ms: 1, failover_ms: 1, leaderless_s_per_hour: 1 });
    const crash = r.per_scenario.filter((x) => x.scenario === 'tiny-crash');
    expect(crash.find((x) => x.policy === 'oracle')!.capture.failover_ms).toBe(1);
    expect(r.per_scenario.find((x) => x.scenario === 'tiny-jitter' && x.policy === 'oracle')!.capture.failover_ms).toBeNull(); // no failover to compare
    for (const x of crash) expect(x.capture.failover_ms).not.toBeNull();
    // Leaderless time is every failover's length per hour of run: on the one-crash scenario, the mean failover
    // over the run's length (8 s) whenever a run had exactly one failover.
    const crashScenario = tinySuite().scenarios.find((x) => x.scenario.name === 'tiny-crash')!.scenario;
    const runs = await runJobs([11, 12].map((seed, index) => ({ index, scenario: crashScenario, seed, policyId: 'static-etcd', spec: MAIN_POLICIES[0]!.spec })), { workers: 0 });
    for (const x of runs) {
      expect(x.metrics.failovers).toBe(1);
      expect(x.metrics.leaderless_s_per_hour).toBeCloseTo(x.metrics.failover_ms / 1000 / (8 / 3600), 6);
    }
    expect(oracle.estimates.leaderless_s_per_hour.mean).toBeLessThan(etcd.estimates.leaderless_s_per_hour.mean);
  });

  it('writes a schema-valid JSON report that records seeds, config, the model sha256, the rules that served it and the tool version', () => {
    const j = JSON.parse(readFileSync(join(out, REPORT_JSON), 'utf8')) as Record<string, unknown>;
    expect(validateAgainst('evaluation-report', j).ok).toBe(true);
    const r = res.report;
    expect(r.config.seeds).toEqual([11, 12]);
    expect(r.model!.manifest_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.model!.rules).toEqual({ source: 'embedded default (runtime/default-rules.ts)', name: DEFAULT_RULES.name, sha256: sha256Hex(jsonText(DEFAULT_RULES)) });
    expect(r.tool_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.sweep!.some((p) => p.family === 'neuro-symbolic')).toBe(true);
    expect(new Set(r.sweep!.map((p) => p.family))).toEqual(new Set(['static', 'jacobson-karels', 'phi-accrual', 'neuro-symbolic', 'oracle']));
    expect(r.sweep!.find((p) => p.family === 'oracle')!.pareto_optimal).toBe(false); // the reference, not a contender
    expect(r.sweep!.some((p) => p.pareto_optimal)).toBe(true);
    // The goals, for every policy (pipeline/evaluate/goals.ts): the oracle meets goal 1 by definition here.
    expect(r.goals!.policies.map((g) => g.policy)).toEqual(MAIN_POLICIES.map((p) => p.id));
    expect(r.goals!.policies.find((g) => g.policy === 'oracle')!.failover.capture).toBe(1);
    expect(r.goals!.policies.find((g) => g.policy === 'neuro-symbolic')!.pareto).not.toBeNull();
    expect(r.goals!.policies.find((g) => g.policy === 'oracle')!.pareto).toBeNull();
  });

  it('--sweep-seeds: the sweep runs on more seeds than the suite lists, continuing by +1', async () => {
    const more = await evaluate({ model: join(tmp, 'artifact'), suite: tinySuite(), seeds: 1, sweepSeeds: 3, workers: 0, timeline: false, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(more.report.config.seeds).toEqual([11]);
    expect(more.report.config.sweep!.seeds).toEqual([11, 12, 13]);
    expect(more.report.sweep!.find((p) => p.family === 'oracle')!.failover_ms.n).toBe(3); // one failover mean per sweep seed
  }, 60_000);

  it('writes one self-contained HTML page: inline SVG charts, no http(s) references, no scripts', () => {
    const html = readFileSync(join(out, REPORT_HTML), 'utf8');
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<script|<link|src=/i);
    expect((html.match(/<svg/g) ?? []).length).toBe(2); // the Pareto chart and the timeline
    expect(html).toContain('Pareto');
    expect(html).toContain('Timeline');
    for (const p of MAIN_POLICIES) expect(html).toContain(p.label.replace(/&/g, '&amp;'));
    expect(html).toContain('capture: downtime latency');
    expect(html).toContain('oracle (physical limit)'); // the reference point of the Pareto chart
    expect(html).toContain('The goals, for every policy');
  });

  it('is deterministic: the same inputs and seeds give the same report', async () => {
    const again = await evaluate({ model: join(tmp, 'artifact'), suite: tinySuite(), workers: 0, sweep: false, timeline: false, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(again.report.pooled).toEqual(res.report.pooled);
    expect(again.report.per_scenario).toEqual(res.report.per_scenario);
  }, 60_000);
});

describe('evaluate --rules: a version is its weights and the rules it was verified with', () => {
  // An artifact folder verified with other rules than today's defaults (here: the defaults without the follower
  // floor), as an older version served today is: the committed default model's weights, a verification report
  // naming those rules' hash.
  const rulesFile = join(tmp, 'older.rules.json');
  const older = join(tmp, 'older-artifact');
  const its = { ...DEFAULT_RULES, name: 'older', rules: DEFAULT_RULES.rules.filter((r) => r.id !== 'raft-paper-follower-floor') };
  const one = (): Suite => suiteFromValue({
    format: 'raft-ns-eval-suite', format_version: 1, name: 'one', seeds: [5],
    scenarios: [{ scenario: { ...builtinScenario('lan-5-cpu-storm')!, duration_ms: 20_000 } }],
    sweep: { scenarios: ['lan-5-cpu-storm'], seeds: [5] }, timeline: { scenario: 'lan-5-cpu-storm', seed: 5, node: 'n2' },
  }, 'one-scenario suite');

  it('says when an artifact is served by other rules than it was verified with, and serves a rules file', async () => {
    const committed = join(__dirname, '..', 'artifacts', DEFAULT_RUN_CONFIG.model.name, DEFAULT_RUN_CONFIG.model.version);
    mkdirSync(older, { recursive: true });
    for (const f of ['manifest.json', 'weights.bin']) copyFileSync(join(committed, f), join(older, f));
    const verified = sha256Hex(jsonText(its));
    writeFileSync(join(older, 'verification-report.json'), JSON.stringify({ rules: { source: 'older.rules.json', name: 'older', sha256: verified } }));
    writeFileSync(rulesFile, JSON.stringify({ $schema: '../schemas/safety-rules.schema.json', ...its })); // another layout, same rules
    const notes: string[] = [];
    const opts = { model: older, suite: one(), workers: 0, sweep: false, timeline: false, createdAt: '2026-01-01T00:00:00.000Z' };
    const today = await evaluate({ ...opts, log: (l) => notes.push(l) });
    expect(today.report.model!.verified_rules_sha256).toBe(verified);
    expect(today.report.model!.rules.sha256).toBe(sha256Hex(jsonText(DEFAULT_RULES)));
    expect(notes.filter((l) => l.startsWith('evaluate: note:'))).toHaveLength(1);

    notes.length = 0;
    const shipped = await evaluate({ ...opts, rules: rulesFile, log: (l) => notes.push(l) });
    expect(shipped.report.model!.rules).toEqual({ source: rulesFile, name: 'older', sha256: verified });
    expect(notes.filter((l) => l.startsWith('evaluate: note:'))).toHaveLength(0);
    const activations = (r: EvaluationResult): Record<string, number> => r.report.model_diagnostics.find((d) => d.policy === 'neuro-symbolic')!.rule_activations;
    expect(activations(today)['raft-paper-follower-floor']).toBeGreaterThan(0);
    expect(activations(shipped)['raft-paper-follower-floor']).toBeUndefined();
  }, 60_000);
});
