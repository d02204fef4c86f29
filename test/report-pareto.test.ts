/**
 * The evaluation report's Pareto chart stays legible: direct labels on frontier points only (the rest are
 * told apart by the family legend), rendered from the committed held-out report.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../pipeline/evaluate/evaluate.js';
import { paretoSpec } from '../pipeline/evaluate/report.js';
import { renderSvg } from '../pipeline/report/charts.js';

const report = JSON.parse(readFileSync(new URL('../docs/evaluation/heldout.json', import.meta.url), 'utf8')) as EvaluationReport;

function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

describe('evaluation report: Pareto chart', () => {
  it('labels the frontier points directly and no dominated point', async () => {
    const svg = await renderSvg(paretoSpec(report));
    const shown = texts(svg);
    const sweep = report.sweep!.filter((p) => p.family !== 'oracle');
    const frontier = sweep.filter((p) => p.pareto_optimal).map((p) => p.label);
    const dominated = sweep.filter((p) => !p.pareto_optimal).map((p) => p.label).filter((l) => !frontier.includes(l));
    expect(frontier.length).toBeGreaterThan(0);
    expect(dominated.length).toBeGreaterThan(0);
    for (const l of frontier) expect(shown).toContain(l);
    for (const l of dominated) expect(shown).not.toContain(l);
    // Every family is still named, by the legend.
    for (const f of new Set(sweep.map((p) => p.family))) expect(shown).toContain(f);
  });
});
