/**
 * `raft-ns simulate`: run a scenario and write its traces, or run the Raft paper's election-time
 * experiment. Only argument parsing and printing live here; the work is in sim/ and ./write.ts.
 */
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import {
  builtinScenarioNames, electionStatistic, electionTimeCdf, paperFiguresFor, runElectionTime, type ElectionTimeResult, type PolicySpec, type Scenario,
} from '../../sim/index.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, writeFileAtomic } from '../util/fs.js';
import { parseOneOf } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { TOOL_VERSION } from '../version.js';
import { loadScenario } from './scenario-file.js';
import { writeSimulatedTraceSet, writeSimulationRun, type TraceFormat } from './write.js';

/** `all`, `lan-5-*` (prefix), or a comma list of names/files. */
function expandScenarioList(list: string): string[] {
  const out: string[] = [];
  for (const item of list.split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
    if (item === 'all') out.push(...builtinScenarioNames());
    else if (item.endsWith('*')) {
      const matches = builtinScenarioNames().filter((n) => n.startsWith(item.slice(0, -1)));
      if (matches.length === 0) throw new RaftNsError('usage.simulate', `simulate: --scenarios item "${item}" matches no built-in scenario (see --list)`);
      out.push(...matches);
    } else out.push(item);
  }
  if (out.length === 0) throw new RaftNsError('usage.simulate', 'simulate: --scenarios is empty; expected names, files, a prefix* or all');
  return out;
}

/** The scenario with `--policy` applied (recorded in the summary's resolved config), or unchanged. */
function withPolicy(scenario: Scenario, spec: string | undefined): Scenario {
  if (spec === undefined) return scenario;
  let policy: PolicySpec;
  const m1 = /^static-randomized:(\d+(?:\.\d+)?)$/.exec(spec);
  const m2 = /^fixed-range:(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(spec);
  if (m1 && Number(m1[1]) > 0) policy = { kind: 'static-randomized', base_ms: Number(m1[1]) };
  else if (m2 && Number(m2[1]) > 0 && Number(m2[2]) >= Number(m2[1])) policy = { kind: 'fixed-range', min_ms: Number(m2[1]), max_ms: Number(m2[2]) };
  else throw new RaftNsError('usage.simulate', `simulate: --policy ${spec}: expected static-randomized:<T ms> or fixed-range:<min ms>:<max ms> with max >= min > 0`);
  return { ...scenario, name: `${scenario.name}-${policy.kind === 'static-randomized' ? `static${policy.base_ms}` : `range${policy.min_ms}-${policy.max_ms}`}`, cluster: { ...scenario.cluster, policy } };
}

/** A built-in scenario name or a file that exists, checked while parsing (loadScenario reads it later). */
function scenarioArg(v: string): string {
  if (builtinScenarioNames().includes(v) || existsSync(v)) return v;
  throw new InvalidArgumentError('expected a built-in scenario (see --list) or a scenario JSON file that exists');
}

/** `--policy`, checked while parsing (applied per scenario by withPolicy). */
function policyArg(spec: string): string {
  try {
    withPolicy({ name: '', cluster: {} } as unknown as Scenario, spec);
  } catch {
    throw new InvalidArgumentError('expected static-randomized:<T ms> or fixed-range:<min ms>:<max ms> with max >= min > 0');
  }
  return spec;
}

/** `1,2,7` or `1-5`. */
function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((x) => x.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) {
      throw new RaftNsError('usage.simulate', `simulate: --seeds item "${part}": expected a seed such as 3 or a range such as 1-5`);
    }
    for (let s = Number(m[1]); s <= Number(m[2] ?? m[1]); s++) seeds.push(s);
  }
  return seeds;
}

function intArg(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function numArg(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0`);
    return n;
  };
}

export function register(program: Command): void {
  const sim = program
    .command('simulate')
    .description('run the deterministic Raft simulator: a scenario (built-in name or JSON file) → telemetry, ground truth and a run summary')
    .option('--scenario <name|file>', 'built-in scenario (see --list) or a scenario JSON file (schemas/scenario.schema.json)', scenarioArg)
    .option('--scenarios <list>', 'a trace set instead of one run: comma-separated names/files, or a prefix glob such as lan-5-* or all')
    .option('--seeds <list>', 'with --scenarios: comma-separated seeds or a range such as 1-5', '1')
    .option('--seed <n>', 'seed (default: the scenario\'s)', intArg('--seed', 0))
    .option('--out <dir>', 'output folder: telemetry.ndjson|csv, ground-truth.ndjson, requests.csv, summary.json')
    .option('--format <fmt>', 'telemetry format: ndjson, csv or both', parseOneOf('ndjson', 'csv', 'both'), 'ndjson' as const)
    .option('--policy <spec>', 'override every node\'s timeout policy: static-randomized:<T ms> (etcd, [T, 2T)) or fixed-range:<min>:<max> (Raft paper)', policyArg)
    .option('--force', 'replace an existing output folder')
    .option('--list', 'list the built-in scenarios');
  addOutputOptions(sim, 'the run summary (a trace set: every run\'s; --list: the names)');
  sim.action(async (opts: OutputFlags & { scenario?: string; scenarios?: string; seeds: string; seed?: number; out?: string; format: TraceFormat; policy?: string; force?: boolean; list?: boolean }) => {
      const out = makeOutput(opts);
      if (opts.list) {
        out.info(`${builtinScenarioNames().join('\n')}\n`);
        out.result({ scenarios: builtinScenarioNames() });
        return;
      }
      if (!opts.scenario && !opts.scenarios) throw new RaftNsError('usage.simulate', 'simulate: --scenario <name|file> or --scenarios <list> is required (or --list)');
      if (!opts.out) throw new RaftNsError('usage.simulate', 'simulate: --out <dir> is required');
      if (opts.scenarios) {
        const seeds = parseSeeds(opts.seeds);
        const scenarios = expandScenarioList(opts.scenarios).map((n) => withPolicy(loadScenario(n).scenario, opts.policy));
        const { runs } = await writeSimulatedTraceSet(opts.out, { scenarios, seeds, format: opts.format, force: opts.force ?? false });
        const rows = runs.reduce((a, r) => a + r.summary.telemetry_rows, 0);
        out.info(`simulate: ${runs.length} runs (${scenarios.length} scenarios × ${seeds.length} seeds), ${rows} telemetry rows → ${opts.out} (traceset.json lists them)\n`);
        out.result({ dir: opts.out, runs: runs.map((r) => ({ summary: r.summary, files: r.files })) });
        return;
      }
      if (!opts.scenario) return;
      const loaded = loadScenario(opts.scenario);
      const scenario = withPolicy(loaded.scenario, opts.policy);
      const seed = opts.seed ?? scenario.seed ?? 1;
      const run = await writeSimulationRun(opts.out, scenario, {
        seed, format: opts.format, force: opts.force ?? false, source: loaded.source, scenarioSha256: loaded.sha256,
      });
      const s = run.summary;
      const lat = s.commit_latency_ms;
      const fo = s.failover_ms;
      out.info([
        `simulate: ${s.scenario.name} seed ${seed}: ${(s.simulated_ms / 1000).toFixed(1)} s simulated, ${s.scenario.size} nodes (${s.scenario.profile}), tick ${s.scenario.tickMs} ms`,
        `  elections ${s.elections} (unnecessary ${s.unnecessary_elections}, lost races ${s.lost_races}), pre-vote rounds ${s.pre_vote_rounds}, leader changes ${s.leader_changes}, availability ${(s.availability * 100).toFixed(2)}%`,
        `  failovers ${fo.count}${fo.count > 0 ? ` (ms: min ${fo.min} median ${fo.p50} max ${fo.max})` : ''}${s.open_outage ? `, outage still open since ${s.open_outage.start_ms} ms` : ''}`,
        `  requests ${s.requests.submitted} submitted, ${s.requests.committed} committed; commit latency ms: mean ${lat.mean} p50 ${lat.p50} p90 ${lat.p90} p99 ${lat.p99} max ${lat.max}`,
        `  safety violations 0; wrote ${run.files.map((f) => f.name).join(', ')}, summary.json to ${opts.out}`,
        '',
      ].join('\n'));
      out.result({ dir: opts.out, summary: run.summary, files: run.files });
    });

  const et = sim
    .command('election-time')
    .description("the Raft paper's leader-election experiment (§9.3, Fig. 16): crash the leader, measure the time without one")
    .option('--servers <n>', 'cluster size', intArg('--servers', 2), 5)
    .option('--timeout-min <ms>', 'minimum election timeout (ms)', numArg('--timeout-min'), 150)
    .option('--timeout-max <ms>', 'maximum election timeout (ms)', numArg('--timeout-max'), 300)
    .option('--broadcast-ms <ms>', 'broadcast time (ms): two LAN one-way delays plus the disk writes of an election round', numArg('--broadcast-ms'), 15)
    .option('--trials <n>', 'trials', intArg('--trials', 1), 1000)
    .option('--seed <n>', 'seed', intArg('--seed', 0), 1)
    .option('--sweep <ranges>', 'comma-separated min-max ranges to run instead of one, e.g. 150-150,150-155,150-300')
    .option('--cdf <file>', 'write the CDF as CSV (range,time_ms,cdf)')
    .option('--report <file>', 'write the results (options, distributions, tool version) as JSON');
  addOutputOptions(et, 'the results (options, distributions, tool version)');
  et.action((opts: OutputFlags & { servers: number; timeoutMin: number; timeoutMax: number; broadcastMs: number; trials: number; seed: number; sweep?: string; cdf?: string; report?: string }) => {
      const out = makeOutput(opts);
      const ranges: Array<[number, number]> = opts.sweep
        ? opts.sweep.split(',').map((r) => {
          const m = /^\s*(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\s*$/.exec(r);
          if (!m || Number(m[2]) < Number(m[1])) throw new RaftNsError('usage.simulate', `simulate election-time: --sweep item "${r}": expected min-max with max >= min, e.g. 150-300`);
          return [Number(m[1]), Number(m[2])];
        })
        : [[opts.timeoutMin, opts.timeoutMax]];
      if (!opts.sweep && opts.timeoutMax < opts.timeoutMin) throw new RaftNsError('usage.simulate', `simulate election-time: --timeout-max ${opts.timeoutMax} is below --timeout-min ${opts.timeoutMin}`);
      const results: ElectionTimeResult[] = [];
      out.info(`election-time: ${opts.servers} servers, broadcast ${opts.broadcastMs} ms, ${opts.trials} trials, seed ${opts.seed}; time without a leader (ms)\n`);
      out.info(`${'timeouts'.padEnd(12)} ${['min', 'median', 'p90', 'p99', 'max', 'mean'].map((h) => h.padStart(9)).join(' ')}  elections/trial  gave up  paper §9.3 (5 servers) vs simulated\n`);
      for (const [lo, hi] of ranges) {
        const r = runElectionTime({ servers: opts.servers, timeoutMinMs: lo, timeoutMaxMs: hi, broadcastMs: opts.broadcastMs, trials: opts.trials, seed: opts.seed });
        results.push(r);
        const d = r.distribution;
        const f = (x: number | null): string => (x === null ? '-' : x.toFixed(1)).padStart(9);
        // The paper's stated figures for this range beside ours, computed the same way (a trial that gave up counts as the longest).
        const paper = paperFiguresFor(lo, hi).map((p) => {
          const sim = electionStatistic(r.timesMs, p.statistic);
          const name = p.statistic === 'p50' ? 'median' : p.statistic;
          return `${name} ${p.valueMs} vs ${Number.isFinite(sim) ? sim.toFixed(0) : '>limit'} (${Number.isFinite(sim) ? `${sim >= p.valueMs ? '+' : ''}${((100 * (sim - p.valueMs)) / p.valueMs).toFixed(0)}%` : '-'})`;
        }).join('; ');
        out.info(`${`${lo}-${hi}`.padEnd(12)} ${[d.min, d.p50, d.p90, d.p99, d.max, d.mean].map(f).join(' ')}  ${r.meanElections.toFixed(2).padStart(15)}  ${String(r.gaveUp).padStart(7)}  ${paper || '-'}\n`);
      }
      if (opts.cdf) {
        const lines = ['range,time_ms,cdf'];
        for (const r of results) for (const p of electionTimeCdf(r.timesMs)) lines.push(`${r.options.timeoutMinMs}-${r.options.timeoutMaxMs},${p.time_ms},${p.cdf}`);
        writeFileAtomic(opts.cdf, `${lines.join('\n')}\n`);
      }
      const doc = {
        format: 'raft-ns-election-time', tool_version: TOOL_VERSION, results: results.map((r) => ({ options: r.options, distribution: r.distribution, gave_up: r.gaveUp, mean_elections: r.meanElections })),
      };
      if (opts.report) writeFileAtomic(opts.report, jsonText(doc));
      out.result(doc);
    });
}
