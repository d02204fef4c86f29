import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceForward } from '../pipeline/quantize/reference.js';
import { artifactFromBytes, type LoadedArtifact } from '../runtime/artifact.js';
import { LstmModel, LstmState, referenceStep } from '../runtime/engine.js';
import { wasmStepAvailable } from '../runtime/wasm-kernel.js';
import { checkGolden, parseGolden } from '../runtime/golden.js';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { sha256Hex } from '../runtime/sha256.js';
import { buildFixtureArtifact, featuresOf, prng, randomRows, writeFixtureArtifact } from './runtime-fixtures/artifact-writer.js';

const fx = buildFixtureArtifact(7);
const load = (manifest: unknown = fx.manifest, weights: Uint8Array = fx.weights): LoadedArtifact =>
  artifactFromBytes(JSON.stringify(manifest), weights);
const clone = (): Record<string, any> => JSON.parse(JSON.stringify(fx.manifest)) as Record<string, any>;
const rehash = (m: Record<string, any>, w: Uint8Array): Record<string, any> => {
  m.weights_sha256 = createHash('sha256').update(w).digest('hex');
  m.weights_byte_length = w.length;
  return m;
};

describe('runtime sha256', () => {
  it('matches node:crypto at every padding boundary and on large inputs', () => {
    const r = prng(1);
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_001]) {
      const data = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      expect(sha256Hex(data), `length ${n}`).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });
  it('hashes a subarray view, not its whole buffer', () => {
    const big = new Uint8Array(100).map((_, i) => i);
    expect(sha256Hex(big.subarray(10, 30))).toBe(createHash('sha256').update(big.subarray(10, 30)).digest('hex'));
  });
});

describe('runtime artifact loading (CONTRACTS.md §6)', () => {
  it('loads both precision paths and dequantizes exactly w = fround(q·scale[c])', () => {
    const a = load();
    expect(a.int8).not.toBeNull();
    expect(a.weightsSha256).toBe(fx.manifest.weights_sha256);
    expect(Array.from(a.int8!.recurrentKernel)).toEqual(Array.from(fx.int8.recurrentKernel));
    expect(Array.from(a.float32.kernel)).toEqual(Array.from(fx.float.kernel));
    expect(a.tau).toBe(0.99);
  });

  it('refuses tampered weights (one flipped bit) by sha256', () => {
    const w = fx.weights.slice();
    w[5000]! ^= 1;
    expect(() => load(fx.manifest, w)).toThrow(/weights\.bin: sha256 .* does not match manifest\.json/);
  });

  it('refuses truncated weights by length', () => {
    expect(() => load(fx.manifest, fx.weights.subarray(0, fx.weights.length - 8))).toThrow(/weights\.bin: \d+ bytes, manifest manifest\.json says weights_byte_length/);
  });

  it('refuses another format version and another architecture', () => {
    const m = clone();
    m.format_version = 2;
    expect(() => load(m)).toThrow(/format_version 2, this runtime reads format_version 1/);
    const h = clone();
    h.architecture.recurrent_activation = 'hard_sigmoid';
    expect(() => load(h)).toThrow(/recurrent_activation is "hard_sigmoid"/);
  });

  it('reads the timing assumptions (absent or null = unknown) and refuses malformed ones, naming the field', () => {
    const m = clone();
    m.heartbeat_interval_ms = 100;
    expect(load(m).manifest.heartbeat_interval_ms).toBe(100);
    m.heartbeat_interval_ms = null;
    expect(load(m).manifest.heartbeat_interval_ms).toBeNull();
    for (const [field, bad] of [['heartbeat_interval_ms', -100], ['heartbeat_interval_ms', '100'], ['tick_ms', 0], ['tick_ms', 1e9]] as const) {
      const b = clone();
      b[field] = bad;
      expect(() => load(b)).toThrow(new RegExp(`manifest.json: ${field} must be a number of ms in \\(0, 60000\\] or null`));
    }
  });

  it('refuses a tensor table that runs out of bounds, misstates a shape or dtype, or lacks a tensor', () => {
    const oob = clone();
    oob.tensors[3].offset = fx.weights.length - 8;
    expect(() => load(oob)).toThrow(/tensors\[3\] \(lstm\/recurrent_kernel\): bytes .* run past the end/);
    const shape = clone();
    shape.tensors[0].shape = [256, 4];
    expect(() => load(shape)).toThrow(/"lstm\/kernel" is float32 \[256, 4\], expected float32 \[4, 256\]/);
    const dtype = clone();
    dtype.tensors[1].dtype = 'int16';
    expect(() => load(dtype)).toThrow(/dtype "int16", expected float32 or int8/);
    const missing = clone();
    missing.tensors = missing.tensors.filter((t: { name: string }) => t.name !== 'head/bias');
    expect(() => load(missing)).toThrow(/tensor "head\/bias" .* is missing/);
  });

  it('refuses non-finite weights even with a matching hash', () => {
    const w = fx.weights.slice();
    const off = (fx.manifest.tensors as Array<{ name: string; offset: number }>).find((t) => t.name === 'lstm/bias')!.offset;
    new DataView(w.buffer).setFloat32(off, Number.NaN, true);
    expect(() => load(rehash(clone(), w), w)).toThrow(/float32 tensor bias element 0 is NaN/);
  });

  it('refuses a manifest that is not JSON, and a missing folder, naming the file', async () => {
    expect(() => artifactFromBytes('{not json', fx.weights)).toThrow(/manifest\.json: not valid JSON/);
    await expect(loadArtifactFromDir('/nonexistent/artifact')).rejects.toThrow(/\/nonexistent\/artifact\/manifest\.json: cannot read \(ENOENT\)/);
  });
});

describe('runtime engine exactness', () => {
  const a = load();
  it('matches every golden vector within 1e-5 on the float and the int8 path', () => {
    const { cases } = parseGolden(JSON.stringify(fx.golden));
    const rep = checkGolden(a, cases, 1e-5);
    expect(rep.failures).toEqual([]);
    expect(rep.ok).toBe(true);
    expect(rep.maxAbsError.float32).toBeLessThan(1e-5);
    expect(rep.maxAbsError.int8).toBeLessThan(1e-5);
    expect(rep.ticks).toBe(40 + 60 + 80);
  });

  it('reports a golden failure when the expected outputs are off', () => {
    const g = JSON.parse(JSON.stringify(fx.golden)) as typeof fx.golden;
    g.cases[1]!.expected.int8[7]![0]! += 1e-3;
    const rep = checkGolden(a, parseGolden(g).cases);
    expect(rep.ok).toBe(false);
    expect(rep.failures[0]).toMatchObject({ case: 'random-1', precision: 'int8', tick: 7, output: 'q' });
  });

  it('the packed kernel equals the textbook step, tick by tick over carried state', () => {
    const m = LstmModel.fromDense(a.int8!);
    const s = new LstmState();
    const h = new Float64Array(64);
    const c = new Float64Array(64);
    const y1 = new Float64Array(2);
    const y2 = new Float64Array(2);
    const xs = featuresOf(randomRows(3, 500));
    let maxErr = 0;
    for (let t = 0; t < 500; t++) {
      const x = xs.subarray(t * 4, t * 4 + 4);
      m.step(s, x, y1);
      referenceStep(a.int8!, h, c, x, y2);
      maxErr = Math.max(maxErr, Math.abs(y1[0]! - y2[0]!), Math.abs(y1[1]! - y2[1]!));
    }
    expect(maxErr).toBeLessThan(1e-9);
  });

  it('forward(sequence) equals the pipeline reference forward from a zero state', () => {
    const xs = featuresOf(randomRows(4, 300));
    const got = LstmModel.fromDense(a.float32).forward(xs);
    const want = referenceForward(fx.float, xs, 300);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
    expect(maxErr).toBeLessThan(1e-9);
  });

  it('loads an artifact folder from disk through the node loader', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raft-ns-rt-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    writeFixtureArtifact(dir, fx);
    const b = await loadArtifactFromDir(dir);
    expect(checkGolden(b, parseGolden(readFileSync(join(dir, 'golden.json'), 'utf8')).cases).ok).toBe(true);
    writeFileSync(join(dir, 'weights.bin'), fx.weights.subarray(0, 100));
    await expect(loadArtifactFromDir(dir)).rejects.toThrow(/weights\.bin: 100 bytes/);
  });
});

describe('runtime WebAssembly SIMD kernel', () => {
  const a = load();
  it('is available on Node 20', () => {
    expect(wasmStepAvailable()).toBe(true);
  });

  it('matches every golden vector within 1e-5 on the float and the int8 path', () => {
    const rep = checkGolden(a, parseGolden(fx.golden).cases, 1e-5, 'wasm');
    expect(rep.kernel).toBe('wasm');
    expect(rep.failures).toEqual([]);
    expect(rep.maxAbsError.int8).toBeLessThan(1e-5);
    expect(rep.maxAbsError.float32).toBeLessThan(1e-5);
  });

  it('agrees with the JS kernel within 1e-5 over 5,000 ticks of carried state, including clipped inputs', () => {
    const rows = randomRows(8, 5000);
    for (let t = 1000; t < 1100; t++) rows[t] = { ...rows[t]!, heartbeatLatencyMs: 5000, logReplicationGap: 1e6, rpcRetries: 50, cpuIdlePct: 0 };
    const xs = featuresOf(rows);
    const cases = [
      { params: a.float32, wasm: LstmModel.fromDense(a.float32, { kernel: 'wasm' }) },
      { params: a.int8!, wasm: LstmModel.fromDense(a.int8!, { kernel: 'wasm' }) },
      { params: a.int8!, wasm: LstmModel.fromDense(a.int8!, { kernel: 'wasm', quantized: a.int8Quantized! }) }, // int8 codes, late scales
    ];
    expect(cases[2]!.wasm.byteLength).toBe(65536); // one page: the int8 codes fit, the floats do not
    for (const { params, wasm } of cases) {
      const yj = LstmModel.fromDense(params, { kernel: 'js' }).forward(xs);
      const yw = wasm.forward(xs);
      let maxErr = 0;
      for (let i = 0; i < yj.length; i++) maxErr = Math.max(maxErr, Math.abs(yj[i]! - yw[i]!));
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  it('keeps node states independent when two nodes share one model', () => {
    const m = LstmModel.fromDense(a.int8!, { kernel: 'wasm' });
    const xa = featuresOf(randomRows(20, 50));
    const xb = featuresOf(randomRows(21, 50));
    const alone = m.forward(xa);
    const sa = new LstmState();
    const sb = new LstmState();
    const ya = new Float64Array(2);
    const yb = new Float64Array(2);
    for (let t = 0; t < 50; t++) {
      m.step(sa, xa.subarray(4 * t, 4 * t + 4), ya);
      m.step(sb, xb.subarray(4 * t, 4 * t + 4), yb);
      expect(ya[0]).toBe(alone[2 * t]);
      expect(ya[1]).toBe(alone[2 * t + 1]);
    }
  });
});
