/**
 * docs/ARTIFACT.md §7 shows how to load the tfjs export without tfjs-node; its code block runs here, as
 * written (only the import lines are mapped to this test's module scope), so the doc cannot go stale.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_CONFIG } from '../pipeline/run/pipeline.js';

const doc = readFileSync(new URL('../docs/ARTIFACT.md', import.meta.url), 'utf8');

describe('docs/ARTIFACT.md: tfjs without tfjs-node', () => {
  it('the §7 code block loads the published model and predicts [1, 5, 2]', async () => {
    const section = doc.slice(doc.indexOf('## 7.'));
    const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const root = new URL('..', import.meta.url).pathname;
    // The doc's paths are relative to a checkout's root; the test runs them from there.
    const body = block!.split('\n').filter((l) => !l.startsWith('import ')).join('\n').replaceAll("'artifacts/", `'${root}artifacts/`);
    const logged: unknown[] = [];
    const run = new Function('tf', 'readFile', 'console', `return (async () => {\n${body}\n})();`) as
      (t: typeof tf, r: typeof readFile, c: { log: (...a: unknown[]) => void }) => Promise<void>;
    await run(tf, readFile, { log: (...a) => logged.push(...a) });
    expect(logged).toEqual([[1, 5, 2]]);
  }, 60_000);
});

describe('docs/ARTIFACT.md and the committed default model', () => {
  it('is the file the default model embeds, so npm start can publish that version again', () => {
    // The quantize stage copies docs/ARTIFACT.md into every artifact; a published version is immutable, so an
    // edited doc makes the main job's publish refuse the committed version (same weights, other bytes).
    const { name, version } = DEFAULT_RUN_CONFIG.model;
    const embedded = readFileSync(new URL(`../artifacts/${name}/${version}/ARTIFACT.md`, import.meta.url), 'utf8');
    expect(doc === embedded, `docs/ARTIFACT.md differs from artifacts/${name}/${version}/ARTIFACT.md: a changed format is a new model version`).toBe(true);
  });
});
