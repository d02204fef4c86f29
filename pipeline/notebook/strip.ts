/**
 * Strips a notebook to what is committed: no outputs, no execution counts, no per-run cell metadata
 * (execution timestamps, scroll state), kernel spec kept, the kernel's version dropped from language_info.
 * test/notebooks.test.ts checks every committed notebook is already in this form, so a notebook saved with
 * outputs fails CI until it is stripped:
 *
 *   npm run build && node dist/pipeline/notebook/strip.js notebooks/*.ipynb
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RaftNsError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/** Cell metadata keys Jupyter writes on every run (they change the file without changing the notebook). */
const VOLATILE_CELL_METADATA = ['execution', 'collapsed', 'scrolled', 'ExecuteTime'];

interface NotebookJson {
  cells: Array<Record<string, unknown> & { cell_type: string; metadata?: Record<string, unknown> }>;
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** The stripped notebook as text (1-space JSON indent, as Jupyter writes it, and a final newline). */
export function stripNotebookText(text: string, file = '<notebook>'): string {
  let nb: NotebookJson;
  try {
    nb = JSON.parse(text) as NotebookJson;
  } catch (err) {
    throw new RaftNsError('notebook.json', `notebook: ${file}: not valid JSON (${(err as Error).message}); expected an .ipynb notebook`, { cause: err });
  }
  if (!Array.isArray(nb.cells) || typeof nb.metadata !== 'object' || nb.metadata === null) {
    throw new RaftNsError('notebook.format', `notebook: ${file}: no cells/metadata; expected an nbformat 4 notebook`);
  }
  const cells = nb.cells.map((c) => {
    const metadata = { ...(c.metadata ?? {}) };
    for (const k of VOLATILE_CELL_METADATA) delete metadata[k];
    const out: Record<string, unknown> = { ...c, metadata };
    if (c.cell_type === 'code') {
      out.execution_count = null;
      out.outputs = [];
    }
    return out;
  });
  const metadata = { ...nb.metadata };
  if (typeof metadata.language_info === 'object' && metadata.language_info !== null) {
    const li = { ...(metadata.language_info as Record<string, unknown>) };
    delete li.version;
    metadata.language_info = li;
  }
  return `${JSON.stringify({ ...nb, cells, metadata }, null, 1)}\n`;
}

/** Strips files in place (atomically); returns the files that changed. */
export function stripNotebookFiles(paths: readonly string[]): string[] {
  const changed: string[] = [];
  for (const p of paths) {
    const before = readFileSync(p, 'utf8');
    const after = stripNotebookText(before, p);
    if (after !== before) {
      writeFileAtomic(p, after);
      changed.push(p);
    }
  }
  return changed;
}

// Run as a script: node dist/pipeline/notebook/strip.js <notebook.ipynb>...
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const changed = stripNotebookFiles(process.argv.slice(2));
  process.stdout.write(`notebook: stripped ${changed.length} of ${process.argv.length - 2} notebook(s)${changed.length ? `: ${changed.join(', ')}` : ''}\n`);
}
