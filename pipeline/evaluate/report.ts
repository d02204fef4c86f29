/**
 * The evaluation's HTML page: one self-contained file (inline CSS, SVG charts rendered in Node from
 * Vega-Lite specs, no scripts, no network references) that opens anywhere, offline.
 */
import type { Estimate } from '../report/stats.js';
import { renderSvg, type VegaLiteSpec } from '../report/charts.js';
import { CAPTURE_KEYS, fmtExcess, type Capture, type CaptureKey } from './aggregate.js';
import { DOWNTIME_SHARE_GOAL, FAILOVER_CAPTURE_GOAL } from './goals.js';
import type { EvaluationReport } from './types.js';
import { METRIC_KEYS, type MetricKey } from './harness.js';
import { BASELINE_POLICY_ID, ORACLE_FAMILY, ORACLE_POLICY_ID } from './policies.js';

const METRIC_LABELS: Record<MetricKey, string> = {
  commit_latency_mean_ms: 'mean commit latency (ms)',
  commit_latency_with_leader_mean_ms: '… while a leader could commit (ms)',
  commit_latency_downtime_mean_ms: '… waiting for a leader (ms)',
  commit_latency_p99_ms: 'p99 commit latency (ms)',
  failover_ms: 'failover time (ms)',
  leaderless_s_per_hour: 'leaderless s / hour',
  unnecessary_elections: 'unnecessary elections / run',
  elections_per_hour: 'elections / hour',
  unnecessary_elections_per_hour: 'unnecessary elections / hour',
  availability: 'availability',
  safety_violations: 'safety violations',
};

const CAPTURE_LABELS: Record<CaptureKey, string> = {
  commit_latency_mean_ms: 'capture: mean latency',
  commit_latency_downtime_mean_ms: 'capture: downtime latency',
  failover_ms: 'capture: failover',
  leaderless_s_per_hour: 'capture: leaderless time',
};

/** Renders the page. Deterministic for the same report. */
export async function renderHtml(r: EvaluationReport): Promise<string> {
  const label = new Map(r.config.policies.map((p) => [p.id, p.label]));
  const parts: string[] = [];
  parts.push(`<h1>raft-ns evaluation — suite <code>${esc(r.config.suite.name)}</code></h1>`);
  parts.push(`<p>${esc(r.config.suite.description)}</p>`);
  parts.push(`<p class="meta">tool ${esc(r.tool_version)} · created ${esc(r.created_at)} · suite sha256 <code>${esc(r.config.suite.sha256.slice(0, 16))}…</code> · seeds ${r.config.seeds.join(', ')} · ${r.config.scenarios.length} scenarios · ${r.runs} closed-loop runs · pre-vote and check-quorum on for every policy<br>`
    + (r.model ? `model ${esc(r.model.name)}@${esc(r.model.version)} (${esc(r.model.precision)}), manifest sha256 <code>${esc(r.model.manifest_sha256)}</code>, served by the rules “${esc(r.model.rules.name)}” (sha256 <code>${esc(r.model.rules.sha256.slice(0, 12))}</code>)` : 'no model: baselines only') + '</p>');

  if (r.goals) parts.push('<h2>The goals, for every policy</h2>', goalsHtml(r, label));
  parts.push('<h2>The claims</h2>', claimsHtml(r));
  parts.push(`<h2>Metrics by policy (pooled over scenarios; mean ± 95% CI over ${r.config.seeds.length} seeds)</h2>`);
  parts.push(tableHtml(r.pooled.map((p) => ({ name: label.get(p.policy) ?? p.policy, estimates: p.estimates, capture: p.capture }))));
  parts.push('<p class="meta">The oracle is a perfect failure detector: it reads the simulator\'s ground truth and campaigns'
    + ' as soon as a follower\'s leader has crashed or is cut off from it or from a quorum (after a random delay under 50 ms), never otherwise.'
    + ' It is the physical limit of a timeout policy, not a strict bound: leader placement and a timely change away from a jittery leader can beat it on latency.'
    + ' Capture = (static etcd − policy) / (static etcd − oracle) on the means: 0 is static etcd, 1 the oracle; — when the oracle gains under 1% on static etcd.'
    + ' Mean commit latency splits into the part spent while a leader could commit and the part spent waiting for one (downtime-attributable: what a timeout policy can change); the two sum to the mean.</p>');
  parts.push(`<p class="meta">Safety violations across all ${r.safety.runs} runs: <b>${r.safety.violations}</b>${r.safety.messages.map((m) => `<br>${esc(m)}`).join('')}</p>`);
  if (r.model_diagnostics.length) {
    parts.push('<h3>Model diagnostics</h3><ul>' + r.model_diagnostics.map((d) => `<li>${esc(label.get(d.policy) ?? d.policy)}: ${d.ticks} node-ticks, static fallback on ${(d.fallback_rate * 100).toFixed(2)}% of them; rule activations ${esc(Object.entries(d.rule_activations).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none')}</li>`).join('') + '</ul>');
  }
  if (r.sweep) {
    parts.push('<h2>Pareto: unnecessary elections vs failover time</h2>');
    parts.push(`<p class="meta">Sweep on ${esc(r.config.sweep!.scenarios.join(', '))}, seeds ${r.config.sweep!.seeds.join(', ')}. Lower-left is better on both axes; filled points are on the frontier of the policies shown. The black cross is the oracle on the same runs: the physical limit, not a policy, so not part of the frontier.</p>`);
    parts.push(figure(await renderSvg(paretoSpec(r))));
  }
  if (r.timeline) {
    parts.push(`<h2>Timeline: ${esc(r.timeline.scenario)}, seed ${r.timeline.seed}, node ${esc(r.timeline.node)}</h2>`);
    parts.push(`<p class="meta">Faults: ${esc(r.timeline.faults.map((f) => `${f.kind} at ${f.at_ms / 1000} s`).join('; '))}. Each policy runs its own closed loop on the same seed; ticks are sampled every ${r.timeline.every_ticks}. Dots on the timeout panel mark elections (term increments) seen by the node.</p>`);
    parts.push(figure(await renderSvg(timelineSpec(r))));
  }
  parts.push('<h2>Per scenario</h2>');
  for (const name of r.config.scenarios.map((s) => s.name)) {
    const rows = r.per_scenario.filter((x) => x.scenario === name);
    const tags = rows[0]?.tags.length ? ` <span class="meta">[${esc(rows[0].tags.join(', '))}]</span>` : '';
    parts.push(`<details><summary>${esc(name)}${tags}</summary>${tableHtml(rows.map((x) => ({ name: label.get(x.policy) ?? x.policy, estimates: x.estimates, capture: x.capture })))}</details>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>raft-ns evaluation: ${esc(r.config.suite.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1180px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}.meta{color:#666;font-size:12px}.ok{color:#0a7a2a}.no{color:#b00020}figure{margin:1em 0}code{font-size:12px}
</style></head><body>
${parts.join('\n')}
</body></html>
`;
}

/** Goals 1–5 (pipeline/evaluate/goals.ts): one row per policy, each cell its figures and whether it is met. */
function goalsHtml(r: EvaluationReport, label: Map<string, string>): string {
  const g = r.goals!;
  const cell = (met: boolean | null, text: string): string => `<td class="${met === null ? 'meta' : met ? 'ok' : 'no'}">${text}${met === null ? '' : met ? ' ✓' : ' ✗'}</td>`;
  const worst = (ds: Array<{ other: string; difference: Estimate }>): string => {
    const d = ds.reduce<(typeof ds)[number] | null>((a, x) => (a === null || x.difference.mean > a.difference.mean ? x : a), null);
    return d === null ? '—' : `${d.difference.mean >= 0 ? '+' : ''}${fmtE(d.difference, 0)} ms vs ${esc(d.other)}`;
  };
  const rows = g.policies.map((p) => {
    const f = p.failover;
    const u = p.unnecessary;
    const l = p.latency;
    const share = l.downtime_share_of_etcd === null ? '—' : `${(l.downtime_share_of_etcd * 100).toFixed(0)}%`;
    const pa = p.pareto;
    return `<tr><td>${esc(label.get(p.policy) ?? p.policy)}</td>`
      + cell(f.met, `${fmtN(f.mean_ms)} ms (best other baseline ${fmtN(f.best_other_ms)}${f.best_other ? `, ${esc(f.best_other)}` : ''}); capture ${f.capture === null ? '—' : f.capture.toFixed(2)}`)
      + cell(u.met, `${u.total} (jitter ${u.jitter}) vs etcd ${u.etcd_total} (${u.etcd_jitter})${p.policy === BASELINE_POLICY_ID ? '' : `; excess ${fmtExcess(u.excess_vs_etcd.total)} (${fmtExcess(u.excess_vs_etcd.jitter)}), 95%`}`)
      + cell(l.met, `worst paired mean ${worst(l.mean)}; p99 ${worst(l.p99)}; waiting for a leader ${share} of etcd's`)
      + cell(pa === null ? null : pa.met, pa === null ? 'not swept' : `${pa.baseline_frontier_points - pa.unmatched.length} of ${pa.baseline_frontier_points} baseline frontier points matched${pa.unmatched.length ? `; not: ${esc(pa.unmatched.join(', '))}` : ''}${pa.unmatched_by_oracle_too.length ? ` (not even the oracle matches ${esc(pa.unmatched_by_oracle_too.join(', '))})` : ''}`)
      + cell(p.safety.met, `${p.safety.violations} violations`)
      + `</tr>`;
  });
  return '<p class="meta">Checked for every policy, the oracle included: a goal the perfect failure detector misses is out of any timeout policy\'s reach on this suite.'
    + ` 1: pooled failover below every other baseline's and capture ≥ ${FAILOVER_CAPTURE_GOAL}. 2: unnecessary elections summed over all runs and over the jitter scenarios, no more than static etcd's.`
    + ` 3: paired per-seed differences of mean and p99 commit latency (policy − other, mean ± 95% CI) ≤ 0 against every other baseline and < 0 against static etcd, and latency waiting for a leader ≤ ${DOWNTIME_SHARE_GOAL * 100}% of static etcd's (the worst difference is shown).`
    + ' 4: every frontier point of the other baseline families in the Pareto sweep matched or beaten on both axes by a point of the policy\'s family. 5: no safety violation (memory per node: claim (c) below).</p>'
    + `<table><tr><th>policy</th><th>1. failover</th><th>2. unnecessary elections</th><th>3. commit latency</th><th>4. Pareto</th><th>5. safety</th></tr>${rows.join('')}</table>`;
}

function claimsHtml(r: EvaluationReport): string {
  const c = r.claims;
  const rows: string[] = [];
  const cmp = (title: string, x: EvaluationReport['claims']['latency_vs_static_etcd'], unit: string): void => {
    if (!x) { rows.push(`<tr><td>${title}</td><td colspan="4">not measured (no model, or no such scenarios in this suite)</td></tr>`); return; }
    const rel = x.relative_change === null ? 'undefined (baseline is 0)' : pct(x.relative_change);
    const paired = x.paired ? ` (paired per seed ${pct(x.paired.mean)} ± ${pct(x.paired.ci95)})` : '';
    const evidence = x.metric === 'unnecessary_elections' ? `<br><span class="meta">${x.model_sum} vs ${x.baseline_sum} unnecessary elections in total over ${x.scenarios.length} scenarios × ${r.config.seeds.length} seeds</span>` : '';
    rows.push(`<tr><td>${title}</td><td>${fmtE(x.model)} ${unit}</td><td>${fmtE(x.baseline)} ${unit}</td><td>${rel}${paired}${evidence}</td><td class="${x.meets_claim ? 'ok' : 'no'}">${pct(x.claim)}: ${x.meets_claim ? 'met' : 'not met'}</td></tr>`);
  };
  cmp('(a) mean consensus latency, model vs static etcd', c.latency_vs_static_etcd, 'ms');
  cmp('(b) unnecessary elections under transient jitter, model vs static etcd', c.jitter_unnecessary_vs_static_etcd, '/ run');
  const mem = c.memory_per_node;
  rows.push(mem
    ? `<tr><td>(c) memory per node (runtime accounting)</td><td colspan="2">${mem.node_state_bytes} B state + ${mem.shared_weights_bytes} B weights = ${mem.total_bytes} B</td><td>${(mem.total_bytes / 1024).toFixed(1)} KiB</td><td class="${mem.meets_claim ? 'ok' : 'no'}">&lt; 128 KiB: ${mem.meets_claim ? 'met' : 'not met'}</td></tr>`
    : '<tr><td>(c) memory per node</td><td colspan="4">not measured (no model)</td></tr>');
  return `<p class="meta">Measured on suite <code>${esc(c.suite)}</code>; reported whether or not they meet the claims.</p><table><tr><th>claim</th><th>model</th><th>baseline</th><th>relative change</th><th>claim</th></tr>${rows.join('')}</table>`;
}

function tableHtml(rows: Array<{ name: string; estimates: Record<MetricKey, Estimate>; capture: Capture }>): string {
  const head = `<tr><th>policy</th>${METRIC_KEYS.map((k) => `<th>${esc(METRIC_LABELS[k])}</th>`).join('')}${CAPTURE_KEYS.map((k) => `<th>${esc(CAPTURE_LABELS[k])}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr><td>${esc(r.name)}</td>${METRIC_KEYS.map((k) => `<td>${fmtE(r.estimates[k], k === 'availability' ? 4 : 1)}</td>`).join('')}`
    + `${CAPTURE_KEYS.map((k) => `<td>${r.capture[k] === null ? '—' : r.capture[k]!.toFixed(2)}</td>`).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}

/**
 * The sweep as a scatter: each family joined in knob order (its swept value), the family told by colour
 * and shape in the legend, and direct labels only on the frontier — labelling every point piles the
 * labels up illegibly where a family's points crowd together.
 */
export function paretoSpec(r: EvaluationReport): VegaLiteSpec {
  const all = r.sweep!.filter((p) => Number.isFinite(p.failover_ms.mean) && Number.isFinite(p.unnecessary_elections_per_hour.mean)).map((p) => ({
    family: p.family, label: p.label, value: p.value, failover_ms: p.failover_ms.mean, unnecessary_per_hour: p.unnecessary_elections_per_hour.mean,
    frontier: p.pareto_optimal ? 'on frontier' : 'dominated',
  }));
  const values = all.filter((p) => p.family !== ORACLE_FAMILY);
  const oracle = all.filter((p) => p.family === ORACLE_FAMILY).map((p) => ({ ...p, label: 'oracle (physical limit)' }));
  return {
    width: 760, height: 420, background: 'white',
    data: { values },
    layer: [
      // The reference point first, so the policies draw over it: a black cross, outside the families' legend.
      { data: { values: oracle }, mark: { type: 'point', shape: 'cross', filled: true, size: 160, color: 'black' }, encoding: { x: { field: 'failover_ms', type: 'quantitative' }, y: { field: 'unnecessary_per_hour', type: 'quantitative' } } },
      { data: { values: oracle }, mark: { type: 'text', dx: 10, dy: 12, fontSize: 11, fontWeight: 'bold', align: 'left' }, encoding: { x: { field: 'failover_ms', type: 'quantitative' }, y: { field: 'unnecessary_per_hour', type: 'quantitative' }, text: { field: 'label' } } },
      { mark: { type: 'line', opacity: 0.5 }, encoding: { x: { field: 'failover_ms', type: 'quantitative' }, y: { field: 'unnecessary_per_hour', type: 'quantitative' }, color: { field: 'family', type: 'nominal' }, order: { field: 'value', type: 'quantitative' } } },
      {
        mark: { type: 'point', size: 90, strokeWidth: 2 },
        encoding: {
          x: { field: 'failover_ms', type: 'quantitative', title: 'mean failover time (ms)', scale: { zero: false } },
          y: { field: 'unnecessary_per_hour', type: 'quantitative', title: 'unnecessary elections per hour' },
          color: { field: 'family', type: 'nominal', title: 'policy family' },
          shape: { field: 'family', type: 'nominal' },
          fill: { condition: { test: "datum.frontier === 'on frontier'", field: 'family', type: 'nominal' }, value: 'white' },
        },
      },
      { transform: [{ filter: "datum.frontier === 'on frontier'" }], mark: { type: 'text', dx: 8, dy: -8, fontSize: 10, align: 'left' }, encoding: { x: { field: 'failover_ms', type: 'quantitative' }, y: { field: 'unnecessary_per_hour', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  } as VegaLiteSpec;
}

function timelineSpec(r: EvaluationReport): VegaLiteSpec {
  const t = r.timeline!;
  const pts = t.points.map((p) => ({ ...p, t_s: p.t_ms / 1000 }));
  // The oracle arms a timeout only for the few ticks between a loss and the next leader (null otherwise):
  // too short for a line, so its armed values are drawn as dots as well.
  const oracleArmed = pts.filter((p) => p.policy === ORACLE_POLICY_ID && p.timeout_ms !== null);
  const first = t.points[0]?.policy;
  const latency = pts.filter((p) => p.policy === first && p.heartbeat_latency_ms !== null);
  const model = pts.filter((p) => p.confidence !== null);
  const elections = t.elections.map((e) => ({ ...e, t_s: e.t_ms / 1000 }));
  const faults = t.faults.map((f) => ({ kind: f.kind, t_s: f.at_ms / 1000 }));
  const x = { field: 't_s', type: 'quantitative', title: 'time (s)' } as const;
  const faultRule = { data: { values: faults }, mark: { type: 'rule', strokeDash: [4, 3], color: '#999' }, encoding: { x: { field: 't_s', type: 'quantitative' } } };
  return {
    background: 'white',
    vconcat: [
      {
        width: 1000, height: 120, title: `heartbeat latency seen by ${t.node} when a heartbeat arrived (ms, run under ${first ?? '—'})`,
        // Points, not a line: ticks without a heartbeat have no latency, and a line would bridge the silence.
        layer: [{ data: { values: latency }, mark: { type: 'point', size: 6, filled: true, opacity: 0.7 }, encoding: { x, y: { field: 'heartbeat_latency_ms', type: 'quantitative', title: 'latency (ms)' } } }, faultRule],
      },
      {
        width: 1000, height: 260, title: `election timeout armed by ${t.node}, per policy (ms, log scale)`,
        layer: [
          { data: { values: pts }, mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after' }, encoding: { x, y: { field: 'timeout_ms', type: 'quantitative', scale: { type: 'log' }, title: 'timeout (ms)' }, color: { field: 'policy', type: 'nominal' } } },
          { data: { values: oracleArmed }, mark: { type: 'point', filled: true, size: 30 }, encoding: { x, y: { field: 'timeout_ms', type: 'quantitative' }, color: { field: 'policy', type: 'nominal' } } },
          { data: { values: elections }, mark: { type: 'point', filled: true, size: 50, shape: 'triangle-up' }, encoding: { x, y: { datum: 60 }, color: { field: 'policy', type: 'nominal' } } },
          faultRule,
        ],
      },
      {
        width: 1000, height: 110, title: 'model: P(leader lost) (line) and confidence |2P − 1| (dashed)',
        layer: [
          { data: { values: model }, mark: { type: 'line', strokeWidth: 1 }, encoding: { x, y: { field: 'p_leader_lost', type: 'quantitative', scale: { domain: [0, 1] }, title: 'probability' }, color: { field: 'policy', type: 'nominal' } } },
          { data: { values: model }, mark: { type: 'line', strokeWidth: 1, strokeDash: [3, 2] }, encoding: { x, y: { field: 'confidence', type: 'quantitative' }, color: { field: 'policy', type: 'nominal' } } },
          faultRule,
        ],
      },
    ],
  } as VegaLiteSpec;
}

/** Inline SVG without namespace URIs (HTML parses inline <svg> without them), so the page has no URL at all. */
function figure(svg: string): string {
  return `<figure>${svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '').replace(/xlink:href=/g, 'href=')}</figure>`;
}

function fmtE(e: Estimate, digits = 1): string {
  if (!Number.isFinite(e.mean)) return '—';
  const ci = Number.isFinite(e.ci95) ? ` ± ${e.ci95.toFixed(digits)}` : '';
  return `${e.mean.toFixed(digits)}${ci}`;
}

function fmtN(x: number): string {
  return Number.isFinite(x) ? x.toFixed(0) : '—';
}
function pct(x: number): string {
  return Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '—';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
