/**
 * The notebooks run: each notebooks/*.ipynb is executed headless on the tslab kernel with Debian's
 * jupyter-nbconvert (installed by .ci/run) and fails the suite when a cell errors — including TypeScript
 * type errors, which tslab reports as cell errors. Locally without jupyter or the kernel the execution tests
 * are skipped with a message; under CI (process.env.CI, or RAFT_NS_REQUIRE_NOTEBOOKS=1 which .ci/run exports)
 * a missing jupyter or kernel is a failure.
 * The notebooks import the compiled dist/ (`npm test` runs tsc first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const NOTEBOOKS_DIR = join(import.meta.dirname, '..', 'notebooks');
const NOTEBOOKS = readdirSync(NOTEBOOKS_DIR).filter((f) => f.endsWith('.ipynb')).sort();
const KERNEL = 'tslab';

interface Output { output_type: string; name?: string; text?: string[] | string; data?: Record<string, unknown>; ename?: string; evalue?: string }
interface Cell { cell_type: 'code' | 'markdown'; source: string[] | string; outputs?: Output[]; execution_count?: number | null }
interface Notebook { cells: Cell[]; metadata: { kernelspec?: { name?: string } } }

function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, 'utf8')) as Notebook;
}

/** Why the notebooks cannot run here, or null when jupyter and the tslab kernel are both present. */
function missingTooling(): string | null {
  const ks = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8' });
  if (ks.error || ks.status !== 0) return 'jupyter is not installed (apt-get install jupyter-nbconvert python3-ipykernel jupyter-client)';
  const specs = (JSON.parse(ks.stdout) as { kernelspecs: Record<string, unknown> }).kernelspecs;
  if (!(KERNEL in specs)) return 'the tslab kernel is not registered (npm install -g tslab && tslab install --python=/usr/bin/python3)';
  const nb = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8' });
  if (nb.error || nb.status !== 0) return 'jupyter nbconvert is not installed (apt-get install jupyter-nbconvert)';
  return null;
}

describe('committed notebooks', () => {
  it('there are the three notebooks of issue 10', () => {
    expect(NOTEBOOKS).toEqual(expect.arrayContaining(['compare-policies.ipynb', 'explore-dataset.ipynb', 'inspect-model.ipynb']));
  });

  it.each(NOTEBOOKS)('%s is committed without outputs, on the tslab kernel', (name) => {
    const nb = readNotebook(join(NOTEBOOKS_DIR, name));
    expect(nb.metadata.kernelspec?.name).toBe(KERNEL);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    expect(code.length).toBeGreaterThan(0);
    for (const c of code) {
      expect(c.outputs ?? []).toEqual([]);
      expect(c.execution_count ?? null).toBeNull();
    }
  });
});

const missing = missingTooling();
const required = Boolean(process.env.CI) || process.env.RAFT_NS_REQUIRE_NOTEBOOKS === '1';
if (missing && required) {
  describe('notebooks execute', () => {
    it('has jupyter and the tslab kernel under CI', () => {
      throw new Error(`notebooks: ${missing}; .ci/run installs them — CI must not skip the notebooks`);
    });
  });
} else if (missing) {
  console.warn(`notebooks: not executing the notebooks here: ${missing}`);
  describe.skip(`notebooks execute (skipped: ${missing})`, () => {
    it('executes every notebook', () => {});
  });
} else {
  describe('notebooks execute', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'raft-ns-nb-'));
    // The fallback model is trained once per test run into this folder and shared by the notebooks.
    const env = { ...process.env, RAFT_NS_NOTEBOOK_CACHE: join(outDir, 'cache') };
    afterAll(() => rmSync(outDir, { recursive: true, force: true }));

    it('the compiled dist/ the notebooks import exists (npm test runs tsc first)', () => {
      expect(existsSync(join(import.meta.dirname, '..', 'dist', 'pipeline', 'notebook', 'index.js'))).toBe(true);
    });

    it.each(NOTEBOOKS)('%s runs without a cell error and shows its charts', (name) => {
      const r = spawnSync('jupyter', [
        'nbconvert', '--to', 'notebook', '--execute', `--ExecutePreprocessor.kernel_name=${KERNEL}`,
        '--ExecutePreprocessor.timeout=240', '--output-dir', outDir, join(NOTEBOOKS_DIR, name),
      ], { encoding: 'utf8', env, timeout: 300_000 });
      // nbconvert exits non-zero on the first erroring cell and prints the cell and the error.
      expect(r.status, `${name}: nbconvert failed:\n${(r.stderr ?? '').split('\n').slice(-40).join('\n')}`).toBe(0);
      const nb = readNotebook(join(outDir, name));
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error')).toEqual([]);
      const charts = outputs.filter((o) => o.output_type === 'display_data' && String((o.data?.['text/html'] as string[] | undefined)?.join('') ?? '').includes('<svg'));
      expect(charts.length, `${name}: expected inline Vega-Lite charts`).toBeGreaterThanOrEqual(2);
    }, 300_000);
  });
}
