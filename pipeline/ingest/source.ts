/**
 * What every input reader (CSV, NDJSON, Arrow, Parquet) hands to the ingest core: batches of raw,
 * typed-but-unvalidated column values plus a way to name each row's position in its file.
 */
import { RaftNsError } from '../util/errors.js';
import type { ColumnValues } from './arrow-io.js';
import type { SourceFormat, TsConversion } from './manifest.js';
import { COLUMNS, COLUMN_SPECS } from './telemetry.js';

export interface RawBatch {
  length: number;
  /** Values per telemetry column in COLUMNS order; null = the column is absent from this source. */
  columns: Array<ColumnValues | null>;
  /** Line number (CSV/NDJSON, 1-based, header = line 1) or row number (Arrow/Parquet, 1-based) of row i. */
  positionOf(i: number): number;
  /** Row-level syntax problems found by the reader (wrong field count, bad JSON, extra key), by row index. */
  /** `rule` defaults to `syntax` for column '(row)', else `additionalProperties`. */
  syntaxErrors: Map<number, { column: string; value: unknown; expected: string; rule?: string }> | null;
  /** Bytes of the file consumed so far (for the progress bar). */
  bytesDone: number;
}

/**
 * A numeric column as text readers produce it: NaN marks a value that is not a plain number, and `raw`
 * holds what the file said at that row (null for an empty field, or the text) for validation and messages.
 */
export type NumericColumn = Float64Array & { raw?: Map<number, unknown> };

/** The value of row i as the file gave it (resolves a NumericColumn's NaN marker through `raw`). */
export function rawValue(col: ColumnValues | null, i: number): unknown {
  if (col === null) return undefined;
  const v = col[i];
  if (v !== v) {
    const raw = (col as NumericColumn).raw;
    if (raw !== undefined && raw.has(i)) return raw.get(i);
  }
  return v;
}

export interface SourceContext {
  /** The path as the user gave it; every message names it. */
  file: string;
  allowExtraColumns: boolean;
  /** Rows per raw batch the reader should aim for. */
  batchRows: number;
}

export interface OpenedSource {
  format: SourceFormat;
  /** `line` for text formats, `row` for columnar ones: how positionOf numbers read in messages. */
  positionKind: 'line' | 'row';
  /** Columns present in the file that are not telemetry columns (dropped; refused unless allowed). */
  extraColumns: string[];
  /** Set when ts_ms is a timestamp type in the file: recorded in the manifest's source entry. */
  tsConversion?: TsConversion;
  batches: AsyncIterable<RawBatch>;
}

/** Line-oriented readers refuse lines longer than this (a stray binary file or a missing newline). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Maps the column names found in a file to telemetry columns. Missing required columns are an error;
 * extra columns are an error unless `allowExtraColumns` (then they are dropped and listed).
 * Returns, per telemetry column, the index of the source column, or -1 when absent (optional only).
 */
export function mapColumns(names: readonly string[], ctx: SourceContext, where: string): { index: number[]; extra: string[] } {
  const pos = new Map<string, number>();
  names.forEach((n, i) => {
    if (pos.has(n)) throw new RaftNsError('ingest.duplicate-column', `ingest: ${ctx.file} ${where}: column "${n}" appears twice`);
    pos.set(n, i);
  });
  const index = COLUMNS.map((c) => pos.get(c) ?? -1);
  const missing = COLUMN_SPECS.filter((s) => s.required && index[s.index] === -1).map((s) => s.name);
  if (missing.length > 0) {
    throw new RaftNsError(
      'ingest.missing-column',
      `ingest: ${ctx.file} ${where}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (expected the telemetry columns ${COLUMNS.join(', ')})`,
    );
  }
  const known = new Set<string>(COLUMNS);
  const extra = names.filter((n) => !known.has(n));
  if (extra.length > 0 && !ctx.allowExtraColumns) {
    throw new RaftNsError(
      'ingest.extra-column',
      `ingest: ${ctx.file} ${where}: column${extra.length > 1 ? 's' : ''} ${extra.map((m) => `"${m}"`).join(', ')} not in the telemetry schema; remove ${extra.length > 1 ? 'them' : 'it'} or pass --allow-extra-columns to drop ${extra.length > 1 ? 'them' : 'it'}`,
    );
  }
  return { index, extra };
}

/** A short, one-line rendering of a value for messages. */
export function showValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
