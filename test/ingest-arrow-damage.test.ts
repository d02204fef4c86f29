/**
 * An Arrow IPC input cut short or with buffers shorter than its rows is refused with a
 * one-line error, never read as complete data. The files are real Arrow IPC written with apache-arrow, then
 * cut at every record-batch boundary (where the reader would otherwise stop quietly) or forged.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AsyncByteQueue, Float64, Int64, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Schema, Struct, Utf8,
  makeData, type Data, type RecordBatch as Batch,
} from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest } from '../pipeline/ingest/ingest.js';
import { PartBatchBuilder, PART_SCHEMA } from '../pipeline/ingest/arrow-io.js';

const root = mkdtempSync(join(tmpdir(), 'raft-ns-arrow-damage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let caseNo = 0;

const ROWS = 50;
const BATCH_ROWS = 10;

/** Good telemetry batches (one stream, 10 ms ticks). */
function batches(): Batch[] {
  const b = new PartBatchBuilder(BATCH_ROWS);
  const out: Batch[] = [];
  for (let i = 0; i < ROWS; i++) {
    b.push(1000 + 10 * i, 'c1', 'n1', 1, 'follower', 'n2', 1.5, 0, 0, 80, true, null);
    if (b.full) out.push(b.build());
  }
  return out;
}

/** Writes the batches as an Arrow file or stream; returns the path and the byte offset after each batch. */
function writeArrow(format: 'file' | 'stream', list: Batch[] = batches()): { path: string; boundaries: number[]; size: number } {
  const path = join(root, `${++caseNo}.${format === 'file' ? 'arrow' : 'arrows'}`);
  const fd = openSync(path, 'w');
  let total = 0;
  const sink = new (class extends AsyncByteQueue {
    override write(v: unknown): void {
      const b = v as Uint8Array;
      if (b.byteLength > 0) total += writeSync(fd, b);
    }
  })();
  const w = format === 'stream' ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
  w.reset(sink as unknown as AsyncByteQueue);
  const boundaries: number[] = [];
  for (const b of list) {
    w.write(b);
    boundaries.push(total);
  }
  w.finish();
  closeSync(fd);
  return { path, boundaries, size: statSync(path).size };
}

async function run(file: string): Promise<{ rows: number } | { error: string }> {
  try {
    const { manifest } = await ingest([file], { out: join(root, `out-${++caseNo}`), anonKey: null, createdAt: '2026-01-01T00:00:00.000Z', tickMs: 10 });
    return { rows: manifest.row_count };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('ingest: Arrow IPC cut short is refused, not read as complete', () => {
  it('a whole stream and a whole file are read in full', async () => {
    expect(await run(writeArrow('stream').path)).toEqual({ rows: ROWS });
    expect(await run(writeArrow('file').path)).toEqual({ rows: ROWS });
  });

  it('a stream cut exactly after each record batch (no end-of-stream marker) is refused', async () => {
    const { boundaries } = writeArrow('stream');
    for (let k = 0; k < boundaries.length; k++) {
      const { path } = writeArrow('stream');
      truncateSync(path, boundaries[k]!);
      const r = await run(path);
      expect(r, `cut after batch ${k + 1}`).toHaveProperty('error');
      if ('error' in r) {
        expect(r.error).toMatch(new RegExp(`^ingest: .*\\.arrows byte ${boundaries[k]}: the stream ends after message ${k + 2} without the end-of-stream marker \\(cut at a batch boundary\\); expected a complete Arrow IPC stream`));
        expect(r.error).not.toContain('\n');
      }
    }
  });

  it('a stream cut inside a message is refused naming the byte', async () => {
    const { path, boundaries } = writeArrow('stream');
    truncateSync(path, boundaries[1]! + 5);
    expect(await run(path)).toMatchObject({ error: expect.stringMatching(/\.arrows byte \d+: message 4 .*(cut short|length prefix)/) });
  });

  it('a file cut at any record-batch boundary or just before its footer is refused', async () => {
    const { boundaries, size } = writeArrow('file');
    for (const cut of [...boundaries, size - 10, size - 1]) {
      const { path } = writeArrow('file');
      truncateSync(path, cut);
      const r = await run(path);
      expect(r, `cut at byte ${cut}`).toHaveProperty('error');
      if ('error' in r) expect(r.error).toMatch(/\.arrow byte \d+: the file ends without the Arrow footer and closing "ARROW1" \(cut short\); expected a complete Arrow IPC file/);
    }
  });
});

/** One batch whose header says `rows` rows while column `short` carries buffers for `held` rows only. */
function forgedBatch(rows: number, held: number, short: 'cpu_idle_pct' | 'ts_ms' | 'node_id'): Batch {
  const good = batches()[0]!;
  const children: Data[] = PART_SCHEMA.fields.map((f, i) => {
    const d = good.getChildAt(i)!.data[0]!;
    if (f.name !== short) return d.slice(0, rows);
    if (short === 'node_id') {
      return makeData({ type: new Utf8(), length: rows, valueOffsets: new Int32Array(held + 1).map((_, k) => 2 * k), data: new TextEncoder().encode('n1'.repeat(held)) });
    }
    const type = short === 'ts_ms' ? new Int64() : new Float64();
    const values = short === 'ts_ms' ? new BigInt64Array(held).map((_, k) => BigInt(1000 + 10 * k)) : new Float64Array(held).fill(80);
    return makeData({ type, length: rows, data: values } as never);
  });
  const struct = makeData({ type: new Struct(PART_SCHEMA.fields), length: rows, nullCount: 0, children });
  return new RecordBatch(new Schema(PART_SCHEMA.fields), struct);
}

describe('ingest: Arrow batches whose buffers are shorter than their rows are refused', () => {
  it.each(['cpu_idle_pct', 'ts_ms', 'node_id'] as const)('a %s buffer for 4 of 10 rows, in a file and in a stream', async (col) => {
    for (const format of ['file', 'stream'] as const) {
      const { path } = writeArrow(format, [forgedBatch(10, 4, col)]);
      const r = await run(path);
      expect(r, format).toHaveProperty('error');
      if ('error' in r) {
        expect(r.error).toMatch(new RegExp(`^ingest: .* batch 1 \\(rows 1-10\\), column ${col}: .*; expected buffers that hold every row of the batch$`));
        expect(r.error).not.toContain('\n');
      }
    }
  });

  it('the same columns with buffers for every row are accepted (the forgery alone is refused)', async () => {
    const { path } = writeArrow('stream', [forgedBatch(4, 4, 'cpu_idle_pct')]);
    expect(await run(path)).toEqual({ rows: 4 });
  });
});
