/**
 * `raft-ns quantize`: parses options, calls `quantize`, prints the error report. No logic beyond that.
 */
import type { Command } from 'commander';
import { parseExisting, parsePositive, parseSemver } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { quantize } from './quantize.js';

export function register(program: Command): void {
  const cmd = program
    .command('quantize')
    .description('quantize a training run to int8 (symmetric, per output channel) into an artifact folder (manifest, weights, golden vectors, ARTIFACT.md, tfjs model)')
    .requiredOption('--run <dir>', 'run folder (output of `raft-ns train`)', parseExisting('dir'))
    .requiredOption('--out <dir>', 'artifact folder to create')
    .option('--name <name>', 'model name', 'raft-ns-timeout')
    .option('--model-version <semver>', 'model version (semver); named so because --version prints the tool version', parseSemver, '0.1.0')
    .option('--windows <dir>', "the run's windows folder, if it moved since training (default: the one the run recorded)", parseExisting('dir'))
    .option('--heartbeat-interval-ms <ms>', "the leaders' heartbeat interval in the training traces, recorded in the manifest (default: unknown, null)", parsePositive)
    .option('--force', 'replace an existing --out folder');
  addOutputOptions(cmd, 'the artifact manifest').action(async (o: OutputFlags & { run: string; out: string; name: string; modelVersion: string; windows?: string; heartbeatIntervalMs?: number; force?: boolean }) => {
    const out = makeOutput(o);
    const { manifest } = await quantize(o.run, {
      outDir: o.out, name: o.name, version: o.modelVersion, force: o.force ?? false, ...(o.windows ? { windowsDir: o.windows } : {}),
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? null, createdAt: new Date().toISOString(),
    });
    const e = manifest.quantization_error;
    out.info(
      `quantize: int8 vs float on ${e.ticks} test ticks (${e.streams} streams): |Δ timeout| max ${e.timeout_ms.max.toFixed(3)} ms, p99 ${e.timeout_ms.p99.toFixed(3)} ms; ` +
        `|Δ P(leader_lost)| max ${e.p_leader_lost.max.toExponential(2)}, p99 ${e.p_leader_lost.p99.toExponential(2)}\n` +
        `quantize: wrote ${o.out} (${manifest.name}@${manifest.version}, weights ${manifest.weights_byte_length} bytes, sha256 ${manifest.weights_sha256.slice(0, 16)}…)\n`,
    );
    out.result(manifest);
  });
}
