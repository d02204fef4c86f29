/**
 * Text readers: CSV (header line, comma-separated, RFC 4180 quotes) and NDJSON (one JSON object per line).
 * Both stream the file in 1 MiB chunks; memory is bounded by the chunk, one batch and the longest line
 * (refused beyond 16 MiB). A UTF-8 BOM and CRLF line ends are accepted; bytes that are not UTF-8 are an
 * error naming the line.
 */
import { createReadStream } from 'node:fs';
import { RaftNsError } from '../util/errors.js';
import { MAX_LINE_BYTES, mapColumns, type NumericColumn, type OpenedSource, type RawBatch, type SourceContext } from './source.js';
import { COLUMNS, COLUMN_SPECS, type ColumnKind } from './telemetry.js';

const CHUNK_BYTES = 1 << 20;

interface LineChunk {
  lines: string[];
  /** Line number of lines[0] (1-based). */
  firstLineNo: number;
  /** Line number of each entry when entries are CSV records spanning several lines (joinQuotedRecords). */
  lineNos?: number[];
  bytesDone: number;
}

/** Streams complete lines (without `\n` / `\r\n`), a chunk at a time. */
export async function* readLines(path: string, file: string): AsyncGenerator<LineChunk> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let carry: Buffer | null = null;
  let lineNo = 1;
  let bytesDone = 0;
  let first = true;
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesDone += chunk.length;
      let buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      if (first) {
        first = false;
        if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      }
      const lastNl = buf.lastIndexOf(10);
      if (lastNl < 0) {
        if (buf.length > MAX_LINE_BYTES) throw longLine(file, lineNo);
        carry = buf;
        continue;
      }
      const firstNl = buf.indexOf(10);
      if (firstNl > MAX_LINE_BYTES) throw longLine(file, lineNo);
      const complete = buf.subarray(0, lastNl);
      carry = lastNl + 1 < buf.length ? Buffer.from(buf.subarray(lastNl + 1)) : null;
      const lines = decodeLines(decoder, complete, file, lineNo);
      yield { lines, firstLineNo: lineNo, bytesDone };
      lineNo += lines.length;
    }
    if (carry && carry.length > 0) {
      if (carry.length > MAX_LINE_BYTES) throw longLine(file, lineNo);
      yield { lines: decodeLines(decoder, carry, file, lineNo), firstLineNo: lineNo, bytesDone };
    }
  } finally {
    stream.destroy();
  }
}

function longLine(file: string, lineNo: number): RaftNsError {
  return new RaftNsError(
    'ingest.line-too-long',
    `ingest: ${file} line ${lineNo}: line longer than 16 MiB (${MAX_LINE_BYTES} bytes); expected one telemetry row per line`,
  );
}

function decodeLines(decoder: TextDecoder, bytes: Uint8Array, file: string, firstLineNo: number): string[] {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    // Find the exact line and byte for the message (slow path, taken once).
    let start = 0;
    let lineNo = firstLineNo;
    for (;;) {
      const nl = bytes.indexOf(10, start);
      const end = nl < 0 ? bytes.length : nl;
      const line = bytes.subarray(start, end);
      try {
        decoder.decode(line);
      } catch {
        let col = 0;
        while (col < line.length) {
          try {
            decoder.decode(line.subarray(0, col + 1), { stream: true });
            col++;
          } catch {
            break;
          }
        }
        decoder.decode(); // reset the streaming state
        throw new RaftNsError(
          'ingest.not-utf8',
          `ingest: ${file} line ${lineNo}: byte ${col + 1} (0x${line[col]?.toString(16).padStart(2, '0')}) is not valid UTF-8; expected UTF-8 text`,
        );
      }
      if (nl < 0) break;
      start = nl + 1;
      lineNo++;
    }
    throw new RaftNsError('ingest.not-utf8', `ingest: ${file} line ${firstLineNo}: bytes are not valid UTF-8`);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------------

/** Opens a CSV file: reads the header, maps columns, then streams typed batches. */
export async function openCsv(path: string, ctx: SourceContext): Promise<OpenedSource> {
  const lines = joinQuotedRecords(readLines(path, ctx.file), ctx.file);
  let pending: LineChunk | null = null;
  let header: string[] | null = null;
  // Read until the header line (skipping nothing: line 1 must be the header).
  const firstChunk = await lines.next();
  if (firstChunk.done || (firstChunk.value.lines.length === 1 && firstChunk.value.lines[0] === '')) {
    await lines.return(undefined);
    throw new RaftNsError('ingest.empty', `ingest: ${ctx.file} line 1: file is empty; expected a CSV header line (${COLUMNS.join(',')})`);
  }
  pending = firstChunk.value;
  header = splitCsvLine(pending.lines[0]!).map((h) => h.trim());
  let mapped: ReturnType<typeof mapColumns>;
  try {
    mapped = mapColumns(header, ctx, 'line 1 (header)');
  } catch (err) {
    await lines.return(undefined); // closes the file now rather than at garbage collection
    throw err;
  }
  const { index, extra } = mapped;
  const fieldCount = header.length;
  const kinds = COLUMN_SPECS.map((s) => s.kind);
  const nullableString = COLUMN_SPECS.map((s) => s.kind === 'string' && s.nullable);
  const numeric = COLUMN_SPECS.map((s) => s.kind === 'number' || s.kind === 'integer');
  const integer = COLUMN_SPECS.map((s) => s.kind === 'integer');

  async function* batches(): AsyncGenerator<RawBatch> {
    let sawData = false;
    let chunk: LineChunk | null = pending;
    let skipHeader = true;
    const it = lines;
    while (chunk) {
      const src = chunk.lines;
      const startAt = skipHeader ? 1 : 0;
      skipHeader = false;
      for (let s = startAt; s < src.length; s += ctx.batchRows) {
        const e = Math.min(src.length, s + ctx.batchRows);
        // Numeric columns go into Float64Arrays (no boxed number per value); a value that is not a plain
        // number is stored as NaN with the text (or null, for an empty field) kept in the column's `raw`.
        const cols: Array<unknown[] | NumericColumn | null> = COLUMNS.map((_, c) =>
          index[c]! < 0 ? null : numeric[c] ? (new Float64Array(e - s) as NumericColumn) : new Array(e - s));
        const lineNos: number[] = [];
        let syntax: RawBatch['syntaxErrors'] = null;
        let n = 0;
        for (let k = s; k < e; k++) {
          const line = src[k]!;
          const lineNo = chunk.lineNos ? chunk.lineNos[k]! : chunk.firstLineNo + k;
          if (line.length === 0) continue; // blank lines (e.g. the trailing newline) carry no row
          const fields = line.indexOf('"') >= 0 ? splitCsvLine(line) : line.split(',');
          const row = n++;
          lineNos.push(lineNo);
          if (fields.length !== fieldCount) {
            (syntax ??= new Map()).set(row, { column: '(row)', value: line.length > 40 ? `${line.slice(0, 37)}...` : line, expected: `${fieldCount} comma-separated fields as in the header, got ${fields.length}` });
            continue;
          }
          for (let c = 0; c < 12; c++) {
            const col = cols[c];
            if (!col) continue;
            const text = fields[index[c]!]!;
            if (integer[c] && text.length <= 15 && SHORT_INT_RE.test(text)) {
              col[row] = +text; // at most 15 digits: exactly a double (the common case, one regex)
            } else if (numeric[c]) {
              // Strict decimal only: `+text` would read " " as 0 and "0x10" as 16.
              let v = text.length === 0 || !DECIMAL_RE.test(text) ? Number.NaN : +text;
              // An integer column judges the text, not its rounded double: "9007199254740993" keeps its digits
              // (and breaks the range), "4503599627370495.9" is not an integer although its double is.
              let exact: unknown = null;
              if (integer[c] && v === v) {
                exact = exactIntegerOf(text);
                if (typeof exact === 'bigint' && exact >= -MAX_SAFE_BIG && exact <= MAX_SAFE_BIG) v = Number(exact);
                else v = Number.NaN;
              }
              col[row] = v;
              if (v !== v) ((col as NumericColumn).raw ??= new Map()).set(row, exact ?? coerceText(text, kinds[c]!, false));
            } else (col as unknown[])[row] = coerceText(text, kinds[c]!, nullableString[c]!);
          }
        }
        if (n === 0) continue;
        sawData = true;
        const sized = cols.map((col) => {
          if (col === null || Array.isArray(col)) {
            if (col) col.length = n;
            return col;
          }
          const cut = (col as NumericColumn).subarray(0, n) as NumericColumn;
          const raw = (col as NumericColumn).raw;
          if (raw) cut.raw = raw;
          return cut;
        });
        yield {
          length: n,
          columns: sized,
          positionOf: (i) => lineNos[i]!,
          syntaxErrors: syntax,
          bytesDone: chunk.bytesDone,
        };
      }
      const next = await it.next();
      chunk = next.done ? null : next.value;
    }
    if (!sawData) {
      throw new RaftNsError('ingest.header-only', `ingest: ${ctx.file} line 2: no data rows after the header; expected at least one telemetry row`);
    }
  }
  return { format: 'csv', positionKind: 'line', extraColumns: extra, batches: batches() };
}

/** Up to 15 digits with an optional minus: always a safe integer, read exactly by `+text`. */
const SHORT_INT_RE = /^-?\d+$/;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The exact integer a decimal text (DECIMAL_RE syntax, finite as a double) denotes, or the text itself when it
 * is not an integer ("2.5", or "4503599627370495.9", whose double is an integer). Exponents are bounded
 * by the double's range, so the bigint stays small.
 */
export function exactIntegerOf(text: string): bigint | string {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!m) return text;
  let digits = `${m[2] ?? ''}${m[3] ?? ''}`.replace(/^0+/, '');
  let shift = Number(m[4] ?? 0) - (m[3] ?? '').length; // value = digits × 10^shift
  if (digits.length === 0) return 0n;
  const trailing = /0*$/.exec(digits)![0].length;
  digits = digits.slice(0, digits.length - trailing);
  shift += trailing;
  if (shift < 0) return text;
  if (digits.length + shift > 400) return text; // beyond any double: the caller's +text was not finite
  const v = BigInt(digits) * 10n ** BigInt(shift);
  return m[1] === '-' ? -v : v;
}

/**
 * A decimal number as the schema means it: optional sign, digits with an optional fraction, optional
 * exponent. No blanks, no hex/binary/octal prefixes, no "Infinity" (all of which `+text` accepts).
 */
const DECIMAL_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Text → typed value for a column kind. Empty = null (then validation decides whether null is allowed),
 * except for non-nullable strings where "" is kept so the message says "too short". Text that is not a
 * number/boolean is kept as the string, so the message shows exactly what the file holds.
 */
function coerceText(s: string, kind: ColumnKind, nullableString: boolean): unknown {
  switch (kind) {
    case 'integer':
    case 'number': {
      if (s.length === 0) return null;
      const v = DECIMAL_RE.test(s) ? +s : Number.NaN;
      if (v === v) return v; // not NaN
      const t = s.trim();
      return t === 'NaN' ? Number.NaN : t === 'Infinity' || t === '+Infinity' ? Number.POSITIVE_INFINITY : t === '-Infinity' ? Number.NEGATIVE_INFINITY : s;
    }
    case 'string':
      return s.length === 0 && nullableString ? null : s;
    case 'boolean':
      if (s === 'true' || s === '1' || s === 'TRUE' || s === 'True') return true;
      if (s === 'false' || s === '0' || s === 'FALSE' || s === 'False') return false;
      return s.length === 0 ? null : s;
  }
}

/**
 * Rejoins CSV records whose quoted fields hold line breaks (RFC 4180 §2.6): a line that leaves a quote
 * open is continued by the next, joined with "\n". Each record keeps the number of its first line, so
 * messages point where the record starts. Chunks without quotes pass through untouched (the fast path).
 * Invariant: an entry of a yielded chunk has an even number of `"` unless the file ends inside a quote.
 */
async function* joinQuotedRecords(chunks: AsyncGenerator<LineChunk>, file: string): AsyncGenerator<LineChunk> {
  let open: { text: string; lineNo: number } | null = null;
  let last: LineChunk | null = null;
  for await (const chunk of chunks) {
    last = chunk;
    if (!open && !chunk.lines.some((l) => l.indexOf('"') >= 0)) {
      yield chunk;
      continue;
    }
    const lines: string[] = [];
    const lineNos: number[] = [];
    for (let k = 0; k < chunk.lines.length; k++) {
      const line = chunk.lines[k]!;
      const text: string = open ? `${open.text}\n${line}` : line;
      const lineNo: number = open ? open.lineNo : chunk.firstLineNo + k;
      if (countQuotes(text) % 2 === 1) {
        if (text.length > MAX_LINE_BYTES) throw new RaftNsError('ingest.open-quote', `ingest: ${file} line ${lineNo}: quoted field never closed within 16 MiB; expected a closing "`);
        open = { text, lineNo };
        continue;
      }
      open = null;
      lines.push(text);
      lineNos.push(lineNo);
    }
    if (lines.length > 0) yield { lines, firstLineNo: lineNos[0]!, lineNos, bytesDone: chunk.bytesDone };
  }
  if (open && last) yield { lines: [open.text], firstLineNo: open.lineNo, lineNos: [open.lineNo], bytesDone: last.bytesDone };
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** Splits one CSV line honoring RFC 4180 double quotes (a quoted field may contain commas and ""). */
export function splitCsvLine(line: string): string[] {
  if (line.indexOf('"') < 0) return line.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          v += line.slice(i);
          i = line.length;
          break;
        }
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const comma = line.indexOf(',', i);
      out.push(v + (comma < 0 ? line.slice(i) : line.slice(i, comma)));
      if (comma < 0) break;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        out.push(line.slice(i));
        break;
      }
      out.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// NDJSON
// ---------------------------------------------------------------------------------------------------

/** Opens an NDJSON file: one JSON object per line, keys = telemetry columns, JSON types as in the schema. */
export async function openNdjson(path: string, ctx: SourceContext): Promise<OpenedSource> {
  const known = new Set<string>(COLUMNS);
  const extraSeen = new Set<string>();
  const extraColumns: string[] = [];
  async function* batches(): AsyncGenerator<RawBatch> {
    let sawData = false;
    let sawBytes = false;
    for await (const chunk of readLines(path, ctx.file)) {
      const src = chunk.lines;
      for (let s = 0; s < src.length; s += ctx.batchRows) {
        const e = Math.min(src.length, s + ctx.batchRows);
        const cols: unknown[][] = COLUMNS.map(() => new Array(e - s));
        const lineNos: number[] = [];
        let syntax: RawBatch['syntaxErrors'] = null;
        let n = 0;
        for (let k = s; k < e; k++) {
          const line = src[k]!;
          if (line.length > 0) sawBytes = true;
          if (line.trim().length === 0) continue;
          const row = n++;
          lineNos.push(chunk.firstLineNo + k);
          let obj: unknown;
          try {
            obj = JSON.parse(line);
          } catch (err) {
            // V8's message quotes a slice of the line (which may hold ids): keep only the position.
            const at = /position (\d+)/.exec((err as Error).message);
            (syntax ??= new Map()).set(row, { column: '(row)', value: undefined, expected: `one JSON object per line (invalid JSON${at ? ` at character ${Number(at[1]) + 1}` : ''})` });
            continue;
          }
          if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
            (syntax ??= new Map()).set(row, { column: '(row)', value: undefined, expected: 'a JSON object' });
            continue;
          }
          const o = obj as Record<string, unknown>;
          // JSON.parse keeps the last of duplicate keys silently; a row that says two things is refused.
          const dup = duplicateKey(line, Object.keys(o).length);
          if (dup !== null) {
            (syntax ??= new Map()).set(row, { column: '(row)', value: undefined, rule: 'syntax', expected: `each key once per object (${known.has(dup) ? `key ${dup}` : 'a key outside the schema'} appears twice)` });
            continue;
          }
          // One meaning of an empty leader id in every format: no leader (CSV's empty field is null too).
          if (o.leader_id === '') o.leader_id = null;
          for (const key in o) {
            if (known.has(key)) continue;
            if (!ctx.allowExtraColumns) {
              (syntax ??= new Map()).set(row, { column: key, value: o[key], expected: 'no key outside the telemetry schema (pass --allow-extra-columns to drop extra keys)' });
              break;
            }
            if (!extraSeen.has(key)) {
              extraSeen.add(key);
              extraColumns.push(key);
            }
          }
          for (let c = 0; c < 12; c++) {
            const v = o[COLUMNS[c]!];
            // JSON.parse rounds an integer beyond 2^53 - 1; the line still holds its digits, so the value
            // that breaks the range is the one the file says, not its neighbour double.
            cols[c]![row] = INTEGER_COLUMN[c] && typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? jsonIntegerToken(line, COLUMNS[c]!) ?? v : v;
          }
        }
        if (n === 0) continue;
        sawData = true;
        for (const col of cols) col.length = n;
        yield { length: n, columns: cols, positionOf: (i) => lineNos[i]!, syntaxErrors: syntax, bytesDone: chunk.bytesDone };
      }
    }
    if (!sawData) {
      throw new RaftNsError('ingest.empty', `ingest: ${ctx.file} line 1: ${sawBytes ? 'no JSON rows' : 'file is empty'}; expected one telemetry object per line`);
    }
  }
  return { format: 'ndjson', positionKind: 'line', extraColumns, batches: batches() };
}

const INTEGER_COLUMN = COLUMN_SPECS.map((s) => s.kind === 'integer');

/** The exact value of top-level key `key`'s number literal in a JSON object line (a bigint if an integer), or null. */
function jsonIntegerToken(line: string, key: string): bigint | string | null {
  // Keys are telemetry column names (no regex metacharacters); duplicate keys were refused above.
  const m = new RegExp(`"${key}"\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)\\s*[,}]`).exec(line);
  return m ? exactIntegerOf(m[1]!) : null;
}

/**
 * The first key that occurs twice at the top level of the JSON object text `line`, or null. Only scans
 * when the line holds more colons than the parsed object has keys (the common case costs a count).
 */
function duplicateKey(line: string, parsedKeys: number): string | null {
  let colons = 0; // every key has one; colons inside strings only over-count (then the scan decides)
  for (let i = line.indexOf(':'); i >= 0; i = line.indexOf(':', i + 1)) colons++;
  if (colons <= parsedKeys) return null;
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (line[k] === ' ' || line[k] === '\t') k++;
        if (line[k] === ':') {
          const key = JSON.parse(line.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return null;
}

