/**
 * The artifact's weights file and tensor table (docs/CONTRACTS.md §6), and a reader for tests and tools.
 * weights.bin holds, in this order, each tensor little-endian at an 8-byte-aligned offset (zero padding):
 *   lstm/kernel, lstm/kernel.q, lstm/kernel.scale, lstm/recurrent_kernel, lstm/recurrent_kernel.q,
 *   lstm/recurrent_kernel.scale, lstm/bias, head/kernel, head/kernel.q, head/kernel.scale, head/bias.
 * (The runtime's own loader lives in runtime/; this reader exists so pipeline tests need not import it.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';
import { PARAM_LAYOUT } from '../train/engine.js';
import { capColumnL1, dequantizeMatrix, quantizeMatrix, type QuantizedMatrix } from './int8.js';
import { gptqLstmKernels } from './gptq.js';
import type { ModelWeights } from './reference.js';

export interface TensorEntry {
  name: string;
  dtype: 'float32' | 'int8';
  shape: number[];
  offset: number;
  byte_length: number;
}

/** Names of the matrices that get an int8 copy; biases stay float32 only. */
export const QUANTIZED_TENSORS = ['lstm/kernel', 'lstm/recurrent_kernel', 'head/kernel'] as const;

export interface PackedWeights {
  bytes: Uint8Array;
  tensors: TensorEntry[];
  quantized: Record<(typeof QUANTIZED_TENSORS)[number], QuantizedMatrix>;
  /** The float path's and the int8 path's weights (dequantized matrices, float32 biases). */
  float: ModelWeights;
  int8: ModelWeights;
}

/**
 * Quantizes the flat float parameters and lays every tensor out in weights.bin. With `calibration` (the
 * second moment of the LSTM's inputs [x; h], gptq.ts) the two LSTM matrices get error-compensating codes;
 * without it, round-to-nearest. Same format either way.
 */
export function packWeights(params: Float32Array, calibration: Float64Array | null = null): PackedWeights {
  const gptq = calibration
    ? gptqLstmKernels(params.slice(PARAM_LAYOUT[0]!.offset, PARAM_LAYOUT[0]!.offset + PARAM_LAYOUT[0]!.size), params.slice(PARAM_LAYOUT[1]!.offset, PARAM_LAYOUT[1]!.offset + PARAM_LAYOUT[1]!.size), calibration)
    : null;
  const chunks: Array<{ entry: Omit<TensorEntry, 'offset' | 'byte_length'>; data: Uint8Array }> = [];
  const quantized = {} as PackedWeights['quantized'];
  const f32Bytes = (a: Float32Array): Uint8Array => {
    const out = new Uint8Array(a.length * 4);
    const dv = new DataView(out.buffer);
    a.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return out;
  };
  for (const t of PARAM_LAYOUT) {
    const w = params.slice(t.offset, t.offset + t.size);
    chunks.push({ entry: { name: t.name, dtype: 'float32', shape: t.shape }, data: f32Bytes(w) });
    if ((QUANTIZED_TENSORS as readonly string[]).includes(t.name)) {
      const [rows, cols] = t.shape as [number, number];
      const qm = gptq && t.name === 'lstm/kernel' ? gptq.kernel : gptq && t.name === 'lstm/recurrent_kernel' ? gptq.recurrent : quantizeMatrix(w, rows, cols);
      // The q column of the head keeps its trained L1 bound on the int8 path (int8.ts capColumnL1: why).
      if (t.name === 'head/kernel') capColumnL1(qm, w, 0);
      quantized[t.name as (typeof QUANTIZED_TENSORS)[number]] = qm;
      chunks.push({ entry: { name: `${t.name}.q`, dtype: 'int8', shape: [rows, cols] }, data: new Uint8Array(qm.q.buffer.slice(0)) });
      chunks.push({ entry: { name: `${t.name}.scale`, dtype: 'float32', shape: [cols] }, data: f32Bytes(qm.scale) });
    }
  }
  let size = 0;
  const tensors: TensorEntry[] = chunks.map((c) => {
    const offset = Math.ceil(size / 8) * 8;
    size = offset + c.data.length;
    return { ...c.entry, offset, byte_length: c.data.length };
  });
  const bytes = new Uint8Array(size);
  chunks.forEach((c, i) => bytes.set(c.data, tensors[i]!.offset));
  const view = (k: number): Float32Array => params.slice(PARAM_LAYOUT[k]!.offset, PARAM_LAYOUT[k]!.offset + PARAM_LAYOUT[k]!.size);
  const float: ModelWeights = { kernel: view(0), recurrentKernel: view(1), bias: view(2), headKernel: view(3), headBias: view(4) };
  const int8: ModelWeights = {
    kernel: dequantizeMatrix(quantized['lstm/kernel']),
    recurrentKernel: dequantizeMatrix(quantized['lstm/recurrent_kernel']),
    bias: float.bias,
    headKernel: dequantizeMatrix(quantized['head/kernel']),
    headBias: float.headBias,
  };
  return { bytes, tensors, quantized, float, int8 };
}

/**
 * Reads an artifact folder's manifest and weights, checking weights_sha256 and byte length; returns both
 * precision paths as ModelWeights. Throws RaftNsError naming the file on any mismatch.
 */
export function readArtifactWeights(dir: string): { manifest: Record<string, unknown> & { tensors: TensorEntry[] }; float: ModelWeights; int8: ModelWeights } {
  const mPath = join(dir, 'manifest.json');
  const wPath = join(dir, 'weights.bin');
  const manifest = JSON.parse(readFileSync(mPath, 'utf8')) as Record<string, unknown> & { tensors: TensorEntry[]; weights_sha256: string; weights_byte_length: number };
  const bytes = new Uint8Array(readFileSync(wPath));
  if (bytes.length !== manifest.weights_byte_length) {
    throw new RaftNsError('quantize.artifact', `quantize: ${wPath}: ${bytes.length} bytes, expected weights_byte_length ${manifest.weights_byte_length} from ${mPath}`);
  }
  const sha = sha256Hex(bytes);
  if (sha !== manifest.weights_sha256) {
    throw new RaftNsError('quantize.sha256', `quantize: ${wPath}: sha256 ${sha}, expected weights_sha256 ${manifest.weights_sha256} from ${mPath} (file changed or corrupt)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get = (name: string): TensorEntry => {
    const t = manifest.tensors.find((e) => e.name === name);
    if (!t) throw new RaftNsError('quantize.artifact', `quantize: ${mPath}: tensor "${name}" missing from the tensor table`);
    return t;
  };
  const f32 = (name: string): Float32Array => {
    const t = get(name);
    return Float32Array.from({ length: t.byte_length / 4 }, (_, i) => dv.getFloat32(t.offset + 4 * i, true));
  };
  const deq = (name: string): Float32Array => {
    const t = get(`${name}.q`);
    const q = new Int8Array(bytes.buffer, bytes.byteOffset + t.offset, t.byte_length).slice();
    return dequantizeMatrix({ rows: t.shape[0]!, cols: t.shape[1]!, q, scale: f32(`${name}.scale`) });
  };
  const float: ModelWeights = {
    kernel: f32('lstm/kernel'), recurrentKernel: f32('lstm/recurrent_kernel'), bias: f32('lstm/bias'),
    headKernel: f32('head/kernel'), headBias: f32('head/bias'),
  };
  const int8: ModelWeights = {
    kernel: deq('lstm/kernel'), recurrentKernel: deq('lstm/recurrent_kernel'), bias: float.bias,
    headKernel: deq('head/kernel'), headBias: float.headBias,
  };
  return { manifest, float, int8 };
}
