/** `raft-ns verify <artifact> [--rules file] [--windows dir] [--out dir] …`: argument parsing only (verify.ts). */
import type { Command } from 'commander';
import { registryOfVersionDir } from '../util/fs.js';
import { parseExisting, parseIntIn, parseNumberIn } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { reportText, verifyArtifact, writeVerification, type VerificationReport } from './verify.js';
import { reportSummary } from './summary.js';

interface VerifyCliOptions extends OutputFlags {
  rules?: string;
  windows?: string;
  out?: string;
  seed: number;
  splitBudget: number;
  searchBudget: number;
  searchTicks: number;
  requireProofs?: boolean;
  heartbeatIntervalMs: number;
  maxSpuriousRate?: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .description('check an artifact: integrity, golden vectors, int8 vs float, rules on data, sound interval bounds, evaluation thresholds; exits 1 on any failure')
    .argument('<artifact>', 'artifact folder (output of quantize)', parseExisting('dir'))
    .option('--rules <file>', 'safety rules (schemas/safety-rules.schema.json); default: the embedded default rules', parseExisting('file'))
    .option('--windows <dir>', 'windows folder whose held-out split checks c, d and f replay', parseExisting('dir'))
    .option('--out <dir>', 'where to write verification-report.json and verification-summary.md (default: the artifact folder, unless it is a published version: then the report is printed)')
    .option('--seed <n>', 'seed of the counterexample search and sampled inputs', parseIntIn(0), 1)
    .option('--split-budget <leaves>', 'input-box leaves per claim for interval bound propagation', parseIntIn(1), 512)
    .option('--search-budget <n>', 'input sequences per claim for the counterexample search', parseIntIn(0), 200)
    .option('--search-ticks <n>', 'ticks per searched sequence', parseIntIn(1), 48)
    .option('--require-proofs', 'fail check e when a rule is left unproved (default: only refuted rules fail)')
    .option('--heartbeat-interval-ms <ms>', 'heartbeat interval assumed by check d (not recorded in windows)', parseNumberIn(0, Infinity, { min: true }), 100)
    .option('--max-spurious-rate <fraction>', 'check d: largest acceptable fraction of live-leader gaps the served timeout cuts short (default: twice the artifact\'s 1 − τ)', parseNumberIn(0, 1));
  // --quiet here keeps the verdict line: a script that ignores the exit code still sees PASSED/FAILED.
  addOutputOptions(cmd, 'the verification report').action(async (artifact: string, o: VerifyCliOptions) => {
    const out = makeOutput(o);
    const report = await verifyArtifact(artifact, {
      ...(o.rules !== undefined ? { rulesPath: o.rules } : {}),
      ...(o.windows !== undefined ? { windowsDir: o.windows } : {}),
      prove: { seed: o.seed, splitBudget: o.splitBudget, searchBudget: o.searchBudget, searchTicks: o.searchTicks },
      requireProofs: o.requireProofs ?? false,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      ...(o.maxSpuriousRate === undefined ? {} : { maxSpuriousRate: o.maxSpuriousRate }),
    });
    // A published version is immutable: without --out its report goes to stdout (the summary to stderr).
    const printOnly = o.out === undefined && registryOfVersionDir(artifact) !== null;
    const verdict = `verify: ${report.passed ? 'PASSED' : 'FAILED'}${notRunNote(report)}`;
    const human = printOnly || out.json ? process.stderr : process.stdout;
    if (!out.quiet) human.write(reportSummary(report));
    if (printOnly) {
      human.write(`${verdict} — report not written: ${artifact} is a published version (immutable); pass --out <dir> to keep it\n`);
      process.stdout.write(reportText(report));
    } else {
      const { reportPath } = writeVerification(report, o.out ?? artifact);
      human.write(`${verdict} — report ${reportPath}\n`);
      out.result(report);
    }
    if (!report.passed) process.exitCode = 1;
  });
}

/** ", 2 checks not run (d-rules-on-data, f-evaluation)": a pass with checks not run is not a publishable pass. */
function notRunNote(report: VerificationReport): string {
  const ids = report.checks.filter((c) => c.status === 'not-run').map((c) => c.id);
  return ids.length ? ` with ${ids.length} check${ids.length > 1 ? 's' : ''} not run (${ids.join(', ')}; publish refuses them unless --allow-not-run)` : '';
}
