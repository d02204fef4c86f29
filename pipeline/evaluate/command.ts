/**
 * `raft-ns evaluate`: closed-loop evaluation of a model against the baselines on a suite, and
 * `raft-ns evaluate make-model`: a model made with the real stages from the default suite's training seeds.
 * Parsing and printing only; the work is in ./evaluate.ts and ./make-model.ts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { fmtSeconds, makeProgress } from '../util/progress.js';
import { RaftNsError } from '../util/errors.js';
import { parseExisting } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { fmtExcess } from './aggregate.js';
import { evaluate, REPORT_HTML, REPORT_JSON, type EvaluationReport } from './evaluate.js';
import { goalsMet } from './goals.js';
import { makeEvaluationModel } from './make-model.js';
import { BASELINE_POLICY_ID } from './policies.js';
import { fmtRow, tune, TUNE_REPORT } from './tune.js';

function intArg(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('closed-loop evaluation: every scenario of a suite × seeds × policies (static etcd, Raft paper, Jacobson/Karels, φ-accrual, the model with and without guardrails, and the ground-truth oracle as the physical limit) → evaluation.json + evaluation.html')
    .option('--model <dir>', 'artifact folder (manifest.json + weights.bin); omit with --baselines-only', parseExisting('dir'))
    .option('--baselines-only', 'evaluate the baselines without a model')
    .option('--suite <name|file>', 'built-in suite (default, heldout, short) or a suite JSON file (schemas/suite.schema.json)', suiteArg, 'default')
    .option('--seeds <n>', 'use the first n seeds of the suite', intArg('--seeds', 1))
    .option('--rules <file>', "safety-rules file to serve the model with (default: the runtime's embedded rules; an older version as it shipped: the rules its verification report names)", parseExisting('file'))
    .option('--out <dir>', 'output folder for evaluation.json and evaluation.html')
    .option('--workers <n>', 'worker threads (default: one per CPU)', intArg('--workers', 0))
    .option('--sweep-seeds <n>', "use the Pareto sweep's first n seeds (continuing past the suite's by +1; default: the suite's sweep seeds)", intArg('--sweep-seeds', 1))
    .option('--no-sweep', 'skip the Pareto sweep')
    .option('--no-timeline', 'skip the timeline')
    .option('--force', 'replace an existing output folder');
  addOutputOptions(cmd, 'the evaluation report');
  cmd.action(async (o: OutputFlags & { model?: string; baselinesOnly?: boolean; suite: string; seeds?: number; rules?: string; sweepSeeds?: number; out?: string; workers?: number; sweep: boolean; timeline: boolean; force?: boolean }) => {
      const out = makeOutput(o);
      if (!o.model && !o.baselinesOnly) throw new RaftNsError('usage.evaluate', 'evaluate: --model <artifact dir> is required (or --baselines-only)');
      const progress = makeProgress({ label: 'evaluate', unit: 'runs', quiet: out.quiet });
      const { report, timing } = await evaluate({
        model: o.model ?? null, suite: o.suite, sweep: o.sweep, timeline: o.timeline, createdAt: new Date().toISOString(),
        ...(o.seeds === undefined ? {} : { seeds: o.seeds }), ...(o.rules === undefined ? {} : { rules: o.rules }), ...(o.sweepSeeds === undefined ? {} : { sweepSeeds: o.sweepSeeds }),
        ...(o.out === undefined ? {} : { outDir: o.out }),
        ...(o.workers === undefined ? {} : { workers: o.workers }), ...(o.force ? { force: true } : {}),
        onProgress: (d, t) => progress.update(d, `${t} total`),
        log: (l) => out.note(`${l}\n`),
      });
      progress.done();
      out.info(summaryText(report));
      out.info(`evaluate: ${timing.runs} runs in ${fmtSeconds(timing.seconds)} (${timing.scenario_runs} suite runs: ${timing.scenarios_per_s.toFixed(2)} scenarios/s; all runs ${timing.runs_per_s.toFixed(2)}/s)\n`);
      if (o.out) out.info(`evaluate: wrote ${o.out}/${REPORT_JSON} and ${o.out}/${REPORT_HTML}\n`);
      out.result(report);
      if (report.safety.violations > 0) process.exitCode = 1;
    });

  const mm = cmd
    .command('make-model')
    .description('make a model to evaluate with the real stages: simulate the default suite on its training seeds → ingest → window → train (fused) → quantize')
    .option('--out <dir>', 'work folder (traces, dataset, windows, run, artifact); required')
    .option('--epochs <n>', 'training epochs', intArg('--epochs', 1))
    .option('--seed <n>', 'window split and training seed', intArg('--seed', 0))
    .option('--gap-labels <kind>', 'contract (default) or alive-leader: mask the gap loss where the leader was lost (docs/EVALUATION.md)', (v: string) => {
      if (v !== 'contract' && v !== 'alive-leader') throw new InvalidArgumentError('--gap-labels must be contract or alive-leader');
      return v;
    })
    .option('--tau <τ>', 'quantile level of the gap head (train config tau)', (v: string) => {
      const n = Number(v);
      if (!(n > 0 && n < 1)) throw new InvalidArgumentError('--tau must be a number in (0, 1)');
      return n;
    })
    .option('--gap-votes <kind>', 'window: per-tick or per-gap (one vote per heartbeat gap)', (v: string) => {
      if (v !== 'per-tick' && v !== 'per-gap') throw new InvalidArgumentError('--gap-votes must be per-tick or per-gap');
      return v;
    })
    .option('--floor-rules <file|default|none>', 'window: floor the gap labels at these rules\' timing floor (none: raw gaps)', (v: string) => (v === 'default' || v === 'none' ? v : parseExisting('file')(v)));
  addOutputOptions(mm, 'the make-model result (rows, scenarios, seeds, training summary, artifact folder)');
  mm.action(async (o: OutputFlags & { out?: string; epochs?: number; seed?: number; gapLabels?: 'contract' | 'alive-leader'; tau?: number; gapVotes?: 'per-tick' | 'per-gap'; floorRules?: string }, self: Command) => {
      // `evaluate --out x make-model` (the parent's --out, before the subcommand name) still works.
      const out = makeOutput(o);
      const outDir = o.out ?? (self.parent?.opts() as { out?: string } | undefined)?.out;
      if (outDir === undefined) self.error("error: required option '--out <dir>' not specified");
      const r = await makeEvaluationModel(outDir, {
        train: { ...(o.epochs === undefined ? {} : { epochs: o.epochs }), ...(o.tau === undefined ? {} : { tau: o.tau }) },
        ...(o.seed === undefined ? {} : { seed: o.seed }), ...(o.gapLabels === undefined ? {} : { gapLabels: o.gapLabels }),
        ...(o.gapVotes === undefined ? {} : { gapVotes: o.gapVotes }),
        ...(o.floorRules === undefined ? {} : { labelFloorRules: o.floorRules === 'none' ? null : o.floorRules }),
        log: (l) => out.note(`${l}\n`),
      });
      out.info(`make-model: ${r.rows} rows from ${r.scenarios.length} scenarios × seeds ${r.seeds.join(', ')}; best val loss ${r.trainSummary.best_val_loss.toFixed(4)}; artifact ${r.artifactDir}\n`);
      out.result(r);
    });
  registerTune(cmd);
}

/** A built-in suite name, or a suite file that exists. */
function suiteArg(v: string): string {
  return ['default', 'heldout', 'short'].includes(v) || !/[/\\]|\.json$/.test(v) ? v : parseExisting('file')(v);
}

function numberList(name: string): (v: string) => number[] {
  return (v) => {
    if (v.trim() === '' || v === 'none') return [];
    const xs = v.split(',').map((x) => Number(x.trim()));
    if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`${name} must be a comma-separated list of numbers`);
    return xs;
  };
}

function registerTune(cmd: Command): void {
  const tn = cmd
    .command('tune')
    .description('choose the model\'s knobs (τ: spurious-campaign rate per gap 1 − τ; randomization spread; rules files) in closed loop on a suite\'s tuning seeds (the default suite\'s make no training data); writes tune.json')
    .requiredOption('--windows <dir>', 'windows folder to train the candidates on (make-model\'s <out>/windows or the main job\'s)', parseExisting('dir'))
    .option('--out <dir>', 'output folder for tune.json and the candidates\' artifacts; required')
    .option('--taus <list>', 'quantile levels τ to train, one model each', numberList('--taus'), [0.9, 0.95, 0.99])
    .option('--artifacts <dirs>', 'comma-separated artifact folders made elsewhere to evaluate as candidates too')
    .option('--spreads <list>', 'randomization spreads to try per model: U[1, 1 + spread)', numberList('--spreads'), [0.5, 1])
    .option('--lost-thresholds <list>', 'P(leader lost) thresholds of the runtime\'s drop toward the floor', numberList('--lost-thresholds'), [0.8])
    .option('--rules <files>', 'comma-separated safety-rules files to guard each model with, one variant each (default: the runtime\'s embedded rules)')
    .option('--epochs <n>', 'training epochs per candidate', intArg('--epochs', 1))
    .option('--suite <name|file>', 'built-in suite or a suite JSON file (schemas/suite.schema.json) to tune on', suiteArg, 'default')
    .option('--seeds <list>', 'seeds of the suite to simulate (default: its tuning_seeds, else its training_seeds; never held-out seeds)', numberList('--seeds'))
    .option('--scenarios <names>', 'comma-separated scenario names of the suite (default: all)')
    .option('--incumbent <row name>', 'the candidate that ships today (its row name in the table): it stays chosen unless another beats it beyond noise, in paired per-seed failover or latency');
  addOutputOptions(tn, 'the tune report');
  tn.action(async (o: OutputFlags & { windows: string; artifacts?: string; taus: number[]; spreads: number[]; lostThresholds: number[]; rules?: string; epochs?: number; suite: string; seeds?: number[]; scenarios?: string; incumbent?: string }, self: Command) => {
      const output = makeOutput(o);
      const out = (self.opts() as { out?: string }).out ?? (self.parent?.opts() as { out?: string } | undefined)?.out;
      if (out === undefined) self.error("error: required option '--out <dir>' not specified");
      const r = await tune({
        windowsDir: o.windows, outDir: out, suite: o.suite, taus: o.taus, spreads: o.spreads, lostThresholds: o.lostThresholds,
        ...(o.artifacts ? { artifacts: o.artifacts.split(',').map((x) => x.trim()) } : {}),
        ...(o.rules ? { rulesFiles: o.rules.split(',').map((x) => x.trim()) } : {}),
        train: o.epochs === undefined ? {} : { epochs: o.epochs },
        ...(o.seeds ? { seeds: o.seeds } : {}), ...(o.scenarios ? { scenarios: o.scenarios.split(',').map((x) => x.trim()) } : {}),
        ...(o.incumbent ? { incumbent: o.incumbent } : {}),
        log: (l) => output.note(`${l}\n`),
      });
      output.info(`tune: suite ${r.suite}, ${r.scenarios.length} scenarios × seeds ${r.seeds.join(', ')} (${r.seed_role === 'tuning' ? 'tuning seeds: no training data comes from them' : r.seed_role === 'training' ? 'training seeds: in sample for a model trained on them' : 'not all of them the suite\'s tuning seeds'}); ${r.rule}\n`);
      for (const row of r.rows) output.info(`  ${fmtRow(row)}\n`);
      if (r.incumbent && r.chosen) output.info(!r.incumbent.feasible ? `tune: the incumbent ${r.incumbent.name} is infeasible on these runs; the rule's choice stands\n` : r.incumbent.replaced ? `tune: ${r.incumbent.winner} beats the incumbent ${r.incumbent.name} beyond noise\n` : r.incumbent.winner === r.incumbent.name ? `tune: the incumbent ${r.incumbent.name} is the rule's own choice\n` : `tune: ${r.incumbent.winner} leads on the rule's order but does not beat the incumbent ${r.incumbent.name} beyond noise (paired per-seed failover and latency 95% CIs); the incumbent stays\n`);
      output.info(r.chosen ? `tune: chosen τ = ${r.chosen.tau}, spread = ${r.chosen.spread}, lost threshold = ${r.chosen.lost_threshold}, rules ${r.chosen.rules_file ?? 'embedded default'} (${r.chosen.artifact_dir}); wrote ${out}/${TUNE_REPORT}\n` : `tune: no candidate meets the unnecessary-election and failover bounds; wrote ${out}/${TUNE_REPORT}\n`);
      output.result(r);
    });
}

/** The terminal summary: pooled table, the claims and the goals. */
export function summaryText(r: EvaluationReport): string {
  const lines = [`evaluate: suite ${r.config.suite.name}, ${r.config.scenarios.length} scenarios × seeds ${r.config.seeds.join(', ')}; pooled mean ± 95% CI over seeds`];
  const f = (e: { mean: number; ci95: number }, d = 1): string => (Number.isFinite(e.mean) ? `${e.mean.toFixed(d)}${Number.isFinite(e.ci95) ? `±${e.ci95.toFixed(d)}` : ''}` : '—');
  const cap = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
  lines.push(`  ${''.padEnd(20)} ${'latency ms'.padStart(14)} ${'= with leader'.padStart(14)} ${'+ no leader'.padStart(14)} ${''.padStart(16)} ${''.padStart(16)} ${'leaderless'.padStart(12)} ${''.padStart(12)} ${''.padStart(14)} ${''.padStart(16)} ${'capture'.padStart(23)}`);
  lines.push(`  ${'policy'.padEnd(20)} ${'(mean)'.padStart(14)} ${'ms'.padStart(14)} ${'ms'.padStart(14)} ${'p99 ms'.padStart(16)} ${'failover ms'.padStart(16)} ${'s/hour'.padStart(12)} ${'unnec./run'.padStart(12)} ${'elect./h'.padStart(14)} ${'avail.'.padStart(16)} ${'lat.'.padStart(5)} ${'down'.padStart(5)} ${'fail'.padStart(5)} ${'out'.padStart(5)} safety`);
  for (const p of r.pooled) {
    const e = p.estimates;
    const c = p.capture;
    lines.push(`  ${p.policy.padEnd(20)} ${f(e.commit_latency_mean_ms).padStart(14)} ${f(e.commit_latency_with_leader_mean_ms).padStart(14)} ${f(e.commit_latency_downtime_mean_ms).padStart(14)} ${f(e.commit_latency_p99_ms).padStart(16)} ${f(e.failover_ms).padStart(16)} ${f(e.leaderless_s_per_hour).padStart(12)} ${f(e.unnecessary_elections, 2).padStart(12)} ${f(e.elections_per_hour).padStart(14)} ${f(e.availability, 4).padStart(16)} ${cap(c.commit_latency_mean_ms).padStart(5)} ${cap(c.commit_latency_downtime_mean_ms).padStart(5)} ${cap(c.failover_ms).padStart(5)} ${cap(c.leaderless_s_per_hour).padStart(5)} ${p.safety_violations_total}`);
  }
  lines.push('  capture = (static-etcd − policy) / (static-etcd − oracle) on mean latency, its no-leader part, failover (per episode) and leaderless time (out: every failover summed, per hour): 0 is static etcd, 1 the oracle (a perfect failure detector, not a strict bound)');
  const c = r.claims;
  const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'undefined' : `${(x * 100).toFixed(1)}%`);
  if (c.latency_vs_static_etcd) lines.push(`  claim (a) mean consensus latency vs static etcd: ${pct(c.latency_vs_static_etcd.relative_change)} (claim −34.5%: ${c.latency_vs_static_etcd.meets_claim ? 'met' : 'not met'})`);
  if (c.jitter_unnecessary_vs_static_etcd) lines.push(`  claim (b) unnecessary elections under jitter vs static etcd: ${pct(c.jitter_unnecessary_vs_static_etcd.relative_change)} (model ${f(c.jitter_unnecessary_vs_static_etcd.model, 2)}, static ${f(c.jitter_unnecessary_vs_static_etcd.baseline, 2)} per run, ${c.jitter_unnecessary_vs_static_etcd.model_sum} vs ${c.jitter_unnecessary_vs_static_etcd.baseline_sum} in total; claim −62%: ${c.jitter_unnecessary_vs_static_etcd.meets_claim ? 'met' : 'not met'})`);
  if (c.memory_per_node) lines.push(`  claim (c) memory per node: ${c.memory_per_node.total_bytes} B (${c.memory_per_node.node_state_bytes} state + ${c.memory_per_node.shared_weights_bytes} weights; claim < 128 KiB: ${c.memory_per_node.meets_claim ? 'met' : 'not met'})`);
  lines.push(`  safety violations: ${r.safety.violations} in ${r.safety.runs} runs`);
  if (r.goals) {
    // One line per policy: which of goals 1–5 it meets (docs/EVALUATION.md, "The goals"); the oracle's row
    // says which goals a perfect failure detector meets on this suite.
    const mark = (m: boolean | null): string => (m === null ? '·' : m ? '✓' : '✗');
    lines.push('  goals (1 failover, 2 unnecessary elections, 3 latency, 4 Pareto, 5 safety; · not swept):');
    for (const g of r.goals.policies) {
      lines.push(`  ${g.policy.padEnd(20)} ${goalsMet(g).map((m, i) => `${i + 1}${mark(m)}`).join(' ')}`
        + `   failover ${f({ mean: g.failover.mean_ms, ci95: Number.NaN }, 0)} ms, capture ${cap(g.failover.capture)}; unnecessary ${g.unnecessary.total} (jitter ${g.unnecessary.jitter}) vs etcd ${g.unnecessary.etcd_total} (${g.unnecessary.etcd_jitter})${g.policy === BASELINE_POLICY_ID ? '' : `, excess ${fmtExcess(g.unnecessary.excess_vs_etcd.total)} (${fmtExcess(g.unnecessary.excess_vs_etcd.jitter)})`}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
