/**
 * `npm run bench -- train [--steps N] [--engines tfjs-wasm,tfjs-cpu,fused]`: training throughput in
 * windows/s at T = 32, batch 256 (lanes), on synthetic windows. Each engine runs the same batches; the
 * figure counts one full optimizer step (loss + gradients through the engine, clipping, Adam in TS).
 * The baseline is tfjs on the cpu backend, measured in the same run; ratios are against it. Engines come
 * from the registry (pipeline/train/engines.ts), so a new engine is benchmarked by naming it.
 */
import { PARAM_COUNT, UNITS, type TrainEngine } from '../pipeline/train/engine.js';
import { makeEngine } from '../pipeline/train/engines.js';
import { assembleBatch, planLanes, streamsOf } from '../pipeline/train/lanes.js';
import { adamStep, clipGradNorm, initParams, makeAdamState, Rng } from '../pipeline/train/optim.js';
import { synthesizeSplit } from '../pipeline/train/synthetic.js';
import { TOOL_VERSION } from '../pipeline/version.js';

const T = 32;
const B = 256;

export async function run(args: string[]): Promise<void> {
  const steps = Number(argValue(args, '--steps') ?? 4);
  const wanted = (argValue(args, '--engines') ?? 'tfjs-cpu,tfjs-wasm,fused').split(',');
  const split = synthesizeSplit({ name: 'train', streams: B, chunksPerStream: steps + 1, T, seed: 1 });
  const plan = planLanes(streamsOf(split), B);
  process.stdout.write(`bench train: raft-ns ${TOOL_VERSION}, ${PARAM_COUNT} parameters, T=${T}, batch=${plan.B}, ${steps} timed steps after 1 warm-up, node ${process.version}\n`);
  const results: Array<{ name: string; backend: string; wps: number }> = [];
  for (const spec of wanted) {
    const [engineName, backend] = spec.split('-') as [string, string | undefined];
    let engine: TrainEngine;
    try {
      engine = await makeEngine(engineName, { backend: (backend ?? 'auto') as 'auto' });
    } catch (err) {
      process.stdout.write(`  ${spec.padEnd(10)} unavailable: ${(err as Error).message}\n`);
      continue;
    }
    try {
      const params = initParams(new Rng(1));
      const adam = makeAdamState();
      let carry: { h: Float32Array; c: Float32Array } = { h: new Float32Array(plan.B * UNITS), c: new Float32Array(plan.B * UNITS) };
      let t0 = 0;
      for (let s = 0; s <= steps; s++) {
        if (s === 1) t0 = performance.now(); // step 0 warms up (backend init, kernel compilation)
        const r = await engine.lossAndGrads(params, assembleBatch(split, plan, s, carry), { tau: 0.99, lambdaLost: 0.5 });
        carry = { h: r.hT, c: r.cT };
        clipGradNorm(r.grads, 1);
        adamStep(params, r.grads, adam, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
      }
      const seconds = (performance.now() - t0) / 1000;
      const wps = (steps * plan.B) / seconds;
      results.push({ name: spec, backend: engine.backend, wps });
      process.stdout.write(`  ${spec.padEnd(10)} ${engine.backend.padEnd(24)} ${wps.toFixed(0).padStart(8)} windows/s  ${(seconds / steps * 1000).toFixed(0).padStart(7)} ms/step\n`);
    } finally {
      await engine.dispose();
    }
  }
  const base = results.find((r) => r.name === 'tfjs-cpu') ?? results[0];
  if (base) {
    process.stdout.write(`ratios vs ${base.name} (${base.backend}):\n`);
    for (const r of results) process.stdout.write(`  ${r.name.padEnd(10)} ×${(r.wps / base.wps).toFixed(2)}\n`);
  }
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
