/**
 * The raft-ns program: the command tree (each stage's `command.ts` registers its subcommands here) and
 * `main`, which maps failures to one line and an exit code. pipeline/cli.ts runs it; tests read the tree.
 */
import { Command, CommanderError } from 'commander';
import { RaftNsError } from './util/errors.js';
import { TOOL_VERSION } from './version.js';
import { register as registerRun } from './run/command.js';
import { register as registerIngest } from './ingest/command.js';
import { register as registerDataset } from './dataset/command.js';
import { register as registerPublish } from './publish/command.js';
import { register as registerWindow } from './window/command.js';
import { register as registerTrain } from './train/command.js';
import { register as registerQuantize } from './quantize/command.js';
import { register as registerVerify } from './verify/command.js';
import { register as registerInfer } from './infer/command.js';
import { register as registerSimulate } from './simulate/command.js';
import { register as registerEvaluate } from './evaluate/command.js';
import { register as registerDemo } from './demo/command.js';
import { register as registerConformance } from './conformance/command.js';
// Stage commands, one entry per stage; `--help` lists them in this order: `run` (the whole main job) first,
// then the flow of docs/CONTRACTS.md (simulated traces → ingest → dataset → window → train → quantize → verify
// → publish → infer), then what judges and shows a model (evaluate, conformance, demo).
const stages: Array<(program: Command) => void> = [
  registerRun,
  registerSimulate,
  registerIngest,
  registerDataset,
  registerWindow,
  registerTrain,
  registerQuantize,
  registerVerify,
  registerPublish,
  registerInfer,
  registerEvaluate,
  registerConformance,
  registerDemo,
];

export function makeProgram(): Command {
  const program = new Command('raft-ns')
    .description('Learn Raft election timeouts from telemetry: ingest, window, train, quantize, verify, publish, infer.')
    .version(TOOL_VERSION)
    // Set before the subcommands exist so that each inherits them: commander's own error text is dropped
    // here and main() prints the one-line form instead.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    // A parent's options (simulate's --json) end at its subcommand's name, so `simulate election-time
    // --json` reaches election-time; every command defines the output options it honours.
    .enablePositionalOptions();
  for (const register of stages) register(program);
  return program;
}

/** Exit codes (scripts branch on these): 1 a check or input failed, 2 a usage error, 70 a bug (EX_SOFTWARE). */
export const EXIT = { failed: 1, usage: 2, internal: 70 } as const;

/** The subcommand path the user typed (`dataset inspect`), found by walking the command tree along argv. */
export function commandPath(program: Command, args: readonly string[]): string {
  const names: string[] = [];
  let cmd: Command = program;
  for (const a of args) {
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}

/**
 * The one line for a failure: prefixed with the command the user ran; the stage's own area stays when it
 * differs (`raft-ns train: window: …`), so the user sees both what they ran and which stage refused.
 */
export function errorLine(path: string, message: string): string {
  const head = path === '' ? 'raft-ns' : `raft-ns ${path}`;
  const first = message.split('\n')[0]!.replace(/^error: /, '');
  return first.startsWith(`${path}:`) && path !== '' ? `raft-ns ${first}` : `${head}: ${first}`;
}

/** Parses `argv` (process.argv form) and runs the command; sets process.exitCode, never throws. */
export async function main(argv: string[]): Promise<void> {
  const program = makeProgram();
  const path = commandPath(program, argv.slice(2));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return; // --help, --version
      const help = path === '' ? 'raft-ns --help' : `raft-ns ${path} --help`;
      process.stderr.write(`${errorLine(path, err.message)}; see \`${help}\`\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    if (err instanceof RaftNsError) {
      // The one-line error users act on; the stack is for bugs only.
      process.stderr.write(`${errorLine(path, err.message)}\n`);
      process.exitCode = err.code.startsWith('usage.') ? EXIT.usage : EXIT.failed;
      return;
    }
    const sys = err as NodeJS.ErrnoException;
    if (sys && (sys.code === 'ENOENT' || sys.code === 'EACCES' || sys.code === 'ENOTDIR' || sys.code === 'EISDIR')) {
      // A file the user named is missing or unreadable: their input, not our bug.
      const what = { ENOENT: 'no such file or folder', EACCES: 'permission denied', ENOTDIR: 'not a folder', EISDIR: 'is a folder, expected a file' }[sys.code];
      process.stderr.write(`${errorLine(path, `${sys.path ?? 'a path'}: ${what}`)}\n`);
      process.exitCode = EXIT.failed;
      return;
    }
    process.stderr.write(`${errorLine(path, `internal error: ${(err as Error)?.message ?? String(err)}`)} (a bug; RAFT_NS_DEBUG=1 prints the stack)\n`);
    if (process.env['RAFT_NS_DEBUG'] === '1') process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exitCode = EXIT.internal;
  }
}

