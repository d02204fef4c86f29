/** `raft-ns verify <artifact> [--rules file] [--windows dir] [--out dir] …`: argument parsing only (verify.ts). */
import type { Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { registryOfVersionDir } from '../util/fs.js';
import { reportText, verifyArtifact, writeVerification, type VerificationReport } from './verify.js';
import { reportSummary } from './summary.js';

interface VerifyCliOptions {
  rules?: string;
  windows?: string;
  out?: string;
  seed: string;
  splitBudget: string;
  searchBudget: string;
  searchTicks: string;
  requireProofs?: boolean;
  heartbeatIntervalMs: string;
  maxSpuriousRate?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('check an artifact: integrity, golden vectors, int8 vs float, rules on data, sound interval bounds, evaluation thresholds; exits 1 on any failure')
    .argument('<artifact>', 'artifact folder (output of quantize)')
    .option('--rules <file>', 'safety rules (schemas/safety-rules.schema.json); default: the embedded default rules')
    .option('--windows <dir>', 'windows folder whose held-out split checks c, d and f replay')
    .option('--out <dir>', 'where to write verification-report.json and verification-summary.md (default: the artifact folder, unless it is a published version: then the report is printed)')
    .option('--seed <n>', 'seed of the counterexample search and sampled inputs', '1')
    .option('--split-budget <leaves>', 'input-box leaves per claim for interval bound propagation', '512')
    .option('--search-budget <n>', 'input sequences per claim for the counterexample search', '200')
    .option('--search-ticks <n>', 'ticks per searched sequence', '48')
    .option('--require-proofs', 'fail check e when a rule is left unproved (default: only refuted rules fail)')
    .option('--heartbeat-interval-ms <ms>', 'heartbeat interval assumed by check d (not recorded in windows)', '100')
    .option('--max-spurious-rate <fraction>', 'check d: largest acceptable fraction of live-leader gaps the served timeout cuts short (default: twice the artifact\'s 1 − τ)')
    .option('--quiet', 'print only the verdict line')
    .action(async (artifact: string, o: VerifyCliOptions) => {
      const report = await verifyArtifact(artifact, {
        ...(o.rules !== undefined ? { rulesPath: o.rules } : {}),
        ...(o.windows !== undefined ? { windowsDir: o.windows } : {}),
        prove: {
          seed: intOption('--seed', o.seed, 0),
          splitBudget: intOption('--split-budget', o.splitBudget, 1),
          searchBudget: intOption('--search-budget', o.searchBudget, 0),
          searchTicks: intOption('--search-ticks', o.searchTicks, 1),
        },
        requireProofs: o.requireProofs ?? false,
        heartbeatIntervalMs: numOption('--heartbeat-interval-ms', o.heartbeatIntervalMs, 0, Infinity, true),
        ...(o.maxSpuriousRate === undefined ? {} : { maxSpuriousRate: numOption('--max-spurious-rate', o.maxSpuriousRate, 0, 1, false) }),
      });
      // A published version is immutable: without --out its report goes to stdout (the summary to stderr).
      const printOnly = o.out === undefined && registryOfVersionDir(artifact) !== null;
      const verdict = `verify: ${report.passed ? 'PASSED' : 'FAILED'}${notRunNote(report)}`;
      if (printOnly) {
        if (!o.quiet) process.stderr.write(reportSummary(report));
        process.stderr.write(`${verdict} — report not written: ${artifact} is a published version (immutable); pass --out <dir> to keep it\n`);
        process.stdout.write(reportText(report));
      } else {
        const { reportPath } = writeVerification(report, o.out ?? artifact);
        if (!o.quiet) process.stdout.write(reportSummary(report));
        process.stdout.write(`${verdict} — report ${reportPath}\n`);
      }
      if (!report.passed) process.exitCode = 1;
    });
}

/** ", 2 checks not run (d-rules-on-data, f-evaluation)": a pass with checks not run is not a publishable pass. */
function notRunNote(report: VerificationReport): string {
  const ids = report.checks.filter((c) => c.status === 'not-run').map((c) => c.id);
  return ids.length ? ` with ${ids.length} check${ids.length > 1 ? 's' : ''} not run (${ids.join(', ')}; publish refuses them unless --allow-not-run)` : '';
}

function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new RaftNsError('verify.option', `verify: ${name} ${JSON.stringify(v)}: expected an integer ≥ ${min}`);
  return n;
}

function numOption(name: string, v: string, min: number, max: number, exclusiveMin: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || (exclusiveMin ? n <= min : n < min) || n > max) {
    throw new RaftNsError('verify.option', `verify: ${name} ${JSON.stringify(v)}: expected a number in ${exclusiveMin ? '(' : '['}${min}, ${max}]`);
  }
  return n;
}
