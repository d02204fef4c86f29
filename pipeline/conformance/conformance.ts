/**
 * Conformance vectors for any implementation of the runtime (docs/ARTIFACT.md §9, docs/RULES.md §7):
 * observation streams recorded from the simulator's nodes, with the exact features, the outputs of both
 * precision paths, and the guarded, randomized timeout the provider arms on every tick. Same artifact,
 * rules and this code → same bytes; the traces depend on the simulator only, not on the model, so a new
 * model version regenerates its vectors with one command (`raft-ns conformance`).
 *
 * The files live outside the artifact folder (published artifacts are immutable):
 * conformance/<model>/<version>/{sequences,guardrails}.json, schema schemas/conformance.schema.json.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { LstmModel, LstmState } from '../../runtime/engine.js';
import { FeatureState, NUM_FEATURES, normalizeInPlace } from '../../runtime/features.js';
import { loadArtifactFromDir } from '../../runtime/node-loader.js';
import { makeSharedModel, NeuroSymbolicTimeout, type TimeoutObservation } from '../../runtime/timeout.js';
import type { LoadedArtifact } from '../../runtime/artifact.js';
import { builtinScenario, Simulation, staticRandomizedTimeout, type Scenario } from '../../sim/index.js';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex, writeFileAtomic } from '../util/fs.js';
import { loadRulesFile } from '../util/rules-file.js';
import { TOOL_VERSION } from '../version.js';

/** Column order of every row (both files): one observation of docs/CONTRACTS.md §7 per row. */
export const OBSERVATION_COLUMNS = [
  'now_ms', 'tick_ms', 'role', 'term', 'leader_id', 'heartbeat_latency_ms', 'log_replication_gap', 'rpc_retries',
  'cpu_idle_pct', 'heartbeat_received', 'cluster_size', 'peers_reachable', 'heartbeat_interval_ms', 'leader_resigned',
] as const;
export type ObservationRow = [number, number, string, number, string | null, number | null, number, number, number, boolean, number, number, number, boolean];

/** Output tolerance: a float64 implementation of ARTIFACT.md §5 agrees to ~1e-13 over 6,500 carried ticks. */
export const OUTPUT_TOLERANCE = 1e-9;

/** What a sequence exercises; the generator refuses to write a file that misses one. */
export const COVERAGE = [
  'first-observation', 'steady-heartbeats', 'jitter', 'null-latency', 'null-leader', 'leader-crash-silence',
  'silence-reset', 'leader-change', 'term-change', 'pre-candidate', 'long-carried-state',
] as const;
type Coverage = (typeof COVERAGE)[number];

/** A node stream cut from a simulated trace. Chosen to cover COVERAGE; `from_tick` is where the node's provider starts. */
interface Segment {
  name: string; scenario: string; seed: number; duration_ms?: number; node: string; from_tick: number; ticks: number;
  /**
   * Report the latency only on ticks with a heartbeat, null otherwise, as an etcd or hashicorp/raft host
   * measures it (docs/ARTIFACT.md §3.1); the simulator repeats the last measurement on every tick.
   */
  latency_on_heartbeats_only?: true;
}

const SEGMENTS: readonly Segment[] = [
  // The whole life of a follower through two leader crashes: ≥ 60 s of carried state, elections, silences.
  { name: 'lan-5-leader-crash-n2-whole', scenario: 'lan-5-leader-crash', seed: 1, duration_ms: 65000, node: 'n2', from_tick: 0, ticks: 6500 },
  { name: 'wan-5-jitter-n3', scenario: 'wan-5-jitter', seed: 2, node: 'n3', from_tick: 1500, ticks: 600 },
  { name: 'lan-3-partition-n1', scenario: 'lan-3-partition', seed: 3, node: 'n1', from_tick: 1000, ticks: 2000 },
  { name: 'lan-5-lossy-n4', scenario: 'lan-5-lossy', seed: 4, node: 'n4', from_tick: 2000, ticks: 500 },
  { name: 'wan-3-leader-crash-n3', scenario: 'wan-3-leader-crash', seed: 5, node: 'n3', from_tick: 1800, ticks: 1200 },
  // A follower while the leader stalls (CPU storm from 12 s) and survives: the survived-silence floor fires.
  { name: 'lan-5-cpu-storm-n3', scenario: 'lan-5-cpu-storm', seed: 7, node: 'n3', from_tick: 1000, ticks: 2000 },
  // WAN one-way delays exceed the silence between heartbeats, so a null read as 0 changes feature 0.
  { name: 'wan-5-jitter-n2-latency-on-heartbeats', scenario: 'wan-5-jitter', seed: 8, node: 'n2', from_tick: 2500, ticks: 1000, latency_on_heartbeats_only: true },
];
/** Segments whose guarded timeouts are vectors too (each with its own randomization seed). */
const GUARDRAIL_SEGMENTS: readonly string[] = ['lan-5-leader-crash-n2-whole', 'lan-3-partition-n1', 'wan-5-jitter-n3', 'lan-5-cpu-storm-n3'];

export interface SequenceVector {
  name: string;
  source: { scenario: string; seed: number; node: string; from_tick: number; latency_on_heartbeats_only?: true };
  covers: Coverage[];
  rows: ObservationRow[];
  /** Normalized features per tick, binary32 values (printed with 9 significant digits: exact as binary32). */
  x: number[][];
  expected: { float32: number[][]; int8: number[][] };
}
export interface GuardrailVector {
  name: string;
  /** Options of the provider: randomization seed and spread, leader-lost threshold, precision. */
  provider: { seed: number; spread: number; lost_threshold: number; precision: 'int8' | 'float32' };
  rows: ObservationRow[];
  /** The armed timeout after each row (whole ms) and, on fallback ticks, the reason (null on model ticks). */
  expected: { timeout_ms: number[]; fallback: Array<string | null> };
}
export interface ConformanceFile<V> {
  format: 'raft-ns-conformance';
  format_version: 1;
  kind: 'sequences' | 'guardrails';
  artifact: { name: string; version: string; weights_sha256: string };
  rules?: { name: string; sha256: string };
  tool_version: string;
  columns: typeof OBSERVATION_COLUMNS;
  tolerance: { x: 0; outputs: number };
  vectors: V[];
}

export interface ConformanceResult { outDir: string; sequences: ConformanceFile<SequenceVector>; guardrails: ConformanceFile<GuardrailVector> }

/**
 * Writes `<outDir>/sequences.json` and `<outDir>/guardrails.json` for the artifact at `artifactDir` and the
 * rules at `rulesPath` (default: the embedded default rules). Each file is written atomically.
 */
export async function makeConformance(artifactDir: string, options: { outDir: string; rulesPath?: string }): Promise<ConformanceResult> {
  const rel = relative(resolve(artifactDir), resolve(options.outDir));
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new RaftNsError('conformance.out', `conformance: --out ${options.outDir} is inside the artifact folder ${artifactDir}; published artifacts are immutable, write the vectors beside them (conformance/<model>/<version>)`);
  }
  const artifact = await loadArtifactFromDir(artifactDir).catch((err: Error) => {
    throw new RaftNsError('conformance.artifact', `conformance: ${err.message.replace(/^runtime: /, '')}`, { cause: err });
  });
  const { rules, rulesInfo } = loadRulesFile('conformance', options.rulesPath);
  const streams = recordStreams(SEGMENTS);
  const head = {
    format: 'raft-ns-conformance' as const, format_version: 1 as const,
    artifact: { name: artifact.manifest.name, version: artifact.manifest.version, weights_sha256: artifact.weightsSha256 },
    tool_version: TOOL_VERSION, columns: OBSERVATION_COLUMNS, tolerance: { x: 0 as const, outputs: OUTPUT_TOLERANCE },
  };
  const sequences: ConformanceFile<SequenceVector> = { ...head, kind: 'sequences', vectors: SEGMENTS.map((s) => sequenceVector(artifact, s, streams.get(s.name)!)) };
  const seen = new Set<string>();
  for (const v of sequences.vectors) {
    const key = sha256Hex(JSON.stringify(v.rows));
    if (seen.has(key)) throw new RaftNsError('conformance.duplicate', `conformance: sequence ${v.name} repeats another one`);
    seen.add(key);
  }
  const covered = new Set(sequences.vectors.flatMap((v) => v.covers));
  const missing = COVERAGE.filter((c) => !covered.has(c));
  if (missing.length > 0) throw new RaftNsError('conformance.coverage', `conformance: the simulated traces no longer cover ${missing.join(', ')}; choose other segments in pipeline/conformance/conformance.ts`);

  const model = makeSharedModel(artifact, 'int8', 'js');
  // The streams are served as the rules serve them: with the rules' randomization spread (docs/RULES.md §1),
  // int8, and the default P(leader lost) threshold unless a stream says otherwise.
  const served = (seed: number, lostThreshold = 0.8, spread = rules.randomizationSpread): GuardrailVector['provider'] =>
    ({ seed, spread, lost_threshold: lostThreshold, precision: 'int8' });
  const vector = (name: string, rows: ObservationRow[], provider: GuardrailVector['provider']): GuardrailVector => guardrailVector(name, rows, provider, model, rules);
  const guardrailVectors = GUARDRAIL_SEGMENTS.map((name, i) => vector(`${name}-seed-${i + 1}`, streams.get(name)!, served(i + 1)));
  guardrailVectors.push(vector('edge-invalid-and-out-of-domain', edgeRows(), served(7)));
  // At the default threshold 0.8 the default model's leader-lost drop never changes an armed value on these
  // traces (2.9.0: P(leader lost) peaks at 0.65, and the floors and the cap decide until 0.2), so a stream at
  // threshold 0.2, where it acts on 126 ticks of two crashes, pins the drop's formula.
  guardrailVectors.push(vector('lan-5-leader-crash-n2-whole-lost-threshold-0.2', streams.get('lan-5-leader-crash-n2-whole')!, served(5, 0.2)));
  guardrailVectors.push(vector('survived-silence-edges', survivedSilenceRows(), served(9)));
  guardrailVectors.push(vector('leader-resigned', leaderResignedRows(), served(11)));
  guardrailVectors.push(vector('candidate-smoothed-rtt', candidateRttRows(), served(13)));
  guardrailVectors.push(vector('lan-3-partition-n1-no-randomization', streams.get('lan-3-partition-n1')!, served(1, 0.8, 0)));
  // Every enforcing rule kind of the rules must change the armed value somewhere, or an implementation that
  // ignores it would pass (the survived-silence floor fires only after a leader survived a long silence).
  const enforcing = ['timing_floor', 'ceiling', 'conditional_floor', 'survived_silence_floor', 'proposal_cap', 'max_change_per_tick'];
  const kindsInRules = new Set(rules.rules.map((r) => r.kind).filter((k) => enforcing.includes(k)));
  const silent = [...kindsInRules].filter((k) => !guardrailVectors.some((v) => firedKinds(v, model, rules).has(k)));
  if (silent.length > 0) throw new RaftNsError('conformance.coverage', `conformance: no guardrail stream makes a rule of kind ${silent.join(', ')} change the timeout; add a stream in pipeline/conformance/conformance.ts`);
  const guardrails: ConformanceFile<GuardrailVector> = { ...head, kind: 'guardrails', rules: { name: rulesInfo.name, sha256: rulesInfo.sha256 }, vectors: guardrailVectors };

  for (const [file, value] of [['sequences.json', sequences], ['guardrails.json', guardrails]] as const) {
    const v = validateAgainst('conformance', value);
    if (!v.ok) throw new Error(`conformance: generated ${file} fails schemas/conformance.schema.json (${v.issues[0]!.path}: ${v.issues[0]!.message})`);
    writeFileAtomic(join(options.outDir, file), compactJson(value));
  }
  return { outDir: options.outDir, sequences, guardrails };
}

/** Runs each segment's scenario once (etcd's static timeouts: the traces do not depend on the model) and cuts the node's stream. */
function recordStreams(segments: readonly Segment[]): Map<string, ObservationRow[]> {
  const out = new Map<string, ObservationRow[]>();
  for (const seg of segments) {
    const base = builtinScenario(seg.scenario);
    if (!base) throw new Error(`conformance: unknown built-in scenario ${seg.scenario}`);
    const scenario: Scenario = seg.duration_ms ? { ...base, duration_ms: seg.duration_ms } : base;
    const rows: ObservationRow[] = [];
    let tick = 0;
    const sim = new Simulation(scenario, {
      seed: seg.seed, telemetry: false, groundTruth: false,
      policyFactory: (id, rng) => {
        const inner = staticRandomizedTimeout(1000, rng);
        return {
          observe(o: TimeoutObservation): void {
            if (id === seg.node) {
              if (tick >= seg.from_tick && rows.length < seg.ticks) {
                const row = rowOf(o);
                if (seg.latency_on_heartbeats_only && !row[9]) row[5] = null;
                rows.push(row);
              }
              tick++;
            }
            inner.observe(o);
          },
          electionTimeoutMs: () => inner.electionTimeoutMs(),
        };
      },
    });
    sim.run();
    if (rows.length < seg.ticks) throw new Error(`conformance: ${seg.name}: the trace has ${rows.length} ticks of ${seg.node}, expected ${seg.ticks}`);
    out.set(seg.name, rows);
  }
  return out;
}

function rowOf(o: TimeoutObservation): ObservationRow {
  return [o.nowMs, o.tickMs, o.role, o.term, o.leaderId, o.heartbeatLatencyMs, o.logReplicationGap, o.rpcRetries, o.cpuIdlePct,
    o.heartbeatReceived, o.clusterSize, o.peersReachable, o.heartbeatIntervalMs, o.leaderResigned === true];
}

/** The row as the runtime's observation (values outside the types are kept: the provider must refuse them). */
export function observationOf(r: ObservationRow): TimeoutObservation {
  return {
    nowMs: r[0], tickMs: r[1], role: r[2] as TimeoutObservation['role'], term: r[3], leaderId: r[4], heartbeatLatencyMs: r[5],
    logReplicationGap: r[6], rpcRetries: r[7], cpuIdlePct: r[8], heartbeatReceived: r[9], clusterSize: r[10], peersReachable: r[11], heartbeatIntervalMs: r[12],
    // A row of 13 (the files before leader_resigned) reads as false, as an absent field does.
    leaderResigned: r[13] === true,
  };
}

const f32 = (v: number): number => Number(v.toPrecision(9));
const f64 = (v: number): number => Number(v.toPrecision(15));

function sequenceVector(artifact: LoadedArtifact, seg: Segment, rows: ObservationRow[]): SequenceVector {
  const x: number[][] = [];
  const feats = new FeatureState();
  const buf = new Float32Array(NUM_FEATURES);
  for (const r of rows) {
    feats.rawInto(observationOf(r), buf, 0);
    normalizeInPlace(buf, 0, artifact.normalization);
    x.push(Array.from(buf, f32));
  }
  const outputs = (params: LoadedArtifact['float32']): number[][] => {
    const model = LstmModel.fromDense(params, { kernel: 'js' });
    const state = new LstmState();
    const y = new Float64Array(2);
    const f = new FeatureState();
    return rows.map((r) => {
      f.rawInto(observationOf(r), buf, 0);
      normalizeInPlace(buf, 0, artifact.normalization);
      model.step(state, buf, y);
      return [f64(y[0]!), f64(y[1]!)];
    });
  };
  return {
    name: seg.name,
    source: { scenario: seg.scenario, seed: seg.seed, node: seg.node, from_tick: seg.from_tick, ...(seg.latency_on_heartbeats_only ? { latency_on_heartbeats_only: true as const } : {}) },
    covers: coverageOf(rows, seg.from_tick), rows, x,
    expected: { float32: outputs(artifact.float32), int8: outputs(artifact.int8!) },
  };
}

/** What a stream exercises, from its rows alone. */
function coverageOf(rows: ObservationRow[], fromTick: number): Coverage[] {
  const c = new Set<Coverage>();
  if (fromTick === 0) c.add('first-observation');
  if (rows.length * rows[0]![1] >= 60000) c.add('long-carried-state');
  let run = 0;
  let silentMs = 0;
  const lat: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const prev = rows[i - 1];
    // A null only tests the carry rule after a measurement (before one, the carried value is 0 either way).
    if (r[5] === null && lat.length > 0) c.add('null-latency');
    else if (r[5] !== null) lat.push(r[5]);
    if (r[4] === null) c.add('null-leader');
    if (r[2] === 'pre-candidate') c.add('pre-candidate');
    if (prev && prev[4] !== null && r[4] !== null && prev[4] !== r[4]) c.add('leader-change');
    if (prev && r[3] !== prev[3]) c.add('term-change');
    run = r[9] ? run + 1 : run;
    if (run >= 20) c.add('steady-heartbeats');
    silentMs = r[9] ? 0 : silentMs + r[1];
    if (silentMs >= 1000 && r[4] !== null) c.add('leader-crash-silence');
    if (r[9] && prev && !prev[9] && silentMs === 0 && i > 1 && !rows[i - 2]![9]) c.add('silence-reset');
  }
  if (lat.length > 10) {
    const sorted = lat.slice().sort((a, b) => a - b);
    if (sorted[Math.floor(sorted.length * 0.9)]! > 3 * sorted[Math.floor(sorted.length * 0.1)]! + 1) c.add('jitter');
  }
  return COVERAGE.filter((k) => c.has(k));
}

function guardrailVector(
  name: string, rows: ObservationRow[], provider: GuardrailVector['provider'], model: ReturnType<typeof makeSharedModel>, rules: ReturnType<typeof loadRulesFile>['rules'],
): GuardrailVector {
  const p = new NeuroSymbolicTimeout({ model, rules, lostThreshold: provider.lost_threshold, randomization: { seed: provider.seed, spread: provider.spread } });
  const timeout_ms: number[] = [];
  const fallback: Array<string | null> = [];
  for (const r of rows) {
    p.observe(observationOf(r));
    timeout_ms.push(p.electionTimeoutMs());
    fallback.push(p.explain().fallbackReason);
  }
  return { name, provider, rows, expected: { timeout_ms, fallback } };
}

/** The rule kinds that changed the armed value on some tick of a guardrail vector (replayed). */
export function firedKinds(v: GuardrailVector, model: ReturnType<typeof makeSharedModel>, rules: ReturnType<typeof loadRulesFile>['rules']): Set<string> {
  const p = new NeuroSymbolicTimeout({ model, rules, lostThreshold: v.provider.lost_threshold, randomization: { seed: v.provider.seed, spread: v.provider.spread } });
  const fired = new Set<string>();
  for (const r of v.rows) {
    p.observe(observationOf(r));
    for (const a of p.explain().rules) fired.add(a.kind);
  }
  return fired;
}

/**
 * A hand-made stream of what traces rarely hold: invalid fields, values outside the input domain, a
 * pre-candidate cut off from its peers (the conditional floor), a return to valid input, a huge retries burst.
 */
function edgeRows(): ObservationRow[] {
  const rows: ObservationRow[] = [];
  let now = 10;
  const push = (over: Partial<Record<(typeof OBSERVATION_COLUMNS)[number], unknown>>): void => {
    const base: ObservationRow = [now, 10, 'follower', 3, 'n1', 0.4, 0, 0, 90, true, 5, 4, 100, false];
    OBSERVATION_COLUMNS.forEach((k, i) => { if (k in over) (base as unknown[])[i] = over[k]; });
    rows.push(base);
    now += 10;
  };
  push({ tick_ms: 0 });                         // invalid first observation: the fallback, randomized by the first draw
  for (let i = 0; i < 30; i++) push({ heartbeat_received: i % 10 === 0, heartbeat_latency_ms: i % 10 === 0 ? 0.4 + (i % 3) * 0.1 : null, log_replication_gap: i % 7, rpc_retries: 0 });
  push({ log_replication_gap: -1 });            // invalid: negative
  push({ heartbeat_latency_ms: 70000 });        // outside the raw domain
  push({ cpu_idle_pct: 120 });                  // outside the raw domain
  push({ tick_ms: 0 });                         // invalid tick
  push({ peers_reachable: 5 });                 // invalid: more peers than the cluster has
  push({ role: 'observer' });                   // invalid role
  push({ heartbeat_interval_ms: 0.5 });         // outside the raw domain
  for (let i = 0; i < 40; i++) push({ role: i < 5 ? 'follower' : 'pre-candidate', term: 3, leader_id: i < 5 ? 'n1' : null, heartbeat_received: false, heartbeat_latency_ms: null, peers_reachable: i < 20 ? 4 : 1 });
  for (let i = 0; i < 20; i++) push({ role: 'candidate', term: 4, leader_id: null, heartbeat_received: false, heartbeat_latency_ms: null, rpc_retries: 5 });
  for (let i = 0; i < 40; i++) push({ role: 'follower', term: 5, leader_id: 'n4', heartbeat_received: i % 10 === 0, heartbeat_latency_ms: i % 10 === 0 ? 12 : null, rpc_retries: i === 3 ? 900000 : 0 });
  // A pre-candidate cut off from 3 of 4 peers, a new term every tick (no silence builds up), 1 ms heartbeats
  // (a timing floor of ~1 ms): the model proposes ~60 ms and the conditional floor lifts it to 150.
  for (let i = 0; i < 30; i++) push({ role: 'pre-candidate', term: 6 + i, leader_id: null, heartbeat_received: false, heartbeat_latency_ms: 0.1, peers_reachable: 1, heartbeat_interval_ms: 1 });
  // A leader that check-quorum deposes in its own term 50: as follower, then pre-candidate, still in term 50, the
  // stepped-down cap (150 ms) holds its proposal, walked down by the rate limit; its candidacy's new term ends it.
  for (let i = 0; i < 30; i++) push({ role: 'leader', term: 50, leader_id: 'n1', heartbeat_received: false, heartbeat_latency_ms: 0.4 });
  for (let i = 0; i < 40; i++) push({ role: i < 3 ? 'follower' : 'pre-candidate', term: 50, leader_id: null, heartbeat_received: false, heartbeat_latency_ms: null });
  for (let i = 0; i < 10; i++) push({ role: 'candidate', term: 51, leader_id: null, heartbeat_received: false, heartbeat_latency_ms: null });
  // 20 s heartbeat delays (inside the raw domain): the timing floor exceeds the ceiling, the ceiling wins.
  for (let i = 0; i < 30; i++) push({ role: 'follower', term: 40, leader_id: 'n2', heartbeat_received: i % 10 === 0, heartbeat_latency_ms: i % 10 === 0 ? 20000 : null });
  return rows;
}

/**
 * A hand-made follower stream for the survived-silence floor's edges, starting before the clock's origin
 * (negative now_ms: bucket numbers below 0). Leader n1 goes quiet 1.5 s and comes back in its term (survived:
 * the floor lifts the timeout to ≥ 1.5 s); a 2.5 s silence during which this node hears no peer (its own
 * isolation: not counted); a silence that ends with a new leader and term (not survived); a stretch as
 * pre-candidate (the floor is for followers only); then 40 s of steady heartbeats, so the 1.5 s silence
 * leaves the window and the floor lets go.
 */
function survivedSilenceRows(): ObservationRow[] {
  const rows: ObservationRow[] = [];
  let now = -20000;
  const tick = (role: string, term: number, leader: string | null, heartbeat: boolean, peers = 4): void => {
    rows.push([now, 10, role, term, leader, heartbeat ? 0.3 : null, 0, 0, 85, heartbeat, 5, peers, 100, false]);
    now += 10;
  };
  const steady = (ms: number, term: number, leader: string): void => {
    for (let t = 0; t < ms; t += 10) tick('follower', term, leader, t % 100 === 0);
  };
  const quiet = (ms: number, role: string, term: number, leader: string | null, peers = 4): void => {
    for (let t = 0; t < ms; t += 10) tick(role, term, leader, false, peers);
  };
  steady(3000, 3, 'n1');
  quiet(1500, 'follower', 3, 'n1');
  steady(3000, 3, 'n1');
  quiet(800, 'follower', 3, 'n1');
  quiet(1700, 'follower', 3, 'n1', 0);
  steady(2000, 3, 'n1');
  quiet(2200, 'follower', 3, 'n1');
  steady(2000, 4, 'n2');
  quiet(600, 'pre-candidate', 4, null);
  steady(40000, 5, 'n3');
  return rows;
}

/**
 * A hand-made follower stream for leader_resigned: leader n1 (term 7) survives a 1.2 s silence, so the
 * survived-silence floor holds the timeout above 1.2 s, on 300 ms heartbeat round trips; then n1 goes quiet
 * again and, 400 ms in, asks this node for a pre-vote in term 8 (leader_resigned from then on, still term 7):
 * the stepped-down cap (150 ms) applies, the survived-silence floor does not, and the timing floor drops the
 * RTT. The node's own pre-candidacy keeps the term; a vote in term 8 for another node ends it.
 */
function leaderResignedRows(): ObservationRow[] {
  const rows: ObservationRow[] = [];
  let now = 10;
  const tick = (role: string, term: number, leader: string | null, heartbeat: boolean, resigned: boolean): void => {
    rows.push([now, 10, role, term, leader, heartbeat ? 300 : null, 0, 0, 80, heartbeat, 3, 2, 100, resigned]);
    now += 10;
  };
  const steady = (ms: number, term: number, leader: string): void => {
    for (let t = 0; t < ms; t += 10) tick('follower', term, leader, t % 100 === 0, false);
  };
  steady(3000, 7, 'n1');
  for (let t = 0; t < 1200; t += 10) tick('follower', 7, 'n1', false, false);
  steady(2000, 7, 'n1');
  for (let t = 0; t < 400; t += 10) tick('follower', 7, 'n1', false, false);
  for (let t = 0; t < 300; t += 10) tick('follower', 7, 'n1', false, true);
  for (let t = 0; t < 300; t += 10) tick('pre-candidate', 7, null, false, true);
  steady(1000, 8, 'n3');
  return rows;
}

/**
 * A hand-made stream for the timing floor's candidate_rtt (docs/RULES.md §2): a follower of n1 on round trips
 * of 200-320 ms — repeated every tick at first, then only on heartbeat ticks (null between), with the same
 * value twice in a row (one sample) — then a 3 s spike, the leader's silence, and 1.5 s as a candidate of term
 * 9 whose latency stays at the spike: its floor is a heartbeat interval plus the smoothed round trip (the
 * worst under candidate_rtt "worst"); then a pre-candidate (the worst again) and a new leader.
 */
function candidateRttRows(): ObservationRow[] {
  const rows: ObservationRow[] = [];
  let now = 10;
  const tick = (role: string, term: number, leader: string | null, latency: number | null, heartbeat: boolean): void => {
    rows.push([now, 10, role, term, leader, latency, 0, 0, 80, heartbeat, 3, 2, 100, false]);
    now += 10;
  };
  const rtts = [200, 240, 240, 320, 260, 200, 280];
  for (let t = 0; t < 3500; t += 10) tick('follower', 8, 'n1', rtts[Math.floor(t / 500)]!, t % 100 === 0);
  for (let t = 0; t < 2000; t += 10) tick('follower', 8, 'n1', t % 100 === 0 ? rtts[Math.floor(t / 300)]! : null, t % 100 === 0);
  tick('follower', 8, 'n1', 3000, true);
  for (let t = 0; t < 1200; t += 10) tick('follower', 8, 'n1', 3000, false);
  for (let t = 0; t < 1500; t += 10) tick('candidate', 9, null, 3000, false);
  for (let t = 0; t < 400; t += 10) tick('pre-candidate', 9, null, 3000, false);
  for (let t = 0; t < 1000; t += 10) tick('follower', 10, 'n2', t % 100 === 0 ? 250 : null, t % 100 === 0);
  return rows;
}

/** JSON with one row (or feature / output pair) per line: diffable, a third of the indented size. */
function compactJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  const flat = (v: unknown): boolean => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((e) => e === null || typeof e !== 'object'));
  if (Array.isArray(value)) {
    if (flat(value)) return JSON.stringify(value);
    if (value.every(flat)) return `[\n${value.map((e) => inner + JSON.stringify(e)).join(',\n')}\n${indent}]`;
    return `[\n${value.map((e) => inner + compactJson(e, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}${indent === '' ? '\n' : ''}`;
  }
  return JSON.stringify(value);
}
