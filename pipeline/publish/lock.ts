/**
 * The registry lock, `<registry>/.publish.lock`: one publisher at a time reads index.json, stages its
 * version and commits the new index. The lock file holds a record naming its owner (pid, host, process start
 * time, a random nonce) and is created exclusively (`wx`), so two publishers can never both create it.
 *
 * Invariants:
 * - A lock is removed only by its owner, or by a taker who judged it stale *while holding the takeover
 *   mutex* (`.publish.lock.takeover`, also created exclusively) and re-read the very record it judged
 *   (same nonce) under that mutex. Two takers of one stale lock are serialized by the mutex; the second
 *   finds the lock gone or replaced by the first taker's live record and leaves it alone.
 * - A lock is stale only when its owner is provably gone: same host and no such pid, or a pid whose start
 *   time differs from the record's (the pid was reused). A lock from another host is never taken over.
 * - A held lock is re-checked (`stillHeld`) just before the index commit, so a publisher that lost its
 *   lock (a clock jump past the mutex's age limit, an operator deleting the file) aborts instead of
 *   committing beside another.
 *
 * The takeover mutex lives for a few milliseconds; one left by a taker killed inside that window is removed
 * once it is older than TAKEOVER_STALE_MS.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RaftNsError } from '../util/errors.js';

export const LOCK_FILE = '.publish.lock';
const TAKEOVER_FILE = '.publish.lock.takeover';
const TAKEOVER_STALE_MS = 30_000;
const POLL_MS = 50;

export interface LockRecord {
  pid: number;
  host: string;
  /** The owner's process start time, ms since the epoch (tells a reused pid from the owner). */
  started_ms: number;
  nonce: string;
}

export interface HeldLock {
  record: LockRecord;
  /** True while the lock file still holds our record. */
  stillHeld: () => boolean;
  release: () => void;
}

export interface LockOptions {
  /** How long to wait for a live publisher to finish, ms (default 60 s). */
  timeoutMs?: number;
  /** Test hook: called after a lock was judged stale, before the takeover mutex is taken. */
  onStale?: (stale: LockRecord) => void;
}

/** This process's lock record. */
export function ownRecord(): LockRecord {
  return { pid: process.pid, host: hostname(), started_ms: processStartMs(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000), nonce: randomBytes(8).toString('hex') };
}

/**
 * Takes the registry lock, waiting up to `timeoutMs` for a live holder; takes over a stale one.
 *
 * @example
 * const lock = await acquireLock('artifacts');
 * try { ... if (!lock.stillHeld()) throw ...; commit(); } finally { lock.release(); }
 */
export async function acquireLock(registryDir: string, opts: LockOptions = {}): Promise<HeldLock> {
  const path = join(registryDir, LOCK_FILE);
  const me = ownRecord();
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (createExclusive(path, me)) {
      return {
        record: me,
        stillHeld: () => nonceOf(readRecord(path)) === me.nonce,
        release: () => {
          if (nonceOf(readRecord(path)) === me.nonce) rmSync(path, { force: true });
        },
      };
    }
    const holder = readRecord(path);
    if (holder === null) continue; // released between our create and our read
    if (holder === 'unreadable') {
      // Being written (its creator writes right after create), or its creator died in between: an empty
      // lock older than the takeover limit is judged by that age.
      if (ageMs(path) > TAKEOVER_STALE_MS) takeOver(registryDir, path, null, me);
    } else if (isStale(holder)) {
      opts.onStale?.(holder);
      if (takeOver(registryDir, path, holder, me)) continue;
    }
    if (Date.now() >= deadline) {
      const who = holder && holder !== 'unreadable' ? `pid ${holder.pid} on ${holder.host === me.host ? 'this host' : 'another host'}` : 'another process';
      throw new RaftNsError('publish.busy', `publish: ${path}: another publish (${who}) still holds the registry lock after ${opts.timeoutMs ?? 60_000} ms; try again when it has finished`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Removes the stale lock `judged` if, under the takeover mutex, the lock file still holds that very record
 * (`judged` null: an unreadable lock, removed if still unreadable and old). False when another taker holds the mutex.
 */
function takeOver(registryDir: string, path: string, judged: LockRecord | null, me: LockRecord): boolean {
  const mutex = join(registryDir, TAKEOVER_FILE);
  if (!createExclusive(mutex, me)) {
    if (ageMs(mutex) > TAKEOVER_STALE_MS) rmSync(mutex, { force: true }); // its taker died mid-takeover
    return false;
  }
  try {
    const now = readRecord(path);
    const same = judged === null ? now === 'unreadable' && ageMs(path) > TAKEOVER_STALE_MS : nonceOf(now) === judged.nonce;
    if (same) rmSync(path, { force: true });
    return true;
  } finally {
    rmSync(mutex, { force: true });
  }
}

function nonceOf(rec: LockRecord | null | 'unreadable'): string | null {
  return rec !== null && rec !== 'unreadable' ? rec.nonce : null;
}

/** Age of a file by its mtime, ms; 0 if it is gone. */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function createExclusive(path: string, rec: LockRecord): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(rec)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The record in a lock file; null if absent; 'unreadable' if empty or malformed (being written, or a pre-record lock). */
export function readRecord(path: string): LockRecord | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // An older lock holding only "<pid>\n": judged by its pid alone.
  if (/^\d+\n?$/.test(text)) return { pid: Number(text.trim()), host: hostname(), started_ms: -1, nonce: `legacy-${text.trim()}` };
  try {
    const v = JSON.parse(text) as Partial<LockRecord> | null;
    if (v && typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.started_ms === 'number' && typeof v.nonce === 'string') return v as LockRecord;
  } catch {
    // being written, or not a lock record
  }
  return 'unreadable';
}

/** True when the owner is provably gone (see the invariants above). */
export function isStale(rec: LockRecord): boolean {
  if (rec.host !== hostname()) return false;
  if (!processAlive(rec.pid)) return true;
  if (rec.started_ms < 0) return false;
  const started = processStartMs(rec.pid);
  // A reused pid started after the record was written; allow a second of clock-tick rounding.
  return started !== null && Math.abs(started - rec.started_ms) > 1000;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time from /proc (Linux), ms since the epoch; null where /proc is not available. */
function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]); // field 22 of proc(5), counted from field 3
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!Number.isFinite(startTicks) || !btime) return null;
    return Number(btime[1]) * 1000 + (startTicks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
