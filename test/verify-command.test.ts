import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES, FEATURE_TRANSFORMS } from '../runtime/features.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { packWeights } from '../pipeline/quantize/artifact.js';
import { buildGolden, edgeCaseRows } from '../pipeline/quantize/golden.js';
import { validateAgainst } from '../pipeline/schemas.js';
import { jsonText, sha256Hex } from '../pipeline/util/fs.js';
import { verificationVerdict } from '../pipeline/publish/publish.js';
import { randomNet } from '../pipeline/verify/net.js';
import { reportText, verifyArtifact, writeVerification } from '../pipeline/verify/verify.js';

const root = mkdtempSync(join(tmpdir(), 'raft-ns-verify-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const norm = { mean: [0.5, 1, 0.3, 0.9], std: [0.4, 1.2, 0.5, 0.05], clip: 5 };
const fast = { splitBudget: 64, searchBudget: 60, searchTicks: 32, seed: 3 };

/**
 * Flat contract-order parameters of a full-size network whose proposal stays near `headBiasMs`, and which
 * ignores heartbeat latency and RPC retries at the current tick (W rows 0 and 2 are zero), so the default
 * rules' monotonicity claims hold with derivative exactly 0.
 */
function tameParams(headBiasMs = 700): Float32Array {
  const n = randomNet(42);
  for (let i = 0; i < n.Wd.length; i++) n.Wd[i] = n.Wd[i]! * 0.02;
  for (let j = 0; j < 256; j++) {
    n.W[j] = 0;
    n.W[2 * 256 + j] = 0;
  }
  return Float32Array.from([...n.W, ...n.U, ...n.b, ...n.Wd, Math.log(headBiasMs), n.bd[1]!]);
}

/** Writes an artifact folder the way quantize does (docs/CONTRACTS.md §6), from flat float parameters. */
function makeArtifact(name: string, params: Float32Array): string {
  const dir = join(root, name);
  const packed = packWeights(params);
  const rows: Array<[number | null, number, number, number]> = Array.from({ length: 40 }, (_, t) => [t % 7 === 0 ? null : 1 + (t % 5), t % 3, t % 2, 90 - (t % 10)]);
  const golden = buildGolden(packed, norm, [{ name: 'steady', source: 'test', rows }, ...edgeCaseRows()]);
  const goldenText = jsonText(golden);
  const metrics = (loss: number) => ({ loss, lossGap: loss, lossLost: 0, exceedRate: 0.01, targetExceedRate: 0.01, medianTimeoutMs: 700, aucLost: 0.8, scoredTicks: 1000, lostTicks: 10 });
  const manifest = {
    format: 'raft-ns-artifact', format_version: 1, name: 'verify-test', version: '0.1.0', tool_version: '0.1.0',
    created_at: '2026-01-01T00:00:00Z',
    architecture: {
      kind: 'lstm', units: 64, features: 4, feature_names: [...FEATURE_NAMES], gate_order: 'ifgo', recurrent_activation: 'sigmoid',
      activation: 'tanh', state: 'carried', outputs: [{ name: 'log_gap_quantile', tau: 0.99 }, { name: 'leader_lost_logit' }], parameter_count: 17794,
    },
    tick_ms: 10,
    normalization: { transforms: [...FEATURE_TRANSFORMS], ...norm },
    quantization: { scheme: 'int8-symmetric-per-output-channel', zero_point: 0 },
    tensors: packed.tensors,
    weights_sha256: sha256Hex(packed.bytes),
    weights_byte_length: packed.bytes.length,
    inputs: { dataset_sha256: null, windows_sha256: 'none', config_sha256: sha256Hex('config') },
    seed: 0,
    training: { engine: 'fused', backend: 'test', epochs: 1, metrics: { test: { model: metrics(0.3), constant: metrics(0.4), jacobson_karels: metrics(0.5) } } },
    quantization_error: {
      split: 'test', streams: 0, ticks: 0, method: 'test fixture',
      timeout_ms: { max: 0, p99: 0, mean: 0 }, p_leader_lost: { max: 0, p99: 0, mean: 0 }, log_gap_quantile: { max: 0, p99: 0, mean: 0 },
    },
    files: { 'golden.json': sha256Hex(goldenText) },
  };
  const v = validateAgainst('artifact-manifest', manifest);
  if (!v.ok) throw new Error(`fixture manifest invalid: ${JSON.stringify(v.issues)}`);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'weights.bin'), packed.bytes);
  writeFileSync(join(dir, 'golden.json'), goldenText);
  writeFileSync(join(dir, 'manifest.json'), jsonText(manifest));
  return dir;
}

describe('raft-ns verify on a sound artifact', () => {
  const dir = makeArtifact('good', tameParams());

  it('passes every check that can run, reports the others as not run, and proves the floor and ceiling', async () => {
    const report = await verifyArtifact(dir, { prove: fast });
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toEqual({
      'a-integrity': 'pass', 'b-golden': 'pass', 'c-int8-vs-float': 'pass', 'd-rules-on-data': 'not-run', 'e-sound-bounds': 'pass', 'f-evaluation': 'not-run',
    });
    expect(report.checks.find((c) => c.id === 'd-rules-on-data')!.reason).toContain('--windows');
    // The manifest's own training metrics are not evidence: f does not pass on them.
    expect(report.checks.find((c) => c.id === 'f-evaluation')!.reason).toMatch(/--windows.*own record is not evidence/);
    expect(report.passed).toBe(true);
    const claims = Object.fromEntries(report.proof!.claims.map((c) => [c.rule_id, c.status]));
    expect(claims['raft-timing-floor']).toBe('proved');
    expect(claims.ceiling).toBe('proved');
    expect(claims['quantile-monotone-in-latency']).toBe('proved');
    expect(report.weights_sha256).toBe(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).weights_sha256);
  });

  it('writes a schema-valid report that publish accepts, and the same inputs give the same bytes', async () => {
    const a = writeVerification(await verifyArtifact(dir, { prove: fast }), dir);
    const first = readFileSync(a.reportPath, 'utf8');
    expect(validateAgainst('verification-report', JSON.parse(first)).ok).toBe(true);
    expect(verificationVerdict(JSON.parse(first))).toEqual({ passed: true, weightsSha256: sha256Hex(readFileSync(join(dir, 'weights.bin'))) });
    expect(readFileSync(a.summaryPath, 'utf8')).toContain('PASSED');
    expect(reportText(await verifyArtifact(dir, { prove: fast }))).toBe(first);
  });
});

describe('raft-ns verify on broken artifacts', () => {
  it('refutes a planted floor violation with a counterexample replayed on the runtime engine, and fails', async () => {
    const dir = makeArtifact('planted', tameParams(20)); // raw proposal ≈ 20 ms, under the 50 ms absolute floor
    const report = await verifyArtifact(dir, { prove: fast });
    expect(report.passed).toBe(false);
    const e = report.checks.find((c) => c.id === 'e-sound-bounds')!;
    expect(e.status).toBe('fail');
    expect(e.reason).toContain('raft-timing-floor');
    const floor = report.proof!.claims.find((c) => c.rule_id === 'raft-timing-floor')!;
    expect(floor.status).toBe('refuted');
    const cx = floor.counterexample as { inputs: number[][]; tick: number; value: number };
    expect(Math.exp(cx.value)).toBeLessThan(50);
  });

  it('fails integrity on tampered weights and runs nothing else', async () => {
    const dir = makeArtifact('tampered', tameParams());
    const w = readFileSync(join(dir, 'weights.bin'));
    w[100] = w[100]! ^ 0xff;
    writeFileSync(join(dir, 'weights.bin'), w);
    const report = await verifyArtifact(dir, { prove: fast });
    expect(report.passed).toBe(false);
    expect(report.checks[0]!.status).toBe('fail');
    expect(report.checks[0]!.reason).toContain('sha256');
    expect(report.checks.slice(1).every((c) => c.status === 'not-run')).toBe(true);
  });

  it('fails check c when the rules set an int8 budget the artifact exceeds', async () => {
    const dir = makeArtifact('budget', tameParams());
    const rulesPath = join(root, 'tight.rules.json');
    const rules = { ...DEFAULT_RULES, rules: DEFAULT_RULES.rules.map((r) => (r.kind === 'quantization_budget' ? { ...r, max_abs_log_gap: 0, max_abs_logit: 0 } : r)) };
    writeFileSync(rulesPath, jsonText(rules));
    const report = await verifyArtifact(dir, { prove: fast, rulesPath });
    const c = report.checks.find((x) => x.id === 'c-int8-vs-float')!;
    expect(c.status).toBe('fail');
    expect(report.rules.sha256).toBe(sha256Hex(readFileSync(rulesPath)));
  });

  it('names the rules file and the position when the rules are invalid', async () => {
    const rulesPath = join(root, 'bad.rules.json');
    writeFileSync(rulesPath, jsonText({ ...DEFAULT_RULES, static_fallback_ms: -1 }));
    await expect(verifyArtifact(join(root, 'good'), { rulesPath })).rejects.toThrow(/^verify: .*bad\.rules\.json.*static_fallback_ms/);
  });
});

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
describe.runIf(existsSync(cli))('the built CLI', () => {
  it('exits 0 on a sound artifact and 1 on a planted violation, writing the report either way', () => {
    const good = makeArtifact('cli-good', tameParams());
    const bad = makeArtifact('cli-bad', tameParams(20));
    const args = ['--split-budget', '64', '--search-budget', '60', '--search-ticks', '32', '--quiet'];
    const ok = spawnSync('node', [cli, 'verify', good, ...args], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('PASSED');
    const ko = spawnSync('node', [cli, 'verify', bad, ...args], { encoding: 'utf8' });
    expect(ko.status).toBe(1);
    expect(ko.stdout).toContain('FAILED');
    expect(existsSync(join(bad, 'verification-report.json'))).toBe(true);
  });
});

describe('verify never passes on vacuous evidence and never writes into a published version', () => {
  it.each([
    ['an empty golden sequence list', (g: Record<string, unknown>): unknown => ({ ...g, cases: [] }), /nothing was compared/],
    ['a tolerance of 1e9', (g: Record<string, unknown>): unknown => ({ ...g, tolerance: 1e9 }), /above the cap/],
  ])('fails check b on %s', async (_what, edit, reason) => {
    const dir = makeArtifact(`vacuous-${_what.length}`, tameParams());
    const g = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as Record<string, unknown>;
    const text = jsonText(edit(g));
    writeFileSync(join(dir, 'golden.json'), text);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
    m.files['golden.json'] = sha256Hex(text);
    writeFileSync(join(dir, 'manifest.json'), jsonText(m));
    const report = await verifyArtifact(dir, { prove: fast });
    const b = report.checks.find((c) => c.id === 'b-golden')!;
    expect(b.status).toBe('fail');
    expect(b.reason).toMatch(reason);
    expect(report.passed).toBe(false);
  });

  it.runIf(existsSync(cli))('on a copy of the committed registry: leaves the published report byte for byte, prints the report instead', () => {
    const reg = join(root, 'registry-copy');
    execFileSync('cp', ['-r', new URL('../artifacts', import.meta.url).pathname, reg]);
    const version = join(reg, 'raft-ns-default', '2.0.0');
    const before = readFileSync(join(version, 'verification-report.json'));
    const r = spawnSync('node', [cli, 'verify', version, '--split-budget', '8', '--search-budget', '4', '--search-ticks', '8', '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/report not written: .*published version \(immutable\)/);
    expect(readFileSync(join(version, 'verification-report.json')).equals(before)).toBe(true);
    expect(existsSync(join(version, 'verification-summary.md'))).toBe(false);
    expect(JSON.parse(r.stdout).format).toBe('raft-ns-verification-report');
    expect(() => writeVerification(JSON.parse(r.stdout), version)).toThrow(/published version in a registry \(immutable\)/);
  }, 120_000);
});
