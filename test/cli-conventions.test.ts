/**
 * CLI conventions, through the built CLI (dist/, built by `npm test`), for every subcommand the program
 * lists: a bad flag is a usage error (exit 2, one line naming the command and its --help); a missing
 * input is a failed run (exit 1, one line prefixed with the command the user ran, no stack); --json puts
 * only the result document on stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
const sample = new URL('../datasets/sample', import.meta.url).pathname;
let dir: string;

function raftNs(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, RAFT_NS_DEBUG: '', ...env }, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Leaf subcommands, read from the program's own help so that a new command is covered without edits here. */
function leafCommands(path: string[] = []): string[][] {
  const help = raftNs([...path, '--help']).stdout;
  const section = help.split(/^Commands:$/m)[1];
  if (!section) return [path];
  const names = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  return names.flatMap((n) => leafCommands([...path, n]));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'raft-ns-conv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('raft-ns CLI conventions', () => {
  const leaves = leafCommands();

  it('lists every stage command', () => {
    const flat = leaves.map((l) => l.join(' '));
    for (const c of ['simulate election-time', 'run', 'ingest', 'dataset inspect', 'publish', 'window', 'train', 'quantize', 'verify', 'infer', 'evaluate make-model', 'evaluate tune', 'demo']) expect(flat).toContain(c);
  });

  it('a bad flag exits 2 with one line: the command, the problem, and where help is', () => {
    for (const path of leaves) {
      const r = raftNs([...path, '--no-such-flag']);
      const name = path.join(' ');
      expect(r.code, name).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(new RegExp(`^raft-ns ${name}: .*; see \`raft-ns ${name} --help\`$`));
      expect(r.stdout, name).toBe('');
    }
  });

  it('an invalid option value is refused before any work (exit 2), e.g. --model-version 1.0', () => {
    const r = raftNs(['quantize', '--run', join(dir, 'no-run'), '--out', join(dir, 'q'), '--model-version', '1.0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^raft-ns quantize: .*--model-version.*semantic version.*; see `raft-ns quantize --help`$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing input exits 1 with one line prefixed by the command the user ran', () => {
    const missing = join(dir, 'does-not-exist');
    const cases: string[][] = [
      ['ingest', missing, '--out', join(dir, 'o1'), '--no-anonymize'],
      ['dataset', 'inspect', missing],
      ['window', '--dataset', missing, '--out', join(dir, 'o2')],
      ['train', '--windows', missing, '--out', join(dir, 'o3')],
      ['quantize', '--run', missing, '--out', join(dir, 'o4')],
      ['verify', missing],
      ['infer', missing, '--trace', sample],
      ['publish', missing, '--registry', join(dir, 'reg')],
      ['simulate', '--scenario', missing + '.json', '--out', join(dir, 'o5')],
    ];
    for (const args of cases) {
      const r = raftNs(args);
      const name = args[0] === 'dataset' ? 'dataset inspect' : args[0]!;
      expect(r.code, name).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(new RegExp(`^raft-ns ${name}: `));
      expect(lines[0], name).not.toMatch(/internal error/);
    }
  });

  it('--json prints only the result document on stdout', () => {
    const r = raftNs(['dataset', 'inspect', sample, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { format: string; row_count: number };
    expect(doc.format).toBe('raft-ns-dataset');
    expect(doc.row_count).toBeGreaterThan(0);
  });
});
