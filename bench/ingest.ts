/**
 * `npm run bench -- ingest [--rows 5000000] [--small 1000000] [--keep]`
 *
 * Generates synthetic telemetry (test/fixtures/ingest/synth.ts, seed 1) as CSV and as an Arrow IPC file,
 * then ingests each in a fresh child process and prints rows/s and the child's peak RSS. Baselines in the
 * same run: the bare cost of reading the same bytes (CSV: stream + count newlines; Arrow: iterate record
 * batches with apache-arrow), so the ratio shows what validation, pseudonyms, stats and writing cost.
 * Peak RSS is measured at two input sizes to show it does not grow with the input.
 * Goals (2 shared cores): Arrow >= 1M rows/s, CSV >= 300K rows/s, peak RSS < 300 MB.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOOL_VERSION } from '../pipeline/version.js';
import { synthRows, writeArrow, writeCsv } from '../test/fixtures/ingest/synth.js';

const SEED = 1;
const NODES = 5;
const CLUSTERS = 10;

interface Measure {
  seconds: number;
  /** user + system CPU of the child: the honest figure when other jobs share the 2 cores. */
  cpuSeconds: number;
  maxRssMb: number;
  rows: number;
}

export async function run(args: string[]): Promise<void> {
  const rows = Number(argValue(args, '--rows') ?? 5_000_000);
  const small = Number(argValue(args, '--small') ?? 1_000_000);
  const keep = args.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'raft-ns-bench-ingest-'));
  const distRoot = join(fileURLToPath(import.meta.url), '..', '..');
  process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores (other jobs skew wall-clock figures; rows/CPU-s does not)\n`);
  process.stdout.write(`bench ingest: tool ${TOOL_VERSION}, seed ${SEED}, ${CLUSTERS} clusters x ${NODES} nodes, sizes ${small} and ${rows} rows, dir ${dir}\n`);
  try {
    const results: string[] = [];
    for (const n of [small, rows]) {
      const synth = { seed: SEED, clusters: CLUSTERS, nodesPerCluster: NODES, ticks: Math.ceil(n / (CLUSTERS * NODES)), tickMs: 100 };
      const csv = join(dir, `t${n}.csv`);
      const arrow = join(dir, `t${n}.arrow`);
      let t0 = performance.now();
      await writeCsv(csv, synthRows(synth));
      writeArrow(arrow, synthRows(synth));
      process.stdout.write(`  generated ${n} rows: CSV ${(statSync(csv).size / 2 ** 20).toFixed(0)} MiB, Arrow ${(statSync(arrow).size / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      t0 = performance.now();
      for (const [label, file] of [['CSV', csv], ['Arrow', arrow]] as const) {
        const base = child(distRoot, label === 'CSV' ? 'baseline-csv' : 'baseline-arrow', file, '');
        const out = join(dir, `out-${label}-${n}`);
        const m = child(distRoot, 'ingest', file, out);
        const rate = m.rows / m.seconds;
        const cpuRate = m.rows / m.cpuSeconds;
        const baseRate = base.rows / base.seconds;
        results.push(
          `  ${label.padEnd(5)} ${String(n).padStart(9)} rows: ingest ${fmt(rate)} rows/s wall, ${fmt(cpuRate)} rows/CPU-s (${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU, peak RSS ${m.maxRssMb.toFixed(0)} MB)` +
            ` | baseline read-only ${fmt(baseRate)} rows/s wall (peak RSS ${base.maxRssMb.toFixed(0)} MB) | ingest/baseline ${(rate / baseRate).toFixed(2)}`,
        );
        process.stdout.write(`${results[results.length - 1]}\n`);
        rmSync(out, { recursive: true, force: true });
      }
      if (n === rows) {
        // Bounded memory, shown directly: the largest input again with the V8 heap capped at 96 MiB.
        const capped = child(distRoot, 'ingest', arrow, join(dir, 'out-capped'), ['--max-old-space-size=96']);
        results.push(`  Arrow ${String(n).padStart(9)} rows with --max-old-space-size=96: completes, ${fmt(capped.rows / capped.seconds)} rows/s wall, peak RSS ${capped.maxRssMb.toFixed(0)} MB`);
        process.stdout.write(`${results[results.length - 1]}\n`);
        rmSync(join(dir, 'out-capped'), { recursive: true, force: true });
      }
      if (n !== rows && !keep) {
        rmSync(csv, { force: true });
        rmSync(arrow, { force: true });
      }
    }
    process.stdout.write(`summary (goals: Arrow >= 1M rows/s, CSV >= 300K rows/s, peak RSS < 300 MB at any size)\n${results.join('\n')}\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one measured job in a fresh Node process so its peak RSS is its own. */
function child(distRoot: string, job: 'ingest' | 'baseline-csv' | 'baseline-arrow', file: string, out: string, nodeArgs: string[] = []): Measure {
  const script = `
    const t0 = performance.now();
    const file = ${JSON.stringify(file)};
    let rows = 0;
    if (${JSON.stringify(job)} === 'ingest') {
      const { ingest } = await import(${JSON.stringify(join(distRoot, 'pipeline/ingest/ingest.js'))});
      const { manifest } = await ingest([file], { out: ${JSON.stringify(out)}, anonKey: Buffer.from('bench key, 16+ bytes long'), createdAt: '2026-01-01T00:00:00.000Z' });
      rows = manifest.row_count;
    } else if (${JSON.stringify(job)} === 'baseline-csv') {
      const { createReadStream } = await import('node:fs');
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
        let i = -1;
        while ((i = chunk.indexOf(10, i + 1)) >= 0) rows++;
      }
      rows -= 1;
    } else {
      const { open } = await import('node:fs/promises');
      const { RecordBatchReader } = await import('apache-arrow');
      const fh = await open(file, 'r');
      const reader = await RecordBatchReader.from(fh);
      for await (const b of reader) rows += b.numRows;
      await fh.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage();
    process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, rows, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  `;
  const text = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: distRoot, maxBuffer: 1 << 20 });
  return JSON.parse(text) as Measure;
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}K`;
}
