/**
 * Unit tests of verify's budget logic on small synthetic artifacts and windows: check c's quantile and
 * worst-tick budgets, check d's rule-conflict accounting, and check e's monotonic regions met with the
 * input domain (an empty intersection is vacuous).
 */
import { describe, expect, it } from 'vitest';
import type { ArtifactManifest, DenseParams, LoadedArtifact } from '../runtime/artifact.js';
import type { Normalization } from '../runtime/features.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { compileRules, type CompiledRules, type Rule, type SafetyRules } from '../runtime/rules.js';
import { checkGuardrailsOnWindows, checkQuantization, type WindowsInput } from '../pipeline/verify/data-checks.js';
import { makeBox } from '../pipeline/verify/ibp.js';
import { referenceRun, type VerifyNet } from '../pipeline/verify/net.js';
import { proveRules, type ClaimResult } from '../pipeline/verify/prove.js';
import type { WindowSplit } from '../pipeline/window/types.js';

const H = 64;
const G = 4 * H;
const NORM: Normalization = { mean: [0, 0, 0, 0], std: [1, 1, 1, 1], clip: 5 };

function rulesWith(replace: Record<string, Rule | null>, extra: Rule[] = []): CompiledRules {
  const rules = DEFAULT_RULES.rules.flatMap((r) => (r.id in replace ? (replace[r.id] ? [replace[r.id]!] : []) : [r]));
  const s: SafetyRules = { ...DEFAULT_RULES, rules: [...rules, ...extra] };
  return compileRules(s);
}

function budget(over: Partial<Extract<Rule, { kind: 'quantization_budget' }>>): CompiledRules {
  return rulesWith({
    'int8-budget': { id: 'int8-budget', kind: 'quantization_budget', max_abs_log_gap: 0.05, max_abs_logit: 0.25, why: 'test', ...over },
  });
}

function zeroParams(qBias: number): DenseParams {
  return {
    kernel: new Float32Array(4 * G), recurrentKernel: new Float32Array(H * G), bias: new Float32Array(G),
    headKernel: new Float32Array(H * 2), headBias: Float32Array.from([qBias, -2]),
  };
}

function artifact(float32: DenseParams, int8: DenseParams): LoadedArtifact {
  return { manifest: {} as unknown as ArtifactManifest, normalization: NORM, tau: 0.99, float32, int8, weightsSha256: 'test' };
}

/**
 * Float and int8 paths differ only when heartbeat latency (feature 0) lies in a narrow band around BAND
 * (|x0 − BAND| < ~0.002): two units switch on at BAND − W and BAND + W, and the int8 q head reads their
 * difference with weight D/tanh(1). Elsewhere both paths give q = ln 300 exactly up to ~1e-7.
 */
const BAND = 0.3137;
const W = 0.001;
const D = 0.5;
function bandArtifact(): LoadedArtifact {
  const f = zeroParams(Math.log(300));
  const big = 20000;
  for (const [u, edge] of [[0, BAND - W], [1, BAND + W]] as const) {
    f.kernel[0 * G + 0 * H + u] = big; // x0 → i gate
    f.bias[0 * H + u] = -big * edge;
    f.bias[1 * H + u] = -30; // f ≈ 0: no memory
    f.bias[2 * H + u] = 30; // g ≈ 1
    f.bias[3 * H + u] = 30; // o ≈ 1
  }
  const q: DenseParams = { ...f, headKernel: new Float32Array(H * 2) };
  q.headKernel[0 * 2 + 0] = D / Math.tanh(1);
  q.headKernel[1 * 2 + 0] = -D / Math.tanh(1);
  return artifact(f, q);
}

/** One held-out stream of `chunks` × T scored ticks (weights 1, label ln 300); `fill` sets each tick's x and columns. */
function split(name: WindowSplit['name'], chunks: number, T: number, fill: (i: number, x: Float32Array, s: WindowSplit) => void): WindowSplit {
  const n = chunks * T;
  const s: WindowSplit = {
    name, T, count: chunks,
    x: new Float32Array(n * 4), gapLn: new Float32Array(n).fill(Math.log(300)), censored: new Float32Array(n), lost: new Float32Array(n),
    wGap: new Float32Array(n).fill(1), wLost: new Float32Array(n).fill(1), streamId: new Int32Array(chunks),
    chunkIndex: Int32Array.from({ length: chunks }, (_, k) => k), jkLn: new Float32Array(n).fill(Number.NaN), worstRttMs: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) fill(i, s.x.subarray(i * 4, i * 4 + 4), s);
  return s;
}

const empty = (name: WindowSplit['name']): WindowSplit => split(name, 0, 32, () => {});

function windowsWith(test: WindowSplit): WindowsInput {
  return { dir: 'synthetic', manifestSha256: '0'.repeat(64), manifest: {}, splits: { train: empty('train'), val: empty('val'), test } };
}

/** 256 scored held-out ticks, `inBand` of them in the band. */
function bandWindows(inBand: number): WindowsInput {
  return windowsWith(split('test', 8, 32, (i, x) => {
    x[0] = i < inBand ? BAND : -1;
  }));
}

describe('check c: quantization budget', () => {
  const art = bandArtifact();

  it('the random in-domain sequences never hit the band (precondition: the outliers are exactly the ones we place)', () => {
    const r = checkQuantization(art, budget({ max_abs_log_gap: 1e-4 }), null, 1);
    expect(r.status).toBe('pass');
    expect(r.figures.max_abs_log_gap as number).toBeLessThan(1e-5);
    const w = checkQuantization(art, budget({ max_abs_log_gap: 10, max_abs_logit: 10 }), bandWindows(3), 1);
    expect(w.figures.max_abs_log_gap as number).toBeCloseTo(D, 3);
    expect(w.figures.ticks).toBe(256 + 64 * 128);
  });

  it('at_quantile < 1 passes when only a few ticks exceed the budget, and fails once the quantile does', () => {
    // 256 + 8192 ticks; the 0.99 quantile is the 8364th smallest: it is an outlier only with more than 84 of them.
    const rules = budget({ at_quantile: 0.99, max_abs_log_gap: 0.05 });
    const few = checkQuantization(art, rules, bandWindows(4), 1);
    expect(few.status).toBe('pass');
    expect(few.figures.abs_log_gap_at_quantile as number).toBeLessThan(1e-5);
    expect(few.figures.max_abs_log_gap as number).toBeGreaterThan(0.05); // reported, though not budgeted
    expect(few.figures.at_quantile).toBe(0.99);

    const many = checkQuantization(art, rules, bandWindows(128), 1);
    expect(many.status).toBe('fail');
    expect(many.figures.abs_log_gap_at_quantile as number).toBeCloseTo(D, 3);
    expect(many.reason).toContain('99.00th percentile');
    expect(many.reason).toContain('int8-budget');

    // The same few outliers fail the default at_quantile = 1 (the maximum).
    const max = checkQuantization(art, budget({ max_abs_log_gap: 0.05 }), bandWindows(4), 1);
    expect(max.status).toBe('fail');
    expect(max.reason).toContain('max |int8 − float|');
  });

  it('worst_tick_abs_log_gap fails on a single outlier the quantile ignores', () => {
    const lenient = checkQuantization(art, budget({ at_quantile: 0.99, worst_tick_abs_log_gap: 0.6 }), bandWindows(1), 1);
    expect(lenient.status).toBe('pass');
    const strict = checkQuantization(art, budget({ at_quantile: 0.99, worst_tick_abs_log_gap: 0.1 }), bandWindows(1), 1);
    expect(strict.status).toBe('fail');
    expect(strict.reason).toContain('at the worst tick');
    expect(strict.reason).not.toContain('percentile');
    expect(strict.figures.budget_worst_tick_log_gap).toBe(0.1);
  });

  it('counts only scored held-out ticks (w_gap > 0 or w_lost > 0)', () => {
    // 128 band ticks, but unscored: the quantile stays clean.
    const w = windowsWith(split('test', 8, 32, (i, x, s) => {
      x[0] = i < 128 ? BAND : -1;
      if (i < 128) {
        s.wGap[i] = 0;
        s.wLost[i] = 0;
      }
    }));
    const r = checkQuantization(art, budget({ at_quantile: 0.99 }), w, 1);
    expect(r.figures.ticks).toBe(128 + 64 * 128);
    expect(r.status).toBe('pass');
    expect(r.figures.max_abs_log_gap as number).toBeLessThan(1e-5);
  });
});

describe('check d: harm — spurious campaigns prevented and served, conflicts apart', () => {
  // The model proposes exp(q) = 300 ms at every tick. Interval 100 ms, default rules: floor 100 + worst RTT,
  // ceiling 10 000 ms. RTT 10 → 110 (no clamp); RTT 250 → 350 (the floor lifts); RTT 12 000 → floor above
  // the ceiling (conflict).
  const art = artifact(zeroParams(Math.log(300)), zeroParams(Math.log(300)));
  const rules = rulesWith({});
  // 64 ticks: 0–7 a 320 ms gap under a 250 ms RTT (raw would campaign, the floor prevents it), 8–15 a 500 ms
  // gap in calm (raw and served both campaign), 16–47 a 200 ms gap (no harm), 48–63 conflicts.
  const w = windowsWith(split('test', 2, 32, (i, _x, s) => {
    s.worstRttMs[i] = i < 8 ? 250 : i >= 48 ? 12_000 : 10;
    s.gapLn[i] = Math.log(i < 8 ? 320 : i < 16 ? 500 : 200);
  }));

  it('counts what the guardrails prevented and what the served value still cuts short', () => {
    const r = checkGuardrailsOnWindows(art, rules, w, 100, 0.2);
    expect(r.figures).toMatchObject({ scored_ticks: 64, rule_conflict_ticks: 16, clamped_ticks: 8, outside_domain_ticks: 0, observed_gaps: 64, prevented_spurious: 8 });
    expect(r.figures.raw_spurious_rate).toBe(16 / 64);
    expect(r.figures.served_spurious_rate).toBe(8 / 64);
    expect(r.figures.clamp_rate).toBe(8 / 48); // reported, not gating
    expect(r.figures.worst_rtt_source).toContain('worst_rtt_ms column');
    expect(r.status).toBe('pass');
    const strict = checkGuardrailsOnWindows(art, rules, w, 100, 0.1);
    expect(strict.status).toBe('fail');
    expect(strict.reason).toContain('12.50% of 64 observed gaps');
  });

  it('the default limit is twice the artifact\'s 1 − τ; a floor that binds everywhere is no failure', () => {
    expect(checkGuardrailsOnWindows(art, rules, w, 100).figures.max_spurious_rate).toBeCloseTo(0.02, 12);
    expect(checkGuardrailsOnWindows(art, rules, w, 100).status).toBe('fail'); // 12.5% > 2%
    // Every tick lifted by the floor (RTT 250 → 350 ms) and every gap 320 ms: clamp rate 100%, harm 0.
    const lifted = windowsWith(split('test', 1, 32, (i, _x, s) => {
      s.worstRttMs[i] = 250;
      s.gapLn[i] = Math.log(320);
    }));
    const r = checkGuardrailsOnWindows(art, rules, lifted, 100);
    expect(r.figures).toMatchObject({ clamp_rate: 1, served_spurious_rate: 0, prevented_spurious: 32 });
    expect(r.status).toBe('pass');
    // Censored gaps are lower bounds, not observed gaps: nothing to score.
    const censored = windowsWith(split('test', 1, 32, (i, _x, s) => {
      s.censored[i] = 1;
    }));
    expect(checkGuardrailsOnWindows(art, rules, censored, 100).status).toBe('not-run');
  });
});

describe('check e: monotonic region ∩ input domain', () => {
  /** One unit driven by heartbeat latency only: q increases with feature 0 at every state. */
  function monotoneNet(): VerifyNet {
    const n = 1;
    const Wk = new Float64Array(4 * 4 * n);
    Wk[0 * 4 + 2] = 0.8; // feature 0 → g
    const b = new Float64Array(4 * n);
    b[0] = 3;
    b[3] = 3;
    return { units: n, features: 4, W: Wk, U: new Float64Array(n * 4 * n), b, Wd: Float64Array.from([2, 0]), bd: Float64Array.from([5, -1]) };
  }
  const net = monotoneNet();
  const replay = (xs: number[][]) => referenceRun(net, xs);
  const clip = makeBox([-5, -5, -5, -5], [5, 5, 5, 5]);
  const domain = makeBox([-5, -5, -5, -5], [1, 5, 5, 5]); // latency never above z = 1
  const opts = { splitBudget: 64, searchBudget: 40, searchTicks: 16, seed: 3 };
  const wrongWay = (min0: number): Rule => ({
    id: 'wrong-way', kind: 'monotonic', output: 'log_gap_quantile', feature: 'heartbeat_latency', direction: 'nonincreasing',
    region: { min: [min0, -5, -5, -5], max: [5, 5, 5, 5] }, state: 'zero', why: 'test',
  });
  const claimOf = (claims: ClaimResult[]): ClaimResult => claims.find((c) => c.rule_id === 'wrong-way')!;

  it('a region outside the input domain is proved, vacuously, with a note', () => {
    const c = claimOf(proveRules(net, rulesWith({}, [wrongWay(2)]), domain, clip, replay, opts).claims);
    expect(c.status).toBe('proved');
    expect(c.notes).toContain('vacuous');
    expect(c.leaves).toBe(0);
    expect(c.claim).toContain('region ∩ input domain');
  });

  it('the same wrong-way rule over a region that meets the domain is refuted (the test is not vacuous itself)', () => {
    const c = claimOf(proveRules(net, rulesWith({}, [wrongWay(0)]), domain, clip, replay, opts).claims);
    expect(c.status).toBe('refuted');
    expect(c.notes ?? '').not.toContain('vacuous');
  });
});
