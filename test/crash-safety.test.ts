/**
 * What a crash leaves behind. writeFileAtomic makes the bytes durable before the name
 * appears (fsync of the file, rename, fsync of the folder), and a SIGKILLed ingest's hidden temporary
 * folder, partial parts and all, is removed by the next run instead of staying forever.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from '../pipeline/util/fs.js';
import { synthRows, writeCsv } from './fixtures/ingest/synth.js';

/** File-system calls in order, recorded by the wrapped node:fs below. */
const calls = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const wrapped = {
    ...fs,
    fsyncSync: (fd: number): void => {
      calls.push(`fsync ${fs.fstatSync(fd).isDirectory() ? 'folder' : 'file'}`);
      fs.fsyncSync(fd);
    },
    renameSync: (from: string, to: string): void => {
      calls.push('rename');
      fs.renameSync(from, to);
    },
  };
  return { ...wrapped, default: wrapped };
});

const root = mkdtempSync(join(tmpdir(), 'raft-ns-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;

describe('writeFileAtomic keeps its promise of durability', () => {
  it('fsyncs the file before renaming it into place, then fsyncs the folder so the rename survives a power cut', () => {
    calls.length = 0;
    const path = join(root, 'sub', 'out.json');
    writeFileAtomic(path, '{"a":1}\n');
    expect(calls).toEqual(['fsync file', 'rename', 'fsync folder']);
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(join(root, 'sub'))).toEqual(['out.json']); // no temporary left beside it
  });
});

describe.runIf(existsSync(cli))('a SIGKILLed ingest leaves nothing behind for good', () => {
  it('the next run removes the killed run\'s hidden temporary folder with its partial parts', async () => {
    const dir = join(root, 'kill');
    mkdirSync(dir, { recursive: true });
    const input = join(dir, 'big.csv');
    await writeCsv(input, synthRows({ seed: 3, clusters: 4, nodesPerCluster: 5, ticks: 20_000, tickMs: 100 }));
    const out = join(dir, 'ds');
    const args = [cli, 'ingest', input, '--out', out, '--no-anonymize', '--tick-ms', '100'];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Kill it the moment its temporary folder holds a part file: mid-write, as a crash would.
    const temporaries = (): string[] => readdirSync(dir).filter((n) => n.startsWith('.ds.tmp-'));
    let seen: string | null = null;
    for (let i = 0; i < 3000 && !seen; i++) {
      const t = temporaries()[0];
      if (t && readdirSync(join(dir, t)).some((f) => f.startsWith('part-'))) seen = t;
      else await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(seen, 'the ingest was killed before it wrote a part; make the input larger').not.toBe(null);
    expect(temporaries()).toEqual([seen]);
    expect(existsSync(out)).toBe(false);

    const again = spawn(process.execPath, args, { stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => again.on('exit', resolve));
    expect(code).toBe(0);
    expect(temporaries()).toEqual([]);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  }, 120_000);
});
