/**
 * `npm run bench -- runtime [--artifact <dir>] [--calls N] [--tfjs-calls N]`: cost of one tick of the
 * runtime (observe() + electionTimeoutMs()) on each kernel, side by side with TensorFlow.js predict() on the
 * same weights (a stateful LSTM layer, one tick per call, the baseline), a naive JS step, and the arithmetic
 * floor of the step (its ~17.5K multiply-adds as one straight dot product). Prints median and p99 µs per
 * call, ratios, and bytes per node (counted and measured on the heap). Without --artifact it uses seeded
 * random weights (seed 1), which cost the same as trained ones.
 */
import { mulberry32 } from '../pipeline/util/prng.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { dequantize, GATES, PARAMETER_COUNT, type DenseParams, type LoadedArtifact } from '../runtime/artifact.js';
import { LstmState, referenceStep } from '../runtime/engine.js';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { makeSharedModel, NeuroSymbolicTimeout, type TimeoutObservation } from '../runtime/timeout.js';
import { wasmStepAvailable } from '../runtime/wasm-kernel.js';
import { TOOL_VERSION } from '../pipeline/version.js';

const MACS_PER_STEP = 4 * GATES + 64 * GATES + 64 * 2; // x·W + h·U + head = 17,536

export async function run(args: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const calls = Number(opt('--calls') ?? 200_000);
  const tfCalls = Number(opt('--tfjs-calls') ?? 2_000);
  const artDir = opt('--artifact');
  const art = artDir ? await loadArtifactFromDir(artDir) : randomArtifact(1);
  const params = art.int8 ?? art.float32;
  const trace = makeTrace(4096, 3);

  process.stdout.write(`bench runtime: tool ${TOOL_VERSION}, node ${process.version}, ${artDir ? `artifact ${artDir} (sha256 ${art.weightsSha256.slice(0, 16)}…)` : 'seeded random weights (seed 1)'}, ${calls} calls per kernel\n`);
  process.stdout.write(`  MACs per step: ${MACS_PER_STEP} (${PARAMETER_COUNT} parameters); wasm SIMD available: ${wasmStepAvailable()}\n\n`);

  // 1. the runtime, per kernel: observe() + electionTimeoutMs() per call
  const rows: Array<{ name: string; median: number; p99: number }> = [];
  for (const kernel of wasmStepAvailable() ? (['wasm', 'js'] as const) : (['js'] as const)) {
    const p = new NeuroSymbolicTimeout({ model: makeSharedModel(art, art.int8 ? 'int8' : 'float32', kernel) });
    const r = timePerCall(calls, (i) => {
      const o = trace[i & 4095]!;
      p.observe(o);
      return p.electionTimeoutMs();
    });
    rows.push({ name: `runtime ${kernel} kernel (observe + electionTimeoutMs)`, ...r });
  }
  // 2. the naive textbook step (z[256] then gates), float64
  {
    const h = new Float64Array(64);
    const c = new Float64Array(64);
    const y = new Float64Array(2);
    const z = new Float64Array(GATES);
    const xs = Float64Array.from({ length: 4096 * 4 }, (_, i) => Math.sin(i) * 2);
    rows.push({ name: 'naive JS step (textbook z = x·W + h·U, no guardrails)', ...timePerCall(Math.min(calls, 50_000), (i) => {
      const k = (i & 4095) * 4;
      referenceStep(params, h, c, xs.subarray(k, k + 4), y, z);
      return y[0]!;
    }) });
  }
  // 3. arithmetic floor in scalar JS: the step's MACs as one straight dot product (no activations)
  {
    const a = Float32Array.from({ length: MACS_PER_STEP }, (_, i) => Math.cos(i));
    const b = Float64Array.from({ length: MACS_PER_STEP }, (_, i) => Math.sin(i));
    rows.push({ name: `floor: ${MACS_PER_STEP} MACs as one JS dot product`, ...timePerCall(Math.min(calls, 50_000), () => {
      let s0 = 0, s1 = 0;
      for (let k = 0; k < MACS_PER_STEP; k += 2) {
        s0 += a[k]! * b[k]!;
        s1 += a[k + 1]! * b[k + 1]!;
      }
      return s0 + s1;
    }) });
  }
  // 4. TensorFlow.js predict on the same weights: stateful LSTM, one tick per call
  await tf.setBackend('cpu');
  const model = tfjsModel(params);
  const xt = trace.map((o) => [Math.log1p(o.heartbeatLatencyMs ?? 0), Math.log1p(o.logReplicationGap), Math.log1p(o.rpcRetries), o.cpuIdlePct / 100]);
  const tfr = timePerCall(tfCalls, (i) => {
    const v = tf.tidy(() => {
      const x = tf.tensor3d([[normalize(xt[i & 4095]!, art)]], [1, 1, 4]);
      return (model.predict(x) as tf.Tensor).dataSync()[0]!;
    });
    return v;
  });
  rows.push({ name: `tfjs ${tf.version.tfjs} predict (${tf.getBackend()} backend, stateful, 1 tick/call)`, ...tfr });
  const parity = tfjsParity(model, params, art, xt);

  const base = rows.find((r) => r.name.startsWith('tfjs'))!;
  const w = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`  ${'per call'.padEnd(w)}  median µs    p99 µs   vs tfjs   ns/MAC\n`);
  for (const r of rows) {
    process.stdout.write(`  ${r.name.padEnd(w)}  ${r.median.toFixed(2).padStart(9)}  ${r.p99.toFixed(2).padStart(8)}  ${(base.median / r.median).toFixed(1).padStart(7)}×  ${((r.median * 1000) / MACS_PER_STEP).toFixed(3).padStart(7)}\n`);
  }
  const best = rows[0]!;
  const floor = rows.find((r) => r.name.startsWith('floor'))!;
  process.stdout.write(`\n  goal ≤ 5 µs median: ${best.median <= 5 ? 'met' : 'NOT met'} (${best.median.toFixed(2)} µs); ${(best.median / floor.median).toFixed(2)}× the scalar-JS arithmetic floor\n`);
  process.stdout.write(`  tfjs parity (same weights, 256 ticks, carried state): max |Δq| ${parity.q.toExponential(2)}, max |Δℓ| ${parity.l.toExponential(2)}\n\n`);

  // 5. bytes per node: counted (typed-array payloads) and measured (heap growth over 1,000 nodes)
  const shared = makeSharedModel(art, art.int8 ? 'int8' : 'float32', 'auto');
  const one = new NeuroSymbolicTimeout({ model: shared });
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage();
  const nodes: NeuroSymbolicTimeout[] = [];
  for (let i = 0; i < 1000; i++) {
    const p = new NeuroSymbolicTimeout({ model: shared });
    for (let t = 0; t < 8; t++) p.observe(trace[t]!);
    nodes.push(p);
  }
  gc();
  const after = process.memoryUsage();
  const perNode = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / nodes.length;
  process.stdout.write(`  memory: shared model ${shared.lstm.byteLength} B (${shared.precision} path, ${shared.lstm.kernel} kernel; paid once per process per model)\n`);
  process.stdout.write(`          per node counted ${one.nodeByteLength} B of buffers; measured ${Math.round(perNode)} B per node (heap + buffers, 1,000 nodes)\n`);
  process.stdout.write(`          one node alone, weights included: ${Math.round(shared.lstm.byteLength + perNode)} B (goal < 131072 B: ${shared.lstm.byteLength + perNode < 131072 ? 'met' : 'NOT met'})\n`);
  for (const [label, m] of [
    ['JS kernel (exact float64)', makeSharedModel(art, art.int8 ? 'int8' : 'float32', 'js')],
    ['wasm float32 path', makeSharedModel(art, 'float32', 'auto')],
  ] as const) {
    process.stdout.write(`          ${label}: shared ${m.lstm.byteLength} B → one node alone ${Math.round(m.lstm.byteLength + perNode)} B\n`);
  }
  void nodes.length;
}

/** Per-call timing: median over batches of 64 calls (timer cost amortized) and p99 over single calls. */
function timePerCall(n: number, f: (i: number) => number): { median: number; p99: number } {
  let sink = 0;
  const warm = Math.min(n, 20_000);
  for (let i = 0; i < warm; i++) sink += f(i);
  const batches = Math.max(1, Math.floor(n / 64));
  const batchUs = new Float64Array(batches);
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 64; i++) sink += f(b * 64 + i);
    batchUs[b] = ((performance.now() - t0) * 1000) / 64;
  }
  const singles = new Float64Array(Math.min(n, 50_000));
  for (let i = 0; i < singles.length; i++) {
    const t0 = performance.now();
    sink += f(i);
    singles[i] = (performance.now() - t0) * 1000;
  }
  if (sink === 42) process.stdout.write(''); // keep the work observable
  batchUs.sort();
  singles.sort();
  return { median: batchUs[batches >> 1]!, p99: singles[Math.floor(singles.length * 0.99)]! };
}

function normalize(raw: number[], art: LoadedArtifact): number[] {
  const n = art.normalization;
  return raw.map((v, i) => Math.min(n.clip, Math.max(-n.clip, (v - n.mean[i]!) / n.std[i]!)));
}

function tfjsModel(p: DenseParams): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.lstm({ units: 64, batchInputShape: [1, 1, 4], stateful: true, recurrentActivation: 'sigmoid', activation: 'tanh', kernelInitializer: 'zeros', recurrentInitializer: 'zeros' }));
  m.add(tf.layers.dense({ units: 2 }));
  m.setWeights([
    tf.tensor2d(p.kernel, [4, 256]), tf.tensor2d(p.recurrentKernel, [64, 256]), tf.tensor1d(p.bias),
    tf.tensor2d(p.headKernel, [64, 2]), tf.tensor1d(p.headBias),
  ]);
  return m;
}

/** tfjs (stateful, fresh state) vs the runtime's exact JS kernel over the same 256 ticks. */
function tfjsParity(m: tf.Sequential, p: DenseParams, art: LoadedArtifact, xt: number[][]): { q: number; l: number } {
  m.resetStates();
  const s = new LstmState();
  const y = new Float64Array(2);
  const h = s.h;
  const c = s.c;
  let dq = 0;
  let dl = 0;
  for (let t = 0; t < 256; t++) {
    const x = Float32Array.from(normalize(xt[t]!, art));
    const got = tf.tidy(() => (m.predict(tf.tensor3d([[Array.from(x)]], [1, 1, 4])) as tf.Tensor).dataSync());
    referenceStep(p, h, c, x, y);
    dq = Math.max(dq, Math.abs(got[0]! - y[0]!));
    dl = Math.max(dl, Math.abs(got[1]! - y[1]!));
  }
  return { q: dq, l: dl };
}

/** A follower's plausible ticks: heartbeats most ticks, latency jitter, occasional retries. */
function makeTrace(n: number, seed: number): TimeoutObservation[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    nowMs: (i + 1) * 100, tickMs: 100, role: 'follower', term: 1, leaderId: 'n1', heartbeatLatencyMs: 0.5 + r() * r() * 20,
    logReplicationGap: Math.floor(r() * 3), rpcRetries: r() < 0.95 ? 0 : 1, cpuIdlePct: 40 + r() * 55, heartbeatReceived: r() < 0.95,
    clusterSize: 5, peersReachable: 4, heartbeatIntervalMs: 100,
  }));
}

function randomArtifact(seed: number): LoadedArtifact {
  const r = mulberry32(seed);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const float32: DenseParams = { kernel: u(1024, 0.6), recurrentKernel: u(16384, 0.2), bias: u(256, 0.1), headKernel: u(128, 0.3), headBias: Float32Array.from([Math.log(400), -2]) };
  // int8 per output column, as CONTRACTS.md §6: scale = max|w|/127, q = round(w/scale), w' = fround(q·scale)
  const quant = (w: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } => {
    const scale = new Float32Array(cols);
    for (let c = 0; c < cols; c++) {
      let m = 0;
      for (let r = 0; r < rows; r++) m = Math.max(m, Math.abs(w[r * cols + c]!));
      scale[c] = m === 0 ? 1 : m / 127;
    }
    const q = Int8Array.from(w, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scale[i % cols]!))));
    return { q, scale };
  };
  const k = quant(float32.kernel, 4, 256);
  const rk = quant(float32.recurrentKernel, 64, 256);
  const hk = quant(float32.headKernel, 64, 2);
  const int8: DenseParams = {
    kernel: dequantize(k.q, k.scale, 4, 256), recurrentKernel: dequantize(rk.q, rk.scale, 64, 256), bias: float32.bias,
    headKernel: dequantize(hk.q, hk.scale, 64, 2), headBias: float32.headBias,
  };
  return {
    manifest: { name: 'bench-random', version: '0.0.0' } as LoadedArtifact['manifest'],
    normalization: { mean: [1, 0.5, 0.1, 0.7], std: [0.8, 0.6, 0.3, 0.15], clip: 5 },
    tau: 0.99,
    float32,
    int8,
    int8Quantized: { kernelQ: k.q, kernelScale: k.scale, recurrentQ: rk.q, recurrentScale: rk.scale },
    weightsSha256: 'random-seed-1',
  };
}
