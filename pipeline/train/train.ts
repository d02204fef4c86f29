/**
 * `train`: the training loop in plain view. One function, numbered phases:
 *   1 setup (engine, init or resume)  2 plan lanes  3 schedule  4 forward/backward (+ monotonicity penalty)
 *   5 clip  6 Adam step + q-head range projection
 *   7 log  8 validate  9 early stopping + checkpoint  10 test evaluation + baselines  11 write the run.
 * State is carried chunk to chunk along each stream (lanes.ts); the optimizer is plain-TS Adam over the
 * flat parameter vector (optim.ts), shared by every engine, so same windows + config + seed + engine/backend
 * → the same weights, byte for byte.
 *
 * Example:
 * ```ts
 * const result = await train({ splits, info }, { config: resolveTrainConfig({ epochs: 5 }, 'inline'), outDir: 'runs/r1' });
 * ```
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { jsonText, sha256Hex, writeFileAtomic } from '../util/fs.js';
import { makeProgress } from '../util/progress.js';
import { TOOL_VERSION } from '../version.js';
import type { WindowSplit } from '../window/types.js';
import type { TrainConfig } from './config.js';
import { PARAM_COUNT, UNITS, type LossConfig } from './engine.js';
import { makeEngine } from './engines.js';
import { assembleBatch, forwardSplit, planLanes, streamsOf } from './lanes.js';
import {
  constantOutputs,
  evaluatePredictions,
  fitConstantBaseline,
  jacobsonOutputs,
  lossOf,
  type PredictorMetrics,
} from './metrics.js';
import { Rng, adamStep, clipGradNorm, initParams, learningRate, makeAdamState, type AdamState } from './optim.js';
import { bytesFromF32, bytesFromF64, f32FromBytes, f64FromBytes } from './bytes.js';
import { projectQHead } from './constraints.js';
import { addMonotonePenalty, probeStates, type MonotoneConfig, type MonotoneSample } from './monotone.js';
import { FEATURE_NAMES } from '../../runtime/features.js';
import { compileRules } from '../../runtime/rules.js';
import { DEFAULT_RULES } from '../../runtime/default-rules.js';
import { normalizedDomain } from '../../runtime/domain.js';

/** Provenance and normalization of the windows, carried into the run and later the artifact. */
export interface WindowsInfo {
  dir: string | null;
  /** sha256 over the windows folder (see windowsFolderSha256). */
  sha256: string;
  /** sha256(s) of the dataset(s) the windows came from, as the windows manifest records them. */
  datasetSha256: string | null;
  tickMs: number | null;
  normalization: { transforms?: string[]; mean: number[]; std: number[]; clip: number } | null;
}

export interface TrainInput {
  splits: { train: WindowSplit; val: WindowSplit; test: WindowSplit };
  info: WindowsInfo;
}

export interface TrainOptions {
  config: TrainConfig;
  outDir: string;
  /** Continue from the newest checkpoint in outDir. */
  resume?: boolean;
  /** With `resume`: a new epoch budget (the rest of the config comes from the checkpoint). */
  epochs?: number | undefined;
  /** No progress bar / log lines. */
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface EpochMetrics {
  epoch: number;
  steps: number;
  windows: number;
  train_loss: number;
  train_loss_gap: number;
  train_loss_lost: number;
  val_loss: number;
  val_loss_gap: number;
  val_loss_lost: number;
  lr_last: number;
  grad_norm_mean: number;
  elapsed_s: number;
}

export interface TestReport {
  model: PredictorMetrics;
  constant: PredictorMetrics;
  jacobson_karels: PredictorMetrics;
  constant_fit: { q: number; logit: number };
}

export interface RunManifest {
  format: 'raft-ns-run';
  format_version: 1;
  tool_version: string;
  config: TrainConfig;
  config_sha256: string;
  seed: number;
  engine: string;
  backend: string;
  param_count: number;
  windows: WindowsInfo & { counts: Record<'train' | 'val' | 'test', number>; T: number };
  epochs_run: number;
  best_epoch: number;
  best_val_loss: number;
  stopped_early: boolean;
  weights_file: 'weights.bin';
  weights_sha256: string;
  history: EpochMetrics[];
  test: TestReport;
}

export interface TrainResult {
  params: Float32Array;
  manifest: RunManifest;
}

interface Checkpoint {
  format: 'raft-ns-checkpoint';
  epoch: number; // epochs completed
  global_step: number;
  adam_t: number;
  best_val_loss: number;
  best_epoch: number;
  epochs_since_best: number;
  rng_state: number;
  config: TrainConfig;
  engine: string;
  backend: string;
  windows_sha256: string;
  history: EpochMetrics[];
  tool_version: string;
  bin_sha256: string;
}

export const PARAM_COUNT_TEXT = PARAM_COUNT.toLocaleString('en-US');

export async function train(input: TrainInput, opts: TrainOptions): Promise<TrainResult> {
  // On a terminal, clear the progress bar's line before a log line so the two never share a line.
  const clear = process.stderr.isTTY ? '\r\x1b[2K' : '';
  const log = opts.quiet ? () => {} : (opts.log ?? ((l: string) => process.stderr.write(`${clear}${l}\n`)));
  const ckptDir = join(opts.outDir, 'checkpoints');

  // 1. Setup: config, engine, parameters (fresh or from the newest checkpoint).
  let cfg = opts.config;
  let ckpt: { meta: Checkpoint; params: Float32Array; best: Float32Array; adam: AdamState } | null = null;
  if (opts.resume) {
    ckpt = readLatestCheckpoint(ckptDir);
    if (!ckpt) throw new RaftNsError('train.resume', `train: ${ckptDir}: no checkpoint to resume from`);
    if (ckpt.meta.windows_sha256 !== input.info.sha256) {
      throw new RaftNsError('train.resume', `train: ${ckptDir}: checkpoint was trained on windows ${ckpt.meta.windows_sha256.slice(0, 12)}…, not these (${input.info.sha256.slice(0, 12)}…)`);
    }
    // A resumed run keeps its checkpoint's config; only the epoch budget may change (which also stretches
    // the cosine schedule from that point on).
    cfg = { ...ckpt.meta.config, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}) };
  } else if (existsSync(join(opts.outDir, 'run-manifest.json')) || checkpointFiles(ckptDir).length > 0) {
    throw new RaftNsError('train.exists', `train: ${opts.outDir} already holds a run; pass --resume to continue it or choose another --out`);
  }
  // Gap labels (config gap_labels): masked copies, the caller's splits stay as they are.
  const labelled = (sp: WindowSplit): WindowSplit => (cfg.gap_labels === 'alive-leader' ? maskGapWhereLost(sp) : sp);
  const trainSplit = labelled(input.splits.train);
  const valSplit = labelled(input.splits.val);
  const testSplit = labelled(input.splits.test);
  const T = trainSplit.T;
  if (trainSplit.count === 0) throw new RaftNsError('train.windows', 'train: the train split has no chunks');
  const lossCfg: LossConfig = { tau: cfg.tau, lambdaLost: cfg.lambda_lost };
  const constantFit = fitConstantBaseline(trainSplit, cfg.tau);
  const rng = new Rng(ckpt ? ckpt.meta.rng_state : cfg.seed);
  const params = ckpt ? ckpt.params : initParams(rng, constantFit.q);
  if (!ckpt && cfg.q_range_ms) projectQHead(params, cfg.q_range_ms); // a checkpoint holds projected weights already
  const mono = monotoneConfig(cfg, input.info);
  let probes: { h: Float64Array; c: Float64Array } | null = null;
  let probesEpoch = 0;
  let best = ckpt ? ckpt.best : params.slice();
  const adam = ckpt ? ckpt.adam : makeAdamState();
  let bestVal = ckpt ? ckpt.meta.best_val_loss : Number.POSITIVE_INFINITY;
  let bestEpoch = ckpt ? ckpt.meta.best_epoch : 0;
  let sinceBest = ckpt ? ckpt.meta.epochs_since_best : 0;
  let globalStep = ckpt ? ckpt.meta.global_step : 0;
  const history: EpochMetrics[] = ckpt ? ckpt.meta.history : [];
  const startEpoch = ckpt ? ckpt.meta.epoch : 0;
  let stoppedEarly = false;
  const trainStreams = streamsOf(trainSplit, cfg.segment_chunks);
  const fullSteps = planLanes(trainStreams, cfg.batch_size).steps;
  const stepsPerEpoch = cfg.max_steps_per_epoch > 0 ? Math.min(fullSteps, cfg.max_steps_per_epoch) : fullSteps;
  const totalSteps = stepsPerEpoch * cfg.epochs;
  // Made last, right before the try that disposes it: the fused engine owns worker threads.
  const engine = await makeEngine(cfg.engine, { backend: cfg.backend, threads: cfg.threads });
  mkdirSync(ckptDir, { recursive: true });
  log(`train: ${PARAM_COUNT_TEXT} parameters (LSTM ${UNITS} units, sigmoid gates), engine ${engine.name}, backend ${engine.backend}, seed ${cfg.seed}`);
  log(`train: ${trainSplit.count} train chunks of T=${T} in ${trainStreams.length} streams → ${Math.min(cfg.batch_size, trainStreams.length)} lanes, ${stepsPerEpoch} steps/epoch${startEpoch > 0 ? `, resuming after epoch ${startEpoch}` : ''}`);
  const progress = makeProgress({ label: 'train', total: totalSteps, unit: 'steps', quiet: opts.quiet ?? false });

  try {
    for (let epoch = startEpoch + 1; epoch <= cfg.epochs; epoch++) {
      // 2. Plan lanes: a seeded shuffle decides which streams share a step this epoch.
      const plan = planLanes(trainStreams, cfg.batch_size, rng);
      const steps = Math.min(plan.steps, stepsPerEpoch);
      const t0 = performance.now();
      let carry: { h: Float32Array; c: Float32Array } = { h: new Float32Array(plan.B * UNITS), c: new Float32Array(plan.B * UNITS) };
      let sumLoss = 0, sumGap = 0, sumLost = 0, sumNorm = 0, sumMono = 0, sumCell = 0, windows = 0, lr = 0;
      for (let s = 0; s < steps; s++) {
        // 3. Schedule: warmup then cosine, over the planned total.
        lr = learningRate(globalStep, { lr: cfg.lr, warmupSteps: cfg.warmup_steps, minLrRatio: cfg.min_lr_ratio, totalSteps });
        // 4. Forward/backward on this step's chunks; h0/c0 = last step's final state (values only).
        const batch = assembleBatch(trainSplit, plan, s, carry);
        const r = await engine.lossAndGrads(params, batch, lossCfg);
        carry = { h: r.hT, c: r.cT };
        if (!Number.isFinite(r.loss)) {
          throw new RaftNsError('train.diverged', `train: loss became ${r.loss} at epoch ${epoch} step ${s + 1}; lower lr (now ${cfg.lr}) or grad_clip`);
        }
        //    Monotonicity penalty (monotone.ts): one-step slopes at this batch's carried states and at probe
        //    states, added to the gradient. Its randomness is a function of (seed, step), so resume matches.
        if (mono) {
          const mrng = new Rng((Math.imul(cfg.seed + 1, 0x2c1b3c6d) ^ Math.imul(globalStep + 1, 0x297a2d39)) >>> 0);
          // Probe states are drawn once per epoch from the epoch's starting weights (a resumed run starts an
          // epoch too, so it draws the same ones).
          if (!probes || probesEpoch !== epoch) {
            probes = probeStates(params, mono, new Rng((Math.imul(cfg.seed + 1, 0x5bd1e995) ^ Math.imul(epoch, 0x1b873593)) >>> 0), mono.samples);
            probesEpoch = epoch;
          }
          const samples: MonotoneSample[] = [];
          for (let n = 0; n < mono.samples; n++) {
            const b = Math.floor(mrng.next() * plan.B);
            if (plan.chunk[s * plan.B + b]! < 0) continue;
            const x = mrng.next() < 0.5 ? batch.x.subarray(b * T * 4, b * T * 4 + 4) : null;
            samples.push({ h: batch.h0.subarray(b * UNITS, (b + 1) * UNITS), c: batch.c0.subarray(b * UNITS, (b + 1) * UNITS), x });
            samples.push({ h: probes.h.subarray(n * UNITS, (n + 1) * UNITS), c: probes.c.subarray(n * UNITS, (n + 1) * UNITS), x: null });
          }
          const pen = addMonotonePenalty(params, samples, mono, mrng, r.grads);
          sumMono += pen.penalty;
          sumCell += pen.cell;
        }
        // 5. Clip the global gradient norm.
        sumNorm += clipGradNorm(r.grads, cfg.grad_clip);
        // 6. Adam step over the flat parameters.
        adamStep(params, r.grads, adam, { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weight_decay });
        //    … then project the q head back into its range (constraints.ts: why verify can prove the bounds).
        if (cfg.q_range_ms) projectQHead(params, cfg.q_range_ms);
        globalStep++;
        // 7. Log.
        sumLoss += r.loss;
        sumGap += r.lossGap;
        sumLost += r.lossLost;
        for (let b = 0; b < plan.B; b++) if (plan.chunk[s * plan.B + b]! >= 0) windows++;
        progress.update(globalStep - startEpoch * stepsPerEpoch, `epoch ${epoch}/${cfg.epochs} loss ${(sumLoss / (s + 1)).toFixed(4)}`);
      }

      // 8. Validate: whole val streams with carried state (the runtime's view); train loss if no val split.
      const evalSplit = valSplit.count > 0 ? valSplit : trainSplit;
      const val = lossOf(await forwardSplit(engine, params, evalSplit, cfg.eval_batch_size), evalSplit, lossCfg);
      const n = Math.max(steps, 1);
      const m: EpochMetrics = {
        epoch,
        steps,
        windows,
        train_loss: sumLoss / n,
        train_loss_gap: sumGap / n,
        train_loss_lost: sumLost / n,
        val_loss: val.loss,
        val_loss_gap: val.lossGap,
        val_loss_lost: val.lossLost,
        lr_last: lr,
        grad_norm_mean: sumNorm / n,
        elapsed_s: (performance.now() - t0) / 1000,
      };
      history.push(m);
      writeMetrics(opts.outDir, history);

      // 9. Early stopping bookkeeping and the epoch's checkpoint.
      if (val.loss < bestVal) {
        bestVal = val.loss;
        bestEpoch = epoch;
        sinceBest = 0;
        best = params.slice();
      } else {
        sinceBest++;
      }
      writeCheckpoint(ckptDir, {
        format: 'raft-ns-checkpoint',
        epoch,
        global_step: globalStep,
        adam_t: adam.t,
        best_val_loss: bestVal,
        best_epoch: bestEpoch,
        epochs_since_best: sinceBest,
        rng_state: rng.state,
        config: cfg,
        engine: engine.name,
        backend: engine.backend,
        windows_sha256: input.info.sha256,
        history,
        tool_version: TOOL_VERSION,
        bin_sha256: '',
      }, params, best, adam);
      if (mono) log(`epoch ${epoch}: monotonicity penalty ${(sumMono / n).toExponential(2)}, cell-bound penalty ${(sumCell / n).toExponential(2)}`);
      log(`epoch ${epoch}: train ${m.train_loss.toFixed(4)} val ${m.val_loss.toFixed(4)} (gap ${m.val_loss_gap.toFixed(4)}, lost ${m.val_loss_lost.toFixed(4)}), ${(windows / m.elapsed_s).toFixed(0)} windows/s${sinceBest === 0 ? ' *' : ''}`);
      if (cfg.patience > 0 && sinceBest >= cfg.patience) {
        stoppedEarly = true;
        log(`train: early stop: no better validation loss for ${cfg.patience} epochs (best ${bestVal.toFixed(4)} at epoch ${bestEpoch})`);
        break;
      }
    }
    progress.done();

    // 10. Test evaluation of the best weights, next to the trivial baselines from the same windows.
    const testReport = await evaluateTest(engine, best, testSplit.count > 0 ? testSplit : valSplit, lossCfg, constantFit, cfg.eval_batch_size);
    log(formatTestReport(testReport, cfg.tau));

    // 11. Write the run: weights, manifest (config, seed, hashes, engine, backend, metrics).
    const weightsBytes = bytesFromF32(best);
    writeFileAtomic(join(opts.outDir, 'weights.bin'), weightsBytes);
    const manifest: RunManifest = {
      format: 'raft-ns-run',
      format_version: 1,
      tool_version: TOOL_VERSION,
      config: cfg,
      config_sha256: sha256Hex(jsonText(cfg)),
      seed: cfg.seed,
      engine: engine.name,
      backend: engine.backend,
      param_count: PARAM_COUNT,
      windows: { ...input.info, counts: { train: trainSplit.count, val: valSplit.count, test: testSplit.count }, T },
      epochs_run: history.length,
      best_epoch: bestEpoch,
      best_val_loss: bestVal,
      stopped_early: stoppedEarly,
      weights_file: 'weights.bin',
      weights_sha256: sha256Hex(weightsBytes),
      history,
      test: testReport,
    };
    const checked = validateAgainst('run-manifest', JSON.parse(JSON.stringify(manifest)));
    if (!checked.ok) throw new Error(`train: internal: run manifest fails its schema at ${checked.issues[0]!.path}: ${checked.issues[0]!.message}`);
    writeFileAtomic(join(opts.outDir, 'run-manifest.json'), jsonText(manifest));
    return { params: best, manifest };
  } finally {
    await engine.dispose();
  }
}

/**
 * The monotonicity penalty's setup from the config, or null when off. The domain box is the embedded default
 * rules' input domain in this run's normalization — the box verify's proofs and searches range over.
 */
function monotoneConfig(cfg: TrainConfig, info: WindowsInfo): MonotoneConfig | null {
  if (!(cfg.monotone_weight > 0 || cfg.cell_weight > 0) || !info.normalization) return null;
  const domain = normalizedDomain(compileRules(DEFAULT_RULES, 'embedded default rules'), info.normalization);
  return {
    weight: cfg.monotone_weight,
    features: cfg.monotone_features.map((f) => FEATURE_NAMES.indexOf(f)),
    margin: cfg.monotone_margin,
    delta: 0.05,
    domain,
    samples: cfg.monotone_samples,
    cellBound: cfg.cell_bound,
    cellWeight: cfg.cell_weight,
  };
}

/** The split with w_gap = 0 wherever the leader is known to be lost (lost = 1, w_lost > 0). */
export function maskGapWhereLost(split: WindowSplit): WindowSplit {
  const wGap = split.wGap.slice();
  for (let i = 0; i < wGap.length; i++) if (split.lost[i] === 1 && split.wLost[i]! > 0) wGap[i] = 0;
  return { ...split, wGap };
}

/** Model vs constant vs Jacobson/Karels on a split (whole streams, carried state). */
export async function evaluateTest(
  engine: Awaited<ReturnType<typeof makeEngine>>,
  params: Float32Array,
  split: WindowSplit,
  lossCfg: LossConfig,
  constantFit: { q: number; logit: number },
  lanes: number,
): Promise<TestReport> {
  const y = await forwardSplit(engine, params, split, lanes);
  return {
    model: evaluatePredictions(y, split, lossCfg),
    constant: evaluatePredictions(constantOutputs(split, constantFit), split, lossCfg),
    jacobson_karels: evaluatePredictions(jacobsonOutputs(split, constantFit), split, lossCfg),
    constant_fit: constantFit,
  };
}

export function formatTestReport(r: TestReport, tau: number): string {
  const row = (name: string, m: PredictorMetrics): string =>
    `  ${name.padEnd(16)} ${m.loss.toFixed(4).padStart(8)} ${m.lossGap.toFixed(4).padStart(8)} ${m.lossLost.toFixed(4).padStart(8)} ${(m.exceedRate * 100).toFixed(2).padStart(7)}% ${m.medianTimeoutMs.toFixed(1).padStart(9)} ${Number.isNaN(m.aucLost) ? '    n/a' : m.aucLost.toFixed(3).padStart(7)}`;
  return [
    `test (${r.model.scoredTicks} scored ticks, ${r.model.lostTicks} with a leader_lost label; target exceed rate ${((1 - tau) * 100).toFixed(2)}%):`,
    `  ${'predictor'.padEnd(16)} ${'loss'.padStart(8)} ${'pinball'.padStart(8)} ${'bce'.padStart(8)} ${'exceed'.padStart(8)} ${'median ms'.padStart(9)} ${'auc'.padStart(7)}`,
    row('model', r.model),
    row('constant', r.constant),
    row('jacobson-karels', r.jacobson_karels),
  ].join('\n');
}

function writeMetrics(outDir: string, history: EpochMetrics[]): void {
  writeFileAtomic(join(outDir, 'metrics.json'), jsonText(history));
  const cols = Object.keys(history[0]!) as Array<keyof EpochMetrics>;
  const lines = [cols.join(','), ...history.map((m) => cols.map((c) => String(m[c])).join(','))];
  writeFileAtomic(join(outDir, 'metrics.csv'), `${lines.join('\n')}\n`);
}

/** checkpoints/epoch-NNNN.bin: params f32 | best f32 | Adam m f64 | Adam v f64 (little-endian); .json: the rest. */
function writeCheckpoint(dir: string, meta: Checkpoint, params: Float32Array, best: Float32Array, adam: AdamState): void {
  const parts = [bytesFromF32(params), bytesFromF32(best), bytesFromF64(adam.m), bytesFromF64(adam.v)];
  const bin = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bin.set(p, off);
    off += p.length;
  }
  const stem = join(dir, `epoch-${String(meta.epoch).padStart(4, '0')}`);
  writeFileAtomic(`${stem}.bin`, bin);
  // The .json is written last: a checkpoint exists only once its metadata (with the .bin's hash) does.
  writeFileAtomic(`${stem}.json`, jsonText({ ...meta, bin_sha256: sha256Hex(bin) }));
}

function readLatestCheckpoint(dir: string): { meta: Checkpoint; params: Float32Array; best: Float32Array; adam: AdamState } | null {
  const metas = checkpointFiles(dir);
  const last = metas[metas.length - 1];
  if (!last) return null;
  const meta = JSON.parse(readFileSync(join(dir, last), 'utf8')) as Checkpoint;
  const binPath = join(dir, last.replace(/\.json$/, '.bin'));
  const bin = new Uint8Array(readFileSync(binPath));
  if (sha256Hex(bin) !== meta.bin_sha256) {
    throw new RaftNsError('train.resume', `train: ${binPath}: sha256 does not match ${last}; the checkpoint is damaged`);
  }
  const n = PARAM_COUNT;
  return {
    meta,
    params: f32FromBytes(bin.subarray(0, 4 * n)),
    best: f32FromBytes(bin.subarray(4 * n, 8 * n)),
    adam: { t: meta.adam_t, m: f64FromBytes(bin.subarray(8 * n, 16 * n)), v: f64FromBytes(bin.subarray(16 * n, 24 * n)) },
  };
}

/** The checkpoint metadata files of a run, oldest first (none if the folder does not exist). */
function checkpointFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /^epoch-\d{4}\.json$/.test(f)).sort();
}
