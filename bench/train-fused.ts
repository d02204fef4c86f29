/**
 * `npm run bench -- train-fused [--batch 256] [--T 32] [--steps 20] [--tfjs-steps 3] [--tfjs-backend auto|wasm|cpu|node]
 *  [--threads N] [--seed 1] [--skip-tfjs]`
 *
 * On a shared machine wall-clock windows/s drop with other load; windows per CPU-second (process CPU time,
 * all threads) do not, so both are printed, and the GFLOP/s and peak comparison use CPU time.
 *
 * Training throughput (loss + gradients, windows/s) on one random batch, side by side in one run: the tfjs
 * reference engine (tf.layers.lstm + autodiff), the fused engine with the plain TypeScript kernel, and the
 * fused engine with the WebAssembly SIMD kernel on 1 thread and on all threads; ratios against tfjs, the
 * achieved GFLOP/s, and the machine's arithmetic peak for comparison (measured in-register wasm SIMD
 * peak, and the nominal CPU peak from /proc/cpuinfo).
 *
 * FLOP count per window (matmul multiply-adds counted as 2, elementwise work excluded):
 *   forward  per step: [x,h]·[W;U]  2·68·256 = 34,816   head 2·64·2 = 256
 *   backward per step: dWU 2·68·256 = 34,816   dz·Uᵀ 2·256·64 = 32,768   head grads and dh 3·256 = 768
 *   → 103,424 per step ≈ 3.31 MFLOP per window at T = 32.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { FEATURES, UNITS, type Batch, type LossConfig, type TrainEngine } from '../pipeline/train/engine.js';
import { createFusedEngine, PEAK_PROBE_FLOPS_PER_ITER, wasmPeakProbe } from '../pipeline/train/fused/index.js';
import { LSTM_WASM_SHA256 } from '../pipeline/train/fused/lstm-wasm.generated.js';
import { makeTfjsEngine, type TfjsBackendName } from '../pipeline/train/tfjs-engine.js';
import { TOOL_VERSION } from '../pipeline/version.js';

export const FLOPS_PER_WINDOW_STEP = 2 * 68 * 256 + 2 * 64 * 2 + 2 * 68 * 256 + 2 * 256 * 64 + 3 * 256;

interface Args {
  batch: number;
  T: number;
  steps: number;
  tfjsSteps: number;
  tfjsBackend: 'auto' | TfjsBackendName;
  threads: number;
  seed: number;
  skipTfjs: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { batch: 256, T: 32, steps: 20, tfjsSteps: 3, tfjsBackend: 'auto', threads: availableParallelism(), seed: 1, skipTfjs: false };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!;
    const val = argv[i + 1];
    const num = () => {
      const n = Number(val);
      if (!Number.isInteger(n) || n < 1) throw new Error(`bench train-fused: ${key} needs a positive integer, got ${String(val)}`);
      i++;
      return n;
    };
    if (key === '--batch') a.batch = num();
    else if (key === '--T') a.T = num();
    else if (key === '--steps') a.steps = num();
    else if (key === '--tfjs-steps') a.tfjsSteps = num();
    else if (key === '--threads') a.threads = num();
    else if (key === '--seed') a.seed = num();
    else if (key === '--skip-tfjs') a.skipTfjs = true;
    else if (key === '--tfjs-backend') {
      if (!['auto', 'wasm', 'cpu', 'node'].includes(String(val))) throw new Error(`bench train-fused: --tfjs-backend must be auto|wasm|cpu|node, got ${String(val)}`);
      a.tfjsBackend = val as Args['tfjsBackend'];
      i++;
    } else throw new Error(`bench train-fused: unknown option ${key}`);
  }
  return a;
}

/** A seeded random batch shaped like training data (labels of both kinds, some censoring and masking). */
function benchBatch(seed: number, B: number, T: number): { params: Float32Array; batch: Batch } {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const f = (n: number, g: () => number) => Float32Array.from({ length: n }, g);
  const n = B * T;
  const params = f(17794, () => (r() * 2 - 1) * 0.15);
  const batch: Batch = {
    B,
    T,
    x: f(n * FEATURES, () => r() * 4 - 2),
    gapLn: f(n, () => 4 + r()),
    censored: f(n, () => (r() < 0.1 ? 1 : 0)),
    lost: f(n, () => (r() < 0.05 ? 1 : 0)),
    wGap: f(n, () => (r() < 0.1 ? 0 : 1)),
    wLost: f(n, () => (r() < 0.1 ? 0 : 1)),
    h0: f(B * UNITS, () => r() - 0.5),
    c0: f(B * UNITS, () => r() - 0.5),
  };
  return { params, batch };
}

interface Row {
  label: string;
  backend: string;
  windowsPerS: number;
  /** Windows per CPU-second of this process (all threads): what an idle machine would give per core. */
  windowsPerCpuS: number;
  loss: number;
}

async function measure(label: string, engine: TrainEngine, params: Float32Array, batch: Batch, loss: LossConfig, steps: number): Promise<Row> {
  try {
    // Warm-up: JIT and WebAssembly tier-up (V8 starts wasm in its baseline compiler), buffers, workers.
    const first = await engine.lossAndGrads(params, batch, loss);
    for (let i = 0; i < Math.min(3, steps); i++) await engine.lossAndGrads(params, batch, loss);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await engine.lossAndGrads(params, batch, loss);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const row = { label, backend: engine.backend, windowsPerS: (steps * batch.B) / seconds, windowsPerCpuS: (steps * batch.B) / cpuSeconds, loss: first.loss };
    process.stdout.write(`  ${label.padEnd(26)} ${row.windowsPerS.toFixed(0).padStart(8)} windows/s   (${engine.backend}, ${steps} steps, loss ${first.loss.toFixed(6)})\n`);
    return row;
  } finally {
    await engine.dispose();
  }
}

export async function run(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const loss: LossConfig = { tau: 0.99, lambdaLost: 0.5 };
  const { params, batch } = benchBatch(a.seed, a.batch, a.T);
  const inputSha = createHash('sha256').update(Buffer.from(batch.x.buffer)).update(Buffer.from(params.buffer)).digest('hex').slice(0, 16);
  const flopsPerWindow = FLOPS_PER_WINDOW_STEP * a.T;
  process.stdout.write(
    `bench train-fused: raft-ns ${TOOL_VERSION}, node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}\n` +
      `  batch ${a.batch}, T ${a.T}, seed ${a.seed}, inputs sha256 ${inputSha}…, lstm.wasm sha256 ${LSTM_WASM_SHA256.slice(0, 16)}…\n` +
      `  ${(flopsPerWindow / 1e6).toFixed(2)} MFLOP per window (forward + backward, matmuls)\n`,
  );

  const rows: Row[] = [];
  if (!a.skipTfjs) {
    const tfjs = await makeTfjsEngine({ backend: a.tfjsBackend === 'auto' ? undefined : a.tfjsBackend });
    rows.push(await measure('tfjs-layers (reference)', tfjs, params, batch, loss, a.tfjsSteps));
  }
  const tsSteps = Math.max(1, Math.ceil(a.steps / 4));
  rows.push(await measure('fused ts, 1 thread', await createFusedEngine({ threads: 1, kernel: 'ts' }), params, batch, loss, tsSteps));
  const wasm1 = await measure('fused wasm-simd, 1 thread', await createFusedEngine({ threads: 1, kernel: 'wasm' }), params, batch, loss, a.steps);
  rows.push(wasm1);
  if (a.threads > 1) {
    rows.push(await measure(`fused wasm-simd, ${a.threads} threads`, await createFusedEngine({ threads: a.threads, kernel: 'wasm' }), params, batch, loss, a.steps));
  }

  // Peak: in-register wasm SIMD128 multiply-add rate on one thread (what our kernel could reach at best),
  // and the nominal CPU peak (AVX-512/AVX2 FMA, which WebAssembly cannot use).
  // Many short calls: V8 tiers a wasm function up to its optimizing compiler only between calls. Timed
  // in CPU seconds of this (single) thread, like windows/CPU-s below, so other load does not skew it.
  for (let i = 0; i < 20; i++) wasmPeakProbe(1_000_000);
  let wasmPeakGflops = 0;
  for (let rep = 0; rep < 3; rep++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 20; i++) wasmPeakProbe(1_000_000);
    const c = process.cpuUsage(c0);
    wasmPeakGflops = Math.max(wasmPeakGflops, (20e6 * PEAK_PROBE_FLOPS_PER_ITER) / ((c.user + c.system) / 1e6) / 1e9);
  }
  const nominal = nominalPeakGflops();

  process.stdout.write(`\n  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (a shared machine: wall-clock figures drop under load; windows per CPU-second do not)\n`);
  process.stdout.write('  engine                      windows/s   vs tfjs   windows/CPU-s   vs tfjs   GFLOP/CPU-s   % of wasm-SIMD peak\n');
  const tfjsRow = rows.find((r) => r.label.startsWith('tfjs'));
  for (const r of rows) {
    const gflopsPerCpuS = (r.windowsPerCpuS * flopsPerWindow) / 1e9;
    const vs = (x: number, base: number | undefined) => (base ? `${(x / base).toFixed(1)}x` : '—');
    process.stdout.write(
      `  ${r.label.padEnd(26)} ${r.windowsPerS.toFixed(0).padStart(9)}   ${vs(r.windowsPerS, tfjsRow?.windowsPerS).padStart(7)}   ` +
        `${r.windowsPerCpuS.toFixed(0).padStart(13)}   ${vs(r.windowsPerCpuS, tfjsRow?.windowsPerCpuS).padStart(7)}   ` +
        `${gflopsPerCpuS.toFixed(2).padStart(11)}   ${((100 * gflopsPerCpuS) / wasmPeakGflops).toFixed(1).padStart(18)}%\n`,
    );
  }
  const multi = rows.find((r) => r.label.includes('threads'));
  if (multi) {
    process.stdout.write(
      `\n  thread scaling (wall clock): ${(multi.windowsPerS / wasm1.windowsPerS).toFixed(2)}x on ${a.threads} threads (ideal ${a.threads}x); ` +
        `parallel overhead: ${((100 * wasm1.windowsPerCpuS) / multi.windowsPerCpuS - 100).toFixed(1)}% more CPU per window; ` +
        `on ${a.threads} idle cores ≈ ${(multi.windowsPerCpuS * a.threads).toFixed(0)} windows/s\n`,
    );
  }
  process.stdout.write(
    `  wasm SIMD128 in-register peak (1 thread, mul+add, no FMA): ${wasmPeakGflops.toFixed(1)} GFLOP per CPU-s\n` +
      `  nominal CPU peak: ${nominal.text}\n` +
      `  goal: >= 5,000 windows/s at T = 32, batch 256 (>= 50x tfjs-layers)\n`,
  );
}

/** Nominal FP32 peak from /proc/cpuinfo: cores × MHz × flops/cycle (2 FMA pipes × SIMD width × 2). An estimate. */
function nominalPeakGflops(): { gflops: number; text: string } {
  let flags = '';
  let mhz = 0;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
    mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? 0);
  } catch {
    mhz = cpus()[0]?.speed ?? 0;
  }
  // Zen 4 executes AVX-512 on 256-bit pipes, so count 8 lanes per FMA pipe unless only SSE is present.
  const lanes = /\bavx2\b|\bavx512f\b/.test(flags) ? 8 : 4;
  const perCycle = 2 * lanes * 2; // 2 FMA pipes × lanes × (mul + add)
  const cores = availableParallelism();
  const gflops = (cores * mhz * perCycle) / 1000;
  return { gflops, text: `${gflops.toFixed(0)} GFLOP/s (${cores} cores × ${mhz.toFixed(0)} MHz × ${perCycle} flop/cycle, 2 FMA pipes × ${lanes} lanes; estimate)` };
}
