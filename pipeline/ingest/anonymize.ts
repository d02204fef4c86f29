/**
 * Keyed pseudonyms for identifiers (HMAC-SHA256). The same id with the same key gives the same pseudonym
 * across files and runs; without the key the mapping cannot be recomputed or reversed by guessing names.
 * The whole identifier is replaced, so hostnames or IP addresses inside it never reach the output.
 */
import { createHmac } from 'node:crypto';
import { RaftNsError } from '../util/errors.js';
import { flatString } from './arrow-io.js';

/** Shortest key accepted: an HMAC key much shorter than the hash output invites brute force. */
export const MIN_KEY_BYTES = 16;

/** Fewest distinct byte values in a key (a random 16-byte key has ~15; `openssl rand -hex 16` ~14 of 16 hex digits). */
export const MIN_DISTINCT_BYTES = 8;

/** Hex digits kept from the HMAC: 64 bits, collision-free in practice for fleets of any real size. */
const PSEUDONYM_HEX = 16;

export const PSEUDONYM_FORMAT = `c-<${PSEUDONYM_HEX} hex> for cluster_id, n-<${PSEUDONYM_HEX} hex> for node_id and leader_id (HMAC-SHA256 of "cluster:"/"node:" + id)`;

export interface Anonymizer {
  cluster(id: string): string;
  /** For node_id and leader_id alike, so a follower's leader_id still equals the leader's node_id. */
  node(id: string): string;
  /** HMAC of a fixed label: names the key in manifests without revealing it. */
  fingerprint: string;
}

/**
 * @example
 * const anon = makeAnonymizer(Buffer.from('a secret of at least 16 bytes'));
 * anon.node('etcd-2.db.internal:2380'); // 'n-…' (16 hex digits), same for every run with this key
 */
export function makeAnonymizer(key: Uint8Array): Anonymizer {
  if (key.length < MIN_KEY_BYTES) {
    throw new RaftNsError('ingest.key-short', `ingest: anonymization key has ${key.length} bytes; expected at least ${MIN_KEY_BYTES}`);
  }
  // Length is not entropy: 16 spaces or "aaaa…" are guessed first. A random key of ≥ 16 bytes (hex, base64
  // or raw) has far more than MIN_DISTINCT_BYTES distinct values.
  const distinct = new Set(key).size;
  if (distinct < MIN_DISTINCT_BYTES || key.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)) {
    throw new RaftNsError('ingest.key-weak', `ingest: anonymization key has only ${distinct} distinct byte values; expected a random key (e.g. openssl rand -hex 32 > key.txt)`);
  }
  const make = (prefix: string, domain: string) => {
    const cache = new Map<string, string>();
    return (id: string): string => {
      let p = cache.get(id);
      if (p === undefined) {
        p = `${prefix}${createHmac('sha256', key).update(`${domain}:${id}`).digest('hex').slice(0, PSEUDONYM_HEX)}`;
        if (cache.size >= 1_000_000) cache.clear(); // bounded memory even for absurd id cardinalities
        cache.set(flatString(id), p);
      }
      return p;
    };
  };
  return {
    cluster: make('c-', 'cluster'),
    node: make('n-', 'node'),
    fingerprint: keyFingerprint(key),
  };
}

export function keyFingerprint(key: Uint8Array): string {
  return createHmac('sha256', key).update('raft-ns key fingerprint v1').digest('hex').slice(0, 16);
}

/** An anonymizer that keeps ids as they are (only with an explicit --no-anonymize). */
export const IDENTITY: Omit<Anonymizer, 'fingerprint'> = { cluster: (id) => id, node: (id) => id };
