import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkRegistry, openPublished, publishArtifact, readIndex, verifyManifestSignature, verifyManifestSignatureWebCrypto } from '../pipeline/publish/index.js';
import { acquireLock } from '../pipeline/publish/lock.js';
import { integrityOf } from '../pipeline/publish/registry.js';
import { checkIntegrity } from '../pipeline/verify/verify.js';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { validateAgainst } from '../pipeline/schemas.js';
import { RaftNsError } from '../pipeline/util/errors.js';
import { sha256Hex } from '../pipeline/util/fs.js';
import { FEATURE_TRANSFORMS } from '../runtime/features.js';
import { buildFixtureArtifact, type FixtureArtifact } from './runtime-fixtures/artifact-writer.js';

let root: string;
let registry: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'raft-ns-publish-'));
  registry = join(root, 'artifacts');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/**
 * A real artifact folder shaped like quantize's output (docs/CONTRACTS.md §6) — seeded weights whose golden
 * vectors hold through the runtime (the gate re-runs them) — plus a verify report naming its exact bytes.
 */
function makeArtifact(
  dir: string,
  o: { name?: string; version?: string; fill?: number; report?: 'pass' | 'fail' | 'other-weights' | 'none' | 'd-not-run'; golden?: (g: FixtureArtifact['golden']) => unknown } = {},
): string {
  mkdirSync(join(dir, 'model'), { recursive: true });
  const fx = buildFixtureArtifact(o.fill ?? 1);
  const weights = fx.weights;
  const sha = sha256Hex(weights);
  const golden = `${JSON.stringify(o.golden ? o.golden(fx.golden) : fx.golden)}\n`;
  const manifest = {
    format: 'raft-ns-artifact', format_version: 1, name: o.name ?? 'raft-ns-default', version: o.version ?? '1.0.0',
    tool_version: '0.1.0', created_at: '2026-11-25T00:00:00Z',
    architecture: fx.manifest.architecture,
    tick_ms: 10,
    normalization: { ...(fx.manifest.normalization as object), transforms: [...FEATURE_TRANSFORMS] },
    quantization: { scheme: 'int8-symmetric-per-output-channel', zero_point: 0 },
    tensors: fx.manifest.tensors,
    weights_sha256: sha, weights_byte_length: weights.length,
    inputs: { dataset_sha256: 'a'.repeat(64), windows_sha256: 'b'.repeat(64), config_sha256: 'c'.repeat(64) },
    seed: 42,
    training: { engine: 'fused', backend: 'cpu', epochs: 3, metrics: { val_pinball: 0.0123 } },
    quantization_error: { split: 'test', streams: 1, ticks: 8, method: 'test',
      timeout_ms: { max: 0.5, p99: 0.4, mean: 0.1 }, p_leader_lost: { max: 0, p99: 0, mean: 0 }, log_gap_quantile: { max: 0, p99: 0, mean: 0 } },
    files: { 'golden.json': sha256Hex(golden) },
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, 'weights.bin'), weights);
  writeFileSync(join(dir, 'manifest.json'), manifestText);
  writeFileSync(join(dir, 'golden.json'), golden);
  writeFileSync(join(dir, 'ARTIFACT.md'), '# format\n');
  writeFileSync(join(dir, 'model', 'model.json'), '{}\n');
  const r = o.report ?? 'pass';
  if (r !== 'none') writeReport(dir, manifest.name, manifest.version, sha256Hex(manifestText), r === 'other-weights' ? 'd'.repeat(64) : sha, r);
  expect(validateAgainst('artifact-manifest', manifest).ok || o.name !== undefined || o.version !== undefined).toBe(true);
  return dir;
}

const CHECK_IDS = ['a-integrity', 'b-golden', 'c-int8-vs-float', 'd-rules-on-data', 'e-sound-bounds', 'f-evaluation'];

/** verify's report for the given bytes: every check passing, or one failing / not run. */
function writeReport(dir: string, name: string, version: string, manifestSha: string, weightsSha: string, kind: 'pass' | 'fail' | 'other-weights' | 'd-not-run'): void {
  const ok = kind !== 'fail';
  const checks = CHECK_IDS.map((id) =>
    kind === 'd-not-run' && id === 'd-rules-on-data'
      ? { id, name: id, status: 'not-run', reason: 'no --windows folder given', figures: {} }
      : { id, name: id, status: ok || id !== 'b-golden' ? 'pass' : 'fail', passed: ok || id !== 'b-golden', figures: { max_abs_err: 0 } },
  );
  const report = {
    format: 'raft-ns-verification-report', format_version: 1, tool_version: '0.1.0', passed: ok,
    weights_sha256: weightsSha,
    artifact: { dir, name, version, manifest_sha256: manifestSha, weights_sha256: weightsSha },
    rules: { source: 'embedded default', name: 'default', sha256: 'f'.repeat(64) },
    windows: null,
    config: { seed: 0, split_budget: 1, search_budget: 0, search_ticks: 1, require_proofs: false, heartbeat_interval_ms: 100, max_spurious_rate: null,
      rounding: { unit_roundoff: 1e-7, tiny: 1e-38 }, precision: 'int8' },
    checks,
    proof: null,
  };
  expect(validateAgainst('verification-report', report).ok).toBe(true);
  writeFileSync(join(dir, 'verification-report.json'), `${JSON.stringify(report)}\n`);
}

const WEIGHTS_BYTES = buildFixtureArtifact(1).weights.length;

/** Every file under a folder (hidden ones included) with its sha256: the registry's exact state. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[`${relative(dir, p)}/`] = 'dir';
        walk(p);
      } else out[relative(dir, p)] = sha256Hex(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RaftNsError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('raft-ns publish', () => {
  it('publishes a verified artifact as <model>/<version>/ with a model card and a schema-valid index', async () => {
    const art = makeArtifact(join(root, 'a'));
    const r = await publishArtifact(art, { registryDir: registry });
    expect(r.status).toBe('published');
    const dir = join(registry, 'raft-ns-default', '1.0.0');
    for (const f of ['manifest.json', 'weights.bin', 'golden.json', 'verification-report.json', 'ARTIFACT.md', 'MODEL_CARD.md', 'model/model.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const index = JSON.parse(readFileSync(join(registry, 'index.json'), 'utf8')) as unknown;
    expect(validateAgainst('registry-index', index).ok).toBe(true);
    const v = readIndex(registry).models['raft-ns-default']!;
    expect(v.latest).toBe('1.0.0');
    expect(v.versions[0]!.weights_sha256).toBe(sha256Hex(readFileSync(join(art, 'weights.bin'))));
    expect(v.versions[0]!.files.find((f) => f.path === 'weights.bin')!.byte_length).toBe(WEIGHTS_BYTES);
    const card = readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8');
    for (const h of ['## Model details', '## Intended use', '## Factors', '## Metrics', '## Evaluation data', '## Training data', '## Caveats']) {
      expect(card).toContain(h);
    }
    expect(card).toContain('val_pinball | 0.0123');
    expect(card).toContain('a'.repeat(64));
    expect(openPublished(registry, 'raft-ns-default')).toBe(dir);
    // No temporary debris once done.
    expect(Object.keys(snapshot(registry)).filter((p) => p.includes('.tmp') || p.includes('.trash'))).toEqual([]);
  });

  it('keeps versions sorted by semver with latest the highest release', async () => {
    for (const [i, v] of ['1.10.0', '1.2.0', '2.0.0-rc.1'].entries()) {
      await publishArtifact(makeArtifact(join(root, v), { version: v, fill: i + 3 }), { registryDir: registry });
    }
    const m = readIndex(registry).models['raft-ns-default']!;
    expect(m.versions.map((v) => v.version)).toEqual(['1.2.0', '1.10.0', '2.0.0-rc.1']);
    expect(m.latest).toBe('1.10.0');
  });

  it('refuses an artifact without a passing report for its exact weights, and writes nothing', async () => {
    expect(await code(publishArtifact(makeArtifact(join(root, 'n'), { report: 'none' }), { registryDir: registry }))).toBe('publish.unverified');
    expect(await code(publishArtifact(makeArtifact(join(root, 'f'), { report: 'fail' }), { registryDir: registry }))).toBe('publish.unverified');
    expect(await code(publishArtifact(makeArtifact(join(root, 'o'), { report: 'other-weights' }), { registryDir: registry }))).toBe('publish.unverified');
    expect(existsSync(registry)).toBe(false);
  });

  it('refuses weights that were modified after export (and after verification)', async () => {
    const art = makeArtifact(join(root, 't'));
    const w = readFileSync(join(art, 'weights.bin'));
    w[10] ^= 1;
    writeFileSync(join(art, 'weights.bin'), w);
    await expect(publishArtifact(art, { registryDir: registry })).rejects.toThrow(/weights\.bin: sha256 .* differs/);
    expect(existsSync(registry)).toBe(false);
  });

  it('re-publishing the same bytes is a no-op; the same version with different bytes is refused', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const before = snapshot(registry);
    const again = await publishArtifact(makeArtifact(join(root, 'a2')), { registryDir: registry });
    expect(again.status).toBe('unchanged');
    expect(snapshot(registry)).toEqual(before);
    const other = makeArtifact(join(root, 'b'), { fill: 9 });
    await expect(publishArtifact(other, { registryDir: registry })).rejects.toThrow(/already published with different bytes \(.*weights\.bin.*\)/);
    expect(snapshot(registry)).toEqual(before);
  });

  it.each(['staged', 'renamed'] as const)('leaves the registry exactly as it was when interrupted after %s', async (step) => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const before = snapshot(registry);
    const next = makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 5 });
    await expect(
      publishArtifact(next, {
        registryDir: registry,
        onStep: (s) => {
          if (s === step) throw new Error(`simulated crash after ${s}`);
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(snapshot(registry)).toEqual(before);
    // The same publish then succeeds.
    expect((await publishArtifact(next, { registryDir: registry })).status).toBe('published');
    expect(readIndex(registry).models['raft-ns-default']!.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
  });

  it('refuses to publish once the wait for a live publisher\'s lock times out, and takes over a stale lock', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const lock = join(registry, '.publish.lock');
    writeFileSync(lock, `${process.ppid}\n`); // a live process
    const next = makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 5 });
    expect(await code(publishArtifact(next, { registryDir: registry, lockTimeoutMs: 200 }))).toBe('publish.busy');
    expect(readIndex(registry).models['raft-ns-default']!.versions.map((v) => v.version)).toEqual(['1.0.0']);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its lock is stale
    writeFileSync(lock, `${dead}\n`);
    expect((await publishArtifact(next, { registryDir: registry })).status).toBe('published');
    expect(existsSync(lock)).toBe(false);
  });

  it('treats a version folder missing from index.json (left by a hard crash) as unpublished and replaces it', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const debris = join(registry, 'raft-ns-default', '1.1.0');
    mkdirSync(debris);
    writeFileSync(join(debris, 'weights.bin'), 'half-written');
    expect(() => openPublished(registry, 'raft-ns-default', '1.1.0')).toThrow(/no published version 1\.1\.0/);
    await publishArtifact(makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 5 }), { registryDir: registry });
    expect(openPublished(registry, 'raft-ns-default', '1.1.0')).toBe(debris);
    expect(readFileSync(join(debris, 'weights.bin')).length).toBe(WEIGHTS_BYTES);
  });

  it.each([
    ['name', '../evil', 'publish.bad-name'],
    ['name', 'a/b', 'publish.bad-name'],
    ['name', '.hidden', 'publish.bad-name'],
    ['name', 'Model', 'publish.bad-name'],
    ['version', '../../1.0.0', 'publish.bad-version'],
    ['version', '1.0.0/../../x', 'publish.bad-version'],
    ['version', 'v1.0.0', 'publish.bad-version'],
    ['version', '1.0', 'publish.bad-version'],
    ['version', '1.0.0+hotfix', 'publish.bad-version'], // same precedence as 1.0.0: would get around immutability
  ])('refuses %s %j with no file written', async (field, value, expected) => {
    const art = makeArtifact(join(root, 'x'), field === 'name' ? { name: value } : { version: value });
    expect(await code(publishArtifact(art, { registryDir: registry }))).toBe(expected);
    expect(snapshot(root).hasOwnProperty('artifacts/')).toBe(false);
    expect(existsSync(join(root, 'evil'))).toBe(false);
  });

  it('signs manifest.json with Ed25519; the signature checks with the public key and fails on tampering', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const r = await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry, signKey: { pem, file: 'key.pem' } });
    expect(r.signed).toBe(true);
    const manifest = readFileSync(join(r.dir, 'manifest.json'));
    const sig = readFileSync(join(r.dir, 'manifest.sig'), 'utf8');
    expect(verifyManifestSignature(manifest, sig, pub)).toBe(true);
    expect(openPublished(registry, 'raft-ns-default', '1.0.0', pub)).toBe(r.dir);
    const tampered = Buffer.from(manifest.toString('utf8').replace('"seed": 42', '"seed": 43'));
    expect(tampered.equals(manifest)).toBe(false);
    expect(verifyManifestSignature(tampered, sig, pub)).toBe(false);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyManifestSignature(manifest, sig, other)).toBe(false);
    // The WebCrypto-only check (what the runtime can embed) agrees.
    expect(await verifyManifestSignatureWebCrypto(manifest, sig, pub)).toBe(true);
    expect(await verifyManifestSignatureWebCrypto(tampered, sig, pub)).toBe(false);
    expect(await verifyManifestSignatureWebCrypto(manifest, sig, other)).toBe(false);
    expect(await verifyManifestSignatureWebCrypto(manifest, 'not base64!', pub)).toBe(false);
    // The same bytes signed by the same key again is a no-op; by another key it is refused (immutable).
    expect((await publishArtifact(makeArtifact(join(root, 'a2')), { registryDir: registry, signKey: { pem, file: 'key.pem' } })).status).toBe('unchanged');
    const pem2 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await code(publishArtifact(makeArtifact(join(root, 'a3')), { registryDir: registry, signKey: { pem: pem2, file: 'k2.pem' } }))).toBe('publish.immutable');
  });

  it('refuses an artifact whose golden vectors changed after export', async () => {
    const art = makeArtifact(join(root, 'g'));
    writeFileSync(join(art, 'golden.json'), '{"sequences":[0]}\n');
    await expect(publishArtifact(art, { registryDir: registry })).rejects.toThrow(/golden\.json: sha256 .* differs from .*\/files/);
    expect(existsSync(registry)).toBe(false);
  });

  it('never reports success when a file of the version is gone after the index commit', async () => {
    const art = makeArtifact(join(root, 'a'));
    const versionDir = join(registry, 'raft-ns-default', '1.0.0');
    const onStep = (step: string): void => {
      if (step === 'indexed') rmSync(join(versionDir, 'golden.json')); // a file gone behind the publisher's back, as a racing sweep would do
    };
    await expect(publishArtifact(art, { registryDir: registry, onStep })).rejects.toThrow(/after the commit golden\.json do not match index\.json; run raft-ns registry check/);
    expect(checkRegistry(registry).problems.map((p) => p.kind)).toEqual(['broken']);
  });

  it('detects a published file modified in place', async () => {
    const r = await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    writeFileSync(join(r.dir, 'golden.json'), '{"sequences":[1]}\n');
    expect(() => openPublished(registry, 'raft-ns-default')).toThrow(/golden\.json: sha256 .* differs from the registry index/);
  });

  it('CLI: refuses an unverified artifact with exit 1 and a one-line message, then publishes a verified one', () => {
    const cli = fileURLToPath(new URL('../dist/pipeline/cli.js', import.meta.url));
    const bad = spawnSync(process.execPath, [cli, 'publish', makeArtifact(join(root, 'u'), { report: 'fail' }), '--registry', registry], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^raft-ns publish: .*verification-report\.json: verification did not pass/);
    const ok = spawnSync(process.execPath, [cli, 'publish', makeArtifact(join(root, 'v')), '--registry', registry], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('publish: raft-ns-default 1.0.0 published');
  });

  it.each(['staged', 'renamed'] as const)('a process killed after %s leaves the published registry as it was (index unchanged)', async (step) => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const indexBefore = readFileSync(join(registry, 'index.json'));
    const next = makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 5 });
    const mod = new URL('../dist/pipeline/publish/publish.js', import.meta.url).href;
    // A real crash: the child exits abruptly inside publish, so no finally block or rollback runs.
    const code = `const { publishArtifact } = await import(${JSON.stringify(mod)});
      await publishArtifact(${JSON.stringify(next)}, { registryDir: ${JSON.stringify(registry)}, onStep: (s) => { if (s === ${JSON.stringify(step)}) process.exit(137); } });`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(child.status).toBe(137);
    expect(readFileSync(join(registry, 'index.json')).equals(indexBefore)).toBe(true);
    expect(() => openPublished(registry, 'raft-ns-default', '1.1.0')).toThrow(/no published version 1\.1\.0/);
    expect(openPublished(registry, 'raft-ns-default')).toBe(join(registry, 'raft-ns-default', '1.0.0'));
    // The dead publisher's lock and debris do not block the next publish, which cleans up after it.
    expect((await publishArtifact(next, { registryDir: registry })).status).toBe('published');
    expect(openPublished(registry, 'raft-ns-default', '1.1.0')).toBe(join(registry, 'raft-ns-default', '1.1.0'));
    expect(existsSync(join(registry, '.publish.lock'))).toBe(false);
    expect(Object.keys(snapshot(registry)).filter((p) => p.includes('.tmp-') || p.includes('.trash-'))).toEqual([]);
  });
});

const cliPath = fileURLToPath(new URL('../dist/pipeline/cli.js', import.meta.url));

/** Shifts every expected output of every golden case by `by` (a doctored golden.json). */
const shiftGolden = (by: number) => (g: FixtureArtifact['golden']): unknown => ({
  cases: g.cases.map((c) => ({ ...c, expected: { float32: c.expected.float32.map((p) => p.map((x) => x + by)), int8: c.expected.int8.map((p) => p.map((x) => x + by)) } })),
});

describe('publish: the registry cannot be corrupted', () => {
  it('two takers of one stale lock are serialized: the second never removes the live lock the first took', async () => {
    mkdirSync(registry, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(registry, '.publish.lock'), `${dead}\n`); // as a SIGKILLed publish leaves it
    let taken = false;
    // A judges the lock stale; inside A's takeover window B (a live process) removes it and takes the lock —
    // the interleaving in which the old read-pid/remove/create takeover let both publish.
    const late = acquireLock(registry, {
      timeoutMs: 300,
      onStale: () => {
        if (taken) return;
        taken = true;
        rmSync(join(registry, '.publish.lock'));
        writeFileSync(join(registry, '.publish.lock'), `${JSON.stringify({ pid: process.pid, host: hostname(), started_ms: -1, nonce: 'b-live' })}\n`);
      },
    });
    expect(await code(late)).toBe('publish.busy');
    expect(readFileSync(join(registry, '.publish.lock'), 'utf8')).toContain('b-live');
  });

  it('publishers started together on a registry with a stale lock all publish complete versions', () => {
    const base = makeArtifact(join(root, 'base'));
    return publishArtifact(base, { registryDir: registry }).then(async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      writeFileSync(join(registry, '.publish.lock'), `${dead}\n`); // as a SIGKILLed publish leaves it
      const versions = ['1.1.0', '1.2.0', '1.3.0', '1.4.0'];
      const arts = versions.map((v, i) => makeArtifact(join(root, `c${v}`), { version: v, fill: 10 + i }));
      const { spawn } = await import('node:child_process');
      const exits = await Promise.all(arts.map((art) => new Promise<number>((resolve) => {
        spawn(process.execPath, [cliPath, 'publish', art, '--registry', registry], { stdio: 'ignore' }).on('exit', (c) => resolve(c ?? -1));
      })));
      expect(exits).toEqual([0, 0, 0, 0]);
      expect(readIndex(registry).models['raft-ns-default']!.versions.map((v) => v.version)).toEqual(['1.0.0', ...versions]);
      expect(checkRegistry(registry).problems).toEqual([]);
      for (const v of versions) expect(openPublished(registry, 'raft-ns-default', v)).toBe(join(registry, 'raft-ns-default', v));
    });
  }, 60_000);

  it('waits for a live publisher to release the lock instead of failing busy', async () => {
    mkdirSync(registry, { recursive: true });
    const lockMod = new URL('../dist/pipeline/publish/lock.js', import.meta.url).href;
    const { spawn } = await import('node:child_process');
    const holder = spawn(process.execPath, ['--input-type=module', '-e',
      `const { acquireLock } = await import(${JSON.stringify(lockMod)}); const l = await acquireLock(${JSON.stringify(registry)}); process.stdout.write('held\\n'); setTimeout(() => l.release(), 800);`]);
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const r = await publishArtifact(makeArtifact(join(root, 'w')), { registryDir: registry, lockTimeoutMs: 20_000 });
    expect(r.status).toBe('published');
  }, 30_000);

  it('never sweeps the staging folder of a live publisher; sweeps a dead one\'s', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const live = join(registry, 'raft-ns-default', `.1.5.0.tmp-${process.ppid}-abcd1234`);
    const dead = join(registry, 'raft-ns-default', `.1.6.0.tmp-${spawnSync(process.execPath, ['-e', '']).pid!}-abcd1234`);
    mkdirSync(live);
    mkdirSync(dead);
    await publishArtifact(makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 5 }), { registryDir: registry });
    expect(existsSync(live)).toBe(true);
    expect(existsSync(dead)).toBe(false);
  });

  it('registry check finds a version whose files are gone (exit 1); re-publishing the same bytes rebuilds it', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const dir = join(registry, 'raft-ns-default', '1.0.0');
    rmSync(join(dir, 'weights.bin'));
    rmSync(join(dir, 'golden.json'));
    const bad = spawnSync(process.execPath, [cliPath, 'registry', 'check', '--registry', registry], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/broken .*1\.0\.0: .*golden\.json.*weights\.bin/);
    const again = await publishArtifact(makeArtifact(join(root, 'a2')), { registryDir: registry });
    expect(again.status).toBe('repaired');
    expect(checkRegistry(registry).problems).toEqual([]);
    const ok = spawnSync(process.execPath, [cliPath, 'registry', 'check', '--registry', registry], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('1 versions, 0 broken');
  });
});

describe('publish: the gate proves instead of trusting a file', () => {
  it('refuses golden vectors off by 1e30 even under a passing report naming the exact hashes', async () => {
    const art = makeArtifact(join(root, 'forged'), { golden: shiftGolden(1e30) });
    expect(await code(publishArtifact(art, { registryDir: registry }))).toBe('publish.gate');
    await expect(publishArtifact(art, { registryDir: registry })).rejects.toThrow(/golden vectors do not hold through the runtime/);
    expect(existsSync(registry)).toBe(false);
  });

  it.each([
    ['a tolerance of 1e9', (g: FixtureArtifact['golden']): unknown => ({ ...(shiftGolden(5)(g) as object), tolerance: 1e9 }), /above the cap/],
    ['no golden case', (): unknown => ({ sequences: [] }), /nothing was compared/],
  ])('refuses %s', async (_what, golden, message) => {
    const art = makeArtifact(join(root, 'vac'), { golden });
    await expect(publishArtifact(art, { registryDir: registry })).rejects.toThrow(message);
    expect(existsSync(registry)).toBe(false);
  });

  it('refuses a report for another manifest (copied, weights sha edited)', async () => {
    const a = makeArtifact(join(root, 'a'));
    const b = makeArtifact(join(root, 'b'), { fill: 7, report: 'none' });
    const report = JSON.parse(readFileSync(join(a, 'verification-report.json'), 'utf8')) as { weights_sha256: string; artifact: { weights_sha256: string } };
    report.weights_sha256 = report.artifact.weights_sha256 = sha256Hex(readFileSync(join(b, 'weights.bin')));
    writeFileSync(join(b, 'verification-report.json'), JSON.stringify(report));
    await expect(publishArtifact(b, { registryDir: registry })).rejects.toThrow(/manifest_sha256: the report is for another manifest\.json/);
  });

  it('a check not run blocks publishing unless allowed explicitly; then index.json and the model card record it', async () => {
    const art = makeArtifact(join(root, 'd'), { report: 'd-not-run' });
    await expect(publishArtifact(art, { registryDir: registry })).rejects.toThrow(/check d-rules-on-data did not run .*--allow-not-run d-rules-on-data/);
    expect(existsSync(join(registry, 'index.json'))).toBe(false);
    const r = await publishArtifact(art, { registryDir: registry, allowNotRun: ['d'] });
    expect(r.notRunAllowed).toEqual(['d-rules-on-data']);
    const entry = readIndex(registry).models['raft-ns-default']!.versions[0]!;
    expect(entry.verification.not_run_allowed).toEqual(['d-rules-on-data']);
    expect(validateAgainst('registry-index', JSON.parse(readFileSync(join(registry, 'index.json'), 'utf8'))).ok).toBe(true);
    expect(readFileSync(join(r.dir, 'MODEL_CARD.md'), 'utf8')).toContain('Published with checks not run**: d-rules-on-data');
  });
});

describe('publish: signatures bind the version', () => {
  it('refuses a validly signed manifest of another version placed in this version\'s folder, even with index.json edited to match', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signKey = { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), file: 'key.pem' };
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry, signKey });
    await publishArtifact(makeArtifact(join(root, 'b'), { version: '1.1.0' }), { registryDir: registry, signKey });
    const v1 = join(registry, 'raft-ns-default', '1.0.0');
    const v11 = join(registry, 'raft-ns-default', '1.1.0');
    for (const f of ['manifest.json', 'manifest.sig']) writeFileSync(join(v1, f), readFileSync(join(v11, f)));
    const index = JSON.parse(readFileSync(join(registry, 'index.json'), 'utf8')) as { models: Record<string, { versions: Array<{ version: string; files: Array<{ path: string; sha256: string }> }> }> };
    const entry = index.models['raft-ns-default']!.versions.find((x) => x.version === '1.0.0')!;
    for (const f of entry.files) if (f.path.startsWith('manifest.')) f.sha256 = sha256Hex(readFileSync(join(v1, f.path)));
    // The forger recomputes the index's integrity field too (it is a checksum, not a secret).
    (index as { integrity?: unknown }).integrity = integrityOf(index.models as never);
    writeFileSync(join(registry, 'index.json'), JSON.stringify(index));
    expect(() => openPublished(registry, 'raft-ns-default', '1.0.0', pub)).toThrow(/manifest\.json names "raft-ns-default" "1\.1\.0", not raft-ns-default 1\.0\.0/);
    expect(openPublished(registry, 'raft-ns-default', '1.1.0', pub)).toBe(v11);
  });
});


type IndexJson = { integrity?: unknown; models: Record<string, { latest: string | null; versions: Array<{ version: string; manifest_sha256: string; weights_sha256: string; files: Array<{ path: string; sha256: string }> }> }> };
const readJson = (p: string): IndexJson => JSON.parse(readFileSync(p, 'utf8')) as IndexJson;
const registryCheck = (reg: string) => spawnSync(process.execPath, [cliPath, 'registry', 'check', '--registry', reg], { encoding: 'utf8' });

describe('publish: a version folder holds that version, and index.json cannot be edited unseen', () => {
  it('a manifest of another version copied into a folder (index edited to match, integrity recomputed) is refused by load, verify, check and openPublished, without any key', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    await publishArtifact(makeArtifact(join(root, 'b'), { version: '1.1.0' }), { registryDir: registry });
    const v1 = join(registry, 'raft-ns-default', '1.0.0');
    writeFileSync(join(v1, 'manifest.json'), readFileSync(join(registry, 'raft-ns-default', '1.1.0', 'manifest.json')));
    const index = readJson(join(registry, 'index.json'));
    const entry = index.models['raft-ns-default']!.versions.find((x) => x.version === '1.0.0')!;
    entry.manifest_sha256 = sha256Hex(readFileSync(join(v1, 'manifest.json')));
    entry.files.find((f) => f.path === 'manifest.json')!.sha256 = entry.manifest_sha256;
    index.integrity = integrityOf(index.models as never);
    writeFileSync(join(registry, 'index.json'), JSON.stringify(index));

    const names = /names "raft-ns-default" "1\.1\.0", not raft-ns-default 1\.0\.0/;
    expect(() => openPublished(registry, 'raft-ns-default', '1.0.0')).toThrow(names);
    expect(checkRegistry(registry).problems).toEqual([expect.objectContaining({ kind: 'broken', detail: expect.stringMatching(names) })]);
    const check = registryCheck(registry);
    expect(check.status).toBe(1);
    const a = checkIntegrity(v1);
    expect(a.check.status).toBe('fail');
    expect(a.check.reason).toMatch(/names "raft-ns-default" "1\.1\.0", but its registry folder is raft-ns-default\/1\.0\.0/);
    await expect(loadArtifactFromDir(v1, { expect: { name: 'raft-ns-default', version: '1.0.0' } })).rejects.toThrow(/expected raft-ns-default 1\.0\.0/);
    expect(openPublished(registry, 'raft-ns-default', '1.1.0')).toBe(join(registry, 'raft-ns-default', '1.1.0'));
  });

  it('every publish writes an integrity field; an index edited by hand is reported by registry check and refused by publish and openPublished', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const indexPath = join(registry, 'index.json');
    expect(readJson(indexPath).integrity).toEqual({ algorithm: 'sha256-canonical-json', models_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(validateAgainst('registry-index', readJson(indexPath)).ok).toBe(true);
    expect(registryCheck(registry).status).toBe(0);
    // Point the entry at other weights, as a swap of weights.bin would need, without recomputing the field.
    const index = readJson(indexPath);
    const entry = index.models['raft-ns-default']!.versions[0]!;
    entry.weights_sha256 = 'e'.repeat(64);
    entry.files.find((f) => f.path === 'weights.bin')!.sha256 = 'e'.repeat(64);
    writeFileSync(indexPath, JSON.stringify(index));
    const tampered = readFileSync(indexPath);
    const check = registryCheck(registry);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/bad-index .*index\.json: .*do not match models_sha256/);
    expect(() => openPublished(registry, 'raft-ns-default')).toThrow(/index\.json at \/integrity: the entries do not match/);
    expect(await code(publishArtifact(makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 4 }), { registryDir: registry }))).toBe('publish.bad-index');
    expect(readFileSync(indexPath).equals(tampered)).toBe(true); // never laundered by a publish rewriting it
  });

  it('an index without the field (as published before it existed) is read as legacy; check says so and exits 0; the next publish adds it', async () => {
    await publishArtifact(makeArtifact(join(root, 'a')), { registryDir: registry });
    const indexPath = join(registry, 'index.json');
    const legacy = readJson(indexPath);
    delete legacy.integrity;
    writeFileSync(indexPath, JSON.stringify(legacy, null, 2));
    expect(checkRegistry(registry).problems.map((p) => p.kind)).toEqual(['legacy-index']);
    const check = registryCheck(registry);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('1 versions, 0 broken, 0 debris, legacy index (no integrity field)');
    expect(openPublished(registry, 'raft-ns-default')).toBe(join(registry, 'raft-ns-default', '1.0.0'));
    await publishArtifact(makeArtifact(join(root, 'b'), { version: '1.1.0', fill: 4 }), { registryDir: registry });
    expect(readJson(indexPath).integrity).toBeDefined();
    expect(checkRegistry(registry).problems).toEqual([]);
  });

  it('the committed registry (artifacts/) reads unchanged: every version opens, check finds nothing broken', () => {
    const committed = fileURLToPath(new URL('../artifacts', import.meta.url));
    const problems = checkRegistry(committed).problems.filter((p) => p.kind !== 'legacy-index');
    expect(problems).toEqual([]);
    for (const v of readIndex(committed).models['raft-ns-default']!.versions) {
      expect(openPublished(committed, 'raft-ns-default', v.version)).toBe(join(committed, 'raft-ns-default', v.version));
    }
  });
});
