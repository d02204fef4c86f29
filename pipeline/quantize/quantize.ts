/**
 * `quantize`: a training run → an artifact folder (docs/CONTRACTS.md §6), written atomically:
 *   manifest.json (schemas/artifact-manifest.schema.json), weights.bin (float32 + int8 per output channel),
 *   golden.json (reference outputs of both paths), ARTIFACT.md (the format), model/ (tfjs LayersModel).
 * The int8-vs-float error is measured on the whole test streams with carried state, by the plain-TS
 * reference forward (reference.ts), and recorded in the manifest.
 *
 * Example:
 * ```ts
 * const { manifest } = await quantize('runs/r1', { outDir: 'artifacts/tmp/0.1.0', createdAt: new Date().toISOString() });
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, sha256Hex, writeDirAtomic, writeFileAtomic } from '../util/fs.js';
import { PACKAGE_ROOT, TOOL_VERSION } from '../version.js';
import type { WindowSplit } from '../window/types.js';
import { f32FromBytes } from '../train/bytes.js';
import { FEATURES, PARAM_COUNT } from '../train/engine.js';
import { streamsOf } from '../train/lanes.js';
import type { RunManifest } from '../train/train.js';
import { loadTrainInput } from '../train/command.js';
import { packWeights, type PackedWeights, type TensorEntry } from './artifact.js';
import { inputSecondMoment } from './gptq.js';

/** Calibration ticks for gptq rounding: enough for a stable 68×68 second moment, ~3 s. */
const CALIBRATION_TICKS = 150_000;
import { buildGolden, edgeCaseRows, rowsFromSplit } from './golden.js';
import { referenceStep, weightsFromFlat, zeroState } from './reference.js';
import { FEATURE_NAMES, FEATURE_TRANSFORMS } from '../../runtime/features.js';

export interface QuantizeOptions {
  outDir: string;
  /** Model name (default `raft-ns-timeout`) and semver version (default `0.1.0`). */
  name?: string;
  version?: string;
  /** ISO time recorded as created_at (the shell passes the clock; tests pass a constant). */
  createdAt: string;
  /** Replace an existing outDir. */
  force?: boolean;
  /** The test split to measure error on and draw golden inputs from; default: read from the run's windows folder. */
  test?: WindowSplit;
  /**
   * Calibration split for gptq rounding (gptq.ts); default: the run's train split when the windows are read
   * from disk. With `test` given and no calibration, codes are rounded to nearest.
   */
  calibration?: { split: WindowSplit; name: 'train' | 'val' | 'test' };
  /** The windows folder to read the test split from when the run's recorded one has moved (same sha256 required). */
  windowsDir?: string;
  /**
   * The leaders' heartbeat interval in the training traces (ms), recorded as manifest heartbeat_interval_ms;
   * null or absent = unknown (the telemetry does not carry it).
   */
  heartbeatIntervalMs?: number | null;
  /** Golden vectors: how many test streams and ticks per stream (defaults 24 × 64), plus 4 edge cases. */
  goldenStreams?: number;
  goldenTicks?: number;
}

export interface ErrorStats {
  max: number;
  p99: number;
  mean: number;
}

export interface QuantizationError {
  split: 'test';
  streams: number;
  ticks: number;
  method: string;
  timeout_ms: ErrorStats;
  p_leader_lost: ErrorStats;
  log_gap_quantile: ErrorStats;
}

export interface ArtifactManifest {
  format: 'raft-ns-artifact';
  format_version: 1;
  name: string;
  version: string;
  tool_version: string;
  created_at: string;
  architecture: {
    kind: 'lstm';
    units: 64;
    features: 4;
    feature_names: string[];
    gate_order: 'ifgo';
    recurrent_activation: 'sigmoid';
    activation: 'tanh';
    state: 'carried';
    outputs: [{ name: 'log_gap_quantile'; tau: number }, { name: 'leader_lost_logit' }];
    parameter_count: number;
  };
  tick_ms: number | null;
  heartbeat_interval_ms: number | null;
  normalization: { transforms: string[]; mean: number[]; std: number[]; clip: number };
  quantization: { scheme: 'int8-symmetric-per-output-channel'; zero_point: 0; rounding?: 'gptq' | 'nearest'; calibration?: { split: 'train' | 'val' | 'test'; ticks: number } };
  tensors: TensorEntry[];
  weights_sha256: string;
  weights_byte_length: number;
  inputs: { dataset_sha256: string | null; windows_sha256: string; config_sha256: string; run_weights_sha256: string };
  seed: number;
  training: {
    engine: string;
    backend: string;
    epochs: number;
    best_epoch: number;
    config: RunManifest['config'];
    metrics: { best_val_loss: number; test: RunManifest['test'] };
  };
  quantization_error: QuantizationError;
  files: Record<string, string>;
}

/** Reads a run folder and writes its artifact. */
export async function quantize(runDir: string, opts: QuantizeOptions): Promise<{ manifest: ArtifactManifest }> {
  const mPath = join(runDir, 'run-manifest.json');
  if (!existsSync(mPath)) throw new RaftNsError('quantize.run', `quantize: ${mPath}: not found; expected a finished \`raft-ns train\` run`);
  const run = readRunManifest(mPath);
  const wPath = join(runDir, run.weights_file ?? 'weights.bin');
  const bytes = new Uint8Array(readFileSync(wPath));
  if (sha256Hex(bytes) !== run.weights_sha256 || bytes.length !== PARAM_COUNT * 4) {
    throw new RaftNsError('quantize.run', `quantize: ${wPath}: sha256/size do not match ${mPath} (expected ${PARAM_COUNT * 4} bytes, sha256 ${run.weights_sha256})`);
  }
  let test = opts.test;
  let calibration = opts.calibration;
  if (!test) {
    const dir = opts.windowsDir ?? run.windows.dir;
    if (!dir) throw new RaftNsError('quantize.windows', `quantize: ${mPath}: the run records no windows folder; pass --windows <dir>`);
    const input = loadTrainInput(dir);
    if (input.info.sha256 !== run.windows.sha256) {
      throw new RaftNsError('quantize.windows', `quantize: ${dir}: not the windows this run was trained on (sha256 ${input.info.sha256.slice(0, 12)}…, run recorded ${run.windows.sha256.slice(0, 12)}…)`);
    }
    test = input.splits.test.count > 0 ? input.splits.test : input.splits.val;
    calibration ??= input.splits.train.count > 0 ? { split: input.splits.train, name: 'train' } : undefined;
  }
  return quantizeRun(run, f32FromBytes(bytes), test, { ...opts, ...(calibration ? { calibration } : {}) });
}

/** Reads and validates run-manifest.json (schemas/run-manifest.schema.json, config against train-config). */
export function readRunManifest(path: string): RunManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new RaftNsError('quantize.run', `quantize: ${path}: cannot read a JSON run manifest (${(err as Error).message})`, { cause: err });
  }
  for (const [schema, value, at] of [['run-manifest', parsed, ''], ['train-config', (parsed as { config?: unknown })?.config, '/config']] as const) {
    const v = validateAgainst(schema, value);
    if (!v.ok) {
      throw new RaftNsError('quantize.run', `quantize: ${path} at ${at + v.issues[0]!.path === '/' ? '/' : (at + v.issues[0]!.path).replace(/\/$/, '')}: ${v.issues[0]!.message} (expected a run manifest of \`raft-ns train\`)`);
    }
  }
  return parsed as RunManifest;
}

/** The core: run manifest + float params + test split → artifact folder. */
export async function quantizeRun(run: RunManifest, params: Float32Array, test: WindowSplit, opts: QuantizeOptions): Promise<{ manifest: ArtifactManifest }> {
  const norm = run.windows.normalization;
  if (!norm) throw new RaftNsError('quantize.run', 'quantize: run-manifest.json: windows.normalization is missing; the artifact needs it');
  // gptq rounding calibrated on the train split (never the held-out one verify measures on).
  const calib = opts.calibration ? inputSecondMoment(weightsFromFlat(params), opts.calibration.split, CALIBRATION_TICKS) : null;
  const packed = packWeights(params, calib ? calib.H : null);
  const qError = quantizationError(packed, test);
  const golden = buildGolden(packed, norm, [
    ...rowsFromSplit(test, norm, opts.goldenStreams ?? 24, opts.goldenTicks ?? 64),
    ...edgeCaseRows(),
  ]);
  const goldenText = jsonText(golden);
  const artifactDoc = readFileSync(join(PACKAGE_ROOT, 'docs', 'ARTIFACT.md'), 'utf8');

  const manifest = await writeDirAtomic('quantize', opts.outDir, opts.force ?? false, async (tmp) => {
    writeFileAtomic(join(tmp, 'weights.bin'), packed.bytes);
    writeFileAtomic(join(tmp, 'golden.json'), goldenText);
    writeFileAtomic(join(tmp, 'ARTIFACT.md'), artifactDoc);
    // Lazy: TensorFlow.js loads only here, not for every CLI command that imports this module.
    const { exportLayersModel } = await import('./tfjs-export.js');
    await exportLayersModel(params, join(tmp, 'model'));
    const files: Record<string, string> = {
      'golden.json': sha256Hex(goldenText),
      'ARTIFACT.md': sha256Hex(artifactDoc),
      'model/model.json': sha256Hex(readFileSync(join(tmp, 'model', 'model.json'))),
      'model/weights.bin': sha256Hex(readFileSync(join(tmp, 'model', 'weights.bin'))),
    };
    const m: ArtifactManifest = {
      format: 'raft-ns-artifact',
      format_version: 1,
      name: opts.name ?? 'raft-ns-timeout',
      version: opts.version ?? '0.1.0',
      tool_version: TOOL_VERSION,
      created_at: opts.createdAt,
      architecture: {
        kind: 'lstm',
        units: 64,
        features: 4,
        feature_names: [...FEATURE_NAMES],
        gate_order: 'ifgo',
        recurrent_activation: 'sigmoid',
        activation: 'tanh',
        state: 'carried',
        outputs: [{ name: 'log_gap_quantile', tau: run.config.tau }, { name: 'leader_lost_logit' }],
        parameter_count: PARAM_COUNT,
      },
      tick_ms: run.windows.tickMs,
      heartbeat_interval_ms: opts.heartbeatIntervalMs ?? null,
      normalization: { transforms: norm.transforms ?? [...FEATURE_TRANSFORMS], mean: norm.mean, std: norm.std, clip: norm.clip },
      quantization: {
        scheme: 'int8-symmetric-per-output-channel', zero_point: 0, rounding: calib ? 'gptq' : 'nearest',
        ...(calib && opts.calibration ? { calibration: { split: opts.calibration.name, ticks: calib.ticks } } : {}),
      },
      tensors: packed.tensors,
      weights_sha256: sha256Hex(packed.bytes),
      weights_byte_length: packed.bytes.length,
      inputs: {
        dataset_sha256: run.windows.datasetSha256,
        windows_sha256: run.windows.sha256,
        config_sha256: run.config_sha256,
        run_weights_sha256: run.weights_sha256,
      },
      seed: run.seed,
      training: {
        engine: run.engine,
        backend: run.backend,
        epochs: run.epochs_run,
        best_epoch: run.best_epoch,
        config: run.config,
        metrics: { best_val_loss: run.best_val_loss, test: run.test },
      },
      quantization_error: qError,
      files,
    };
    const v = validateAgainst('artifact-manifest', JSON.parse(JSON.stringify(m)));
    if (!v.ok) throw new Error(`quantize: internal: manifest fails its schema at ${v.issues[0]!.path}: ${v.issues[0]!.message}`);
    writeFileAtomic(join(tmp, 'manifest.json'), jsonText(m));
    return m;
  });
  return { manifest };
}

/**
 * Float vs int8 on every real tick of every test stream, each stream from h = c = 0 with state carried
 * across its chunks (the runtime's view). Padding ticks at a stream's end are skipped.
 */
export function quantizationError(packed: Pick<PackedWeights, 'float' | 'int8'>, split: WindowSplit): QuantizationError {
  const dT: number[] = [];
  const dP: number[] = [];
  const dQ: number[] = [];
  const streams = streamsOf(split);
  const sig = (z: number): number => 1 / (1 + Math.exp(-z));
  for (const chunks of streams) {
    const sf = zeroState();
    const si = zeroState();
    for (const k of chunks) {
      for (let t = 0; t < split.T; t++) {
        const i = k * split.T + t;
        const x = split.x.subarray(i * FEATURES, (i + 1) * FEATURES);
        if (x.every((v) => v === 0) && split.wGap[i] === 0 && split.wLost[i] === 0 && Number.isNaN(split.jkLn[i]!)) continue; // padding
        const yf = referenceStep(packed.float, sf, x);
        const yi = referenceStep(packed.int8, si, x);
        dT.push(Math.abs(Math.exp(yf[0]) - Math.exp(yi[0])));
        dP.push(Math.abs(sig(yf[1]) - sig(yi[1])));
        dQ.push(Math.abs(yf[0] - yi[0]));
      }
    }
  }
  return {
    split: 'test',
    streams: streams.length,
    ticks: dT.length,
    method: 'plain-TS reference forward in float64 over float32 weights (float path) and fround(q·scale) weights (int8 path); whole streams from zero state, state carried',
    timeout_ms: stats(dT),
    p_leader_lost: stats(dP),
    log_gap_quantile: stats(dQ),
  };
}

function stats(a: number[]): ErrorStats {
  if (a.length === 0) return { max: 0, p99: 0, mean: 0 };
  const s = Float64Array.from(a).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { max: s[s.length - 1]!, p99: s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]!, mean: sum / s.length };
}
