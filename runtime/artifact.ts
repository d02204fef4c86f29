/**
 * Artifact loading without I/O: manifest JSON + weights bytes → a checked, immutable `ModelWeights`.
 * Format: docs/CONTRACTS.md §6 (`raft-ns-artifact`, format_version 1). Everything that can be wrong with
 * an artifact is refused here, once, with a message naming the file and the field — so the hot path never
 * has to check anything.
 */
import { RuntimeError } from './errors.js';
import { NUM_FEATURES, type Normalization } from './features.js';
import { sha256Hex } from './sha256.js';

export const ARTIFACT_FORMAT = 'raft-ns-artifact';
export const ARTIFACT_FORMAT_VERSION = 1;
export const UNITS = 64;
export const GATES = 4 * UNITS;
export const OUTPUTS = 2;
export const PARAMETER_COUNT = NUM_FEATURES * GATES + UNITS * GATES + GATES + UNITS * OUTPUTS + OUTPUTS; // 17,794

export type TensorDtype = 'float32' | 'int8';

export interface TensorEntry {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  offset: number;
  byte_length: number;
}

/** The parts of the §6 manifest the runtime reads (other fields are carried through untouched). */
export interface ArtifactManifest {
  format: string;
  format_version: number;
  name: string;
  version: string;
  tool_version: string;
  architecture: {
    kind: string;
    units: number;
    features: number;
    feature_names?: string[];
    gate_order: string;
    recurrent_activation: string;
    activation: string;
    state: string;
    outputs: Array<{ name: string; tau?: number }>;
    parameter_count?: number;
  };
  /** Tick length of the training traces: the model steps once per tick_ms of the node's time (ARTIFACT.md §3.3). */
  tick_ms?: number | null;
  /** Leaders' heartbeat interval in the training traces (ARTIFACT.md §3.3); absent before 2.2.0. */
  heartbeat_interval_ms?: number | null;
  normalization: { transforms?: string[]; mean: number[]; std: number[]; clip: number };
  quantization?: { scheme: string; zero_point: number };
  tensors: TensorEntry[];
  weights_sha256: string;
  weights_byte_length: number;
  seed?: number;
  [key: string]: unknown;
}

export type Precision = 'float32' | 'int8';

/**
 * Dense float32 parameters of one precision path, in the contract's shapes (row-major [in, out]).
 * For the int8 path these are the dequantized weights, w = fround(q · scale[c]) exactly.
 */
export interface DenseParams {
  kernel: Float32Array; // [4, 256]
  recurrentKernel: Float32Array; // [64, 256]
  bias: Float32Array; // [256]
  headKernel: Float32Array; // [64, 2]
  headBias: Float32Array; // [2]
}

/** The int8 path as stored: codes [in, out] and per-output-column scales (for kernels that dequantize late). */
export interface QuantizedParams {
  kernelQ: Int8Array; // [4, 256]
  kernelScale: Float32Array; // [256]
  recurrentQ: Int8Array; // [64, 256]
  recurrentScale: Float32Array; // [256]
}

/** A loaded, checked artifact: both precision paths and the normalization. Immutable; share it between nodes. */
export interface LoadedArtifact {
  manifest: ArtifactManifest;
  normalization: Normalization;
  /** τ of the quantile head (recorded in the manifest), NaN if absent. */
  tau: number;
  float32: DenseParams;
  int8: DenseParams | null;
  /** The int8 codes and scales behind `int8` (absent when the artifact has no int8 tensors). */
  int8Quantized?: QuantizedParams;
  weightsSha256: string;
}

export interface ParseOptions {
  /** File names used in error messages (defaults: manifest.json / weights.bin). */
  manifestName?: string;
  weightsName?: string;
  /** Skip the sha256 check (only for trusted in-memory weights, e.g. tests of the engine alone). */
  skipHashCheck?: boolean;
}

const QUANTIZED = [
  { name: 'lstm/kernel', shape: [NUM_FEATURES, GATES] },
  { name: 'lstm/recurrent_kernel', shape: [UNITS, GATES] },
  { name: 'head/kernel', shape: [UNITS, OUTPUTS] },
] as const;
const BIASES = [
  { name: 'lstm/bias', shape: [GATES] },
  { name: 'head/bias', shape: [OUTPUTS] },
] as const;

/**
 * Parses and checks an artifact from its manifest (JSON text, bytes or an already parsed object) and the
 * bytes of weights.bin. Throws RuntimeError (code `runtime.artifact.*`) on anything malformed, tampered,
 * truncated or of another format version.
 *
 * @example
 * const art = artifactFromBytes(manifestText, weightsBytes);
 * const policy = new NeuroSymbolicTimeout({ artifact: art });
 */
export function artifactFromBytes(
  manifestInput: string | Uint8Array | object,
  weights: Uint8Array,
  options: ParseOptions = {},
): LoadedArtifact {
  const mName = options.manifestName ?? 'manifest.json';
  const wName = options.weightsName ?? 'weights.bin';
  const fail = (code: string, msg: string): never => {
    throw new RuntimeError(`runtime.artifact.${code}`, `runtime: ${msg}`);
  };
  let raw: unknown = manifestInput;
  if (typeof manifestInput === 'string' || manifestInput instanceof Uint8Array) {
    const text = typeof manifestInput === 'string' ? manifestInput : new TextDecoder().decode(manifestInput);
    try {
      raw = JSON.parse(text);
    } catch (err) {
      fail('json', `${mName}: not valid JSON (${(err as Error).message}); expected the artifact manifest of docs/CONTRACTS.md §6`);
    }
  }
  const m = checkManifest(raw, mName, fail);

  if (weights.byteLength !== m.weights_byte_length) {
    fail('truncated', `${wName}: ${weights.byteLength} bytes, manifest ${mName} says weights_byte_length ${m.weights_byte_length}`);
  }
  const digest = sha256Hex(weights);
  if (!options.skipHashCheck && digest !== m.weights_sha256.toLowerCase()) {
    fail('sha256', `${wName}: sha256 ${digest} does not match ${mName} weights_sha256 ${m.weights_sha256}; the weights were modified or belong to another artifact`);
  }

  const byName = new Map<string, TensorEntry>();
  m.tensors.forEach((t, i) => {
    const where = `${mName} tensors[${i}]`;
    if (byName.has(t.name)) fail('tensor', `${where}: duplicate tensor name "${t.name}"`);
    if (t.dtype !== 'float32' && t.dtype !== 'int8') fail('tensor', `${where} (${t.name}): dtype "${String(t.dtype)}", expected float32 or int8`);
    const elems = t.shape.reduce((a, b) => a * b, 1);
    const width = t.dtype === 'float32' ? 4 : 1;
    if (t.byte_length !== elems * width) {
      fail('tensor', `${where} (${t.name}): byte_length ${t.byte_length}, expected ${elems * width} for ${t.dtype} [${t.shape.join(', ')}]`);
    }
    if (t.offset % 8 !== 0) fail('tensor', `${where} (${t.name}): offset ${t.offset} is not 8-byte aligned`);
    if (t.offset + t.byte_length > weights.byteLength) {
      fail('bounds', `${where} (${t.name}): bytes [${t.offset}, ${t.offset + t.byte_length}) run past the end of ${wName} (${weights.byteLength} bytes)`);
    }
    byName.set(t.name, t);
  });
  const need = (name: string, dtype: TensorDtype, shape: readonly number[]): TensorEntry => {
    const t = byName.get(name);
    if (!t) return fail('tensor', `${mName}: tensor "${name}" (${dtype} [${shape.join(', ')}]) is missing from the tensor table`);
    if (t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail('tensor', `${mName}: tensor "${name}" is ${t.dtype} [${t.shape.join(', ')}], expected ${dtype} [${shape.join(', ')}]`);
    }
    return t;
  };
  const f32 = (t: TensorEntry): Float32Array => readF32(weights, t);

  const float32: DenseParams = {
    kernel: f32(need('lstm/kernel', 'float32', QUANTIZED[0].shape)),
    recurrentKernel: f32(need('lstm/recurrent_kernel', 'float32', QUANTIZED[1].shape)),
    bias: f32(need('lstm/bias', 'float32', BIASES[0].shape)),
    headKernel: f32(need('head/kernel', 'float32', QUANTIZED[2].shape)),
    headBias: f32(need('head/bias', 'float32', BIASES[1].shape)),
  };
  let int8: DenseParams | null = null;
  let int8Quantized: QuantizedParams | undefined;
  if (byName.has('lstm/kernel.q')) {
    const codes = (name: string, shape: readonly [number, number]): { q: Int8Array; scale: Float32Array } => {
      const q = need(`${name}.q`, 'int8', shape);
      const s = need(`${name}.scale`, 'float32', [shape[1]]);
      return { q: new Int8Array(weights.buffer, weights.byteOffset + q.offset, q.byte_length).slice(), scale: readF32(weights, s) };
    };
    const k = codes('lstm/kernel', QUANTIZED[0].shape);
    const u = codes('lstm/recurrent_kernel', QUANTIZED[1].shape);
    const hd = codes('head/kernel', QUANTIZED[2].shape);
    int8 = {
      kernel: dequantize(k.q, k.scale, NUM_FEATURES, GATES),
      recurrentKernel: dequantize(u.q, u.scale, UNITS, GATES),
      bias: float32.bias,
      headKernel: dequantize(hd.q, hd.scale, UNITS, OUTPUTS),
      headBias: float32.headBias,
    };
    int8Quantized = { kernelQ: k.q, kernelScale: k.scale, recurrentQ: u.q, recurrentScale: u.scale };
  }
  for (const [path, params] of [['float32', float32], ['int8', int8]] as const) {
    if (!params) continue;
    for (const [k, arr] of Object.entries(params) as Array<[string, Float32Array]>) {
      for (let i = 0; i < arr.length; i++) {
        if (!Number.isFinite(arr[i]!)) fail('nonfinite', `${wName}: ${path} tensor ${k} element ${i} is ${arr[i]}; expected finite weights`);
      }
    }
  }
  const out0 = m.architecture.outputs[0];
  return {
    manifest: m,
    normalization: { mean: m.normalization.mean.slice(), std: m.normalization.std.slice(), clip: m.normalization.clip },
    tau: out0 && typeof out0.tau === 'number' ? out0.tau : Number.NaN,
    float32,
    int8,
    ...(int8Quantized ? { int8Quantized } : {}),
    weightsSha256: digest,
  };
}

/** w[r][c] = fround(q[r][c] · scale[c]) — CONTRACTS.md §6, exactly (Float32Array stores round to float32). */
export function dequantize(q: Int8Array, scale: Float32Array, rows: number, cols: number): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = q[r * cols + c]! * scale[c]!;
  return w;
}

function readF32(weights: Uint8Array, t: TensorEntry): Float32Array {
  // Copy through a DataView: the bytes are little-endian by contract whatever the host, and the copy
  // decouples the model from the caller's buffer.
  const n = t.byte_length / 4;
  const out = new Float32Array(n);
  const dv = new DataView(weights.buffer, weights.byteOffset + t.offset, t.byte_length);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

type Fail = (code: string, msg: string) => never;

function checkManifest(raw: unknown, mName: string, fail: Fail): ArtifactManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('manifest', `${mName}: expected a JSON object`);
  const m = raw as Record<string, unknown>;
  if (m.format !== ARTIFACT_FORMAT) fail('format', `${mName}: format ${JSON.stringify(m.format)}, expected "${ARTIFACT_FORMAT}"`);
  if (m.format_version !== ARTIFACT_FORMAT_VERSION) {
    fail('version', `${mName}: format_version ${JSON.stringify(m.format_version)}, this runtime reads format_version ${ARTIFACT_FORMAT_VERSION}`);
  }
  const a = m.architecture as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') return fail('manifest', `${mName}: architecture missing`);
  const expect = (field: string, got: unknown, want: unknown): void => {
    if (got !== want) fail('architecture', `${mName}: architecture.${field} is ${JSON.stringify(got)}, this runtime implements ${JSON.stringify(want)}`);
  };
  expect('kind', a.kind, 'lstm');
  expect('units', a.units, UNITS);
  expect('features', a.features, NUM_FEATURES);
  expect('gate_order', a.gate_order, 'ifgo');
  expect('recurrent_activation', a.recurrent_activation, 'sigmoid');
  expect('activation', a.activation, 'tanh');
  expect('state', a.state, 'carried');
  if (!Array.isArray(a.outputs) || a.outputs.length !== OUTPUTS) fail('architecture', `${mName}: architecture.outputs must list ${OUTPUTS} outputs`);
  if (a.parameter_count !== undefined) expect('parameter_count', a.parameter_count, PARAMETER_COUNT);
  const n = m.normalization as Record<string, unknown> | undefined;
  const vec4 = (v: unknown): v is number[] => Array.isArray(v) && v.length === NUM_FEATURES && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!n || !vec4(n.mean) || !vec4(n.std) || (n.std as number[]).some((s) => !(s > 0)) || typeof n.clip !== 'number' || !(n.clip > 0)) {
    fail('normalization', `${mName}: normalization needs mean[4], std[4] (all > 0) and clip > 0`);
  }
  if (m.quantization !== undefined) {
    const q = m.quantization as Record<string, unknown>;
    if (q.scheme !== 'int8-symmetric-per-output-channel' || q.zero_point !== 0) {
      fail('quantization', `${mName}: quantization ${JSON.stringify(q)}, expected scheme "int8-symmetric-per-output-channel" with zero_point 0`);
    }
  }
  for (const f of ['tick_ms', 'heartbeat_interval_ms'] as const) {
    const v = m[f];
    if (v !== undefined && v !== null && !(typeof v === 'number' && v > 0 && v <= 60000)) fail('timing', `${mName}: ${f} must be a number of ms in (0, 60000] or null`);
  }
  if (!Array.isArray(m.tensors)) fail('manifest', `${mName}: tensors must be an array`);
  (m.tensors as unknown[]).forEach((t, i) => {
    const e = t as Record<string, unknown>;
    const ok = typeof e === 'object' && e !== null && typeof e.name === 'string' && Array.isArray(e.shape)
      && (e.shape as unknown[]).every((d) => Number.isInteger(d) && (d as number) > 0)
      && Number.isInteger(e.offset) && (e.offset as number) >= 0 && Number.isInteger(e.byte_length) && (e.byte_length as number) >= 0;
    if (!ok) fail('tensor', `${mName} tensors[${i}]: expected {name, dtype, shape: positive integers, offset ≥ 0, byte_length ≥ 0}`);
  });
  if (typeof m.weights_sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(m.weights_sha256)) fail('manifest', `${mName}: weights_sha256 must be 64 hex digits`);
  if (!Number.isInteger(m.weights_byte_length)) fail('manifest', `${mName}: weights_byte_length must be an integer`);
  return m as unknown as ArtifactManifest;
}
