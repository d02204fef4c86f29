/**
 * `evaluate`: every scenario of a suite × its seeds × the six policies in closed loop (identical seeds per
 * policy), the Pareto sweep of the baselines, one timeline, and the seed system's claims; writes
 * `evaluation.json` (schemas/evaluation-report.schema.json) and a self-contained `evaluation.html`.
 *
 * @example
 *   const { report } = await evaluate({ model: 'artifacts/raft-ns-default/2.12.0', suite: 'heldout', outDir: 'out/eval' });
 *   report.claims.latency_vs_static_etcd.relative_change
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactFromBytes, NeuroSymbolicTimeout, type LoadedArtifact } from '../../runtime/index.js';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { loadRulesFile, rulesContentSha256, type RulesInfo } from '../util/rules-file.js';
import { jsonText, sha256Hex, writeDirAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { compare, perScenario, pooled, sweepPoints } from './aggregate.js';
import { goalsOf } from './goals.js';
import { runJobs, type Job, type JobResult } from './harness.js';
import { MAIN_POLICIES, MODEL_POLICY_IDS, sharedModelOf, sweepPolicies, type PolicyEntry } from './policies.js';
import { renderHtml } from './report.js';
import { loadSuite, suiteScenario, type Suite } from './suites.js';
import { recordTimeline, type Timeline } from './timeline.js';
import { CLAIMS, type EvaluationReport } from './types.js';

export { CLAIMS, type EvaluationReport } from './types.js';

export const REPORT_JSON = 'evaluation.json';
export const REPORT_HTML = 'evaluation.html';

export interface EvaluateOptions {
  /** Artifact folder (manifest.json + weights.bin), or null to evaluate the baselines only. */
  model: string | null;
  /** Built-in suite name (`default`, `heldout`, `short`), a suite file, or a loaded suite. */
  suite: string | Suite;
  /** Use the first N seeds of the suite (more than it lists: consecutive seeds after its last). */
  seeds?: number;
  /**
   * Safety-rules file to serve the model policy (and its sweep) with; default the runtime's embedded rules. A
   * version is its weights and the rules it was verified with, and a rules-only version shares its weights with
   * the last: to measure an older version as it shipped, pass the rules its verification report names.
   */
  rules?: string;
  /** Write evaluation.json + evaluation.html here (atomically). */
  outDir?: string;
  force?: boolean;
  /** Worker threads (default: one per CPU when running the built JavaScript). */
  workers?: number;
  /** Seeds of the Pareto sweep: its first n (default: the suite's sweep seeds, capped by `seeds`). */
  sweepSeeds?: number;
  /** Skip the Pareto sweep / the timeline (faster; the report says they were skipped). */
  sweep?: boolean;
  timeline?: boolean;
  /** Recorded as created_at (the shell passes the clock; tests pin it). */
  createdAt?: string;
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluationResult {
  report: EvaluationReport;
  html: string;
  /** Wall-clock figures (not in the report, which is deterministic). */
  timing: { runs: number; seconds: number; runs_per_s: number; scenario_runs: number; scenarios_per_s: number };
}

/** Runs the evaluation; see the file comment. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluationResult> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const suite = typeof opts.suite === 'string' ? loadSuite(opts.suite) : opts.suite;
  const seeds = pickSeeds(suite.seeds, opts.seeds);
  const loaded = opts.model === null ? null : loadModel(opts.model);
  const served = loadRulesFile('evaluate', opts.rules);
  const servedRules = opts.rules === undefined ? null : served.rules.source;
  // The content hash, as verify records the embedded defaults: a file of the same rules compares equal to them.
  const rules: RulesInfo = { ...served.rulesInfo, sha256: rulesContentSha256(served.rules.source) };
  if (loaded && loaded.verifiedRulesSha256 !== null && loaded.verifiedRulesSha256 !== rules.sha256) {
    log(`evaluate: note: ${loaded.dir} was verified with other rules (sha256 ${loaded.verifiedRulesSha256.slice(0, 12)}) than the ones serving it (${rules.name}, sha256 ${rules.sha256.slice(0, 12)}); --rules <file> serves those it shipped with`);
  }
  // A rules file replaces the embedded defaults of the guarded model policy; the unguarded one has none.
  const policies = MAIN_POLICIES.filter((p) => loaded || !MODEL_POLICY_IDS.has(p.id))
    .map((p) => (servedRules && p.spec.kind === 'model' && p.spec.guardrails ? { ...p, spec: { ...p.spec, rules: servedRules } } : p));
  const artifactBytes = loaded ? { manifest: loaded.manifestBytes, weights: loaded.weightsBytes } : null;

  // 1. The main grid: scenarios × seeds × policies, identical seeds for every policy.
  const jobs: Job[] = [];
  for (const s of suite.scenarios) for (const seed of seeds) for (const p of policies) {
    jobs.push({ index: jobs.length, scenario: s.scenario, seed, policyId: p.id, spec: p.spec });
  }
  // 2. The Pareto sweep on the sweep scenarios (their own seeds, capped by --seeds too).
  const doSweep = opts.sweep ?? true;
  const sweepEntries = doSweep ? sweepPolicies(servedRules ?? undefined).filter((e) => loaded || e.spec.kind !== 'model') : [];
  // --sweep-seeds n: the sweep's first n seeds (continuing past the suite's list by +1, as --seeds does);
  // else the suite's sweep seeds, capped by --seeds.
  const sweepSeeds = opts.sweepSeeds !== undefined ? pickSeeds(suite.sweep.seeds, opts.sweepSeeds)
    : pickSeeds(suite.sweep.seeds, opts.seeds === undefined ? undefined : Math.min(opts.seeds, suite.sweep.seeds.length));
  const sweepStart = jobs.length;
  for (const name of doSweep ? suite.sweep.scenarios : []) {
    const sc = suiteScenario(suite, name);
    for (const seed of sweepSeeds) for (const e of sweepEntries) jobs.push({ index: jobs.length, scenario: sc, seed, policyId: e.id, spec: e.spec });
  }
  log(`evaluate: ${suite.name}: ${suite.scenarios.length} scenarios × ${seeds.length} seeds × ${policies.length} policies + ${jobs.length - sweepStart} sweep runs`);
  const results = await runJobs(jobs, { artifact: loaded?.artifact ?? null, artifactBytes, ...(opts.workers === undefined ? {} : { workers: opts.workers }), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const main = results.slice(0, sweepStart);
  const sweepResults = results.slice(sweepStart);

  // 3. The timeline (in this thread: it records one node tick by tick).
  const doTimeline = (opts.timeline ?? true) && suite.timeline !== null;
  const shared = loaded ? sharedModelOf(loaded.artifact) : null;
  const timeline = doTimeline ? recordTimeline(suiteScenario(suite, suite.timeline!.scenario), suite.timeline!.seed, suite.timeline!.node, policies, shared) : null;

  const report = buildReport(suite, seeds, policies, main, sweepResults, sweepEntries, sweepSeeds, timeline, loaded, rules, opts);
  const schema = validateAgainst('evaluation-report', JSON.parse(JSON.stringify(report)));
  if (!schema.ok) throw new Error(`evaluate: internal: the report does not match schemas/evaluation-report.schema.json: ${schema.issues[0]!.path} ${schema.issues[0]!.message}`);
  const html = await renderHtml(report);
  if (opts.outDir) {
    await writeDirAtomic('evaluate', opts.outDir, opts.force ?? false, (tmp) => {
      writeText(join(tmp, REPORT_JSON), reportJson(report));
      writeText(join(tmp, REPORT_HTML), html);
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  return { report, html, timing: { runs: jobs.length, seconds, runs_per_s: jobs.length / seconds, scenario_runs: sweepStart, scenarios_per_s: sweepStart / seconds } };
}

/** The report as JSON text (NaN → null: JSON has no NaN). */
export function reportJson(report: EvaluationReport): string {
  return jsonText(JSON.parse(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))));
}

function writeText(path: string, text: string): void {
  // Inside writeDirAtomic's temporary folder: the rename makes the pair appear together.
  writeFileSync(path, text);
}

function pickSeeds(seeds: number[], n: number | undefined): number[] {
  if (n === undefined) return seeds;
  if (!Number.isInteger(n) || n < 1) throw new RaftNsError('evaluate.option', `evaluate: --seeds ${n}; expected a positive integer`);
  const out = seeds.slice(0, n);
  while (out.length < n) out.push(out[out.length - 1]! + 1);
  return out;
}

interface LoadedModel {
  dir: string;
  artifact: LoadedArtifact;
  manifestBytes: Uint8Array;
  weightsBytes: Uint8Array;
  /** The rules sha256 in the folder's verification-report.json (a published version has one), else null. */
  verifiedRulesSha256: string | null;
}

/** rules.sha256 of `<dir>/verification-report.json`, or null when the file is absent or names none. */
function verifiedRulesSha256(dir: string): string | null {
  const p = join(dir, 'verification-report.json');
  if (!existsSync(p)) return null;
  try {
    const sha = (JSON.parse(readFileSync(p, 'utf8')) as { rules?: { sha256?: unknown } }).rules?.sha256;
    return typeof sha === 'string' && /^[0-9a-f]{64}$/.test(sha) ? sha : null;
  } catch {
    return null; // the report is verify's to check (raft-ns verify, check a); evaluate only compares
  }
}

function loadModel(dir: string): LoadedModel {
  const mPath = join(dir, 'manifest.json');
  const wPath = join(dir, 'weights.bin');
  for (const p of [mPath, wPath]) {
    if (!existsSync(p)) throw new RaftNsError('evaluate.model', `evaluate: ${p}: not found; expected an artifact folder (manifest.json + weights.bin, from raft-ns quantize)`);
  }
  const manifestBytes = new Uint8Array(readFileSync(mPath));
  const weightsBytes = new Uint8Array(readFileSync(wPath));
  try {
    return { dir, artifact: artifactFromBytes(manifestBytes, weightsBytes, { manifestName: mPath, weightsName: wPath }), manifestBytes, weightsBytes, verifiedRulesSha256: verifiedRulesSha256(dir) };
  } catch (err) {
    throw new RaftNsError('evaluate.model', `evaluate: ${dir}: the runtime refuses the artifact (${(err as Error).message})`, { cause: err });
  }
}

function buildReport(
  suite: Suite, seeds: number[], policies: readonly PolicyEntry[], main: JobResult[], sweepResults: JobResult[],
  sweepEntries: ReturnType<typeof sweepPolicies>, sweepSeeds: number[], timeline: Timeline | null, loaded: LoadedModel | null, rules: RulesInfo,
  opts: EvaluateOptions,
): EvaluationReport {
  const ids = policies.map((p) => p.id);
  const scen = suite.scenarios.map((s) => ({ name: s.scenario.name, tags: s.tags }));
  const jitter = new Set(suite.scenarios.filter((s) => s.tags.includes('jitter')).map((s) => s.scenario.name));
  const modelId = 'neuro-symbolic';
  let memory: EvaluationReport['claims']['memory_per_node'] = null;
  if (loaded) {
    const p = new NeuroSymbolicTimeout({ model: sharedModelOf(loaded.artifact) });
    const total = p.nodeByteLength + p.sharedByteLength;
    memory = { node_state_bytes: p.nodeByteLength, shared_weights_bytes: p.sharedByteLength, total_bytes: total, claim_bytes: CLAIMS.memory_bytes_per_node, meets_claim: total < CLAIMS.memory_bytes_per_node };
  }
  const diag = ids.filter((id) => MODEL_POLICY_IDS.has(id)).map((id) => {
    const rs = main.filter((r) => r.policyId === id && r.model);
    const ticks = rs.reduce((a, r) => a + r.model!.ticks, 0);
    const fallbacks = rs.reduce((a, r) => a + r.model!.fallbacks, 0);
    const rules: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.model!.ruleActivations)) rules[k] = (rules[k] ?? 0) + v;
    return { policy: id, ticks, fallbacks, fallback_rate: ticks ? fallbacks / ticks : 0, rule_activations: rules };
  });
  const violations = [...main, ...sweepResults].filter((r) => r.violation !== null);
  const m = loaded?.artifact.manifest;
  const pooledRows = pooled(main, ids);
  const sweep = sweepEntries.length ? sweepPoints(sweepResults, sweepEntries) : null;
  return {
    format: 'raft-ns-evaluation-report',
    format_version: 1,
    tool_version: TOOL_VERSION,
    created_at: opts.createdAt ?? '1970-01-01T00:00:00.000Z',
    config: {
      suite: { name: suite.name, source: suite.source, sha256: suite.sha256, description: suite.description },
      seeds,
      scenarios: suite.scenarios.map((s) => ({ name: s.scenario.name, tags: s.tags, sha256: sha256Hex(JSON.stringify(s.scenario)) })),
      policies: [...policies],
      pre_vote: true,
      check_quorum: true,
      sweep: sweepEntries.length ? { scenarios: suite.sweep.scenarios, seeds: sweepSeeds, policies: sweepEntries.length } : null,
      timeline: timeline ? suite.timeline : null,
      claims: CLAIMS,
    },
    model: loaded && m ? {
      dir: loaded.dir, name: m.name, version: m.version, manifest_sha256: sha256Hex(loaded.manifestBytes), weights_sha256: loaded.artifact.weightsSha256,
      precision: loaded.artifact.int8 ? 'int8' : 'float32', parameter_count: m.architecture.parameter_count ?? 17_794,
      // What served the model policy, and what its verification report names: a version is its weights and
      // those rules (rules-only versions share weights), so the two differ when an older version is served today.
      rules, verified_rules_sha256: loaded.verifiedRulesSha256,
    } : null,
    pooled: pooledRows,
    per_scenario: perScenario(main, scen, ids),
    claims: {
      suite: suite.name,
      latency_vs_static_etcd: loaded ? compare(main, 'commit_latency_mean_ms', modelId, 'static-etcd', CLAIMS.latency_relative_change, () => true) : null,
      jitter_unnecessary_vs_static_etcd: loaded && jitter.size ? compare(main, 'unnecessary_elections', modelId, 'static-etcd', CLAIMS.jitter_unnecessary_relative_change, (s) => jitter.has(s)) : null,
      memory_per_node: memory,
    },
    model_diagnostics: diag,
    safety: { violations: violations.length, runs: main.length + sweepResults.length, messages: violations.map((r) => `${r.policyId} ${r.scenario} seed ${r.seed}: ${r.violation}`) },
    goals: goalsOf(main, pooledRows, ids, jitter, sweep),
    sweep,
    timeline,
    runs: main.length + sweepResults.length,
  };
}
