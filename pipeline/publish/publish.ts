/**
 * `publish`: copies a verified artifact into the registry as `<registry>/<model>/<version>/` and lists it in
 * `<registry>/index.json`.
 *
 * Guarantees:
 * - Verified only: the artifact's verification report must say `passed: true` for the exact sha256 of the
 *   weights.bin and manifest.json being published, with every check of verify run and passed — a `not-run`
 *   check blocks unless `allowNotRun` names it, and then the index and the model card record it. The report
 *   is a file anyone can edit, so the gate re-runs what is cheap and decisive itself: integrity (verify's
 *   check a) and the golden vectors through the runtime engine with the tolerance capped (check b).
 * - Immutable: publishing a version that exists with different model bytes (manifest, weights, golden vectors,
 *   ARTIFACT.md, model/) is refused; the same bytes is a no-op, even with a re-run (passing) verification report.
 * - Atomic: the version folder is built under a temporary name, then renamed; index.json (the commit point,
 *   see registry.ts) is replaced last by temp + rename. A failure before the index is replaced undoes the
 *   rename, so the registry is left as it was. A hard crash between the two renames leaves a folder the index
 *   does not list; it is not published, and the next publish of that version replaces it.
 * - One publisher at a time (lock.ts): others wait up to `lockTimeoutMs`. Staging folders carry their
 *   creator's pid and are swept only once that process is gone. Success is reported only after the committed
 *   index was re-read and every file of the version checked on disk against it; an indexed version whose
 *   folder is broken (see `raft-ns registry check`) is rebuilt by re-publishing the same model bytes.
 * - Safe names: model name and version are validated before they become paths.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { loadSchema, validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, sha256Hex, writeDurable } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { checkGoldenVectors, checkIntegrity } from '../verify/verify.js';
import { acquireLock, processAlive } from './lock.js';
import { renderModelCard } from './model-card.js';
import { checkModelName, checkVersion } from './names.js';
import { INDEX_FILE, brokenFiles, readIndex, withVersion, type RegistryFile, type RegistryVersion } from './registry.js';
import { signManifest } from './signature.js';

export interface PublishOptions {
  /** Registry root, e.g. `artifacts/`. */
  registryDir: string;
  /** Verification report to use instead of looking beside the artifact. */
  reportPath?: string;
  /** Ed25519 private key (PKCS#8 PEM text) to sign manifest.json with, and the file it came from (for messages). */
  signKey?: { pem: string; file: string };
  /** Checks of verify (ids such as `d-rules-on-data`, or their letters) whose `not-run` is accepted; recorded in the index and model card. */
  allowNotRun?: string[];
  /** How long to wait for another publisher's lock, ms (default 60 s). */
  lockTimeoutMs?: number;
  /** Test hook, called after each step; throwing from it simulates a crash at that point. */
  onStep?: (step: PublishStep) => void | Promise<void>;
}

export type PublishStep = 'checked' | 'staged' | 'renamed' | 'indexed';

export interface PublishResult {
  /** `repaired`: the version was indexed with these bytes but its folder was broken, and was rebuilt. */
  status: 'published' | 'unchanged' | 'repaired';
  model: string;
  version: string;
  /** The version folder in the registry. */
  dir: string;
  weightsSha256: string;
  files: RegistryFile[];
  signed: boolean;
  /** Checks of verify that did not run and were accepted by `allowNotRun`. */
  notRunAllowed: string[];
}

/** The checks of verify that gate publishing, in report order. */
export const GATING_CHECKS = ['a-integrity', 'b-golden', 'c-int8-vs-float', 'd-rules-on-data', 'e-sound-bounds', 'f-evaluation'] as const;

/** Files an artifact must carry (docs/CONTRACTS.md §6); ARTIFACT.md and model/ are copied when present. */
const REQUIRED = ['manifest.json', 'weights.bin', 'golden.json'] as const;
const OPTIONAL = ['ARTIFACT.md'] as const;
export const REPORT_FILE = 'verification-report.json';

/**
 * Publishes the artifact folder `artifactDir` into `opts.registryDir`.
 *
 * @example
 * await publishArtifact('runs/quantized', { registryDir: 'artifacts' });
 * // → { status: 'published', model: 'raft-ns-default', version: '1.0.0', dir: 'artifacts/raft-ns-default/1.0.0', … }
 */
export async function publishArtifact(artifactDir: string, opts: PublishOptions): Promise<PublishResult> {
  // 1. Read and check the artifact: names, weights hash, verification verdict.
  const manifestPath = join(artifactDir, 'manifest.json');
  for (const f of REQUIRED) {
    if (!existsSync(join(artifactDir, f))) {
      throw new RaftNsError('publish.missing-file', `publish: ${join(artifactDir, f)}: missing; an artifact folder needs ${REQUIRED.join(', ')}`);
    }
  }
  const manifestBytes = readFileSync(manifestPath);
  const manifest = parseJsonObject(manifestBytes, manifestPath, 'an artifact manifest');
  // Names first: they become paths, and their message is the one a user needs.
  const model = checkModelName(manifest.name, `${manifestPath} at /name`);
  const version = checkVersion(manifest.version, `${manifestPath} at /version`);
  validateIfSchema('artifact-manifest', manifest, manifestPath);
  if (manifest.format !== 'raft-ns-artifact') {
    throw new RaftNsError('publish.bad-manifest', `publish: ${manifestPath} at /format: ${JSON.stringify(manifest.format)}; expected "raft-ns-artifact"`);
  }

  const weights = readFileSync(join(artifactDir, 'weights.bin'));
  const weightsSha256 = sha256Hex(weights);
  if (manifest.weights_sha256 !== weightsSha256) {
    throw new RaftNsError(
      'publish.tampered',
      `publish: ${join(artifactDir, 'weights.bin')}: sha256 ${weightsSha256} differs from ${manifestPath} /weights_sha256 (${String(manifest.weights_sha256)}); the weights were modified after export`,
    );
  }
  if (typeof manifest.weights_byte_length === 'number' && manifest.weights_byte_length !== weights.length) {
    throw new RaftNsError('publish.tampered', `publish: ${join(artifactDir, 'weights.bin')}: ${weights.length} bytes; ${manifestPath} /weights_byte_length says ${manifest.weights_byte_length}`);
  }

  // The manifest's `files` map pins the other files (golden vectors, ARTIFACT.md, model/): check them too.
  const listed = manifest.files !== null && typeof manifest.files === 'object' ? (manifest.files as Record<string, unknown>) : {};
  for (const [rel, want] of Object.entries(listed)) {
    const p = join(artifactDir, ...rel.split('/'));
    if (rel.split('/').includes('..') || !existsSync(p)) {
      throw new RaftNsError('publish.missing-file', `publish: ${manifestPath} at /files: ${rel} is listed but ${p} is missing`);
    }
    const got = sha256Hex(readFileSync(p));
    if (got !== want) {
      throw new RaftNsError('publish.tampered', `publish: ${p}: sha256 ${got} differs from ${manifestPath} /files (${String(want)}); the file was modified after export`);
    }
  }

  const reportPath = opts.reportPath ?? findReport(artifactDir);
  const reportBytes = readFileSync(reportPath);
  const report = parseJsonObject(reportBytes, reportPath, 'a verification report');
  validateIfSchema('verification-report', report, reportPath);
  const notRunAllowed = gateOnReport(report, reportPath, weightsSha256, sha256Hex(manifestBytes), opts.allowNotRun ?? []);
  // The report is only a file: re-run the cheap, decisive checks on the bytes being published.
  gateOnArtifact(artifactDir);
  const reportSha256 = sha256Hex(reportBytes);
  opts.onStep?.('checked');

  // 2. The exact bytes of the version folder.
  const files = new Map<string, Uint8Array>();
  files.set('manifest.json', manifestBytes);
  files.set('weights.bin', weights);
  files.set('golden.json', readFileSync(join(artifactDir, 'golden.json')));
  files.set(REPORT_FILE, reportBytes);
  for (const f of OPTIONAL) if (existsSync(join(artifactDir, f))) files.set(f, readFileSync(join(artifactDir, f)));
  const modelDir = join(artifactDir, 'model');
  if (existsSync(modelDir) && statSync(modelDir).isDirectory()) {
    for (const p of listFiles(modelDir)) files.set(`model/${relative(modelDir, p).split(sep).join('/')}`, readFileSync(p));
  }
  const sig = opts.signKey ? signManifest(manifestBytes, opts.signKey.pem, opts.signKey.file) : null;
  files.set('MODEL_CARD.md', Buffer.from(renderModelCard({ manifest, report, weightsSha256, reportSha256, signed: sig !== null, notRunAllowed })));
  if (sig) files.set('manifest.sig', Buffer.from(sig.sigText));

  const fileEntries: RegistryFile[] = [...files.entries()]
    .map(([path, bytes]) => ({ path, sha256: sha256Hex(bytes), byte_length: bytes.length }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const entry: RegistryVersion = {
    version,
    path: `${model}/${version}`,
    weights_sha256: weightsSha256,
    manifest_sha256: sha256Hex(manifestBytes),
    verification: { report_sha256: reportSha256, passed: true, weights_sha256: weightsSha256, ...(notRunAllowed.length ? { not_run_allowed: notRunAllowed } : {}) },
    signature: sig ? { algorithm: 'ed25519', file: 'manifest.sig', public_key_sha256: sig.publicKeySha256 } : null,
    files: fileEntries,
    artifact_tool_version: typeof manifest.tool_version === 'string' ? manifest.tool_version : 'unknown',
    published_by: TOOL_VERSION,
  };
  const versionDir = join(opts.registryDir, model, version);
  const result = (status: PublishResult['status'], e: RegistryVersion): PublishResult => ({
    status, model, version, dir: versionDir, weightsSha256, files: e.files, signed: e.signature !== null,
    notRunAllowed: e.verification.not_run_allowed ?? [],
  });

  // 3–4 hold the registry lock: two publishers must not both read the old index and each drop the other's entry.
  mkdirSync(opts.registryDir, { recursive: true });
  const lock = await acquireLock(opts.registryDir, opts.lockTimeoutMs === undefined ? {} : { timeoutMs: opts.lockTimeoutMs });
  try {
    sweepDebris(opts.registryDir, model);
    return await commitVersion();
  } finally {
    lock.release();
  }

  async function commitVersion(): Promise<PublishResult> {
    // 3. Immutability: an indexed version with the same bytes is a no-op; different bytes are refused.
    const index = readIndex(opts.registryDir);
    const existing = index.models[model]?.versions.find((v) => v.version === version);
    let repairing = false;
    if (existing) {
      if (identity(existing.files) !== identity(fileEntries)) {
        const differing = diffFiles(existing.files, fileEntries);
        throw new RaftNsError(
          'publish.immutable',
          `publish: ${versionDir}: ${model} ${version} is already published with different bytes (${differing}); versions are immutable, publish under a new version`,
        );
      }
      if (sig && existing.signature?.public_key_sha256 !== sig.publicKeySha256) {
        throw new RaftNsError(
          'publish.immutable',
          `publish: ${versionDir}: ${model} ${version} is already published ${existing.signature ? 'signed by another key' : 'unsigned'}; versions are immutable, publish under a new version`,
        );
      }
      // Intact: a no-op. Broken (files missing or changed on disk): these are the very model bytes the index
      // pins, so rebuilding the folder from them restores the version rather than changing it.
      if (brokenFiles(opts.registryDir, existing).length === 0) return result('unchanged', existing);
      repairing = true;
    }

    // 4. Stage under a temporary name, rename into place, then commit by replacing index.json.
    const modelRoot = join(opts.registryDir, model);
    mkdirSync(modelRoot, { recursive: true });
    const nonce = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const stagingDir = join(modelRoot, `.${version}.tmp-${nonce}`);
    const indexPath = join(opts.registryDir, INDEX_FILE);
    const indexTmp = join(opts.registryDir, `.${INDEX_FILE}.tmp-${nonce}`);
    // An unindexed folder is debris of an interrupted publish; an indexed broken one is rebuilt below.
    const aside = existsSync(versionDir) ? join(modelRoot, `.${version}.trash-${nonce}`) : null;
    if (aside && !repairing) removeDir(versionDir, nonce);
    let renamed = false;
    let committed = false;
    try {
      for (const [path, bytes] of files) {
        const p = join(stagingDir, ...path.split('/'));
        mkdirSync(dirname(p), { recursive: true });
        writeDurable(p, bytes);
      }
      await opts.onStep?.('staged');
      writeDurable(indexTmp, jsonText(withVersion(index, model, entry)));
      if (aside && repairing) renameSync(versionDir, aside);
      renameSync(stagingDir, versionDir);
      renamed = true;
      await opts.onStep?.('renamed');
      if (!lock.stillHeld()) {
        throw new RaftNsError('publish.lock-lost', `publish: ${join(opts.registryDir, '.publish.lock')}: the registry lock was taken from this publish before its commit; nothing was committed, publish again`);
      }
      renameSync(indexTmp, indexPath);
      committed = true;
    } finally {
      if (!committed) {
        if (renamed) removeDir(versionDir, nonce);
        if (aside && repairing && existsSync(aside)) renameSync(aside, versionDir);
        rmSync(stagingDir, { recursive: true, force: true });
        rmSync(indexTmp, { force: true });
      }
    }
    if (aside && repairing) rmSync(aside, { recursive: true, force: true });
    await opts.onStep?.('indexed');
    // Success only once the committed index lists this entry and every file it pins is on disk with its hash.
    const after = readIndex(opts.registryDir).models[model]?.versions.find((v) => v.version === version);
    const broken = after ? brokenFiles(opts.registryDir, after) : ['(not in index.json)'];
    if (!after || after.manifest_sha256 !== entry.manifest_sha256 || broken.length > 0) {
      throw new RaftNsError('publish.broken', `publish: ${versionDir}: after the commit ${broken.join(', ')} do not match index.json; run raft-ns registry check --registry ${opts.registryDir}`);
    }
    return result(repairing ? 'repaired' : 'published', entry);
  }
}

export { LOCK_FILE } from './lock.js';

/**
 * The report's verdict, bound to these exact bytes, with every gating check run: returns the checks whose
 * `not-run` the caller accepted (sorted ids), throws `publish.unverified` otherwise.
 */
function gateOnReport(report: Record<string, unknown>, reportPath: string, weightsSha256: string, manifestSha256: string, allowNotRun: string[]): string[] {
  const verdict = verificationVerdict(report);
  if (verdict.weightsSha256 !== weightsSha256) {
    throw new RaftNsError(
      'publish.unverified',
      `publish: ${reportPath}: the report is for weights ${verdict.weightsSha256 ?? '(none named)'}, not ${weightsSha256}; run raft-ns verify on this artifact first`,
    );
  }
  const art = report.artifact !== null && typeof report.artifact === 'object' ? (report.artifact as Record<string, unknown>) : {};
  if (art.manifest_sha256 !== manifestSha256) {
    throw new RaftNsError('publish.unverified', `publish: ${reportPath} at /artifact/manifest_sha256: the report is for another manifest.json, not ${manifestSha256}; run raft-ns verify on this artifact first`);
  }
  if (!verdict.passed) {
    throw new RaftNsError('publish.unverified', `publish: ${reportPath}: verification did not pass (passed: ${String(report.passed)}); fix the failing checks and verify again`);
  }
  const allowed = new Set(allowNotRun.map((x) => GATING_CHECKS.find((id) => id === x || id.startsWith(`${x}-`)) ?? x));
  const unknown = [...allowed].filter((x) => !(GATING_CHECKS as readonly string[]).includes(x));
  if (unknown.length) {
    throw new RaftNsError('publish.option', `publish: --allow-not-run: unknown check ${unknown[0]}; expected one of ${GATING_CHECKS.join(', ')}`);
  }
  const checks = Array.isArray(report.checks) ? (report.checks as Array<Record<string, unknown>>) : [];
  const accepted: string[] = [];
  for (const id of GATING_CHECKS) {
    const c = checks.find((x) => x.id === id);
    const status = c?.status ?? 'absent';
    if (status === 'pass' && c?.passed !== false) continue;
    if (status === 'not-run' && allowed.has(id)) {
      accepted.push(id);
      continue;
    }
    const why = status === 'not-run' ? `did not run (${String(c?.reason ?? 'no reason given')}); run verify with what it needs (--windows), or pass --allow-not-run ${id} to publish with it recorded as not run` : status === 'absent' ? 'is absent from the report; run raft-ns verify on this artifact' : `has status ${String(status)}`;
    throw new RaftNsError('publish.unverified', `publish: ${reportPath}: check ${id} ${why}`);
  }
  return accepted;
}

/** Re-runs verify's checks a (integrity) and b (golden vectors, capped tolerance) on the artifact folder. */
function gateOnArtifact(artifactDir: string): void {
  const a = checkIntegrity(artifactDir);
  if (a.check.status !== 'pass' || !a.artifact) {
    throw new RaftNsError('publish.gate', `publish: ${artifactDir}: integrity check failed before publishing: ${a.check.reason ?? 'unknown'}`);
  }
  const b = checkGoldenVectors(artifactDir, a.artifact);
  if (b.status !== 'pass') {
    throw new RaftNsError('publish.gate', `publish: ${artifactDir}: golden vectors do not hold through the runtime: ${b.reason ?? 'unknown'}`);
  }
}

/**
 * Removes temporary files and folders left by publishers that died midway (staging folders, index temp
 * files, folders renamed aside for deletion). Each name carries its creator's pid (`.tmp-<pid>-…`,
 * `.trash-<pid>-…`); one whose creator still runs is never touched, whatever the lock says.
 */
function sweepDebris(registryDir: string, model: string): void {
  const owner = (name: string): number | null => {
    const m = /^\..*\.(?:tmp|trash)-(\d+)-[0-9a-f]+$/.exec(name);
    return m ? Number(m[1]) : null;
  };
  for (const dir of [registryDir, join(registryDir, model)]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const pid = owner(name);
      if (pid !== null && (pid === process.pid || !processAlive(pid))) rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
}

/** The verification report beside the artifact: inside its folder, or `<artifact>.verification-report.json` next to it. */
function findReport(artifactDir: string): string {
  const candidates = [join(artifactDir, REPORT_FILE), `${artifactDir.replace(/[\\/]+$/, '')}.${REPORT_FILE}`];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new RaftNsError('publish.unverified', `publish: ${artifactDir}: no ${REPORT_FILE} in the artifact folder or beside it; run raft-ns verify ${artifactDir} first`);
  }
  return found;
}

/** Reads the verdict from a verify report: `passed` and the `weights_sha256` it was computed for. */
export function verificationVerdict(report: Record<string, unknown>): { passed: boolean; weightsSha256: string | undefined } {
  const nested = report.artifact !== null && typeof report.artifact === 'object' ? (report.artifact as Record<string, unknown>) : {};
  const sha = report.weights_sha256 ?? nested.weights_sha256;
  return { passed: report.passed === true, weightsSha256: typeof sha === 'string' ? sha : undefined };
}

function parseJsonObject(bytes: Uint8Array, path: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new RaftNsError('publish.bad-json', `publish: ${path}: not valid JSON; expected ${what}`, { cause: err });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new RaftNsError('publish.bad-json', `publish: ${path}: expected ${what} (a JSON object)`);
  }
  return v as Record<string, unknown>;
}

/** Validates against schemas/<name>.schema.json when that schema exists (the stage owning it may not have landed yet). */
function validateIfSchema(name: string, value: unknown, path: string): void {
  try {
    loadSchema(name);
  } catch {
    return;
  }
  const v = validateAgainst(name, value);
  if (!v.ok) {
    const i = v.issues[0]!;
    throw new RaftNsError('publish.bad-json', `publish: ${path} at ${i.path}: ${i.message}; expected schemas/${name}.schema.json`);
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Files that are evidence about the model rather than the model: the verification report (it records where
 * the artifact was verified), the model card generated from it, and the signature. A version's identity is
 * every other file; re-publishing the same model with a fresh passing report is a no-op that keeps the first.
 */
const EVIDENCE = new Set([REPORT_FILE, 'MODEL_CARD.md', 'manifest.sig']);

function identity(files: RegistryFile[]): string {
  return JSON.stringify(files.filter((f) => !EVIDENCE.has(f.path)));
}

function diffFiles(a: RegistryFile[], b: RegistryFile[]): string {
  const m = new Map(a.map((f) => [f.path, f.sha256]));
  const names = new Set([...a.map((f) => f.path), ...b.map((f) => f.path)]);
  const diff = [...names].filter((n) => !EVIDENCE.has(n) && m.get(n) !== b.find((f) => f.path === n)?.sha256);
  return `${diff.join(', ')} differ`;
}

/** Removes a folder by first renaming it aside, so a crash mid-delete never leaves a half folder at its name. */
function removeDir(dir: string, nonce: string): void {
  const aside = join(dirname(dir), `.${basename(dir)}.trash-${nonce}`);
  renameSync(dir, aside);
  rmSync(aside, { recursive: true, force: true });
}
