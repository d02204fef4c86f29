/**
 * Showing results in a notebook: Vega-Lite specs rendered to SVG in Node (pipeline/report/charts.ts, the same
 * renderer the reports use) and small HTML tables. Takes tslab's `display` as a parameter so that nothing
 * here depends on the kernel (tslab is installed by .ci/run, not a package dependency) and tests can capture
 * what a notebook would show.
 */
import type { VegaLiteSpec } from '../report/charts.js';

/** What the notebooks pass: tslab's `display` (import { display } from 'tslab'), or anything with `html`. */
export interface HtmlDisplay {
  html(s: string): void;
}

/**
 * Renders a spec and shows it inline as SVG. Returns nothing, so a cell ending with it echoes nothing.
 * @example await showChart(display, heartbeatGapSpec(ex));
 */
export async function showChart(display: HtmlDisplay, spec: VegaLiteSpec): Promise<void> {
  // Loaded on first use: vega has a top-level await, and tslab runs notebook imports through require(),
  // which refuses such a module graph. A dynamic import from this compiled ES module is a real import().
  const { renderSvg } = await import('../report/charts.js');
  const svg = await renderSvg(spec);
  display.html(`<div class="raft-ns-chart">${svg}</div>`);
}

/** Shows rows as an HTML table (numbers to `digits` decimals). Returns nothing, so a cell ending with it echoes nothing. */
export function showTable(display: HtmlDisplay, rows: ReadonlyArray<object>, opts: { columns?: string[]; digits?: number; maxRows?: number } = {}): void {
  display.html(tableHtml(rows, opts));
}

export function tableHtml(rows: ReadonlyArray<object>, opts: { columns?: string[]; digits?: number; maxRows?: number } = {}): string {
  const columns = opts.columns ?? Object.keys(rows[0] ?? {});
  const get = (r: object, c: string): unknown => (r as Record<string, unknown>)[c];
  const digits = opts.digits ?? 2;
  const shown = rows.slice(0, opts.maxRows ?? 200);
  const cell = (v: unknown): string => {
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(digits) : '—';
    if (v === null || v === undefined) return '—';
    return esc(typeof v === 'string' ? v : JSON.stringify(v));
  };
  const head = `<tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = shown.map((r) => `<tr>${columns.map((c) => `<td>${cell(get(r, c))}</td>`).join('')}</tr>`).join('');
  const more = rows.length > shown.length ? `<p>… ${rows.length - shown.length} more rows</p>` : '';
  return `<table>${head}${body}</table>${more}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
