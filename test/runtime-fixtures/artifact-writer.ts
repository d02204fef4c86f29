/**
 * A small writer of §6 artifacts for the runtime tests (CONTRACTS.md §6), independent of the pipeline's
 * exporter: seeded random weights, int8 per-output-channel quantization, 8-byte aligned tensors, sha256,
 * and golden vectors computed by the pipeline's plain reference forward (pipeline/quantize/reference.ts),
 * which shares no code with the runtime engine.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceForward, type ModelWeights } from '../../pipeline/quantize/reference.js';
import { mulberry32 } from '../../pipeline/util/prng.js';
import { FeatureState, type Normalization, type SignalSample } from '../../runtime/features.js';

export interface FixtureArtifact {
  manifest: Record<string, unknown>;
  weights: Uint8Array;
  golden: { cases: Array<{ name: string; rows: Array<Record<string, number | string | boolean | null>>; expected: { float32: number[][]; int8: number[][] } }> };
  float: ModelWeights;
  int8: ModelWeights;
}

/** mulberry32: a tiny seeded PRNG (tests only). */
export const prng: (seed: number) => () => number = mulberry32;

export const FIXTURE_NORM: Normalization = { mean: [0.7, 0.5, 0.2, 0.6], std: [0.4, 0.8, 0.5, 0.2], clip: 5 };

function quantize(w: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array; deq: Float32Array } {
  const scale = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m = Math.max(m, Math.abs(w[r * cols + c]!));
    scale[c] = m === 0 ? 1 : m / 127;
  }
  const q = new Int8Array(rows * cols);
  const deq = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale[c]!)));
      deq[i] = q[i]! * scale[c]!;
    }
  }
  return { q, scale, deq };
}

/** Random raw telemetry rows (latency sometimes null), deterministic in `seed`. */
export function randomRows(seed: number, n: number): SignalSample[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, t) => {
    const lat = t > 0 && r() < 0.1 ? null : 0.2 + r() * r() * 40;
    // 10 ms ticks; no heartbeat when no latency was measured, so silences of a few ticks exercise the clock.
    return {
    nowMs: t * 10, heartbeatReceived: lat !== null, term: 1 + Math.floor(t / 500), leaderId: 'n1',
    heartbeatLatencyMs: lat,
    logReplicationGap: Math.floor(r() * r() * 50),
    rpcRetries: r() < 0.8 ? 0 : Math.floor(r() * 5),
    cpuIdlePct: 20 + r() * 80,
    };
  });
}

export function buildFixtureArtifact(seed = 7, opts: { qBias?: number } = {}): FixtureArtifact {
  const r = prng(seed);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const float: ModelWeights = {
    kernel: u(4 * 256, 0.6),
    recurrentKernel: u(64 * 256, 0.22),
    bias: u(256, 0.1),
    headKernel: u(64 * 2, 0.3),
    headBias: Float32Array.from([opts.qBias ?? Math.log(300), -2]),
  };
  for (let j = 64; j < 128; j++) float.bias[j] = 1; // unit forget bias
  const qk = quantize(float.kernel, 4, 256);
  const qr = quantize(float.recurrentKernel, 64, 256);
  const qh = quantize(float.headKernel, 64, 2);
  const int8: ModelWeights = { kernel: qk.deq, recurrentKernel: qr.deq, bias: float.bias, headKernel: qh.deq, headBias: float.headBias };

  const parts: Array<{ name: string; dtype: 'float32' | 'int8'; shape: number[]; bytes: Uint8Array }> = [];
  const f32 = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const i8 = (a: Int8Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  parts.push({ name: 'lstm/kernel', dtype: 'float32', shape: [4, 256], bytes: f32(float.kernel) });
  parts.push({ name: 'lstm/kernel.q', dtype: 'int8', shape: [4, 256], bytes: i8(qk.q) });
  parts.push({ name: 'lstm/kernel.scale', dtype: 'float32', shape: [256], bytes: f32(qk.scale) });
  parts.push({ name: 'lstm/recurrent_kernel', dtype: 'float32', shape: [64, 256], bytes: f32(float.recurrentKernel) });
  parts.push({ name: 'lstm/recurrent_kernel.q', dtype: 'int8', shape: [64, 256], bytes: i8(qr.q) });
  parts.push({ name: 'lstm/recurrent_kernel.scale', dtype: 'float32', shape: [256], bytes: f32(qr.scale) });
  parts.push({ name: 'lstm/bias', dtype: 'float32', shape: [256], bytes: f32(float.bias) });
  parts.push({ name: 'head/kernel', dtype: 'float32', shape: [64, 2], bytes: f32(float.headKernel) });
  parts.push({ name: 'head/kernel.q', dtype: 'int8', shape: [64, 2], bytes: i8(qh.q) });
  parts.push({ name: 'head/kernel.scale', dtype: 'float32', shape: [2], bytes: f32(qh.scale) });
  parts.push({ name: 'head/bias', dtype: 'float32', shape: [2], bytes: f32(float.headBias) });
  let off = 0;
  const tensors = parts.map((p) => {
    off = Math.ceil(off / 8) * 8;
    const t = { name: p.name, dtype: p.dtype, shape: p.shape, offset: off, byte_length: p.bytes.length };
    off += p.bytes.length;
    return t;
  });
  const weights = new Uint8Array(Math.ceil(off / 8) * 8);
  parts.forEach((p, i) => weights.set(p.bytes, tensors[i]!.offset));
  const manifest = {
    format: 'raft-ns-artifact',
    format_version: 1,
    name: 'fixture',
    version: '0.0.1',
    tool_version: '0.1.0',
    created_at: '2026-01-01T00:00:00.000Z',
    architecture: {
      kind: 'lstm', units: 64, features: 4, feature_names: ['heartbeat_latency', 'log_replication_gap', 'rpc_retries', 'cpu_idle'],
      gate_order: 'ifgo', recurrent_activation: 'sigmoid', activation: 'tanh', state: 'carried',
      outputs: [{ name: 'log_gap_quantile', tau: 0.99 }, { name: 'leader_lost_logit' }], parameter_count: 17794,
    },
    tick_ms: 100,
    normalization: { transforms: [], mean: FIXTURE_NORM.mean, std: FIXTURE_NORM.std, clip: 5 },
    quantization: { scheme: 'int8-symmetric-per-output-channel', zero_point: 0 },
    tensors,
    weights_sha256: createHash('sha256').update(weights).digest('hex'),
    weights_byte_length: weights.length,
    inputs: { dataset_sha256: 'fixture', windows_sha256: 'fixture', config_sha256: 'fixture' },
    seed,
  };
  const cases = [0, 1, 2].map((k) => {
    const rows = randomRows(seed * 100 + k, 40 + 20 * k);
    const xs = featuresOf(rows);
    const pairs = (w: ModelWeights): number[][] => {
      const y = referenceForward(w, xs, rows.length);
      return rows.map((_, t) => [y[2 * t]!, y[2 * t + 1]!]);
    };
    return {
      name: `random-${k}`,
      rows: rows.map((s) => ({ now_ms: s.nowMs, heartbeat_received: s.heartbeatReceived, term: s.term, leader_id: s.leaderId, heartbeat_latency_ms: s.heartbeatLatencyMs, log_replication_gap: s.logReplicationGap, rpc_retries: s.rpcRetries, cpu_idle_pct: s.cpuIdlePct })),
      expected: { float32: pairs(float), int8: pairs(int8) },
    };
  });
  return { manifest, weights, golden: { cases }, float, int8 };
}

/** Normalized float32 features of a row sequence via the shared transform. */
export function featuresOf(rows: SignalSample[], norm: Normalization = FIXTURE_NORM): Float32Array {
  const fs = new FeatureState();
  const xs = new Float32Array(rows.length * 4);
  rows.forEach((row, t) => fs.normalizedInto(row, norm, xs, t * 4));
  return xs;
}

/** Writes the fixture as an artifact folder (manifest.json, weights.bin, golden.json). */
export function writeFixtureArtifact(dir: string, a: FixtureArtifact): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(a.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'weights.bin'), a.weights);
  writeFileSync(join(dir, 'golden.json'), `${JSON.stringify(a.golden)}\n`);
}
