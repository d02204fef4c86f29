/** `raft-ns infer <artifact> [--trace <dataset dir|telemetry file>]`: parses options, calls `infer`, prints the report. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { jsonText, writeFileAtomic } from '../util/fs.js';
import { formatInferReport, infer } from './infer.js';

export function register(program: Command): void {
  program
    .command('infer')
    .description('inference smoke test: check the golden vectors, replay a trace through the runtime, print timeouts (min/median/p99/max), fallbacks and rule activations')
    .argument('<artifact>', 'artifact folder (manifest.json, weights.bin, golden.json)')
    .option('--trace <path>', 'dataset folder (output of ingest) or a telemetry file (CSV, NDJSON, Arrow, Parquet)')
    .option('--rules <file>', 'safety-rules file (default: the embedded default rules)')
    .option('--precision <p>', 'int8 | float32', 'int8')
    .option('--kernel <k>', 'auto | wasm | js (js = exactly the function verify proves; wasm = float32 SIMD, within 1e-5)', 'auto')
    .option('--heartbeat-interval-ms <ms>', 'leader heartbeat interval of the traced cluster', '100')
    .option('--public-key <pem>', "Ed25519 public key (PEM) the artifact's manifest.sig must verify under (publish --sign-key)")
    .option('--report <file>', 'also write the report as JSON')
    .action(async (artifact: string, o: { trace?: string; rules?: string; precision: string; kernel: string; heartbeatIntervalMs: string; publicKey?: string; report?: string }) => {
      if (o.precision !== 'int8' && o.precision !== 'float32') throw new RaftNsError('infer.option', `infer: --precision ${o.precision}: expected int8 or float32`);
      if (o.kernel !== 'auto' && o.kernel !== 'wasm' && o.kernel !== 'js') throw new RaftNsError('infer.option', `infer: --kernel ${o.kernel}: expected auto, wasm or js`);
      const hb = Number(o.heartbeatIntervalMs);
      if (!(hb > 0 && Number.isFinite(hb))) throw new RaftNsError('infer.option', `infer: --heartbeat-interval-ms ${o.heartbeatIntervalMs}: expected a positive number`);
      const report = await infer(artifact, {
        precision: o.precision,
        kernel: o.kernel,
        heartbeatIntervalMs: hb,
        ...(o.trace !== undefined ? { tracePath: o.trace } : {}),
        ...(o.rules !== undefined ? { rulesPath: o.rules } : {}),
        ...(o.publicKey !== undefined ? { publicKeyPem: readPublicKey(o.publicKey) } : {}),
      });
      process.stdout.write(formatInferReport(report));
      if (o.report !== undefined) writeFileAtomic(o.report, jsonText(report));
      if (!report.ok) throw new RaftNsError('infer.failed', `infer: ${artifact}: ${report.failures.join('; ')}`);
    });
}

function readPublicKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new RaftNsError('infer.option', `infer: --public-key ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}); expected an Ed25519 public key PEM`, { cause: err });
  }
}
