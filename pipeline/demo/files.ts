/**
 * What the demo page is made of, as a map from URL path to bytes on disk — shared by the server and the
 * static bundle writer, so both serve exactly the same files. The "bundler" is a dependency walk: start at
 * the compiled entry dist/demo/main.js, follow its relative ES module imports, and list every file reached.
 * Browsers load the modules as they are (relative `.js` specifiers need no import map); a bare or `node:`
 * specifier is refused here, since the page must run with no network and no Node.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { loadArtifactFromDir } from '../../runtime/node-loader.js';
import { openPublished, readIndex } from '../publish/registry.js';
import { RaftNsError } from '../util/errors.js';
import { PACKAGE_ROOT, TOOL_VERSION } from '../version.js';

export interface DemoFile {
  /** File on disk, or inline bytes (generated files such as demo-info.json). */
  path?: string;
  bytes?: Uint8Array;
  contentType: string;
}

export interface DemoModelInfo {
  dir: string;
  name: string;
  version: string;
  weightsSha256: string;
}

export interface DemoFiles {
  files: Map<string, DemoFile>;
  model: DemoModelInfo | null;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
};

export function contentTypeOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return TYPES[dot >= 0 ? path.slice(dot) : ''] ?? 'application/octet-stream';
}

/**
 * Collects the page: index.html and style.css from demo/, the module closure of dist/demo/main.js, the
 * model's manifest.json and weights.bin under /model/, and demo-info.json (tool version, model identity).
 * `modelDir` undefined: the registry's latest under artifacts/ (index.json), if any; null: no model.
 */
export async function collectDemoFiles(opts: { modelDir?: string | null; root?: string } = {}): Promise<DemoFiles> {
  const root = opts.root ?? PACKAGE_ROOT;
  const files = new Map<string, DemoFile>();
  for (const name of ['index.html', 'style.css']) {
    const p = join(root, 'demo', name);
    if (!existsSync(p)) throw new RaftNsError('demo.missing', `demo: ${p} is missing; the page sources ship in demo/`);
    files.set(name === 'index.html' ? '/' : `/${name}`, { path: p, contentType: contentTypeOf(p) });
  }
  const dist = join(root, 'dist');
  const entry = join(dist, 'demo', 'main.js');
  if (!existsSync(entry)) throw new RaftNsError('demo.build', `demo: ${entry} is missing; run \`npm run build\` first`);
  for (const file of moduleClosure(entry)) {
    const url = `/${relative(dist, file).split(sep).join('/')}`;
    files.set(url, { path: file, contentType: contentTypeOf(file) });
    if (existsSync(`${file}.map`)) files.set(`${url}.map`, { path: `${file}.map`, contentType: contentTypeOf('.map') });
  }
  const modelDir = opts.modelDir === undefined ? findDefaultArtifact(root) : opts.modelDir;
  let model: DemoModelInfo | null = null;
  if (modelDir !== null) {
    let art;
    try {
      art = await loadArtifactFromDir(modelDir);
    } catch (err) {
      throw new RaftNsError('demo.model', `demo: --model ${modelDir}: ${(err as Error).message.replace(/^runtime: /, '')}`, { cause: err });
    }
    model = { dir: modelDir, name: art.manifest.name, version: art.manifest.version, weightsSha256: art.weightsSha256 };
    files.set('/model/manifest.json', { path: join(modelDir, 'manifest.json'), contentType: contentTypeOf('.json') });
    files.set('/model/weights.bin', { path: join(modelDir, 'weights.bin'), contentType: contentTypeOf('.bin') });
  }
  const info = {
    tool_version: TOOL_VERSION,
    model: model && { name: model.name, version: model.version, weights_sha256: model.weightsSha256, manifest: 'model/manifest.json', weights: 'model/weights.bin' },
  };
  files.set('/demo-info.json', { bytes: new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`), contentType: contentTypeOf('.json') });
  return { files, model };
}

/** Relative import specifiers of a compiled ES module (comments stripped first: JSDoc examples hold imports). */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = new Set<string>();
  const re = /\b(?:import|export)\s*(?:[\w*${}\s,]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) out.add((m[1] ?? m[2])!);
  return [...out];
}

/** Every module reachable from `entry` through relative imports, entry first. Throws on bare specifiers. */
export function moduleClosure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [resolve(entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const spec of importSpecifiers(src)) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) {
        throw new RaftNsError('demo.import', `demo: ${file} imports "${spec}"; the page loads only relative modules (no packages, no node: built-ins)`);
      }
      const target = resolve(dirname(file), spec);
      if (!existsSync(target)) throw new RaftNsError('demo.import', `demo: ${file} imports "${spec}", but ${target} does not exist; rebuild with \`npm run build\``);
      stack.push(target);
    }
  }
  return [...seen];
}

/**
 * The registry's `latest` version under `<root>/artifacts`, as index.json lists it (raft-ns-default first,
 * else the first model with a release), with every file checked against the index; null when there is no
 * index. Folders the index does not list (uncommitted, hand-dropped) are never picked.
 */
export function findDefaultArtifact(root: string = PACKAGE_ROOT): string | null {
  const base = join(root, 'artifacts');
  if (!existsSync(join(base, 'index.json'))) return null;
  const index = readIndex(base);
  const names = Object.keys(index.models).sort((a, b) => (a === 'raft-ns-default' ? -1 : b === 'raft-ns-default' ? 1 : a < b ? -1 : 1));
  const model = names.find((n) => index.models[n]!.latest !== null);
  return model === undefined ? null : openPublished(base, model);
}

/** URL path → relative file path inside a static bundle ("/" → index.html). */
export function bundlePathOf(url: string): string {
  return url === '/' ? 'index.html' : posix.normalize(url.slice(1));
}

/** The file map of a folder written by writeStaticBundle (to serve a bundle back, e.g. in tests). */
export function filesFromDir(dir: string): Map<string, DemoFile> {
  const files = new Map<string, DemoFile>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p).split(sep).join('/');
        files.set(rel === 'index.html' ? '/' : `/${rel}`, { path: p, contentType: contentTypeOf(p) });
      }
    }
  };
  walk(dir);
  return files;
}
