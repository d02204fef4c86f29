/**
 * `raft-ns dataset inspect`: a dataset manifest as a readable report (or JSON for machines).
 */
import { readDataset } from '../ingest/read.js';
import type { DatasetManifest } from '../ingest/manifest.js';

export interface InspectOptions {
  /** Re-hash every part against the manifest. */
  verify?: boolean;
}

/**
 * Loads and validates a dataset's manifest (and, with `verify`, the parts' sha256).
 *
 * @example
 * const m = await inspectDataset('datasets/sample');
 * console.log(formatManifest('datasets/sample', m));
 */
export async function inspectDataset(dir: string, options: InspectOptions = {}): Promise<DatasetManifest> {
  const ds = await readDataset(dir, { verifyHashes: options.verify ?? false });
  return ds.manifest;
}

/** The manifest as aligned text tables: summary, sources, parts, column statistics. */
export function formatManifest(dir: string, m: DatasetManifest): string {
  const lines: string[] = [];
  lines.push(`dataset ${dir}`);
  lines.push(`  ${m.format} schema_version ${m.schema_version}, tool ${m.tool_version}, created ${m.created_at}`);
  lines.push(`  ${m.row_count} rows in ${m.parts.length} part(s); ${m.stream_count} node stream(s) in ${m.cluster_count} cluster(s); tick ${m.tick_ms} ms (${m.tick_ms_source})`);
  lines.push(
    m.anonymization.method === 'none'
      ? '  anonymization: none (ids kept as given)'
      : `  anonymization: ${m.anonymization.method}, key fingerprint ${m.anonymization.key_fingerprint}`,
  );
  const by = m.invalid.by_rule ? Object.entries(m.invalid.by_rule).map(([k, v]) => `${k} ${v}`).join(', ') : '';
  lines.push(`  refused rows: ${m.invalid.row_count} (on-invalid ${m.invalid.on_invalid}${m.invalid.file ? `, ${m.invalid.file}` : ''}${by ? `: ${by}` : ''})`);
  lines.push('');
  lines.push(...table(['source', 'format', 'bytes', 'rows', 'refused', 'sha256'], m.sources.map((s) => [
    s.file, s.format, String(s.byte_length), String(s.row_count), String(s.invalid_row_count), s.sha256.slice(0, 16),
  ])));
  lines.push('');
  lines.push(...table(['part', 'bytes', 'rows', 'batches', 'sha256'], m.parts.map((p) => [
    p.file, String(p.byte_length), String(p.row_count), String(p.batch_count), p.sha256.slice(0, 16),
  ])));
  lines.push('');
  lines.push(...table(['column', 'arrow type', 'nulls', 'min', 'max', 'mean', 'std', 'distinct'], m.columns.map((c) => {
    const s = m.stats[c.name];
    return [
      c.name, `${c.arrow_type}${c.nullable ? '?' : ''}`, String(s?.null_count ?? ''), num(s?.min), num(s?.max), num(s?.mean), num(s?.std),
      s?.distinct_count === undefined ? '' : String(s.distinct_count),
    ];
  })));
  return `${lines.join('\n')}\n`;
}

function num(v: number | null | undefined): string {
  if (v === undefined) return '';
  if (v === null) return '-';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e9) ? v.toExponential(3) : v.toFixed(3);
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}
