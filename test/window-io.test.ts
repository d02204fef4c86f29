/**
 * The windows folder end to end: a dataset folder in (ingest layout), manifest + split files out, read back
 * by readWindows with the manifest validated and the files' sha256 checked.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { readWindows, windowDataset } from '../pipeline/index.js';
import { validateAgainst } from '../pipeline/schemas.js';
import { sha256Hex } from '../pipeline/util/fs.js';
import { TOOL_VERSION } from '../pipeline/version.js';
import { SPLIT_NAMES } from '../pipeline/window/types.js';
import { syntheticRows, writeDatasetFolder } from './window-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'raft-ns-window-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dataset = join(root, 'ds');
writeDatasetFolder(dataset, syntheticRows(['a', 'b', 'c', 'd'], 120, 3));

describe('windowDataset / readWindows', () => {
  it('writes a schema-valid manifest recording inputs, seed, tool version and file hashes', async () => {
    const out = join(root, 'w1');
    const { manifest } = await windowDataset({ dataset, out, seed: 11, quiet: true });
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'test.bin', 'train.bin', 'val.bin']);
    const onDisk = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as unknown;
    expect(validateAgainst('windows-manifest', onDisk).ok).toBe(true);
    expect(manifest.seed).toBe(11);
    expect(manifest.tool_version).toBe(TOOL_VERSION);
    expect(manifest.T).toBe(32);
    expect(manifest.state).toBe('carried');
    expect(manifest.input.dataset_manifest_sha256).toBe(sha256Hex(readFileSync(join(dataset, 'manifest.json'))));
    expect(manifest.input.parts[0]!.sha256).toBe(sha256Hex(readFileSync(join(dataset, 'part-00000.arrow'))));
    for (const n of SPLIT_NAMES) expect(manifest.splits[n].sha256).toBe(sha256Hex(readFileSync(join(out, `${n}.bin`))));
  });

  it('reads back what it wrote', async () => {
    const { splits, manifest } = readWindows(join(root, 'w1'));
    for (const n of SPLIT_NAMES) {
      const s = splits[n];
      expect(s.count).toBe(manifest.splits[n].chunks);
      expect(s.x.length).toBe(s.count * s.T * 4);
      expect(s.wGap.reduce((a, b) => a + b, 0)).toBe(manifest.splits[n].supervised_ticks);
      expect(s.censored.reduce((a, b, i) => a + b * s.wGap[i]!, 0)).toBe(manifest.splits[n].censored_ticks);
      expect(s.lost.reduce((a, b, i) => a + b * s.wLost[i]!, 0)).toBe(manifest.splits[n].lost_ticks);
    }
    // Normalized train features: mean ≈ 0 over real ticks (padding is 0 too, so the mean stays near 0).
    const train = splits.train;
    const f3 = [...train.x].filter((_, i) => i % 4 === 3);
    expect(Math.abs(f3.reduce((a, b) => a + b, 0) / f3.length)).toBeLessThan(0.05);
    expect(Math.max(...train.x.map(Math.abs))).toBeLessThanOrEqual(manifest.normalization.clip);
  });

  it('gives the same bytes for the same dataset and seed', async () => {
    const out = join(root, 'w2');
    await windowDataset({ dataset, out, seed: 11, quiet: true });
    for (const f of ['manifest.json', 'train.bin', 'val.bin', 'test.bin']) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(root, 'w1', f)))).toBe(true);
    }
  });

  it('refuses to overwrite without force, and replaces the folder with force', async () => {
    const out = join(root, 'w1');
    await expect(windowDataset({ dataset, out, seed: 11, quiet: true })).rejects.toThrow(/^window: .*already exists; pass --force/);
    const { manifest } = await windowDataset({ dataset, out, seed: 11, windowLen: 8, force: true, quiet: true });
    expect(manifest.T).toBe(8);
    expect(readWindows(out).splits.train.T).toBe(8);
  });

  it('detects a flipped byte in a split file by its sha256', () => {
    const out = join(root, 'w2');
    const path = join(out, 'val.bin');
    const bytes = readFileSync(path);
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(path, bytes);
    expect(() => readWindows(out)).toThrowError(/^window: .*val\.bin: sha256 [0-9a-f]{64}; expected [0-9a-f]{64}/);
  });

  it('refuses a manifest that breaks its schema, naming the file and the path', () => {
    const out = join(root, 'w2');
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ ...m, T: 'thirty-two' }));
    expect(() => readWindows(out)).toThrowError(/^window: .*manifest\.json at \/T: /);
  });

  it('leaves nothing behind when the input is bad', async () => {
    const out = join(root, 'bad-out');
    await expect(windowDataset({ dataset: join(root, 'nope'), out, quiet: true })).rejects.toThrow(/manifest\.json/);
    await expect(windowDataset({ dataset, out, stride: 0, quiet: true })).rejects.toThrow(/^window: --stride 0; expected/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('raft-ns window (built CLI)', () => {
  const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;

  it('windows a dataset and prints the split summary', () => {
    const out = join(root, 'cli-out');
    const stdout = execFileSync('node', [cli, 'window', '--dataset', dataset, '--out', out, '--window', '16', '--seed', '2'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(stdout).toMatch(/^window: .*T=16, stride=16, split by cluster, seed 2/);
    expect(stdout).toMatch(/\n {2}train \d+ chunks, \d+ streams/);
    expect(readWindows(out).manifest.seed).toBe(2);
  });

  it('exits 2 (usage) with a one-line message on a bad option, before any work', () => {
    const r = spawnSync('node', [cli, 'window', '--dataset', dataset, '--out', join(root, 'cli-bad'), '--stride', 'x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("raft-ns window: option '--stride <ticks>' argument 'x' is invalid. expected an integer >= 1; see `raft-ns window --help`");
    expect(existsSync(join(root, 'cli-bad'))).toBe(false);
  });
});
