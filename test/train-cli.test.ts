import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthRows, writeCsv } from './fixtures/ingest/synth.js';

// The built CLI end to end on a tiny dataset: ingest → window → train → quantize (npm test builds first).
const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'raftns-train-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = (...args: string[]): string => execFileSync('node', [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('raft-ns train / quantize (CLI)', () => {
  it('trains on a windows folder and quantizes the run into an artifact that records its provenance', async () => {
    await writeCsv(join(tmp, 't.csv'), synthRows({ seed: 5, clusters: 3, nodesPerCluster: 3, ticks: 480, tickMs: 10 }));
    run('ingest', join(tmp, 't.csv'), '--out', join(tmp, 'ds'), '--no-anonymize');
    run('window', '--dataset', join(tmp, 'ds'), '--out', join(tmp, 'win'));
    const out = run('train', '--windows', join(tmp, 'win'), '--out', join(tmp, 'run'), '--engine', 'fused', '--epochs', '2', '--seed', '3');
    expect(out).toMatch(/wrote .*run-manifest\.json .*fused/);
    const rm = JSON.parse(readFileSync(join(tmp, 'run', 'run-manifest.json'), 'utf8'));
    expect(rm.seed).toBe(3);
    expect(rm.param_count).toBe(17_794);
    expect(rm.windows.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rm.windows.normalization.mean).toHaveLength(4);
    expect(readFileSync(join(tmp, 'run', 'metrics.csv'), 'utf8').trim().split('\n')).toHaveLength(3);

    const q = run('quantize', '--run', join(tmp, 'run'), '--out', join(tmp, 'art'), '--name', 'tiny', '--model-version', '1.2.3');
    expect(q).toMatch(/\|Δ timeout\| max .* ms, p99 .* ms/);
    const m = JSON.parse(readFileSync(join(tmp, 'art', 'manifest.json'), 'utf8'));
    expect([m.name, m.version, m.seed, m.inputs.windows_sha256]).toEqual(['tiny', '1.2.3', 3, rm.windows.sha256]);
    expect(m.normalization.mean).toEqual(rm.windows.normalization.mean);
    expect(() => run('quantize', '--run', join(tmp, 'run'), '--out', join(tmp, 'art'))).toThrow(/already exists; pass --force/);
  });

  it('refuses a config with an unknown key, naming file and key, and writes nothing', () => {
    const cfg = join(tmp, 'bad.json');
    execFileSync('node', ['-e', `require('fs').writeFileSync(${JSON.stringify(cfg)}, '{"epochs": 1, "learning_rate": 3}')`]);
    let err = '';
    try {
      run('train', '--windows', join(tmp, 'win'), '--out', join(tmp, 'run2'), '--config', cfg);
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toContain('bad.json: at /: unknown key "learning_rate"');
    expect(() => readFileSync(join(tmp, 'run2', 'run-manifest.json'))).toThrow();
  });
});
