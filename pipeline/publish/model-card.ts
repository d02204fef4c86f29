/**
 * MODEL_CARD.md for a published version, in the sections of Mitchell et al., "Model Cards for Model
 * Reporting" (2019): model details, intended use, factors, metrics, evaluation data, training data, caveats.
 *
 * Every number comes from the artifact manifest or the verification report; a value that neither records
 * is written as "not recorded", never estimated. The text is a pure function of its inputs (no clock), so
 * re-publishing the same artifact produces the same bytes.
 */

type Json = unknown;

export interface ModelCardInputs {
  manifest: Record<string, Json>;
  report: Record<string, Json>;
  weightsSha256: string;
  reportSha256: string;
  signed: boolean;
  /** Checks of verify published as not run (publish --allow-not-run). */
  notRunAllowed?: string[];
}

const NR = '_not recorded_';

export function renderModelCard(inp: ModelCardInputs): string {
  const m = inp.manifest;
  const r = inp.report;
  const arch = obj(m.architecture);
  const outputs = Array.isArray(arch.outputs) ? arch.outputs.map(obj) : [];
  const training = obj(m.training);
  const inputs = obj(m.inputs);
  const norm = obj(m.normalization);
  const lines: string[] = [];
  const push = (...l: string[]): void => {
    lines.push(...l);
  };

  push(`# Model card: ${str(m.name)} ${str(m.version)}`, '');
  push('## Model details', '');
  push(
    `- Name / version: \`${str(m.name)}\` / \`${str(m.version)}\``,
    `- Architecture: ${str(arch.kind)} with ${str(arch.units)} units over ${str(arch.features)} features (${list(arch.feature_names)}); gate order ${str(arch.gate_order)}, recurrent activation ${str(arch.recurrent_activation)}, state ${str(arch.state)}`,
    `- Parameters: ${str(arch.parameter_count)}`,
    `- Outputs: ${outputs.length ? outputs.map((o) => (o.tau !== undefined ? `${str(o.name)} (τ = ${str(o.tau)})` : str(o.name))).join(', ') : NR}`,
    `- Quantization: ${str(obj(m.quantization).scheme)}`,
    `- Tick: ${str(m.tick_ms)} ms`,
    `- Leaders' heartbeat interval in the training traces: ${str(m.heartbeat_interval_ms ?? null)} ms`,
    `- Weights sha256: \`${inp.weightsSha256}\``,
    `- Built by raft-ns ${str(m.tool_version)} at ${str(m.created_at)}; seed ${str(m.seed)}`,
    `- Manifest signature: ${inp.signed ? 'Ed25519, `manifest.sig`' : 'none'}`,
    '',
  );

  push('## Intended use', '');
  push(
    '- Election-timeout provider for a Raft follower: observe one telemetry sample per tick, arm the timeout the',
    '  model proposes, always through the runtime guardrails (`raft-ns/runtime`), which keep every timeout inside',
    '  the verified bounds and fall back to the static timeout outside the verified input box.',
    '- Clusters whose telemetry resembles the training data (see below) and whose tick length matches the manifest.',
    '- Not intended: use without the guardrails; clusters with a different tick length or heartbeat interval than',
    '  the training data; any decision other than when to campaign.',
    '',
  );

  push('## Factors', '');
  push(
    `- Inputs, in order: ${list(arch.feature_names)}`,
    `- Transforms: ${Array.isArray(norm.transforms) ? norm.transforms.map((t) => `\`${String(t)}\``).join('; ') : NR}`,
    `- Normalization (training split): mean ${nums(norm.mean)}, std ${nums(norm.std)}, clip ±${str(norm.clip)}`,
    '- Behaviour varies with network jitter, leader load (CPU idle), replication backlog and RPC retries; the',
    '  verification report lists the input box inside which the bounds are proved.',
    '',
  );

  push('## Metrics', '');
  push(`- Training engine: ${str(training.engine)} (${str(training.backend)}), ${str(training.epochs)} epochs`);
  const metrics = flatten(training.metrics);
  if (metrics.length) {
    push('', '| training metric | value |', '|---|---|');
    for (const [k, v] of metrics) push(`| ${k} | ${fmt(v)} |`);
  } else {
    push(`- Training metrics: ${NR}`);
  }
  const qe = flatten(m.quantization_error);
  if (qe.length) {
    push('', '| int8 vs float (quantization_error) | value |', '|---|---|');
    for (const [k, v] of qe) push(`| ${k} | ${fmt(v).replace(/\|/g, '\\|')} |`);
  } else {
    push('', `- int8 vs float error: ${NR}`);
  }
  push('');

  push('## Evaluation data', '');
  push(`- Verification report sha256 \`${inp.reportSha256}\`, for weights \`${inp.weightsSha256}\`: **${r.passed === true ? 'passed' : 'not passed'}**`);
  // The guardrails are part of the policy the figures describe (rules are served beside the artifact, not in it).
  const vr = (r as { rules?: { name?: string; sha256?: string; source?: string } }).rules;
  if (vr?.sha256) push(`- Verified with the safety rules \`${vr.name ?? '?'}\` sha256 \`${vr.sha256}\` (${vr.source ?? 'unknown source'}); serve it with the same rules`);
  if (inp.notRunAllowed?.length) {
    push(`- **Published with checks not run**: ${inp.notRunAllowed.join(', ')} (accepted explicitly with \`--allow-not-run\`); what they check is unverified for this version`);
  }
  const checks = checkRows(r);
  if (checks.length) {
    push('', '| check | result | figures |', '|---|---|---|');
    for (const c of checks) push(`| ${c.name} | ${c.result} | ${c.figures} |`);
  }
  push('');

  push('## Training data', '');
  push(
    `- Dataset sha256: ${code(inputs.dataset_sha256)}`,
    `- Windows sha256: ${code(inputs.windows_sha256)}`,
    `- Training config sha256: ${code(inputs.config_sha256)}`,
    '- Splits are by cluster / time block (never by window); see the windows manifest named by the hash above.',
    '',
  );

  push('## Caveats and recommendations', '');
  push(
    '- The model proposes; the rules bound. Proofs hold only inside the verified input box; outside it the runtime',
    '  falls back to the static timeout.',
    '- Labels are derived from heartbeat gaps in the traces; a cluster whose failure modes were absent from the',
    '  training data (see the dataset manifest) may see timeouts tuned to conditions it does not have.',
    '- Re-verify and re-publish under a new version after retraining; published versions are immutable.',
    '',
  );
  return lines.join('\n');
}

/** Leaves of a nested JSON object as [dotted.key, value] rows, in insertion order (numbers, strings, booleans). */
function flatten(v: Json, prefix = ''): Array<[string, Json]> {
  const out: Array<[string, Json]> = [];
  for (const [k, x] of Object.entries(obj(v))) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) out.push(...flatten(x, key));
    else if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') out.push([key, x]);
  }
  return out;
}

function obj(v: Json): Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Json>) : {};
}

function str(v: Json): string {
  if (v === undefined || v === null || v === '') return NR;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function code(v: Json): string {
  return typeof v === 'string' && v ? `\`${v}\`` : NR;
}

function list(v: Json): string {
  return Array.isArray(v) && v.length ? v.map(String).join(', ') : NR;
}

function nums(v: Json): string {
  return Array.isArray(v) && v.length ? `[${v.map(fmt).join(', ')}]` : NR;
}

function fmt(v: Json): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
  if (v === undefined || v === null) return NR;
  if (typeof v === 'object') {
    const o = obj(v);
    const parts = Object.entries(o).map(([k, x]) => `${k} ${typeof x === 'object' && x !== null ? JSON.stringify(x) : fmt(x)}`);
    return parts.length ? parts.join(', ') : NR;
  }
  return String(v);
}

/** The report's per-check results, whatever list name verify uses (`checks` or `results`), rendered flat. */
function checkRows(r: Record<string, Json>): Array<{ name: string; result: string; figures: string }> {
  const raw = Array.isArray(r.checks) ? r.checks : Array.isArray(r.results) ? r.results : [];
  return raw.map(obj).map((c, i) => {
    const name = typeof c.id === 'string' && typeof c.name === 'string' ? `${c.id}: ${c.name}` : str(c.name ?? c.id ?? `check ${i + 1}`);
    const result = typeof c.status === 'string' ? c.status : typeof c.passed === 'boolean' ? (c.passed ? 'pass' : 'fail') : str(c.result);
    // verify nests its numbers under `figures`; flatter reports keep them beside the name.
    const source = c.figures !== null && typeof c.figures === 'object' ? obj(c.figures) : c;
    const figures = Object.entries(source)
      .filter(([k, v]) => !['name', 'id', 'passed', 'status', 'result', 'reason'].includes(k) && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'))
      .slice(0, 8)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
    const why = typeof c.reason === 'string' && c.reason ? ` (${c.reason})` : '';
    return { name, result: `${result}${why}`.replace(/\|/g, '\\|'), figures: figures.replace(/\|/g, '\\|') || '—' };
  });
}
