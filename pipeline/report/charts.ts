/**
 * Charts as Vega-Lite specs rendered to SVG in Node (no browser, no network): reports embed the SVG, the
 * notebooks show the same specs inline.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type VegaLiteSpec = TopLevelSpec;

/** Renders a Vega-Lite spec to a standalone SVG string. Deterministic for the same spec. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
