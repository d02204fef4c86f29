/** The readable summary of a verification report (Markdown; also what the CLI prints). */
import type { VerificationReport } from './types.js';

export function reportSummary(r: VerificationReport): string {
  const lines: string[] = [];
  lines.push(`# Verification: ${r.artifact.name ?? '?'} ${r.artifact.version ?? ''} — ${r.passed ? 'PASSED' : 'FAILED'}`);
  lines.push('');
  lines.push(`- weights sha256 \`${r.weights_sha256 ?? '(unreadable)'}\`, manifest sha256 \`${r.artifact.manifest_sha256 ?? '-'}\``);
  lines.push(`- rules "${r.rules.name}" (${r.rules.source}), sha256 \`${r.rules.sha256}\``);
  lines.push(`- windows: ${r.windows ? `${r.windows.dir} (manifest sha256 \`${r.windows.manifest_sha256}\`)` : 'none given'}`);
  lines.push(`- tool ${r.tool_version}, seed ${r.config.seed}, split budget ${r.config.split_budget} leaves, search ${r.config.search_budget} × ${r.config.search_ticks} ticks, path ${r.config.precision}`);
  lines.push('');
  lines.push('| check | result | figures |');
  lines.push('|---|---|---|');
  for (const c of r.checks) {
    const figs = Object.entries(c.figures).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
    const result = c.status === 'not-run' ? 'NOT RUN' : c.status.toUpperCase();
    lines.push(`| ${c.id} ${c.name} | ${result} | ${[c.reason, figs].filter(Boolean).join(' — ').replace(/\|/g, '\\|') || '—'} |`);
  }
  if (r.proof) {
    const p = r.proof;
    lines.push('');
    lines.push('## Sound bounds (check e)');
    lines.push('');
    lines.push(`Invariant box for the carried state: ${p.invariant.iterations} iterations, ${p.invariant.converged ? 'converged' : 'iteration cap reached (still sound)'}, |h| ≤ ${fmt(p.invariant.h_abs_max)}, |c| ≤ ${fmt(p.invariant.c_abs_max)}${p.invariant.unbounded_c_units > 0 ? `, ${p.invariant.unbounded_c_units} units with unbounded c` : ''}.`);
    lines.push(`Over the whole input domain (normalized [${p.input_domain.lo.map(fmt).join(', ')}] … [${p.input_domain.hi.map(fmt).join(', ')}]): raw timeout exp(q) ∈ [${fmt(p.domainBounds.timeout_ms.lo)}, ${fmt(p.domainBounds.timeout_ms.hi)}] ms, P(leader lost) ∈ [${fmt(p.domainBounds.p_leader_lost.lo)}, ${fmt(p.domainBounds.p_leader_lost.hi)}].`);
    lines.push('');
    lines.push('| rule | status | claim | sound bound | observed | leaves |');
    lines.push('|---|---|---|---|---|---|');
    for (const c of p.claims) {
      const b = `[${fmt(c.bound.lo)}, ${fmt(c.bound.hi)}] vs ${fmt(c.threshold)}`;
      const extra = [c.notes, c.counterexample ? `counterexample: ${describeCx(c.counterexample)}` : ''].filter(Boolean).join('; ');
      const claim = `${c.claim}${extra ? ` (${extra})` : ''}`.replace(/\|/g, '\\|');
      lines.push(`| ${c.rule_id} | ${c.status.toUpperCase()} | ${claim} | ${b} | ${c.observed === undefined ? '—' : fmt(c.observed)} | ${c.leaves} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function describeCx(cx: object): string {
  const o = cx as { inputs?: number[][]; tick?: number; value?: number; prefix?: number[][]; low?: number[]; high?: number[]; valueLow?: number; valueHigh?: number };
  if (o.inputs) return `${o.inputs.length}-tick sequence, output ${fmt(o.value ?? NaN)} at tick ${o.tick} (exp → ${fmt(Math.exp(o.value ?? NaN))} ms)`;
  return `after ${o.prefix?.length ?? 0} ticks, x=[${(o.low ?? []).map(fmt).join(', ')}] → ${fmt(o.valueLow ?? NaN)} but x=[${(o.high ?? []).map(fmt).join(', ')}] → ${fmt(o.valueHigh ?? NaN)}`;
}

function fmt(v: unknown): string {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '−∞' : 'NaN';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 1 ? v.toFixed(3) : a === 0 ? '0' : v.toPrecision(3);
}
