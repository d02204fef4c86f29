import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMainJob, type RunReport } from '../pipeline/run/run.js';
import { DEFAULT_RUN_CONFIG, mainJobStages } from '../pipeline/run/pipeline.js';
import { canonicalJson, runStages, type Stage, type StageRecord } from '../pipeline/run/stage.js';
import { sha256Hex } from '../pipeline/util/fs.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';

let root: string;
let cacheDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'raft-ns-run-'));
  cacheDir = join(root, 'cache');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/**
 * A fake three-stage pipeline (test only): `source` copies a file the test controls, `double` writes its
 * text twice, `count` writes the length. Each counts its runs so the test can see what the cache skipped.
 */
function fakePipeline(o: { sourceFile: string; repeat?: number; failDouble?: boolean; doubleMissing?: boolean }) {
  const runs = { source: 0, double: 0, count: 0 };
  const stages: Stage[] = [
    {
      name: 'source', deps: [], config: { v: 1 },
      inputHashes: async () => ({ source: sha256Hex(readFileSync(o.sourceFile)) }),
      async run(ctx) {
        runs.source++;
        mkdirSync(ctx.outDir, { recursive: true });
        // Only the first line counts: a change after it leaves this stage's output bytes unchanged.
        writeFileSync(join(ctx.outDir, 'data.txt'), readFileSync(o.sourceFile, 'utf8').split('\n')[0]!);
        return { figure: 'copied' };
      },
    },
    {
      name: 'double', deps: ['source'], config: { repeat: o.repeat ?? 2 },
      unavailable: () => (o.doubleMissing ? 'not available yet: pipeline/double has not landed' : null),
      async run(ctx) {
        runs.double++;
        if (o.failDouble) throw new Error('boom');
        const text = readFileSync(join(ctx.inputs.source!.dir, 'data.txt'), 'utf8');
        mkdirSync(ctx.outDir, { recursive: true });
        writeFileSync(join(ctx.outDir, 'data.txt'), text.repeat(o.repeat ?? 2));
        return { figure: `${text.length * (o.repeat ?? 2)} chars` };
      },
    },
    {
      name: 'count', deps: ['double'], config: {},
      async run(ctx) {
        runs.count++;
        const n = readFileSync(join(ctx.inputs.double!.dir, 'data.txt'), 'utf8').length;
        mkdirSync(ctx.outDir, { recursive: true });
        writeFileSync(join(ctx.outDir, 'n.txt'), String(n));
        return { figure: `${n}`, summary: { n } };
      },
    },
  ];
  return { stages, runs };
}

const statuses = (rs: StageRecord[]): string[] => rs.map((r) => `${r.name}:${r.status}`);
const opts = () => ({ cacheDir, toolVersion: '0.0.0-test' });

describe('raft-ns run: content-addressed stage cache', () => {
  it('skips every stage on a re-run with unchanged inputs, with the same outputs', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    const p = fakePipeline({ sourceFile: src });
    const first = await runStages(p.stages, opts());
    expect(statuses(first)).toEqual(['source:ran', 'double:ran', 'count:ran']);
    expect(readFileSync(join(first[2]!.dir!, 'out', 'n.txt'), 'utf8')).toBe('6');
    const second = await runStages(p.stages, opts());
    expect(statuses(second)).toEqual(['source:cached', 'double:cached', 'count:cached']);
    expect(p.runs).toEqual({ source: 1, double: 1, count: 1 });
    expect(second.map((r) => r.output_sha256)).toEqual(first.map((r) => r.output_sha256));
    expect(second[2]!.summary).toEqual({ n: 6 });
  });

  it('re-runs a stage whose config changed and everything downstream, not upstream', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    await runStages(fakePipeline({ sourceFile: src }).stages, opts());
    const p = fakePipeline({ sourceFile: src, repeat: 3 });
    const rs = await runStages(p.stages, opts());
    expect(statuses(rs)).toEqual(['source:cached', 'double:ran', 'count:ran']);
    expect(rs[2]!.figure).toBe('9');
  });

  it('re-runs from the stage whose input file changed; downstream stays cached if its output bytes did not change', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    await runStages(fakePipeline({ sourceFile: src }).stages, opts());
    writeFileSync(src, 'abc\nsecond line ignored by source\n');
    const same = await runStages(fakePipeline({ sourceFile: src }).stages, opts());
    expect(statuses(same)).toEqual(['source:ran', 'double:cached', 'count:cached']);
    writeFileSync(src, 'abcd\n');
    const changed = await runStages(fakePipeline({ sourceFile: src }).stages, opts());
    expect(statuses(changed)).toEqual(['source:ran', 'double:ran', 'count:ran']);
    expect(changed[2]!.figure).toBe('8');
  });

  it('runs everything again with fresh', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    await runStages(fakePipeline({ sourceFile: src }).stages, opts());
    const p = fakePipeline({ sourceFile: src });
    expect(statuses(await runStages(p.stages, { ...opts(), fresh: true }))).toEqual(['source:ran', 'double:ran', 'count:ran']);
  });

  it('reports a stage that has not landed as unavailable and blocks what depends on it, never faking it', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    const p = fakePipeline({ sourceFile: src, doubleMissing: true });
    const rs = await runStages(p.stages, opts());
    expect(statuses(rs)).toEqual(['source:ran', 'double:unavailable', 'count:blocked']);
    expect(rs[1]!.reason).toContain('not available yet');
    expect(rs[2]!.reason).toBe('needs double');
    expect(p.runs).toEqual({ source: 1, double: 0, count: 0 });
  });

  it('leaves no receipt for a failed stage, so the next run retries it', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    const failed = await runStages(fakePipeline({ sourceFile: src, failDouble: true }).stages, opts());
    expect(statuses(failed)).toEqual(['source:ran', 'double:failed', 'count:blocked']);
    expect(failed[1]!.reason).toContain('boom');
    expect(readdirSync(cacheDir).filter((n) => n.startsWith('double') || n.startsWith('.'))).toEqual([]);
    const p = fakePipeline({ sourceFile: src });
    expect(statuses(await runStages(p.stages, opts()))).toEqual(['source:cached', 'double:ran', 'count:ran']);
  });

  it('keeps a negative verdict (a stage that ran but failed its check) as a cached failure that blocks downstream', async () => {
    let runs = 0;
    const judge = (pass: boolean): Stage => ({
      name: 'verify', deps: [], config: { pass },
      async run() { runs++; return { figure: pass ? 'passed' : 'NOT passed', ...(pass ? {} : { failed: 'check e refuted' }) }; },
    });
    const after: Stage = { name: 'publish', deps: ['verify'], config: {}, async run() { return { figure: 'ok' }; } };
    expect(statuses(await runStages([judge(false), after], opts()))).toEqual(['verify:failed', 'publish:blocked']);
    const again = await runStages([judge(false), after], opts());
    expect(statuses(again)).toEqual(['verify:failed', 'publish:blocked']);
    expect(again[0]!.reason).toBe('check e refuted (cached verdict)');
    expect(runs).toBe(1);
    expect(statuses(await runStages([judge(true), after], opts()))).toEqual(['verify:ran', 'publish:ran']);
  });

  it('always runs a stage marked cache: false (effects outside its folder)', async () => {
    let n = 0;
    const stage: Stage = { name: 'publish', deps: [], config: {}, cache: false, async run() { n++; return { figure: 'ok' }; } };
    await runStages([stage], opts());
    const rs = await runStages([stage], opts());
    expect(rs[0]!.status).toBe('ran');
    expect(n).toBe(2);
    expect(existsSync(join(rs[0]!.dir!, 'stage.json'))).toBe(true);
  });

  it('declares the main job in flow order with every dependency before its user', () => {
    const stages = mainJobStages(DEFAULT_RUN_CONFIG);
    expect(stages.map((s) => s.name)).toEqual(['source', 'ingest', 'window', 'train', 'quantize', 'verify', 'publish', 'infer', 'evaluate']);
    stages.forEach((s, i) => s.deps.forEach((d) => expect(stages.findIndex((x) => x.name === d), `${s.name} needs ${d}`).toBeLessThan(i)));
    // Publishing writes outside the cache, so it must run every time (it is a no-op on the same bytes).
    expect(stages.find((s) => s.name === 'publish')!.cache).toBe(false);
  });

  it('keys verify and evaluate by the embedded rules: a rules-only change of the model re-verifies and re-runs the closed loop', () => {
    const stages = mainJobStages(DEFAULT_RUN_CONFIG);
    const rulesKey = sha256Hex(canonicalJson(DEFAULT_RULES));
    for (const name of ['verify', 'evaluate']) expect(stages.find((s) => s.name === name)!.config, name).toMatchObject({ rules_sha256: rulesKey });
  });

  it('writes a run report and a stage-by-stage display; a missing stage makes the run incomplete', async () => {
    const src = join(root, 'src.txt');
    writeFileSync(src, 'abc\n');
    let text = '';
    const config = { ...DEFAULT_RUN_CONFIG, seed: 7 };
    const report = await runMainJob({ config, cacheDir, stages: fakePipeline({ sourceFile: src, doubleMissing: true }).stages, write: (t) => { text += t; } });
    expect(report.result).toBe('incomplete');
    const onDisk = JSON.parse(readFileSync(join(cacheDir, 'run-report.json'), 'utf8')) as RunReport;
    expect(onDisk.seed).toBe(7);
    expect(onDisk.config_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(onDisk.stages.map((r) => r.status)).toEqual(['ran', 'unavailable', 'blocked']);
    // Input hashes are recorded, not only folded into the key.
    expect(onDisk.stages[0]!.inputs!.files).toEqual({ source: sha256Hex('abc\n') });
    expect(text).toMatch(/\[2\/3\] double\s+skipped\s+not available yet/);
    expect(text).toContain('result: INCOMPLETE');
    const again = await runMainJob({ config, cacheDir, stages: fakePipeline({ sourceFile: src }).stages });
    expect(again.result).toBe('complete');
    expect(again.stages.map((r) => r.status)).toEqual(['cached', 'ran', 'ran']);
  });
});
