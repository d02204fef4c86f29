/** `raft-ns infer <artifact> [--trace <dataset dir|telemetry file>]`: parses options, calls `infer`, prints the report. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { jsonText, writeFileAtomic } from '../util/fs.js';
import { parseExisting, parseNumberIn, parseOneOf } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { formatInferReport, infer } from './infer.js';

export function register(program: Command): void {
  const cmd = program
    .command('infer')
    .description('inference smoke test: check the golden vectors, replay a trace through the runtime, print timeouts (min/median/p99/max), fallbacks and rule activations')
    .argument('<artifact>', 'artifact folder (manifest.json, weights.bin, golden.json)', parseExisting('dir'))
    .option('--trace <path>', 'dataset folder (output of ingest) or a telemetry file (CSV, NDJSON, Arrow, Parquet)', parseExisting('any'))
    .option('--rules <file>', 'safety-rules file (default: the embedded default rules)', parseExisting('file'))
    .option('--precision <p>', 'int8 | float32', parseOneOf('int8', 'float32'), 'int8' as const)
    .option('--kernel <k>', 'auto | wasm | js (js = exactly the function verify proves; wasm = float32 SIMD, within 1e-5)', parseOneOf('auto', 'wasm', 'js'), 'auto' as const)
    .option('--heartbeat-interval-ms <ms>', 'leader heartbeat interval of the traced cluster', parseNumberIn(0, Infinity, { min: true }), 100)
    .option('--public-key <pem>', "Ed25519 public key (PEM) the artifact's manifest.sig must verify under (publish --sign-key)", parseExisting('file'))
    .option('--report <file>', 'also write the report as JSON');
  addOutputOptions(cmd, 'the infer report').action(async (artifact: string, o: OutputFlags & { trace?: string; rules?: string; precision: 'int8' | 'float32'; kernel: 'auto' | 'wasm' | 'js'; heartbeatIntervalMs: number; publicKey?: string; report?: string }) => {
    const out = makeOutput(o);
    const report = await infer(artifact, {
      precision: o.precision,
      kernel: o.kernel,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      ...(o.trace !== undefined ? { tracePath: o.trace } : {}),
      ...(o.rules !== undefined ? { rulesPath: o.rules } : {}),
      ...(o.publicKey !== undefined ? { publicKeyPem: readPublicKey(o.publicKey) } : {}),
    });
    out.info(formatInferReport(report));
    if (o.report !== undefined) writeFileAtomic(o.report, jsonText(report));
    out.result(report);
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
