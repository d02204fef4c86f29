/**
 * sha256 of whole files on a worker thread, so hashing inputs and parts (a full extra pass over every
 * byte) overlaps with parsing on the other core instead of adding to it.
 */
import { Worker } from 'node:worker_threads';

// Plain CommonJS so the worker needs no build step or module resolution (works from dist/ and sources).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', ({ id, path }) => {
  let fd = -1;
  try {
    const h = createHash('sha256');
    fd = fs.openSync(path, 'r');
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
    parentPort.postMessage({ id, hex: h.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e) });
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
});
`;

export class FileHasher {
  // execArgv: [] so a parent started with --input-type=module does not turn this CommonJS source into ESM.
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
  private readonly pending = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor() {
    this.worker.on('message', (m: { id: number; hex?: string; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.hex !== undefined) p.resolve(m.hex);
      else p.reject(new Error(m.error ?? 'hash failed'));
    });
    this.worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  /** The sha256 hex of the file's bytes at the time the worker reads it (queued in call order). */
  hash(path: string): Promise<string> {
    const id = this.nextId++;
    const done = new Promise<string>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, path });
    return done;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
