/**
 * `npm run bench -- demo [--model <artifact dir>] [--seconds N]`: how much faster than real time the demo's
 * core runs (simulated ms per wall ms), for 5 and 9 nodes and each policy pair, against the bare simulator
 * on the same seed in the same run (the baseline: no sampling, no snapshots, static policy). The page needs
 * ≥ 10× (its fastest speed) with room left for drawing.
 */
import { performance } from 'node:perf_hooks';
import { Simulation } from '../sim/index.js';
import { makeSharedModel, type SharedModel } from '../runtime/index.js';
import { loadArtifactFromDir } from '../runtime/node-loader.js';
import { DemoWorld, demoScenario } from '../demo/world.js';
import type { PolicyKind } from '../demo/policies.js';
import { findDefaultArtifact } from '../pipeline/demo/files.js';
import { TOOL_VERSION } from '../pipeline/version.js';

export async function run(args: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seconds = Number(opt('--seconds') ?? 30);
  const modelDir = opt('--model') ?? findDefaultArtifact();
  let model: SharedModel | null = null;
  if (modelDir) model = makeSharedModel(await loadArtifactFromDir(modelDir), 'int8');
  const seed = 1;
  process.stdout.write(`bench demo: tool ${TOOL_VERSION}, seed ${seed}, ${seconds} s simulated per case, model ${modelDir ?? 'none (static fallback)'}${model ? ` [${model.lstm.kernel}]` : ''}\n`);
  process.stdout.write('case                          sim ms / wall ms   vs bare sim\n');
  // Warm-up: the first case would otherwise pay for JIT compilation of the simulator and the runtime.
  new DemoWorld({ size: 5, seed: seed + 1, policies: ['etcd', 'neuro'] }, model).advance(5000);
  new Simulation(demoScenario(5, seed + 1), { seed: seed + 1, telemetry: false }).advanceTo(5000);
  // Median of three runs per case: the machine is shared and one run can land on a busy moment.
  const median = (f: () => void): number => {
    const ms = [0, 1, 2].map(() => { const t = performance.now(); f(); return performance.now() - t; }).sort((a, b) => a - b);
    return (seconds * 1000) / ms[1]!;
  };
  for (const size of [5, 9]) {
    const bare = median(() => new Simulation(demoScenario(size, seed), { seed, telemetry: false }).advanceTo(seconds * 1000));
    process.stdout.write(`${`${size} nodes, bare simulator`.padEnd(30)}${bare.toFixed(1).padStart(15)}×\n`);
    const pairs: PolicyKind[][] = [['etcd', 'neuro'], ['jacobson', 'phi'], ['neuro']];
    for (const policies of pairs) {
      const speed = median(() => new DemoWorld({ size, seed, policies }, model).advance(seconds * 1000));
      process.stdout.write(`${`${size} nodes, ${policies.join(' + ')}`.padEnd(30)}${speed.toFixed(1).padStart(15)}×${(speed / bare).toFixed(2).padStart(13)}\n`);
    }
  }
}
