/**
 * `raft-ns verify <artifact> [--rules file] [--windows dir]`: the checks below, each reported
 * pass / fail with its numbers, or "not run" with the reason when what it needs is absent — never as passed.
 *   a. integrity: manifest schema, tensor table, sha256 of weights.bin and of the other listed files
 *   b. golden vectors through the runtime engine (runtime/golden.ts)
 *   c. int8 against float within the rules' quantization_budget
 *   d. the rules on held-out windows: how often the guardrails would have had to clamp
 *   e. sound bounds: interval bound propagation, splitting, monotonicity (prove.ts)
 *   f. evaluation thresholds: test metrics no worse than the recorded baseline
 * The report (schemas/verification-report.schema.json) names the weights' sha256, the rules file's sha256,
 * the windows manifest's sha256, the tool version and every setting and seed; same inputs → same bytes.
 *
 * @example
 * const report = await verifyArtifact('runs/art', { rulesPath: 'rules/default.rules.json' });
 * if (!report.passed) process.exitCode = 1;
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { artifactFromBytes, type DenseParams, type LoadedArtifact } from '../../runtime/artifact.js';
import { LstmModel } from '../../runtime/engine.js';
import { checkGolden, parseGolden } from '../../runtime/golden.js';
import type { CompiledRules } from '../../runtime/rules.js';
import { loadRulesFile } from '../util/rules-file.js';
import { loadSchema, validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, registryOfVersionDir, sha256Hex, writeFileAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { checkGuardrailsOnWindows, checkEvaluation, checkQuantization, type WindowsInput } from './data-checks.js';
import { normalizedDomain } from '../../runtime/domain.js';
import { DEFAULT_ROUNDING } from './interval.js';
import type { VerifyNet } from './net.js';
import { reportSummary } from './summary.js';
import { DEFAULT_PROVE_OPTIONS, proveRules, type ProveOptions, type ProveResult } from './prove.js';
import { REPORT_FORMAT, type CheckResult, type VerificationReport } from './types.js';

export { REPORT_FORMAT, type CheckResult, type CheckStatus, type VerificationReport } from './types.js';

export const REPORT_FILE = 'verification-report.json';
export const SUMMARY_FILE = 'verification-summary.md';

export type { WindowsInput } from './data-checks.js';

export interface VerifyOptions {
  /** Safety-rules file (schemas/safety-rules.schema.json); default: the embedded default rules. */
  rulesPath?: string;
  /** Windows folder (held-out split for checks c, d, f). */
  windowsDir?: string;
  /** Already-loaded windows instead of a folder (tests, `raft-ns run`); `dir` is only a label then. */
  windows?: WindowsInput;
  /** Check e: leaves per claim, sequences per counterexample search, their length, seed. */
  prove?: Partial<ProveOptions>;
  /** Fail check e on any gating claim left unproved (default: only refutations fail). */
  requireProofs?: boolean;
  /** Check d: heartbeat interval assumed for the timing floor on windows (not recorded there), ms. */
  heartbeatIntervalMs?: number;
  /** Check d: largest acceptable fraction of live-leader gaps the served timeout cuts short (default 2·(1 − τ) of the artifact). */
  maxSpuriousRate?: number;
}

/** Runs every check; never throws for a bad artifact (that is a failed check a), only for unreadable options. */
export async function verifyArtifact(artifactDir: string, opts: VerifyOptions = {}): Promise<VerificationReport> {
  if (!existsSync(artifactDir)) {
    throw new RaftNsError('verify.artifact', `verify: ${artifactDir}: no such artifact folder; expected the output of raft-ns quantize (docs/CONTRACTS.md §6)`);
  }
  const prove: ProveOptions = { ...DEFAULT_PROVE_OPTIONS, ...opts.prove };
  const { rules, rulesInfo } = loadRulesFile('verify', opts.rulesPath);
  const maxSpuriousRate = opts.maxSpuriousRate;
  const checks: CheckResult[] = [];

  // a. integrity
  const a = checkIntegrity(artifactDir);
  checks.push(a.check);
  const art = a.artifact;
  const notRun = (id: CheckResult['id'], name: string, reason: string): CheckResult => ({ id, name, status: 'not-run', reason, figures: {} });

  // The held-out windows (c, d, f): read through the window stage's reader when given.
  const windows = opts.windows ?? (opts.windowsDir ? await loadWindows(opts.windowsDir) : null);
  // The heartbeat interval: the option, else the one the windows' labels assumed, else 100 ms.
  const floorOfWindows = (windows?.manifest.labels as { floor?: { heartbeat_interval_ms?: number } | null } | undefined)?.floor;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? floorOfWindows?.heartbeat_interval_ms ?? 100;

  let proof: ProveResult | null = null;
  if (!art) {
    const why = 'the artifact failed check a (integrity); nothing else can be trusted';
    checks.push(notRun('b-golden', 'golden vectors through the runtime engine', why));
    checks.push(notRun('c-int8-vs-float', 'int8 vs float within the quantization budget', why));
    checks.push(notRun('d-rules-on-data', 'rules on held-out windows', why));
    checks.push(notRun('e-sound-bounds', 'sound bounds (IBP) and monotonicity', why));
    checks.push(notRun('f-evaluation', 'evaluation thresholds', why));
  } else {
    checks.push(checkGoldenVectors(artifactDir, art));
    checks.push(checkQuantization(art, rules, windows, prove.seed));
    checks.push(windows ? checkGuardrailsOnWindows(art, rules, windows, heartbeatIntervalMs, maxSpuriousRate) : notRun('d-rules-on-data', 'rules on held-out windows', 'no --windows folder given (the held-out corpus this check replays)'));
    const e = checkSoundBounds(art, rules, prove, opts.requireProofs ?? false);
    checks.push(e.check);
    proof = e.proof;
    checks.push(checkEvaluation(art, windows));
  }

  const passed = checks.every((c) => c.status !== 'fail') && checks.some((c) => c.status === 'pass') && checks[0]!.status === 'pass';
  return {
    format: REPORT_FORMAT,
    format_version: 1,
    tool_version: TOOL_VERSION,
    passed,
    weights_sha256: art?.weightsSha256 ?? null,
    artifact: {
      dir: artifactDir,
      name: art?.manifest.name ?? null,
      version: art?.manifest.version ?? null,
      manifest_sha256: a.manifestSha256,
      weights_sha256: art?.weightsSha256 ?? null,
    },
    rules: rulesInfo,
    windows: windows ? { dir: windows.dir, manifest_sha256: windows.manifestSha256 } : null,
    config: {
      seed: prove.seed,
      split_budget: prove.splitBudget,
      search_budget: prove.searchBudget,
      search_ticks: prove.searchTicks,
      require_proofs: opts.requireProofs ?? false,
      heartbeat_interval_ms: heartbeatIntervalMs,
      max_spurious_rate: maxSpuriousRate ?? null,
      rounding: { unit_roundoff: (prove.rounding ?? DEFAULT_ROUNDING).u, tiny: (prove.rounding ?? DEFAULT_ROUNDING).tiny },
      precision: art?.int8 ? 'int8' : 'float32',
    },
    checks,
    proof: proof
      ? {
          claims: proof.claims,
          invariant: proof.invariant,
          domainBounds: proof.domainBounds,
          input_domain: { lo: Array.from(proof.inputDomain.lo), hi: Array.from(proof.inputDomain.hi) },
        }
      : null,
  };
}

/** The report as canonical JSON text (numbers that JSON cannot hold — ±Infinity — become null). */
export function reportText(report: VerificationReport): string {
  return jsonText(JSON.parse(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))));
}

async function loadWindows(dir: string): Promise<WindowsInput> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new RaftNsError('verify.windows', `verify: ${manifestPath}: missing; --windows expects a windows folder (docs/CONTRACTS.md §5)`);
  }
  // Through the training stage's loader (imported lazily: only needed with --windows), so verify sees the
  // splits exactly as training did — overlapping windows (stride < T) become zero-state streams there.
  const { loadTrainInput } = await import('../train/command.js');
  const input = loadTrainInput(dir);
  const bytes = readFileSync(manifestPath);
  return { dir, manifestSha256: sha256Hex(bytes), manifest: JSON.parse(bytes.toString('utf8')) as Record<string, unknown>, splits: input.splits };
}

/**
 * Check a: also the publish gate's first step. A bad artifact is a failed check, never an exception.
 */
export function checkIntegrity(dir: string): { check: CheckResult; artifact: LoadedArtifact | null; manifestSha256: string | null } {
  const id = 'a-integrity' as const;
  const name = 'manifest schema, tensor table, sha256';
  const manifestPath = join(dir, 'manifest.json');
  const weightsPath = join(dir, 'weights.bin');
  const figures: CheckResult['figures'] = {};
  const fail = (reason: string, manifestSha256: string | null = null) => ({ check: { id, name, status: 'fail' as const, passed: false, reason, figures }, artifact: null, manifestSha256 });
  if (!existsSync(manifestPath)) return fail(`${manifestPath}: missing`);
  if (!existsSync(weightsPath)) return fail(`${weightsPath}: missing`);
  const manifestBytes = readFileSync(manifestPath);
  const manifestSha256 = sha256Hex(manifestBytes);
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch (err) {
    return fail(`${manifestPath}: not valid JSON (${(err as Error).message})`, manifestSha256);
  }
  let schemaPresent = true;
  try {
    loadSchema('artifact-manifest');
  } catch {
    schemaPresent = false;
  }
  if (schemaPresent) {
    const v = validateAgainst('artifact-manifest', manifest);
    figures.manifest_schema = v.ok ? 'valid' : 'invalid';
    if (!v.ok) return fail(`${manifestPath} at ${v.issues[0]!.path}: ${v.issues[0]!.message} (schemas/artifact-manifest.schema.json)`, manifestSha256);
  } else {
    figures.manifest_schema = 'not run: schemas/artifact-manifest.schema.json absent';
  }
  // A version folder of a registry must hold that version's manifest: a (validly signed) manifest of another
  // version copied in would otherwise verify as this one.
  if (registryOfVersionDir(dir)) {
    const folder = { name: basename(dirname(resolve(dir))), version: basename(resolve(dir)) };
    const m = manifest as { name?: unknown; version?: unknown };
    if (m.name !== folder.name || m.version !== folder.version) {
      return fail(`${manifestPath} names ${JSON.stringify(m.name)} ${JSON.stringify(m.version)}, but its registry folder is ${folder.name}/${folder.version}`, manifestSha256);
    }
  }
  let art: LoadedArtifact;
  try {
    art = artifactFromBytes(manifest as object, new Uint8Array(readFileSync(weightsPath)), { manifestName: manifestPath, weightsName: weightsPath });
  } catch (err) {
    return fail((err as Error).message.replace(/^runtime: /, ''), manifestSha256);
  }
  figures.tensors = art.manifest.tensors.length;
  figures.weights_sha256 = art.weightsSha256;
  figures.weights_bytes = art.manifest.weights_byte_length;
  figures.int8_path = art.int8 !== null;
  // Other files the manifest lists by hash (golden.json, ARTIFACT.md, model/…).
  const files = (manifest as { files?: Record<string, string> }).files ?? {};
  let filesChecked = 0;
  for (const [rel, sha] of Object.entries(files)) {
    const p = join(dir, rel);
    if (rel.split(/[\\/]/).includes('..')) return fail(`${manifestPath} at /files: path "${rel}" leaves the artifact folder`, manifestSha256);
    if (!existsSync(p)) return fail(`${p}: listed in ${manifestPath} /files but missing`, manifestSha256);
    const got = sha256Hex(readFileSync(p));
    if (got !== sha) return fail(`${p}: sha256 ${got} differs from ${manifestPath} /files (${sha}); the file was modified`, manifestSha256);
    filesChecked++;
  }
  figures.listed_files_checked = filesChecked;
  return { check: { id, name, status: 'pass', passed: true, figures }, artifact: art, manifestSha256 };
}

/**
 * Largest golden-vector tolerance honoured, in output units (ln ms and logits). quantize writes 1e-4; the
 * exact JS kernel reproduces its own outputs to ~1e-14, so a file asking for more than this is not evidence
 * that the runtime computes the exported function.
 */
export const GOLDEN_TOLERANCE_CAP = 1e-3;

/**
 * Check b: golden vectors through the runtime engine; also the publish gate's second step. Vacuous evidence
 * fails: no case, no expected outputs for the path the artifact serves, or a tolerance above the cap.
 */
export function checkGoldenVectors(dir: string, art: LoadedArtifact): CheckResult {
  const id = 'b-golden' as const;
  const name = 'golden vectors through the runtime engine';
  const path = join(dir, 'golden.json');
  if (!existsSync(path)) return { id, name, status: 'fail', passed: false, reason: `${path}: missing (an artifact carries golden vectors, docs/CONTRACTS.md §6)`, figures: {} };
  try {
    const g = parseGolden(readFileSync(path, 'utf8'), path);
    const tolerance = g.tolerance ?? 1e-5;
    if (tolerance > GOLDEN_TOLERANCE_CAP) {
      return { id, name, status: 'fail', passed: false, reason: `${path} at /tolerance: ${tolerance} is above the cap of ${GOLDEN_TOLERANCE_CAP}; such a tolerance proves nothing`, figures: { tolerance } };
    }
    const r = checkGolden(art, g.cases, tolerance);
    const served = art.int8 ? 'int8' : 'float32';
    const compared = g.cases.filter((c) => c.expected[served] !== undefined && c.rows.length > 0).length;
    const figures = {
      cases: r.cases, ticks: r.ticks, tolerance: r.tolerance, [`cases_with_${served}`]: compared,
      max_abs_error_float32: nullIfNaN(r.maxAbsError.float32), max_abs_error_int8: nullIfNaN(r.maxAbsError.int8), failures: r.failures.length,
    };
    if (compared === 0) {
      return { id, name, status: 'fail', passed: false, figures, reason: `${path}: no golden case with expected ${served} outputs (${r.cases} cases); nothing was compared` };
    }
    if (r.ok) return { id, name, status: 'pass', passed: true, figures };
    const f = r.failures[0]!;
    return { id, name, status: 'fail', passed: false, figures, reason: `${path}: case "${f.case}" ${f.precision} tick ${f.tick} ${f.output}: expected ${f.expected}, runtime gives ${f.got} (tolerance ${r.tolerance})` };
  } catch (err) {
    return { id, name, status: 'fail', passed: false, reason: (err as Error).message.replace(/^runtime: /, ''), figures: {} };
  }
}

/** The runtime's weights for the verified path (int8 when present) as a VerifyNet, and its replay. */
export function netOf(params: DenseParams): { net: VerifyNet; replay: (xs: number[][]) => Array<[number, number]> } {
  const net: VerifyNet = {
    units: 64, features: 4,
    W: Float64Array.from(params.kernel), U: Float64Array.from(params.recurrentKernel), b: Float64Array.from(params.bias),
    Wd: Float64Array.from(params.headKernel), bd: Float64Array.from(params.headBias),
  };
  const model = LstmModel.fromDense(params);
  const replay = (xs: number[][]): Array<[number, number]> => {
    const y = model.forward(Float64Array.from(xs.flat()));
    return xs.map((_, t) => [y[2 * t]!, y[2 * t + 1]!]);
  };
  return { net, replay };
}

function checkSoundBounds(art: LoadedArtifact, rules: CompiledRules, prove: ProveOptions, requireProofs: boolean): { check: CheckResult; proof: ProveResult | null } {
  const id = 'e-sound-bounds' as const;
  const name = 'sound bounds (IBP) and monotonicity';
  const params = art.int8 ?? art.float32;
  // Counterexamples are replayed on the runtime's own engine (LstmModel), not on our reference.
  const { net, replay } = netOf(params);
  const domain = normalizedDomain(rules, art.normalization);
  const res = proveRules(net, rules, domain, domain, replay, prove);
  const gating = res.claims.filter((c) => c.gating);
  const count = (s: string): number => gating.filter((c) => c.status === s).length;
  const figures: CheckResult['figures'] = {
    path: art.int8 ? 'int8' : 'float32',
    proved: count('proved'), refuted: count('refuted'), unproved: count('unproved'),
    timeout_ms_lo: res.domainBounds.timeout_ms.lo, timeout_ms_hi: res.domainBounds.timeout_ms.hi,
    invariant_iterations: res.invariant.iterations, invariant_converged: res.invariant.converged,
  };
  const refuted = gating.filter((c) => c.status === 'refuted');
  const unproved = gating.filter((c) => c.status === 'unproved');
  if (refuted.length > 0) {
    return { check: { id, name, status: 'fail', passed: false, figures, reason: `refuted with a counterexample: ${refuted.map((c) => c.rule_id).join(', ')}` }, proof: res };
  }
  if (requireProofs && unproved.length > 0) {
    return { check: { id, name, status: 'fail', passed: false, figures, reason: `--require-proofs: unproved: ${unproved.map((c) => c.rule_id).join(', ')}` }, proof: res };
  }
  return { check: { id, name, status: 'pass', passed: true, figures }, proof: res };
}

function nullIfNaN(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * Writes verification-report.json (schema-checked first) and verification-summary.md into `outDir`,
 * atomically. Refuses a published version's folder (`verify.immutable`): its report is the one it was
 * published with, and a re-run (perhaps without the held-out windows) must not replace it.
 */
export function writeVerification(report: VerificationReport, outDir: string): { reportPath: string; summaryPath: string; text: string } {
  if (registryOfVersionDir(outDir) !== null) {
    throw new RaftNsError('verify.immutable', `verify: ${outDir}: a published version in a registry (immutable); write the report elsewhere with --out <dir>, or omit it to print the report`);
  }
  const text = reportText(report);
  const v = validateAgainst('verification-report', JSON.parse(text));
  if (!v.ok) throw new Error(`verify: internal: the report fails schemas/verification-report.schema.json at ${v.issues[0]!.path}: ${v.issues[0]!.message}`);
  const reportPath = join(outDir, REPORT_FILE);
  const summaryPath = join(outDir, SUMMARY_FILE);
  writeFileAtomic(summaryPath, reportSummary(report));
  writeFileAtomic(reportPath, text);
  return { reportPath, summaryPath, text };
}
