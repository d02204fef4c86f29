/**
 * Writing simulated traces: one run per folder (telemetry as NDJSON and/or CSV that `raft-ns ingest`
 * accepts unchanged, ground truth beside it, per-request commit latencies, and summary.json), and trace
 * sets of many runs. Folders are built in a temporary sibling and renamed into place, so a failure (a
 * safety violation included) leaves nothing half-written.
 */
import { assertNotHeldOut } from '../util/heldout.js';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SafetyViolation, Simulation, type PolicyFactory, type RunSummary, type Scenario, type TelemetryStore } from '../../sim/index.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, sha256File, sha256Hex, writeDirAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';

export type TraceFormat = 'ndjson' | 'csv' | 'both';

export interface SimulateRunOptions {
  seed: number;
  format?: TraceFormat;
  force?: boolean;
  /** Where the scenario came from and its hash (recorded in summary.json). */
  source?: string;
  scenarioSha256?: string;
  policyFactory?: PolicyFactory;
}

export interface WrittenRun {
  dir: string;
  summary: RunSummary;
  files: Array<{ name: string; sha256: string; rows?: number }>;
}

/** Files written per run; `telemetry.*` is what to pass to `raft-ns ingest`. */
export const TELEMETRY_NDJSON = 'telemetry.ndjson';
export const TELEMETRY_CSV = 'telemetry.csv';
export const GROUND_TRUTH_NDJSON = 'ground-truth.ndjson';
export const REQUESTS_CSV = 'requests.csv';
export const SUMMARY_JSON = 'summary.json';

/**
 * Runs one scenario and writes its folder: telemetry (NDJSON/CSV), ground-truth.ndjson, requests.csv, summary.json.
 * @example await writeSimulationRun('out/lan5', builtinScenario('lan-5-calm')!, { seed: 1 })
 */
export async function writeSimulationRun(outDir: string, scenario: Scenario, opts: SimulateRunOptions): Promise<WrittenRun> {
  return writeDirAtomic('simulate', outDir, opts.force ?? false, async (tmp) => {
    const r = runInto(tmp, scenario, opts);
    const run = { summary: r.summary, files: await hashFiles(tmp, r.files), dir: outDir };
    writeFileSync(join(tmp, SUMMARY_JSON), jsonText(summaryDocument(run, opts.source ?? 'api', opts.scenarioSha256 ?? null)));
    return run;
  });
}

export interface TraceSetOptions {
  /** Scenarios to run (each on every seed). */
  scenarios: Scenario[];
  seeds: number[];
  format?: TraceFormat;
  force?: boolean;
}

/**
 * Writes a simulated trace set: `<outDir>/<cluster_id>/` per (scenario, seed) run, plus `traceset.json`
 * listing the runs, their seeds and file hashes. This is the data source for regenerating datasets/sample.
 * @example await writeSimulatedTraceSet('traces/sim', { scenarios: [builtinScenario('lan-5-jitter')!], seeds: [1, 2, 3] })
 */
export async function writeSimulatedTraceSet(outDir: string, opts: TraceSetOptions): Promise<{ runs: WrittenRun[] }> {
  // A trace set is training data: it may never come from the evaluation's held-out seeds or scenarios.
  for (const scenario of opts.scenarios) for (const seed of opts.seeds) assertNotHeldOut(scenario, seed);
  return writeDirAtomic('simulate', outDir, opts.force ?? false, async (tmp) => {
    const runs: WrittenRun[] = [];
    for (const scenario of opts.scenarios) {
      for (const seed of opts.seeds) {
        const name = `sim-${scenario.name}-s${seed}`;
        const dir = join(tmp, name);
        const r = runInto(dir, scenario, { seed, format: opts.format ?? 'ndjson' });
        const run = { summary: r.summary, files: await hashFiles(dir, r.files), dir: join(outDir, name) };
        writeFileSync(join(dir, SUMMARY_JSON), jsonText(summaryDocument(run, `scenario:${scenario.name}`, sha256Hex(JSON.stringify(scenario)))));
        runs.push(run);
      }
    }
    const index = {
      format: 'raft-ns-sim-traceset',
      format_version: 1,
      tool_version: TOOL_VERSION,
      seeds: opts.seeds,
      runs: runs.map((r) => ({
        dir: r.summary.cluster_id, scenario: r.summary.scenario.name, seed: r.summary.seed, files: r.files,
        elections: r.summary.elections, unnecessary_elections: r.summary.unnecessary_elections, availability: r.summary.availability,
      })),
    };
    writeFileSync(join(tmp, 'traceset.json'), jsonText(index));
    return { runs };
  });
}

function runInto(dir: string, scenario: Scenario, opts: SimulateRunOptions): { summary: RunSummary; files: Array<{ name: string; rows?: number }> } {
  // The one exit every trace writer passes: held-out telemetry never reaches a file.
  assertNotHeldOut(scenario, opts.seed);
  const format = opts.format ?? 'ndjson';
  const sim = new Simulation(scenario, opts.policyFactory === undefined ? { seed: opts.seed } : { seed: opts.seed, policyFactory: opts.policyFactory });
  let summary: RunSummary;
  try {
    summary = sim.run();
  } catch (err) {
    if (err instanceof SafetyViolation) {
      process.stderr.write(`event history before the violation (oldest first):\n${err.history.join('\n')}\n`);
      throw new RaftNsError('simulate.safety', `simulate: ${scenario.name} seed ${opts.seed}: ${err.message.replace(/^sim: /, '')} at ${sim.nowMs.toFixed(3)} ms (history above)`, { cause: err });
    }
    throw err;
  }
  const tel = sim.telemetry!;
  const files: Array<{ name: string; rows?: number }> = [];
  mkdirSync(dir, { recursive: true });
  if (format === 'ndjson' || format === 'both') {
    writeChunked(join(dir, TELEMETRY_NDJSON), tel, (a, b) => tel.toNdjson(a, b));
    files.push({ name: TELEMETRY_NDJSON, rows: tel.numRows });
  }
  if (format === 'csv' || format === 'both') {
    writeChunked(join(dir, TELEMETRY_CSV), tel, (a, b) => tel.toCsv(a, b, a === 0));
    files.push({ name: TELEMETRY_CSV, rows: tel.numRows });
  }
  writeText(join(dir, GROUND_TRUTH_NDJSON), tel.groundTruthNdjson());
  files.push({ name: GROUND_TRUTH_NDJSON, rows: tel.gtRows });
  writeText(join(dir, REQUESTS_CSV), requestsCsv(sim));
  files.push({ name: REQUESTS_CSV, rows: sim.client.submitted });
  return { summary, files };
}

async function hashFiles(dir: string, files: Array<{ name: string; rows?: number }>): Promise<WrittenRun['files']> {
  const out: WrittenRun['files'] = [];
  for (const f of files) out.push({ ...f, sha256: await sha256File(join(dir, f.name)) });
  return out;
}

/** The summary.json of a run folder: provenance (tool version, scenario source and hash, seed), file hashes, metrics. */
export function summaryDocument(run: { summary: RunSummary; files: WrittenRun['files'] }, source: string, scenarioSha256: string | null): unknown {
  return {
    format: 'raft-ns-sim-run',
    format_version: 1,
    tool_version: TOOL_VERSION,
    scenario_source: source,
    scenario_sha256: scenarioSha256,
    seed: run.summary.seed,
    cluster_id: run.summary.cluster_id,
    tick_ms: run.summary.scenario.tickMs,
    files: run.files,
    summary: run.summary,
  };
}

function requestsCsv(sim: Simulation): string {
  const { submitUs, doneUs } = sim.client;
  const parts = ['req_id,submit_ms,commit_ms,latency_ms'];
  for (let i = 1; i < submitUs.length; i++) {
    const s = submitUs[i]!;
    const d = doneUs[i]!;
    parts.push(d >= 0 ? `${i},${s / 1000},${d / 1000},${(d - s) / 1000}` : `${i},${s / 1000},,`);
  }
  return `${parts.join('\n')}\n`;
}

const CHUNK_ROWS = 50_000;

function writeChunked(path: string, tel: TelemetryStore, text: (from: number, to: number) => string): void {
  const fd = openSync(path, 'w');
  try {
    if (tel.numRows === 0) writeSync(fd, text(0, 0));
    for (let a = 0; a < tel.numRows; a += CHUNK_ROWS) writeSync(fd, text(a, Math.min(tel.numRows, a + CHUNK_ROWS)));
  } finally {
    closeSync(fd);
  }
}

function writeText(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
