#!/usr/bin/env node
/**
 * raft-ns: the command-line shell. It only parses arguments and calls stage functions; each stage's
 * `command.ts` registers its subcommands here. A subcommand appears when its stage works.
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
// Stage commands: one import and one entry per stage (keep this list in flow order).
const stages: Array<(program: Command) => void> = [
  registerSimulate,
  registerRun,
  registerIngest,
  registerDataset,
  registerPublish,
  registerWindow,
  registerTrain,
  registerQuantize,
  registerVerify,
  registerInfer,
  registerEvaluate,
  registerConformance,
  registerDemo,
];

export function makeProgram(): Command {
  const program = new Command('raft-ns')
    .description('Learn Raft election timeouts from telemetry: ingest, window, train, quantize, verify, publish, infer.')
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const register of stages) register(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = makeProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof RaftNsError) {
      // The one-line error users act on; the stack is for bugs only.
      process.stderr.write(`raft-ns ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

await main(process.argv);
