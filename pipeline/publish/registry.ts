/**
 * The registry index, `artifacts/index.json` (schemas/registry-index.schema.json): every published version
 * of every model with the sha256 of each file. Invariant: a version is published if and only if the index
 * lists it. The index is replaced by temp file + rename as the last step of a publish, so it is the commit
 * point; a version folder the index does not list is debris from an interrupted publish.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { checkModelName, checkVersion, compareSemver, isRelease } from './names.js';
import { LOCK_FILE, isStale, readRecord } from './lock.js';
import { verifyManifestSignature } from './signature.js';

export interface RegistryFile {
  path: string;
  sha256: string;
  byte_length: number;
}

export interface RegistryVersion {
  version: string;
  path: string;
  weights_sha256: string;
  manifest_sha256: string;
  /** `not_run_allowed`: checks of verify that did not run and that the publisher accepted explicitly. */
  verification: { report_sha256: string; passed: true; weights_sha256: string; not_run_allowed?: string[] };
  signature: { algorithm: 'ed25519'; file: 'manifest.sig'; public_key_sha256: string } | null;
  files: RegistryFile[];
  artifact_tool_version: string;
  published_by: string;
}

export interface RegistryIndex {
  format: 'raft-ns-registry';
  format_version: 1;
  tool_version: string;
  /** sha256 of the canonical JSON of `models` (integrityOf); absent in a legacy index written before it existed. */
  integrity?: { algorithm: 'sha256-canonical-json'; models_sha256: string };
  models: Record<string, { latest: string | null; versions: RegistryVersion[] }>;
}

export const INDEX_FILE = 'index.json';
const REPORT = 'verification-report.json';

export function emptyIndex(): RegistryIndex {
  return { format: 'raft-ns-registry', format_version: 1, tool_version: TOOL_VERSION, models: {} };
}

/**
 * The index's integrity field: sha256 over the canonical JSON (keys sorted, no spaces) of `models`. Every
 * publish writes it and every read checks it, so an index edited by hand (an entry's hashes changed to
 * match a swapped file, a version dropped or added) is reported instead of trusted — and never laundered
 * by the next publish, which would otherwise rewrite it with a fresh field. It is a checksum, not a
 * signature: it catches corruption and edits that do not recompute it; signed manifests say who made a version.
 */
export function integrityOf(models: RegistryIndex['models']): NonNullable<RegistryIndex['integrity']> {
  return { algorithm: 'sha256-canonical-json', models_sha256: sha256Hex(canonicalJson(models)) };
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Reads and validates `<registry>/index.json`; an absent index is an empty registry. An integrity field that
 * does not match the entries is refused (`publish.bad-index`); an index without one is legacy and read as is
 * (`raft-ns registry check` says so; the next publish adds the field).
 */
export function readIndex(registryDir: string): RegistryIndex {
  const path = join(registryDir, INDEX_FILE);
  if (!existsSync(path)) return emptyIndex();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new RaftNsError('publish.bad-index', `publish: ${path}: not valid JSON; expected a registry index (schemas/registry-index.schema.json)`, { cause: err });
  }
  const v = validateAgainst<RegistryIndex>('registry-index', parsed);
  if (!v.ok) {
    const i = v.issues[0]!;
    throw new RaftNsError('publish.bad-index', `publish: ${path} at ${i.path}: ${i.message}; expected a registry index (schemas/registry-index.schema.json)`);
  }
  if (v.value.integrity && v.value.integrity.models_sha256 !== integrityOf(v.value.models).models_sha256) {
    throw new RaftNsError('publish.bad-index', `publish: ${path} at /integrity: the entries do not match models_sha256 ${v.value.integrity.models_sha256}; index.json was modified outside publish (run raft-ns registry check, restore it from version control)`);
  }
  return v.value;
}

/** The manifest of a version folder names that model and version, or the reason it does not (null when it does). */
export function manifestMismatch(versionDir: string, model: string, version: string): string | null {
  const path = join(versionDir, 'manifest.json');
  let m: { name?: unknown; version?: unknown };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
  } catch {
    return `${path}: missing or not valid JSON`;
  }
  if (m === null || typeof m !== 'object') return `${path}: not a JSON object`;
  // A manifest (signed or not) of another version copied into this folder must not pass as this one.
  return m.name === model && m.version === version ? null : `${path} names ${JSON.stringify(m.name)} ${JSON.stringify(m.version)}, not ${model} ${version}`;
}

/** A new index with `entry` added to `model`, versions sorted by semver precedence and `latest` recomputed. */
export function withVersion(index: RegistryIndex, model: string, entry: RegistryVersion): RegistryIndex {
  const models = { ...index.models };
  const prev = models[model]?.versions.filter((v) => v.version !== entry.version) ?? [];
  const versions = [...prev, entry].sort((a, b) => compareSemver(a.version, b.version));
  const releases = versions.filter((v) => isRelease(v.version));
  models[model] = { latest: releases.length ? releases[releases.length - 1]!.version : null, versions };
  const sorted = Object.fromEntries(Object.keys(models).sort().map((k) => [k, models[k]!]));
  return { format: 'raft-ns-registry', format_version: 1, tool_version: TOOL_VERSION, integrity: integrityOf(sorted), models: sorted };
}

/**
 * The folder of a published version (`version` omitted = the model's `latest`), after checking every file
 * against the sha256 the index records and, given an Ed25519 public key (PEM), the manifest signature.
 *
 * @example
 * const dir = openPublished('artifacts', 'raft-ns-default');   // artifacts/raft-ns-default/<latest>
 */
export function openPublished(registryDir: string, model: string, version?: string, publicKeyPem?: string): string {
  checkModelName(model, registryDir);
  const index = readIndex(registryDir);
  const entry = index.models[model];
  const want = version ?? entry?.latest ?? undefined;
  if (want !== undefined) checkVersion(want, registryDir);
  const v = entry?.versions.find((x) => x.version === want);
  if (!entry || !v) {
    throw new RaftNsError('publish.not-found', `publish: ${join(registryDir, INDEX_FILE)}: no published version ${want ?? '(latest)'} of model ${model}`);
  }
  const dir = join(registryDir, v.path);
  if (v.path !== `${model}/${v.version}`) {
    throw new RaftNsError('publish.tampered', `publish: ${join(registryDir, INDEX_FILE)}: ${model} ${v.version} is listed at ${v.path}, not ${model}/${v.version}`);
  }
  for (const f of v.files) {
    const p = join(dir, f.path);
    const actual = existsSync(p) ? sha256Hex(readFileSync(p)) : 'missing';
    if (actual !== f.sha256) {
      throw new RaftNsError('publish.tampered', `publish: ${p}: sha256 ${actual} differs from the registry index (${f.sha256}); the published copy was modified`);
    }
  }
  if (publicKeyPem !== undefined) {
    const sigPath = join(dir, 'manifest.sig');
    if (!v.signature || !existsSync(sigPath)) {
      throw new RaftNsError('publish.unsigned', `publish: ${dir}: version ${v.version} is not signed; expected manifest.sig`);
    }
    if (!verifyManifestSignature(readFileSync(join(dir, 'manifest.json')), readFileSync(sigPath, 'utf8'), publicKeyPem)) {
      throw new RaftNsError('publish.bad-signature', `publish: ${sigPath}: signature does not verify with the given public key`);
    }
  }
  // A valid signature or hash says who made the manifest, not which version it is: a manifest of another
  // version copied into this folder (with index.json edited to match) must not pass as this one.
  const mismatch = manifestMismatch(dir, model, v.version);
  if (mismatch) throw new RaftNsError(publicKeyPem !== undefined ? 'publish.bad-signature' : 'publish.tampered', `publish: ${mismatch}`);
  return dir;
}

/** Paths (relative to the version folder) of an indexed version's files that are missing or whose sha256 differs from the index. */
export function brokenFiles(registryDir: string, v: RegistryVersion): string[] {
  const dir = join(registryDir, v.path);
  return v.files.filter((f) => {
    const p = join(dir, ...f.path.split('/'));
    return !existsSync(p) || sha256Hex(readFileSync(p)) !== f.sha256;
  }).map((f) => f.path);
}

export interface RegistryProblem {
  /** `broken`: an indexed version with files missing or changed (gates the exit code); the others are debris. */
  /** `legacy-index`: index.json has no integrity field (written before it existed); not an error. */
  kind: 'broken' | 'unindexed' | 'temporary' | 'stale-lock' | 'bad-index' | 'legacy-index';
  path: string;
  detail: string;
}

/**
 * The registry's fsck (`raft-ns registry check`): every indexed version's files against the index, plus
 * what interrupted publishes leave (unindexed version folders, temporary folders, a stale lock). Read only.
 *
 * @example
 * const problems = checkRegistry('artifacts'); // [] when every version is intact
 */
export function checkRegistry(registryDir: string): { versions: number; problems: RegistryProblem[] } {
  const problems: RegistryProblem[] = [];
  let index: RegistryIndex;
  try {
    index = readIndex(registryDir);
  } catch (err) {
    return { versions: 0, problems: [{ kind: 'bad-index', path: join(registryDir, INDEX_FILE), detail: (err as Error).message.replace(/^publish: [^:]*: /, '') }] };
  }
  let versions = 0;
  const indexed = new Set<string>();
  if (!index.integrity && Object.keys(index.models).length > 0) {
    problems.push({ kind: 'legacy-index', path: join(registryDir, INDEX_FILE), detail: 'no integrity field (written before raft-ns recorded one); the next publish adds it, and edits made before then cannot be detected' });
  }
  for (const [model, m] of Object.entries(index.models)) {
    for (const v of m.versions) {
      versions++;
      indexed.add(v.path);
      const at = join(registryDir, v.path);
      const broken = brokenFiles(registryDir, v);
      if (v.path !== `${model}/${v.version}`) problems.push({ kind: 'broken', path: at, detail: `listed for ${model} ${v.version} at another path` });
      if (broken.length) problems.push({ kind: 'broken', path: at, detail: `${model} ${v.version}: ${broken.join(', ')} missing or not matching index.json` });
      // The entry agrees with itself: its headline hashes are those of the files it lists.
      const sha = (p: string): string | undefined => v.files.find((f) => f.path === p)?.sha256;
      if (sha('manifest.json') !== v.manifest_sha256 || sha('weights.bin') !== v.weights_sha256 || v.verification.weights_sha256 !== v.weights_sha256 || sha(REPORT) !== v.verification.report_sha256) {
        problems.push({ kind: 'broken', path: at, detail: `${model} ${v.version}: the entry's manifest, weights or report sha256 differs from its own file list; index.json was edited` });
      }
      const mismatch = broken.includes('manifest.json') ? null : manifestMismatch(at, model, v.version);
      if (mismatch) problems.push({ kind: 'broken', path: at, detail: `${model} ${v.version}: ${mismatch}` });
    }
  }
  if (!existsSync(registryDir)) return { versions, problems };
  for (const name of readdirSync(registryDir)) {
    const p = join(registryDir, name);
    if (name === LOCK_FILE) {
      const rec = readRecord(p);
      if (rec !== null && rec !== 'unreadable' && isStale(rec)) problems.push({ kind: 'stale-lock', path: p, detail: `held by pid ${rec.pid}, which is gone; the next publish takes it over` });
      continue;
    }
    if (name.startsWith('.') && /\.(tmp|trash)-/.test(name)) problems.push({ kind: 'temporary', path: p, detail: 'left by an interrupted publish; the next publish removes it' });
    if (name.startsWith('.') || !statSync(p).isDirectory()) continue;
    for (const sub of readdirSync(p)) {
      const q = join(p, sub);
      if (sub.startsWith('.')) {
        if (/\.(tmp|trash)-/.test(sub)) problems.push({ kind: 'temporary', path: q, detail: 'left by an interrupted publish; the next publish removes it' });
      } else if (statSync(q).isDirectory() && !indexed.has(`${name}/${sub}`)) {
        problems.push({ kind: 'unindexed', path: q, detail: 'not listed in index.json: not published (debris of an interrupted publish, or dropped in by hand)' });
      }
    }
  }
  return { versions, problems };
}
