/**
 * `npm run bench -- window [clusters] [ticks]`: throughput of the window core on synthetic telemetry
 * (3 nodes per cluster), next to a baseline measured in the same run: only grouping the rows into node
 * streams, the least any windowing must do. Also the read-back speed of readWindows vs a bare file read.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWindows } from '../pipeline/window/build.js';
import { readWindows } from '../pipeline/window/format.js';
import { DEFAULT_FRACTIONS } from '../pipeline/window/split.js';
import { StreamCollector } from '../pipeline/window/streams.js';
import { writeWindows } from '../pipeline/window/window.js';
import { syntheticRows, TICK_MS } from '../test/window-fixtures.js';

export async function run(args: string[]): Promise<void> {
  const clusters = Number(args[0] ?? 10);
  const ticks = Number(args[1] ?? 20_000);
  const rows = syntheticRows(Array.from({ length: clusters }, (_, i) => `c${i}`), ticks, 1);
  const n = rows.length;
  const rate = (ms: number): string => `${((n / ms) * 1000 / 1e6).toFixed(2)}M rows/s`;

  // Warm-up pass (JIT) so neither measurement pays for compilation.
  const warm = new StreamCollector('warm');
  for (const r of rows.slice(0, 100_000)) warm.add(r);
  buildWindows(warm.finish(), { windowLen: 32, stride: 32, seed: 1, fractions: DEFAULT_FRACTIONS, clip: 5, tickMs: TICK_MS },
    { dataset: 'warm', datasetManifestSha256: '0'.repeat(64), parts: [], rowCount: 0 });

  const t0 = performance.now();
  const group = new StreamCollector('bench');
  for (const r of rows) group.add(r);
  const streams = group.finish();
  const groupMs = performance.now() - t0;

  const t1 = performance.now();
  const c = new StreamCollector('bench');
  for (const r of rows) c.add(r);
  const build = buildWindows(c.finish(), { windowLen: 32, stride: 32, seed: 1, fractions: DEFAULT_FRACTIONS, clip: 5, tickMs: TICK_MS },
    { dataset: 'bench', datasetManifestSha256: '0'.repeat(64), parts: [], rowCount: n });
  const buildMs = performance.now() - t1;

  const dir = mkdtempSync(join(tmpdir(), 'raft-ns-bench-window-'));
  try {
    const out = join(dir, 'w');
    await writeWindows(out, build, false);
    const t2 = performance.now();
    for (const f of ['train.bin', 'val.bin', 'test.bin']) readFileSync(join(out, f));
    const rawMs = performance.now() - t2;
    const t3 = performance.now();
    const { splits } = readWindows(out);
    const readMs = performance.now() - t3;
    const chunks = splits.train.count + splits.val.count + splits.test.count;
    process.stdout.write(
      `window bench: ${n} rows, ${streams.length} streams, ${chunks} chunks of T=32\n` +
      `  group rows into streams (baseline) ${groupMs.toFixed(0)} ms  ${rate(groupMs)}\n` +
      `  group + label + split + encode     ${buildMs.toFixed(0)} ms  ${rate(buildMs)}  (${(buildMs / groupMs).toFixed(2)}× baseline)\n` +
      `  readFileSync of split files        ${rawMs.toFixed(0)} ms\n` +
      `  readWindows (sha256 + decode)      ${readMs.toFixed(0)} ms  (${(readMs / rawMs).toFixed(1)}× bare read), ${(chunks / (readMs / 1000) / 1e3).toFixed(0)}K chunks/s\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
