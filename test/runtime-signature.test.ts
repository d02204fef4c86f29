/**
 * The runtime checks an artifact's Ed25519 manifest signature when it is given a public key:
 * loadArtifactFromDir(dir, { publicKeyPem }) and `raft-ns infer --public-key`.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { verifyManifestSignature } from '../runtime/signature.js';
import { RuntimeError } from '../runtime/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL = join(ROOT, 'artifacts', 'raft-ns-default', '1.0.0');

describe('runtime: Ed25519 manifest signature', () => {
  let dir: string;
  let art: string;
  const keys = generateKeyPairSync('ed25519');
  const pub = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const otherPub = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'raft-ns-sig-'));
    art = join(dir, 'art');
    cpSync(MODEL, art, { recursive: true });
    const manifest = readFileSync(join(art, 'manifest.json'));
    writeFileSync(join(art, 'manifest.sig'), `${sign(null, manifest, keys.privateKey).toString('base64')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const code = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return err instanceof RuntimeError ? err.code : String(err);
    }
  };

  it('loads a signed artifact under the publisher key, and without a key skips the check', async () => {
    expect(await code(loadArtifactFromDir(art, { publicKeyPem: pub }))).toBe('ok');
    expect(await code(loadArtifactFromDir(MODEL))).toBe('ok'); // the committed model is unsigned: no key, no check
  });

  it('refuses another key, a tampered manifest, a missing or garbled signature', async () => {
    expect(await code(loadArtifactFromDir(art, { publicKeyPem: otherPub }))).toBe('runtime.artifact.signature');
    expect(await code(loadArtifactFromDir(MODEL, { publicKeyPem: pub }))).toBe('runtime.artifact.signature'); // no manifest.sig
    const manifest = readFileSync(join(art, 'manifest.json'), 'utf8');
    const sig = readFileSync(join(art, 'manifest.sig'), 'utf8');
    // A one-character edit of a field the loader would otherwise accept.
    const tampered = manifest.replace('"seed": 1,', '"seed": 2,');
    expect(tampered).not.toBe(manifest);
    expect(await verifyManifestSignature(new TextEncoder().encode(tampered), sig, pub)).toBe(false);
    writeFileSync(join(art, 'manifest.json'), tampered);
    expect(await code(loadArtifactFromDir(art, { publicKeyPem: pub }))).toBe('runtime.artifact.signature');
    writeFileSync(join(art, 'manifest.json'), manifest);
    writeFileSync(join(art, 'manifest.sig'), 'not base64!\n');
    expect(await code(loadArtifactFromDir(art, { publicKeyPem: pub }))).toBe('runtime.artifact.signature');
    writeFileSync(join(art, 'manifest.sig'), sig);
    expect(await code(loadArtifactFromDir(art, { publicKeyPem: pub }))).toBe('ok');
  });

  it('raft-ns infer --public-key refuses a wrong key with a one-line error and exit 1', () => {
    const keyFile = join(dir, 'other.pem');
    writeFileSync(keyFile, otherPub);
    const cli = join(ROOT, 'dist', 'pipeline', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'infer', art, '--public-key', keyFile], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/manifest\.sig does not match/);
    const ok = spawnSync(process.execPath, [cli, 'infer', art, '--public-key', join(dir, 'pub.pem')], { encoding: 'utf8', env: process.env });
    expect(ok.status).not.toBe(0); // missing key file: a one-line error too
    expect(ok.stderr.trim().split('\n')).toHaveLength(1);
  });
});
