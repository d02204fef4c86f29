/**
 * The thin Node shell of the runtime: reads an artifact folder (or a rules file) from disk and hands the
 * bytes to the I/O-free parsers. The only runtime file that touches node:fs; browsers fetch() the same two
 * files and call artifactFromBytes directly.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactFromBytes, type LoadedArtifact, type ParseOptions } from './artifact.js';
import { RuntimeError } from './errors.js';
import { compileRules, type CompiledRules } from './rules.js';
import { requireManifestSignature } from './signature.js';

/**
 * Loads and checks `<dir>/manifest.json` + `<dir>/weights.bin`.
 * With `publicKeyPem`, refuses an artifact whose manifest.sig is missing or does not verify. With `expect`,
 * refuses a manifest that names another model or version (a signature says who made a manifest, not which
 * version a folder holds: a signed manifest of 1.1.0 copied into 1.0.0/ verifies).
 * @example const art = await loadArtifactFromDir('artifacts/raft-ns-default/2.12.0', { expect: { name: 'raft-ns-default', version: '2.12.0' } });
 */
export async function loadArtifactFromDir(dir: string, options: ParseOptions & { publicKeyPem?: string; expect?: { name: string; version: string } } = {}): Promise<LoadedArtifact> {
  const manifestPath = join(dir, 'manifest.json');
  const weightsPath = join(dir, 'weights.bin');
  const manifest = await readOrFail(manifestPath);
  // With a public key, the manifest must carry the publisher's Ed25519 signature (runtime/signature.ts);
  // checked before anything in it is trusted.
  if (options.publicKeyPem !== undefined) {
    const sigPath = join(dir, 'manifest.sig');
    const sigText = existsSync(sigPath) ? new TextDecoder().decode(await readOrFail(sigPath)) : null;
    await requireManifestSignature(manifest, sigText, options.publicKeyPem, manifestPath);
  }
  const weights = await readOrFail(weightsPath);
  const { expect, publicKeyPem: _key, ...parse } = options;
  const art = artifactFromBytes(manifest, weights, { manifestName: manifestPath, weightsName: weightsPath, ...parse });
  if (expect && (art.manifest.name !== expect.name || art.manifest.version !== expect.version)) {
    throw new RuntimeError('runtime.wrong-version', `runtime: ${manifestPath} names ${JSON.stringify(art.manifest.name)} ${JSON.stringify(art.manifest.version)}, expected ${expect.name} ${expect.version}`);
  }
  return art;
}

/** Reads, validates and compiles a safety-rules JSON file. */
export async function loadRulesFromFile(path: string): Promise<CompiledRules> {
  const bytes = await readOrFail(path);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new RuntimeError('runtime.rules.json', `runtime: ${path}: not valid JSON (${(err as Error).message}); expected safety rules (schemas/safety-rules.schema.json)`);
  }
  return compileRules(value, path);
}

async function readOrFail(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RuntimeError('runtime.artifact.missing', `runtime: ${path}: cannot read (${code ?? (err as Error).message})`, { cause: err });
  }
}
