import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RaftNsError } from './errors.js';

/** Writes a file and fsyncs it before close, so a rename that follows never publishes a name with lost bytes. */
export function writeDurable(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file atomically and durably: a temporary sibling, written and fsync'd (close alone does not
 * flush to disk), renamed onto `path`, then the folder fsync'd so the rename itself survives a power cut.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  try {
    writeDurable(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(path));
}

/** fsyncs a folder (makes renames and creations in it durable); a no-op where folders cannot be opened (Windows). */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL on platforms without directory fsync
  } finally {
    closeSync(fd);
  }
}

/**
 * The registry root when `dir` is a version folder `<registry>/<model>/<version>` of an artifact registry
 * (its grandparent holds a raft-ns index.json), else null. Published versions are immutable: nothing writes there.
 */
export function registryOfVersionDir(dir: string): string | null {
  const root = dirname(dirname(resolve(dir)));
  const index = join(root, 'index.json');
  if (!existsSync(index)) return null;
  try {
    return (JSON.parse(readFileSync(index, 'utf8')) as { format?: unknown }).format === 'raft-ns-registry' ? root : null;
  } catch {
    return root; // an unreadable index still marks a registry
  }
}

/** Canonical JSON text for files we hash or diff: two-space indent, trailing newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Builds a directory atomically: `build` fills a temporary sibling folder, which is then renamed onto
 * `outDir`. An existing `outDir` is refused unless `force`; with `force` it is replaced only after the
 * new folder is complete, so a crash midway leaves either the old folder or the new one, never a mix.
 */
export async function writeDirAtomic<T>(
  area: string,
  outDir: string,
  force: boolean,
  build: (tmpDir: string) => Promise<T> | T,
): Promise<T> {
  if (existsSync(outDir) && !force) {
    throw new RaftNsError(`${area}.exists`, `${area}: ${outDir} already exists; pass --force to replace it`);
  }
  mkdirSync(dirname(outDir), { recursive: true });
  sweepDeadTemporaries(outDir);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const result = await build(tmp);
    if (existsSync(outDir)) {
      const old = `${tmp}-old`;
      renameSync(outDir, old);
      renameSync(tmp, outDir);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, outDir);
    }
    return result;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Removes the temporary siblings of `outDir` (`.<name>.tmp-<pid>-<ms>`, `…-old`) whose creating process is
 * gone: what a SIGKILLed build leaves. Temporaries of a live process (another build running) are kept.
 */
export function sweepDeadTemporaries(outDir: string): string[] {
  const parent = dirname(outDir);
  const prefix = `.${basename(outDir)}.tmp-`;
  const removed: string[] = [];
  for (const name of existsSync(parent) ? readdirSync(parent) : []) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+(?:-old)?$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** sha256 hex of bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 hex of a file, streamed (bounded memory whatever the size). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
