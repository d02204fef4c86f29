/**
 * `npm run bench -- quantize [run dir]`: int8 rounding, GPTQ-style (pipeline/quantize/gptq.ts, the default)
 * against round-to-nearest (the baseline), on the same trained weights. Prints, per method, the time to
 * choose the codes and |int8 − float| of the quantile and the leader-lost logit on the scored ticks of the
 * run's held-out split (the measurement `verify` check c gates on), plus the held-out loss increase.
 * Default run: the newest train stage of the main job (`npm start` first).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LstmModel } from '../runtime/engine.js';
import { packWeights } from '../pipeline/quantize/artifact.js';
import { inputSecondMoment } from '../pipeline/quantize/gptq.js';
import { weightsFromFlat } from '../pipeline/quantize/reference.js';
import { readRunManifest } from '../pipeline/quantize/quantize.js';
import { loadTrainInput } from '../pipeline/train/command.js';
import { f32FromBytes } from '../pipeline/train/bytes.js';
import { evaluatePredictions } from '../pipeline/train/metrics.js';
import { forwardSplit } from '../pipeline/verify/data-checks.js';

function newestTrainRun(): string | null {
  const cache = '.cache/run';
  if (!existsSync(cache)) return null;
  const dirs = readdirSync(cache).filter((d) => d.startsWith('train-')).map((d) => join(cache, d, 'out')).filter((d) => existsSync(join(d, 'run-manifest.json')));
  dirs.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return dirs[0] ?? null;
}

export async function run(args: string[]): Promise<void> {
  const runDir = args[0] ?? newestTrainRun();
  if (!runDir) {
    process.stderr.write('bench quantize: no run given and no main-job train stage in .cache/run; run `npm start` first or pass a run folder\n');
    process.exitCode = 2;
    return;
  }
  const manifest = readRunManifest(join(runDir, 'run-manifest.json'));
  const params = f32FromBytes(new Uint8Array(readFileSync(join(runDir, 'weights.bin'))));
  const input = loadTrainInput(manifest.windows.dir!);
  const test = input.splits.test.count > 0 ? input.splits.test : input.splits.val;
  const cfg = { tau: manifest.config.tau, lambdaLost: manifest.config.lambda_lost };
  const yf = forwardSplit(LstmModel.fromDense(weightsFromFlat(params)), test);
  const lossFloat = evaluatePredictions(yf, test, cfg).loss;
  process.stdout.write(`bench quantize: ${runDir}, ${test.count * test.T} ${test.name} ticks; float held-out loss ${lossFloat.toFixed(5)}\n`);

  const rows: Array<{ name: string; ms: number; p99: number; p999: number; max: number; l99: number; dLoss: number }> = [];
  for (const name of ['nearest (baseline)', 'gptq'] as const) {
    const t0 = performance.now();
    const calib = name === 'gptq' ? inputSecondMoment(weightsFromFlat(params), input.splits.train, 150_000).H : null;
    const packed = packWeights(params, calib);
    const ms = performance.now() - t0;
    const yq = forwardSplit(LstmModel.fromDense(packed.int8), test);
    const dq: number[] = [];
    const dl: number[] = [];
    for (let i = 0; i < test.count * test.T; i++) {
      if (!(test.wGap[i]! > 0 || test.wLost[i]! > 0)) continue;
      dq.push(Math.abs(yq[2 * i]! - yf[2 * i]!));
      dl.push(Math.abs(yq[2 * i + 1]! - yf[2 * i + 1]!));
    }
    const q = (v: number[], f: number): number => Float64Array.from(v).sort()[Math.min(v.length - 1, Math.floor(f * v.length))]!;
    const lossInt8 = evaluatePredictions(yq, test, cfg).loss;
    rows.push({ name, ms, p99: q(dq, 0.99), p999: q(dq, 0.999), max: q(dq, 1), l99: q(dl, 0.99), dLoss: (lossInt8 - lossFloat) / lossFloat });
  }
  process.stdout.write(`${'rounding'.padEnd(20)} ${'time ms'.padStart(9)} ${'p99 |Δq|'.padStart(10)} ${'p99.9'.padStart(8)} ${'max'.padStart(8)} ${'p99 |Δℓ|'.padStart(10)} ${'Δloss'.padStart(9)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.name.padEnd(20)} ${r.ms.toFixed(0).padStart(9)} ${r.p99.toFixed(4).padStart(10)} ${r.p999.toFixed(4).padStart(8)} ${r.max.toFixed(4).padStart(8)} ${r.l99.toFixed(4).padStart(10)} ${(r.dLoss * 100).toFixed(3).padStart(8)}%\n`);
  }
  const [b, g] = rows as [typeof rows[0], typeof rows[0]];
  process.stdout.write(`ratio nearest/gptq: p99 |Δq| ${(b.p99 / g.p99).toFixed(2)}×, p99.9 ${(b.p999 / g.p999).toFixed(2)}×, max ${(b.max / g.max).toFixed(2)}×, p99 |Δℓ| ${(b.l99 / g.l99).toFixed(2)}×; time ${(g.ms / b.ms).toFixed(1)}× (calibration included)\n`);
}
