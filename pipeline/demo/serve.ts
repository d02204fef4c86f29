/**
 * The demo's thin shells: a node:http server on 127.0.0.1 that serves exactly the files collectDemoFiles
 * lists (nothing else on disk is reachable), and a static bundle writer that lays the same files out in a
 * folder any static web server can host.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { RaftNsError } from '../util/errors.js';
import { writeDirAtomic } from '../util/fs.js';
import { bundlePathOf, type DemoFile } from './files.js';

/** Same policy as the page's meta tag, also sent as a header (covers the JSON and module responses). */
export const DEMO_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

export interface ServeOptions {
  /** Port (0 = any free port). */
  port: number;
  /** Bind address; loopback by default: the demo is for the person at this machine. */
  host?: string;
}

/**
 * Starts serving `files`; resolves once listening, with the server and its URL.
 * @example const { url, server } = await serveDemo((await collectDemoFiles()).files, { port: 8787 });
 */
export async function serveDemo(files: Map<string, DemoFile>, opts: ServeOptions): Promise<{ server: Server; url: string }> {
  const host = opts.host ?? '127.0.0.1';
  const cache = new Map<string, Uint8Array>();
  let allowedHosts = new Set<string>();
  const server = createServer((req, res) => {
    const refuse = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    // DNS rebinding: a page on another origin that resolves its name to 127.0.0.1 sends its own Host.
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) return refuse(421, 'misdirected request: unknown Host');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return refuse(400, 'bad request: malformed percent-encoding in the path'); // e.g. GET /%
    }
    const key = path === '/index.html' ? '/' : path;
    const file = files.get(key);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !file) {
      res.writeHead(file ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(file ? 'method not allowed\n' : 'not found\n');
      return;
    }
    let body = cache.get(key);
    if (!body) {
      body = file.bytes ?? new Uint8Array(readFileSync(file.path!));
      cache.set(key, body);
    }
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': String(body.byteLength),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': DEMO_CSP,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new RaftNsError('demo.listen', `demo: cannot listen on ${host}:${opts.port} (${err.code ?? err.message}); pick another --port`, { cause: err }));
    });
    server.listen(opts.port, host, () => resolveListen());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const names = host === '127.0.0.1' || host === 'localhost' || host === '::1' ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') ? `[${host}]` : host];
  allowedHosts = new Set(names.map((n) => `${n}:${port}`.toLowerCase()));
  return { server, url: `http://${host}:${port}/` };
}

/**
 * Writes `files` as a self-contained static bundle into `outDir` (atomically: a complete folder or none).
 * Host it with any static server; browsers refuse ES modules from file:// URLs, so opening index.html
 * straight from disk does not work.
 */
export async function writeStaticBundle(files: Map<string, DemoFile>, outDir: string, force = false): Promise<{ files: number; bytes: number }> {
  return writeDirAtomic('demo', outDir, force, (tmp) => {
    let bytes = 0;
    for (const [url, file] of files) {
      const dest = join(tmp, bundlePathOf(url));
      mkdirSync(dirname(dest), { recursive: true });
      if (file.bytes) writeFileSync(dest, file.bytes);
      else copyFileSync(file.path!, dest);
      bytes += file.bytes ? file.bytes.byteLength : readFileSync(file.path!).byteLength;
    }
    return { files: files.size, bytes };
  });
}
