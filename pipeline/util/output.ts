/**
 * The output conventions every subcommand follows: `--json` prints the command's result document on
 * stdout and nothing else goes there (human lines move to stderr); `--quiet` drops the human lines and
 * progress (errors are always printed). Invariant: under --json, stdout holds exactly one JSON document.
 */
import type { Command } from 'commander';
import { jsonText } from './fs.js';

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
}

export interface Output {
  /** True when the human lines and progress are dropped. */
  readonly quiet: boolean;
  /** True when stdout is reserved for the result document. */
  readonly json: boolean;
  /** Human-readable result lines: stdout, or stderr under --json; nothing under --quiet. */
  info(text: string): void;
  /** Progress and diagnostics: always stderr; nothing under --quiet. */
  note(text: string): void;
  /** The result document: printed (pretty JSON) only under --json. */
  result(doc: unknown): void;
}

/**
 * Adds `--json` and `--quiet` to `cmd`. `doc` says what the document is, for --help.
 *
 * @example
 * addOutputOptions(program.command('window'), 'the windows manifest').action((o) => { const out = makeOutput(o); … });
 */
export function addOutputOptions(cmd: Command, doc: string): Command {
  return cmd
    .option('--json', `print ${doc} as JSON on stdout (everything else goes to stderr)`)
    .option('--quiet', 'no progress and no summary lines (errors still go to stderr)');
}

export function makeOutput(flags: OutputFlags): Output {
  const json = flags.json === true;
  const quiet = flags.quiet === true;
  return {
    quiet,
    json,
    info(text) {
      if (!quiet) (json ? process.stderr : process.stdout).write(text);
    },
    note(text) {
      if (!quiet) process.stderr.write(text);
    },
    result(doc) {
      if (json) process.stdout.write(jsonText(doc));
    },
  };
}
