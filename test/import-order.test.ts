/**
 * One direction of dependency: every relative import in runtime/, sim/, pipeline/ and demo/ points to the same
 * layer or an earlier one, in the flow order of docs/CONTRACTS.md (runtime and sim depend on nothing; each
 * stage only on the stages before it). A file that reaches up — a source stage importing the evaluation, the
 * trainer importing the checker — fails here, with the import named.
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

/** Relative imports of a file (static, type-only and dynamic alike), resolved to .ts paths. */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
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
});
