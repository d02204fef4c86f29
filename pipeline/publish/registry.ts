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
  models: Record<string, { latest: string | null; versions: RegistryVersion[] }>;
}

export const INDEX_FILE = 'index.json';

export function emptyIndex(): RegistryIndex {
  return { format: 'raft-ns-registry', format_version: 1, tool_version: TOOL_VERSION, models: {} };
}

/** Reads and validates `<registry>/index.json`; an absent index is an empty registry. */
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
  return v.value;
}

/** A new index with `entry` added to `model`, versions sorted by semver precedence and `latest` recomputed. */
export function withVersion(index: RegistryIndex, model: string, entry: RegistryVersion): RegistryIndex {
  const models = { ...index.models };
  const prev = models[model]?.versions.filter((v) => v.version !== entry.version) ?? [];
  const versions = [...prev, entry].sort((a, b) => compareSemver(a.version, b.version));
  const releases = versions.filter((v) => isRelease(v.version));
  models[model] = { latest: releases.length ? releases[releases.length - 1]!.version : null, versions };
  const sorted = Object.fromEntries(Object.keys(models).sort().map((k) => [k, models[k]!]));
  return { format: 'raft-ns-registry', format_version: 1, tool_version: TOOL_VERSION, models: sorted };
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
    // A valid signature says who made the manifest, not which version it is: a signed manifest of another
    // version copied into this folder must not pass as this one.
    const signed = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name?: unknown; version?: unknown };
    if (signed.name !== model || signed.version !== v.version) {
      throw new RaftNsError('publish.bad-signature', `publish: ${join(dir, 'manifest.json')}: the signed manifest is ${String(signed.name)} ${String(signed.version)}, not ${model} ${v.version}`);
    }
  }
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
  kind: 'broken' | 'unindexed' | 'temporary' | 'stale-lock' | 'bad-index';
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
  for (const [model, m] of Object.entries(index.models)) {
    for (const v of m.versions) {
      versions++;
      indexed.add(v.path);
      const broken = brokenFiles(registryDir, v);
      if (v.path !== `${model}/${v.version}`) problems.push({ kind: 'broken', path: join(registryDir, v.path), detail: `listed for ${model} ${v.version} at another path` });
      if (broken.length) problems.push({ kind: 'broken', path: join(registryDir, v.path), detail: `${model} ${v.version}: ${broken.join(', ')} missing or not matching index.json` });
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
