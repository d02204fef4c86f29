/**
 * The conformance vectors (conformance/<model>/<version>, docs/ARTIFACT.md §9, docs/RULES.md §6) against
 * the TypeScript runtime: it passes every one, each plausible misreading of the spec fails at least one,
 * and the generator writes the committed files byte for byte. The model is the default of pipeline/run, so
 * a new version needs its vectors (`raft-ns conformance`), not an edit here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedArtifact } from '../runtime/artifact.js';
import { LstmModel, LstmState } from '../runtime/engine.js';
import { FeatureState, NUM_FEATURES, normalizeInPlace } from '../runtime/features.js';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { compileRules, type SafetyRules } from '../runtime/rules.js';
import { makeSharedModel, NeuroSymbolicTimeout, type SharedModel } from '../runtime/timeout.js';
import { makeConformance, observationOf, type ConformanceFile, type GuardrailVector, type ObservationRow, type SequenceVector } from '../pipeline/conformance/conformance.js';
import { DEFAULT_RUN_CONFIG } from '../pipeline/run/pipeline.js';

const ROOT = join(__dirname, '..');
const MODEL = `${DEFAULT_RUN_CONFIG.model.name}/${DEFAULT_RUN_CONFIG.model.version}`;
const ARTIFACT_DIR = join(ROOT, 'artifacts', MODEL);
const VECTORS_DIR = join(ROOT, 'conformance', MODEL);
const RULES_PATH = join(ROOT, 'rules', 'default.rules.json');

const readVectors = <V>(file: string): ConformanceFile<V> => {
  try {
    return JSON.parse(readFileSync(join(VECTORS_DIR, file), 'utf8')) as ConformanceFile<V>;
  } catch (e) {
    throw new Error(`${VECTORS_DIR}/${file}: ${(e as Error).message}; write the vectors of the default model with \`raft-ns conformance ${ARTIFACT_DIR} --out ${VECTORS_DIR} --rules rules/default.rules.json\``);
  }
};
const sequences = readVectors<SequenceVector>('sequences.json');
const guardrails = readVectors<GuardrailVector>('guardrails.json');
const rulesJson = JSON.parse(readFileSync(RULES_PATH, 'utf8')) as SafetyRules;

let artifact: LoadedArtifact;
let shared: SharedModel;
beforeAll(async () => {
  artifact = await loadArtifactFromDir(ARTIFACT_DIR);
  shared = makeSharedModel(artifact, 'int8', 'js');
});

// ---- feature transforms: the reference and its misreadings ----------------------------------------------

/** Normalized features of a stream, one implementation choice per misreading (false = as specified). */
interface FeatureReading {
  rewritten?: true;                    // this file's own transform, no misreading (the control)
  silenceClock?: false;                // feature 0 = ln(1 + latency), as ARTIFACT.md once said
  keepDouble?: true;                   // features never rounded to binary32
  roundOnce?: true;                    // raw features not rounded before normalizing, only the result
  resetOnLeaderChange?: false;         // the silence clock restarts on heartbeats only
  restartAtFirstObservation?: false;   // the silence counts from now_ms = 0
  carryNullLatency?: false;            // a null latency read as 0
}

function featuresOf(rows: ObservationRow[], reading: FeatureReading = {}): number[][] {
  const norm = artifact.normalization;
  const f = new FeatureState();
  const f32 = new Float32Array(NUM_FEATURES);
  let lat = 0;
  let from = Number.NaN;
  let term = Number.NaN;
  let leader: string | null = null;
  return rows.map((r) => {
    const o = observationOf(r);
    if (Object.keys(reading).length === 0) {
      f.rawInto(o, f32, 0);
      normalizeInPlace(f32, 0, norm);
      return Array.from(f32);
    }
    if (o.heartbeatLatencyMs !== null) lat = o.heartbeatLatencyMs;
    else if (reading.carryNullLatency === false) lat = 0;
    if (reading.restartAtFirstObservation === false && Number.isNaN(from)) {
      from = 0;
      term = o.term;
      leader = o.leaderId;
    }
    const restart = o.heartbeatReceived || Number.isNaN(from) || (reading.resetOnLeaderChange !== false && (o.term !== term || o.leaderId !== leader));
    if (restart) from = o.nowMs;
    term = o.term;
    leader = o.leaderId;
    const silence = Math.max(0, o.nowMs - from);
    const raw = [Math.log1p(reading.silenceClock === false ? lat : Math.max(lat, silence)), Math.log1p(o.logReplicationGap), Math.log1p(o.rpcRetries), o.cpuIdlePct / 100];
    const buf = reading.keepDouble || reading.roundOnce ? new Float64Array(raw) : new Float32Array(raw);
    normalizeInPlace(buf, 0, norm);
    return Array.from(reading.roundOnce ? Float32Array.from(buf) : buf);
  });
}

/** (q, ℓ) of a stream on one path; `resetOnTerm` = the misreading that restarts the LSTM state at a new term. */
function outputsOf(x: number[][], rows: ObservationRow[], precision: 'float32' | 'int8', resetOnTerm = false): number[][] {
  const model = LstmModel.fromDense(precision === 'int8' ? artifact.int8! : artifact.float32, { kernel: 'js' });
  const state = new LstmState();
  const y = new Float64Array(2);
  return x.map((xi, i) => {
    if (resetOnTerm && i > 0 && rows[i]![3] !== rows[i - 1]![3]) state.reset();
    model.step(state, xi, y);
    return [y[0]!, y[1]!];
  });
}

/** Ticks of all sequences where the features or either path's outputs leave the vectors' tolerance. */
function sequenceMismatches(reading: FeatureReading = {}, resetOnTerm = false): number {
  let bad = 0;
  for (const v of sequences.vectors) {
    const x = featuresOf(v.rows, reading);
    const outs = { float32: outputsOf(x, v.rows, 'float32', resetOnTerm), int8: outputsOf(x, v.rows, 'int8', resetOnTerm) };
    for (let i = 0; i < v.rows.length; i++) {
      const xOk = x[i]!.every((z, k) => z === Math.fround(v.x[i]![k]!));
      const yOk = (['float32', 'int8'] as const).every((p) => outs[p][i]!.every((y, k) => Math.abs(y - v.expected[p][i]![k]!) <= sequences.tolerance.outputs));
      if (!xOk || !yOk) bad++;
    }
  }
  return bad;
}

// ---- guarded timeouts: the reference and its misreadings -------------------------------------------------

interface GuardReading {
  rules?: (r: SafetyRules) => SafetyRules;
  lostThreshold?: number;
  spread?: number;
  seedOffset?: number;
  /** Read every row's leader_resigned as false (a host or port that drops the field). */
  ignoreResigned?: true;
}

function guardrailMismatches(reading: GuardReading = {}): number {
  const rules = compileRules(reading.rules ? reading.rules(structuredClone(rulesJson)) : rulesJson);
  let bad = 0;
  for (const v of guardrails.vectors) {
    const p = new NeuroSymbolicTimeout({
      model: shared, rules, lostThreshold: reading.lostThreshold ?? v.provider.lost_threshold,
      randomization: { seed: v.provider.seed + (reading.seedOffset ?? 0), spread: reading.spread ?? v.provider.spread },
    });
    v.rows.forEach((r, i) => {
      const o = observationOf(r);
      if (reading.ignoreResigned) o.leaderResigned = false;
      p.observe(o);
      if (p.electionTimeoutMs() !== v.expected.timeout_ms[i] || p.explain().fallbackReason !== v.expected.fallback[i]) bad++;
    });
  }
  return bad;
}

const withoutKind = (kind: string) => (r: SafetyRules): SafetyRules => ({ ...r, rules: r.rules.filter((x) => x.kind !== kind) });
const editKind = (kind: string, edit: Record<string, unknown>) => (r: SafetyRules): SafetyRules =>
  ({ ...r, rules: r.rules.map((x) => (x.kind === kind ? { ...x, ...edit } : x)) as SafetyRules['rules'] });

describe(`conformance vectors of ${MODEL}`, () => {
  it('are for the default artifact and rules', () => {
    expect(sequences.artifact.weights_sha256).toBe(artifact.weightsSha256);
    expect(guardrails.artifact.weights_sha256).toBe(artifact.weightsSha256);
    expect(guardrails.rules?.name).toBe(rulesJson.name);
  });

  it('the TypeScript runtime reproduces every feature (binary32, exactly) and both paths within the tolerance', () => {
    expect(sequenceMismatches()).toBe(0);
    expect(sequences.vectors.reduce((a, v) => a + v.rows.length, 0)).toBeGreaterThan(10000);
  });

  it('the TypeScript provider arms every timeout of every guardrail stream, and falls back where they do', () => {
    expect(guardrailMismatches()).toBe(0);
  });

  it("this file's own transform passes them (so each misreading below fails for its misreading alone)", () => {
    expect(sequenceMismatches({ rewritten: true })).toBe(0);
  });

  it.each<[string, FeatureReading, boolean]>([
    ['feature 0 as ln(1 + latency), no silence clock', { silenceClock: false }, false],
    ['features kept in double', { keepDouble: true }, false],
    ['raw features not rounded to binary32 before normalizing', { roundOnce: true }, false],
    ['the silence clock not restarted on a new leader or term', { resetOnLeaderChange: false }, false],
    ['the silence clock counted from now_ms = 0, not the first observation', { restartAtFirstObservation: false }, false],
    ['a null latency read as 0 instead of the last one', { carryNullLatency: false }, false],
    ['the LSTM state restarted at every new term', {}, true],
  ])('a runtime with %s fails the sequences', (_name, reading, resetOnTerm) => {
    expect(sequenceMismatches(reading, resetOnTerm)).toBeGreaterThan(0);
  });

  it.each<[string, GuardReading]>([
    ['no survived-silence floor', { rules: withoutKind('survived_silence_floor') }],
    ['a survived silence that never leaves the window', { rules: editKind('survived_silence_floor', { window_ms: 600000 }) }],
    ['no rate limit', { rules: withoutKind('max_change_per_tick') }],
    ['no pre-vote partition floor', { rules: withoutKind('conditional_floor') }],
    ['the timing floor at half its k', { rules: editKind('timing_floor', { k: 0.5 }) }],
    ['no leader-lost drop', { lostThreshold: 1 }],
    ['no randomization', { spread: 0 }],
    ['another randomization seed', { seedOffset: 1 }],
    ['leader_resigned ignored', { ignoreResigned: true }],
  ])('a provider with %s fails the guardrail streams', (_name, reading) => {
    expect(guardrailMismatches(reading)).toBeGreaterThan(0);
  });
});

describe('raft-ns conformance (the generator)', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'raft-ns-conformance-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the committed vectors byte for byte (deterministic; no stale vectors in the repository)', async () => {
    await makeConformance(ARTIFACT_DIR, { outDir: out, rulesPath: RULES_PATH });
    for (const f of ['sequences.json', 'guardrails.json']) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(VECTORS_DIR, f))), f).toBe(true);
    }
  }, 120_000);

  it('refuses to write inside the artifact folder (published artifacts are immutable)', async () => {
    await expect(makeConformance(ARTIFACT_DIR, { outDir: join(ARTIFACT_DIR, 'conformance') })).rejects.toThrow(/inside the artifact folder/);
  });
});
