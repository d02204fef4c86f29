/**
 * Ed25519 signatures of an artifact's manifest.
 *
 * What is signed: the exact bytes of `manifest.json` as stored in the registry. The manifest names the
 * weights' sha256 (`weights_sha256`), so a valid signature binds the weights too: a loader checks the
 * signature over the manifest bytes, then checks sha256(weights.bin) against the manifest.
 *
 * `manifest.sig` holds one line: the 64-byte Ed25519 signature in standard base64, then `\n`.
 *
 * The runtime checks it with WebCrypto only (runtime/signature.ts; `loadArtifactFromDir(dir, { publicKeyPem })`),
 * re-exported here as `verifyManifestSignatureWebCrypto`:
 * ```ts
 * const key = await crypto.subtle.importKey('spki', spkiDerBytes, { name: 'Ed25519' }, false, ['verify']);
 * const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, base64Decode(sigText.trim()), manifestBytes);
 * ```
 * where `spkiDerBytes` is the DER body of the `-----BEGIN PUBLIC KEY-----` PEM (base64-decoded). Ed25519 is
 * deterministic: the same key and manifest always give the same signature bytes.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RaftNsError } from '../util/errors.js';

export interface ManifestSignature {
  /** The `manifest.sig` file text (base64 signature + newline). */
  sigText: string;
  /** sha256 hex of the signer's public key (SPKI DER): what the registry index records. */
  publicKeySha256: string;
}

/** Signs manifest bytes with an Ed25519 private key given as PEM text (PKCS#8). */
export function signManifest(manifestBytes: Uint8Array, privateKeyPem: string, keyFile: string): ManifestSignature {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new RaftNsError('publish.bad-key', `publish: ${keyFile}: not a PEM private key; expected an Ed25519 key (openssl genpkey -algorithm ed25519)`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new RaftNsError('publish.bad-key', `publish: ${keyFile}: key type is ${String(key.asymmetricKeyType)}; expected ed25519`);
  }
  const sig = sign(null, manifestBytes, key);
  return { sigText: `${sig.toString('base64')}\n`, publicKeySha256: publicKeySha256(createPublicKey(key)) };
}

/**
 * Checks `manifest.sig` text against manifest bytes and an Ed25519 public key (PEM, SPKI). Returns false for
 * a wrong key, tampered manifest or malformed signature; never throws for those.
 *
 * @example
 * verifyManifestSignature(readFileSync('manifest.json'), readFileSync('manifest.sig', 'utf8'), publicPem) // true
 */
export function verifyManifestSignature(manifestBytes: Uint8Array, sigText: string, publicKeyPem: string): boolean {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    return false;
  }
  if (key.asymmetricKeyType !== 'ed25519') return false;
  const sig = Buffer.from(sigText.trim(), 'base64');
  if (sig.length !== 64) return false;
  return verify(null, manifestBytes, key, sig);
}

/** The same check with WebCrypto only: the runtime's (runtime/signature.ts), re-exported for the pipeline. */
export { verifyManifestSignature as verifyManifestSignatureWebCrypto } from '../../runtime/signature.js';

/** Reads a PEM key file, as a one-line error if it cannot. */
export function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new RaftNsError('publish.bad-key', `publish: ${path}: cannot read the signing key file`, { cause: err });
  }
}

function publicKeySha256(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
