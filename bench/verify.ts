/**
 * `npm run bench -- verify [--epochs N] [--budget LEAVES]`: how fast and how tight check e is on a trained
 * network. Trains the contract's LSTM on synthetic windows (pipeline/train/synthetic.ts), quantizes it,
 * then measures, on the int8 path:
 *   - one IBP step (interval, 64 units) against one float64 reference step — the cost ratio of soundness;
 *   - the invariant-box fixpoint;
 *   - the domain-wide sound range of the raw timeout exp(q) against the range seen on 2,000 sampled
 *     sequences (tightness: 1.0 would be exact; sampling is an inner bound, IBP an outer one);
 *   - the lower bound on exp(q) after splitting with budgets 1 … N leaves (worst-first bisection);
 *   - the whole `verifyArtifact` (checks a–f) wall time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRules } from '../runtime/rules.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { artifactFromBytes } from '../runtime/artifact.js';
import { readFileSync } from 'node:fs';
import { resolveTrainConfig } from '../pipeline/train/config.js';
import { synthesizeSplits } from '../pipeline/train/synthetic.js';
import { train } from '../pipeline/train/train.js';
import { quantizeRun } from '../pipeline/quantize/quantize.js';
import { invariantBox, splitToTarget, stepBounds } from '../pipeline/verify/ibp.js';
import { makeRng, referenceStep, zeroState } from '../pipeline/verify/net.js';
import { normalizedDomain } from '../runtime/domain.js';
import { netOf, verifyArtifact } from '../pipeline/verify/verify.js';

export async function run(args: string[]): Promise<void> {
  const arg = (name: string, dflt: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const epochs = arg('--epochs', 6);
  const budget = arg('--budget', 1024);
  const tmp = mkdtempSync(join(tmpdir(), 'raftns-bench-verify-'));
  try {
    const splits = synthesizeSplits(48, 6, 5, 32);
    const norm = { transforms: ['a', 'b', 'c', 'd'], mean: [0.4, 0.1, 0.05, 0.8], std: [0.3, 0.5, 0.2, 0.1], clip: 5 };
    const t0 = performance.now();
    const config = resolveTrainConfig({ epochs, batch_size: 16, lr: 0.01, warmup_steps: 1, patience: 0, engine: 'fused' }, 'bench');
    const r = await train({ splits, info: { dir: null, sha256: 'synthetic', datasetSha256: null, tickMs: 10, normalization: norm } }, { config, outDir: join(tmp, 'run'), quiet: true });
    const art = join(tmp, 'artifact');
    await quantizeRun(r.manifest, r.params, splits.test, { outDir: art, createdAt: '2026-01-01T00:00:00.000Z', goldenStreams: 4, goldenTicks: 32 });
    process.stdout.write(`trained ${epochs} epochs on synthetic windows and quantized in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const loaded = artifactFromBytes(readFileSync(join(art, 'manifest.json'), 'utf8'), new Uint8Array(readFileSync(join(art, 'weights.bin'))));
    const { net } = netOf(loaded.int8!);
    const rules = compileRules(DEFAULT_RULES);
    const domain = normalizedDomain(rules, loaded.normalization);

    // 1. Cost of one sound step against one reference step.
    const inv0 = invariantBox(net, domain);
    const reps = 200;
    let t = performance.now();
    for (let k = 0; k < reps; k++) stepBounds(net, inv0.box, domain);
    const ibpUs = ((performance.now() - t) / reps) * 1000;
    const st = zeroState(net);
    const x = [0.1, -0.2, 0.3, 0.4];
    t = performance.now();
    for (let k = 0; k < reps * 20; k++) referenceStep(net, st, x);
    const refUs = ((performance.now() - t) / (reps * 20)) * 1000;
    process.stdout.write(`IBP step ${ibpUs.toFixed(1)} µs vs float64 reference step ${refUs.toFixed(2)} µs: ratio ${(ibpUs / refUs).toFixed(1)}×\n`);

    // 2. Invariant box.
    t = performance.now();
    const inv = invariantBox(net, domain);
    let hMax = 0;
    let cMax = 0;
    for (let u = 0; u < 64; u++) {
      hMax = Math.max(hMax, -inv.box.h.lo[u]!, inv.box.h.hi[u]!);
      cMax = Math.max(cMax, -inv.box.c.lo[u]!, inv.box.c.hi[u]!);
    }
    process.stdout.write(`invariant box: ${inv.iterations} iterations in ${(performance.now() - t).toFixed(0)} ms, converged ${inv.converged}, max|h| ${hMax.toFixed(4)}, max|c| ${cMax.toFixed(3)}, unbounded c units ${inv.unboundedC}\n`);

    // 3. Tightness: sound range vs sampled range of exp(q).
    const y = stepBounds(net, inv.box, domain).y[0];
    const rng = makeRng(9);
    let sLo = Infinity;
    let sHi = -Infinity;
    for (let s = 0; s < 2000; s++) {
      const state = zeroState(net);
      let xi = Array.from(domain.lo, (lo, i) => lo + (domain.hi[i]! - lo) * rng());
      for (let k = 0; k < 48; k++) {
        if (k % 12 === 0) xi = Array.from(domain.lo, (lo, i) => (rng() < 0.3 ? (rng() < 0.5 ? lo : domain.hi[i]!) : lo + (domain.hi[i]! - lo) * rng()));
        const [q] = referenceStep(net, state, xi);
        sLo = Math.min(sLo, q);
        sHi = Math.max(sHi, q);
      }
    }
    process.stdout.write(`raw timeout exp(q): sound [${Math.exp(y.lo).toFixed(1)}, ${Math.exp(y.hi).toFixed(1)}] ms, sampled [${Math.exp(sLo).toFixed(1)}, ${Math.exp(sHi).toFixed(1)}] ms; q-width ratio sound/sampled ${((y.hi - y.lo) / (sHi - sLo)).toFixed(2)}\n`);

    // 4. Splitting: lower bound on exp(q) vs leaves.
    for (let b = 1; b <= budget; b *= 4) {
      t = performance.now();
      const sp = splitToTarget(domain, Infinity, b, (box) => stepBounds(net, inv.box, box).y[0].lo);
      const ms = performance.now() - t;
      process.stdout.write(`  split budget ${String(b).padStart(5)}: exp(q) ≥ ${Math.exp(sp.bound).toFixed(2)} ms (sampled min ${Math.exp(sLo).toFixed(2)}), ${ms.toFixed(0)} ms, ${(sp.leaves / (ms / 1000)).toFixed(0)} leaves/s\n`);
    }

    // 5. The whole command.
    t = performance.now();
    const report = await verifyArtifact(art, { windows: { dir: 'synthetic', manifestSha256: '0'.repeat(64), manifest: {}, splits } });
    process.stdout.write(`verifyArtifact (checks a–f, default budgets) ${((performance.now() - t) / 1000).toFixed(1)} s: ${report.checks.map((c) => `${c.id.split('-')[0]} ${c.status}`).join(', ')}\n`);
    for (const c of report.checks) {
      const figs = Object.entries(c.figures).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`).join(', ');
      process.stdout.write(`  ${c.id.padEnd(18)} ${c.status.padEnd(8)} ${c.reason ?? ''}${figs ? ` [${figs}]` : ''}\n`);
    }
    for (const c of report.proof?.claims ?? []) {
      process.stdout.write(`  ${c.rule_id.padEnd(30)} ${c.status.padEnd(9)} bound [${c.bound.lo.toPrecision(4)}, ${c.bound.hi.toPrecision(4)}] vs ${c.threshold}, observed ${c.observed?.toPrecision(4) ?? '-'}, ${c.leaves} leaves\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
