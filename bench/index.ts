/**
 * `npm run bench -- <name> [args]`: benchmarks print figures and ratios against a baseline measured in the
 * same run, side by side. Never timed assertions in tests: this machine is shared and noisy.
 */
type Bench = (args: string[]) => Promise<void>;

// One entry per benchmark: name → lazy import, so one bench's heavy deps never load for another.
const benches: Record<string, () => Promise<{ run: Bench }>> = {
  ingest: () => import('./ingest.js'),
  window: () => import('./window.js'),
  train: () => import('./train.js'),
  'train-fused': () => import('./train-fused.js'),
  verify: () => import('./verify.js'),
  quantize: () => import('./quantize.js'),
  sim: () => import('./sim.js'),
  evaluate: () => import('./evaluate.js'),
  runtime: () => import('./runtime.js'),
  run: () => import('./run.js'),
  demo: () => import('./demo.js'),
};

const [name, ...args] = process.argv.slice(2);
if (!name || !(name in benches)) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|') || 'name'}> [args]\n`);
  process.exitCode = 2;
} else {
  const mod = await benches[name]!();
  await mod.run(args);
}
