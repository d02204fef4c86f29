/**
 * The runtime's check of an artifact's Ed25519 manifest signature (`manifest.sig`, written by
 * `raft-ns publish --sign-key`). What is signed: the exact bytes of manifest.json; the manifest names the
 * weights' sha256, which the loader checks next, so a valid signature binds the weights too.
 *
 * WebCrypto only (globalThis.crypto.subtle, Ed25519: Node ≥ 20 and current browsers), so runtime/ still
 * imports nothing outside itself. `manifest.sig` is one line: the 64-byte signature in standard base64.
 */
import { RuntimeError } from './errors.js';

/**
 * True when `sigText` is a valid Ed25519 signature of `manifestBytes` under `publicKeyPem` (SPKI PEM,
 * `-----BEGIN PUBLIC KEY-----`). False for a wrong key, a tampered manifest or a malformed signature; never
 * throws for those.
 *
 * @example
 * const ok = await verifyManifestSignature(manifestBytes, sigText, publicKeyPem);
 */
export async function verifyManifestSignature(manifestBytes: Uint8Array, sigText: string, publicKeyPem: string): Promise<boolean> {
  const b64 = (text: string): Uint8Array<ArrayBuffer> | null => {
    try {
      return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
    } catch {
      return null;
    }
  };
  const der = b64(publicKeyPem.replace(/-----[^-]+-----|\s/g, ''));
  const sig = b64(sigText.trim());
  if (!der || !sig || sig.length !== 64) return false;
  try {
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.importKey('spki', der, { name: 'Ed25519' }, false, ['verify']);
    return await subtle.verify({ name: 'Ed25519' }, key, sig, new Uint8Array(manifestBytes));
  } catch {
    return false;
  }
}

/**
 * Throws RuntimeError `runtime.artifact.signature` unless the signature checks out; `sigText` null = the
 * artifact has no manifest.sig.
 */
export async function requireManifestSignature(manifestBytes: Uint8Array, sigText: string | null, publicKeyPem: string, manifestName = 'manifest.json'): Promise<void> {
  if (sigText === null) {
    throw new RuntimeError('runtime.artifact.signature', `runtime: ${manifestName}: a public key was given but the artifact has no manifest.sig; expected an artifact published with --sign-key`);
  }
  if (!(await verifyManifestSignature(manifestBytes, sigText, publicKeyPem))) {
    throw new RuntimeError('runtime.artifact.signature', `runtime: ${manifestName}: the Ed25519 signature in manifest.sig does not match this manifest and public key; expected the publisher's key and an untampered manifest`);
  }
}
