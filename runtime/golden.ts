/**
 * Golden vectors (golden.json of an artifact, CONTRACTS.md §6): raw telemetry feature rows with the expected
 * per-tick outputs of the float and int8 paths. Checking them through this engine proves the runtime computes
 * the function the pipeline exported; any other-language loader runs the same file.
 *
 * Accepted shape (the contract leaves the details open, so the reader is lenient about names):
 * { cases | sequences: [ { name?, rows | inputs: [ {heartbeat_latency_ms, log_replication_gap, rpc_retries,
 *   cpu_idle_pct} | [lat, gap, retries, cpu] ], expected?: { float32 | float, int8 }, float32?, int8? } ],
 *   tolerance? }  where each expected list is [[q, ℓ], ...] or a flat [q0, ℓ0, q1, ℓ1, ...].
 */
import type { LoadedArtifact, Precision } from './artifact.js';
import { LstmModel, LstmState, type KernelChoice } from './engine.js';
import { RuntimeError } from './errors.js';
import { FeatureState, NUM_FEATURES, normalizeInPlace, type SignalSample } from './features.js';

export interface GoldenCase {
  name: string;
  rows: SignalSample[];
  /** Expected [q, ℓ] per tick, flat. */
  expected: Partial<Record<Precision, Float64Array>>;
}

export interface GoldenReport {
  ok: boolean;
  /** Kernel the vectors ran through. */
  kernel: 'js' | 'wasm';
  tolerance: number;
  cases: number;
  ticks: number;
  /** Largest |runtime − expected| per path (NaN if the file has none for that path). */
  maxAbsError: Record<Precision, number>;
  failures: Array<{ case: string; precision: Precision; tick: number; output: 'q' | 'logit'; expected: number; got: number }>;
}

/** Parses golden.json (text or value); throws RuntimeError naming the position on a malformed file. */
export function parseGolden(input: string | unknown, fileName = 'golden.json'): { cases: GoldenCase[]; tolerance: number | null } {
  const fail = (msg: string): never => {
    throw new RuntimeError('runtime.golden.invalid', `runtime: ${fileName}: ${msg}`);
  };
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch (err) {
      fail(`not valid JSON (${(err as Error).message})`);
    }
  }
  const root = v as Record<string, unknown>;
  const list = (root?.cases ?? root?.sequences) as unknown;
  if (!Array.isArray(list)) return fail('expected a "cases" (or "sequences") array');
  const cases = list.map((c: Record<string, unknown>, ci: number): GoldenCase => {
    const rowsIn = (c.rows ?? c.inputs) as unknown;
    if (!Array.isArray(rowsIn) || rowsIn.length === 0) return fail(`cases[${ci}]: expected a non-empty "rows" array`);
    const rows = rowsIn.map((r: unknown, ri: number): SignalSample => {
      const at = `cases[${ci}].rows[${ri}]`;
      if (Array.isArray(r)) {
        if (r.length !== NUM_FEATURES) fail(`${at}: expected [heartbeat_latency_ms, log_replication_gap, rpc_retries, cpu_idle_pct]`);
        // A 4-column row is a tick with a heartbeat (no silence): feature 0 is then log1p(latency), which is what
        // the quantize stage's golden writer recovers from the windows (pipeline/quantize/golden.ts).
        return { ...GOLDEN_ROW_CLOCK, nowMs: ri, heartbeatLatencyMs: r[0] === null ? null : num(r[0], at, fail), logReplicationGap: num(r[1], at, fail), rpcRetries: num(r[2], at, fail), cpuIdlePct: num(r[3], at, fail) };
      }
      const o = r as Record<string, unknown>;
      const lat = o.heartbeat_latency_ms ?? o.heartbeatLatencyMs;
      const now = o.now_ms ?? o.nowMs;
      const hb = o.heartbeat_received ?? o.heartbeatReceived;
      const term = o.term;
      const leader = o.leader_id ?? o.leaderId;
      if (hb !== undefined && typeof hb !== 'boolean') fail(`${at}.heartbeat_received: expected a boolean, got ${JSON.stringify(hb)}`);
      if (leader !== undefined && leader !== null && typeof leader !== 'string' && typeof leader !== 'number') fail(`${at}.leader_id: expected a string, number or null`);
      return {
        nowMs: now === undefined ? ri : num(now, `${at}.now_ms`, fail),
        heartbeatReceived: hb === undefined ? GOLDEN_ROW_CLOCK.heartbeatReceived : (hb as boolean),
        term: term === undefined ? GOLDEN_ROW_CLOCK.term : num(term, `${at}.term`, fail),
        leaderId: leader === undefined ? GOLDEN_ROW_CLOCK.leaderId : (leader as string | number | null),
        heartbeatLatencyMs: lat === null || lat === undefined ? null : num(lat, `${at}.heartbeat_latency_ms`, fail),
        logReplicationGap: num(o.log_replication_gap ?? o.logReplicationGap, `${at}.log_replication_gap`, fail),
        rpcRetries: num(o.rpc_retries ?? o.rpcRetries, `${at}.rpc_retries`, fail),
        cpuIdlePct: num(o.cpu_idle_pct ?? o.cpuIdlePct, `${at}.cpu_idle_pct`, fail),
      };
    });
    const exp = (c.expected ?? c.outputs ?? c) as Record<string, unknown>;
    const expected: Partial<Record<Precision, Float64Array>> = {};
    for (const [key, prec] of [['float32', 'float32'], ['float', 'float32'], ['int8', 'int8']] as const) {
      const e = exp[key];
      if (e === undefined || expected[prec]) continue;
      const flat = Array.isArray(e) && Array.isArray(e[0]) ? (e as unknown[][]).flat() : (e as unknown[]);
      if (!Array.isArray(flat) || flat.length !== rows.length * 2) fail(`cases[${ci}].expected.${key}: expected ${rows.length} [q, logit] pairs`);
      expected[prec] = Float64Array.from(flat, (x, i) => num(x, `cases[${ci}].expected.${key}[${i >> 1}]`, fail));
    }
    if (!expected.float32 && !expected.int8) fail(`cases[${ci}]: no expected outputs (float32 or int8)`);
    return { name: typeof c.name === 'string' ? c.name : `case ${ci}`, rows, expected };
  });
  const tol = root.tolerance;
  return { cases, tolerance: typeof tol === 'number' && tol > 0 ? tol : null };
}

/**
 * Silence-clock fields of a golden row that does not carry them: a heartbeat every row (silence 0), one
 * leader and term. nowMs defaults to the row index. Shared with the golden writer so both sides agree.
 */
export const GOLDEN_ROW_CLOCK = { heartbeatReceived: true, term: 0, leaderId: null } as const satisfies Pick<SignalSample, 'heartbeatReceived' | 'term' | 'leaderId'>;

function num(v: unknown, at: string, fail: (m: string) => never): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at}: expected a finite number, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * Runs every golden case from a zero state through this engine (features → LSTM), for each precision path
 * present in both the artifact and the file, and compares per tick within `tolerance` (default 1e-5), on the
 * exact JS kernel unless `kernel` says otherwise.
 */
export function checkGolden(artifact: LoadedArtifact, cases: GoldenCase[], tolerance = 1e-5, kernel: KernelChoice = 'js'): GoldenReport {
  const ticks = cases.reduce((a, c) => a + c.rows.length, 0);
  const report: GoldenReport = { ok: true, kernel: 'js', tolerance, cases: cases.length, ticks, maxAbsError: { float32: Number.NaN, int8: Number.NaN }, failures: [] };
  for (const precision of ['float32', 'int8'] as const) {
    const params = precision === 'int8' ? artifact.int8 : artifact.float32;
    if (!params) continue;
    const quantized = precision === 'int8' ? artifact.int8Quantized : undefined;
    const model = LstmModel.fromDense(params, quantized ? { kernel, quantized } : { kernel });
    report.kernel = model.kernel;
    for (const c of cases) {
      const want = c.expected[precision];
      if (!want) continue;
      const feats = new FeatureState();
      const state = new LstmState();
      const x = new Float32Array(NUM_FEATURES);
      const y = new Float64Array(2);
      c.rows.forEach((row, t) => {
        feats.rawInto(row, x, 0);
        normalizeInPlace(x, 0, artifact.normalization);
        model.step(state, x, y);
        for (let k = 0; k < 2; k++) {
          const err = Math.abs(y[k]! - want[t * 2 + k]!);
          if (!(err <= report.maxAbsError[precision])) report.maxAbsError[precision] = err;
          if (!(err <= tolerance)) {
            report.ok = false;
            if (report.failures.length < 20) report.failures.push({ case: c.name, precision, tick: t, output: k === 0 ? 'q' : 'logit', expected: want[t * 2 + k]!, got: y[k]! });
          }
        }
      });
    }
  }
  return report;
}
