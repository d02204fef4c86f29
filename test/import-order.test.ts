/**
 * One direction of dependency: every relative import in runtime/, sim/, pipeline/ and demo/ points to the same
 * layer or an earlier one, in the flow order of docs/CONTRACTS.md (runtime and sim depend on nothing; each
 * stage only on the stages before it). A file that reaches up — a source stage importing the evaluation, the
 * trainer importing the checker — fails here, with the import named. And no cycles, type-only imports
 * included: two files that need each other's shapes share a types.ts instead (pipeline/window/types.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

/** Earliest first. A path belongs to the layer of its longest matching entry. */
const LAYERS: readonly (readonly string[])[] = [
  ['runtime'],
  ['sim'],
  ['pipeline/version.ts'],
  ['pipeline/schemas.ts'],
  ['pipeline/util'],
  ['pipeline/ingest'],
  ['pipeline/simulate'],
  ['pipeline/dataset'],
  ['pipeline/window'],
  ['pipeline/train'],
  ['pipeline/quantize'],
  ['pipeline/verify'],
  ['pipeline/publish'],
  ['pipeline/conformance'],
  ['pipeline/report'],
  ['pipeline/evaluate'],
  ['pipeline/infer', 'pipeline/run', 'pipeline/notebook', 'pipeline/demo'],
  ['pipeline/program.ts', 'pipeline/index.ts'],
  ['pipeline/cli.ts'],
];

/** demo/ is the browser page: it may use the runtime and the simulator only. */
const DEMO_MAY_IMPORT = ['runtime', 'sim', 'demo'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function layerOf(path: string): { index: number; name: string } | null {
  const r = relative(ROOT, path);
  let best: { index: number; name: string } | null = null;
  LAYERS.forEach((names, index) => {
    for (const name of names) if ((r === name || r.startsWith(`${name}/`)) && (best === null || name.length > best.name.length)) best = { index, name };
  });
  return best;
}

/**
 * Relative module specifiers in a source text: `import` (value or type-only), `export … from` (named, `*`,
 * `* as`), side-effect `import '…'` and dynamic `import('…')`, in either quote style.
 */
function relativeSpecifiers(src: string): string[] {
  return [...src.matchAll(/(?:\bfrom|\bimport\s*\(?)\s*(['"])(\.{1,2}\/[^'"]+)\1/g)].map((m) => m[2]!);
}

/** Relative imports of a file, resolved to .ts paths. */
function importsOf(file: string): string[] {
  return relativeSpecifiers(readFileSync(file, 'utf8')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/**
 * Every cycle of a directed graph: the strongly connected components (Tarjan) with more than one node, plus
 * nodes that reach themselves directly. Each component is sorted; edges to nodes outside the graph are ignored.
 */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import order', () => {
  it('every import in runtime/, sim/ and pipeline/ points to its own layer or an earlier one', () => {
    const files = ['runtime', 'sim', 'pipeline'].flatMap((d) => tsFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(100);
    const backward: string[] = [];
    const unplaced: string[] = [];
    for (const f of files) {
      const from = layerOf(f);
      if (from === null) {
        unplaced.push(relative(ROOT, f));
        continue;
      }
      for (const t of importsOf(f)) {
        const to = layerOf(t);
        if (to !== null && to.index > from.index) backward.push(`${relative(ROOT, f)} (${from.name}) imports ${relative(ROOT, t)} (${to.name})`);
      }
    }
    expect(unplaced, 'files in no layer: add them to LAYERS').toEqual([]);
    expect(backward).toEqual([]);
  });

  it('demo/ imports only the runtime and the simulator', () => {
    const bad = tsFiles(join(ROOT, 'demo')).flatMap((f) =>
      importsOf(f).filter((t) => !DEMO_MAY_IMPORT.some((d) => relative(ROOT, t).startsWith(`${d}/`))).map((t) => `${relative(ROOT, f)} imports ${relative(ROOT, t)}`),
    );
    expect(bad).toEqual([]);
  });

  it('catches a backward import (the checker works)', () => {
    const train = layerOf(join(ROOT, 'pipeline/train/train.ts'))!;
    const verify = layerOf(join(ROOT, 'pipeline/verify/verify.ts'))!;
    const domain = layerOf(join(ROOT, 'runtime/domain.ts'))!;
    expect(verify.index).toBeGreaterThan(train.index); // so train → verify would be reported
    expect(domain.index).toBeLessThan(train.index);
  });

  it('no import cycles, type-only imports included', () => {
    const files = ['runtime', 'sim', 'pipeline', 'demo'].flatMap((d) => tsFiles(join(ROOT, d)));
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const cycles = cyclesOf(graph).map((c) => c.map((f) => relative(ROOT, f)).join(' ↔ '));
    expect(cycles, 'files that import each other: move the shared shapes into the folder\'s types.ts').toEqual([]);
  });

  it('catches every import form and every cycle (the cycle finder works)', () => {
    const src = [
      "import type { A } from './a.js';",
      "import {\n  b,\n} from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "export * as e from './e.js';",
      "import './f.js';",
      'const g = await import("./g.js");',
      "import { h } from 'node:fs';",
    ].join('\n');
    expect(relativeSpecifiers(src)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
    const graph = new Map<string, string[]>([
      ['a', ['b']], ['b', ['c']], ['c', ['a', 'outside']], // a → b → c → a
      ['d', ['d']], // imports itself
      ['e', ['a', 'f']], ['f', []], // reach the cycle but are not on it
    ]);
    expect(cyclesOf(graph)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(cyclesOf(new Map([['x', ['y']], ['y', []]]))).toEqual([]);
  });
});
