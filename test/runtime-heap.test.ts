/**
 * Steady state allocates nothing: up to 1M observe() calls of the shipped runtime (dist/, built by `npm test`'s
 * tsc step) under V8's sampling heap profiler, each case in a process of its own (test/support/heap-probe.mjs
 * says why), with the committed default model, the default rules and a survived-silence floor that fires.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./support/heap-probe.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/runtime/timeout.js', import.meta.url)));

describe.skipIf(!built && process.env.CI !== 'true')('NeuroSymbolicTimeout heap (shipped runtime)', () => {
  // V8 boxes a double returned from (or passed to) a call it does not inline, and whether it inlines depends on
  // its budget and on timing, so a helper that returns a double can pass here in one run and allocate per tick in
  // the next. With inlining off every such helper shows, in every run.
  it.each([
    ['wasm', 1_000_000, 'default', 'inlining'],
    ['batch', 1_000_000, 'default', 'inlining'],
    ['batch', 1_000_000, 'default', 'no inlining'],
    ['js', 300_000, 'default', 'inlining'],
    ['js', 300_000, 'survived', 'inlining'],
    ['js', 300_000, 'survived', 'no inlining'],
  ] as const)('allocates nothing per observe() in steady state (%s kernel, %i calls, %s rules, %s, every allocation sampled)', (kernel, calls, rules, inlining) => {
    const flags = inlining === 'no inlining' ? ['--no-turbo-inlining'] : [];
    const out = JSON.parse(execFileSync(process.execPath, [...flags, probe, kernel, String(calls), rules], { encoding: 'utf8', timeout: 240_000 })) as {
      perWindow: number[]; sum: number; fallbacks: number; activations: Record<string, number>;
    };
    expect(out.sum).toBeGreaterThan(0);
    expect(out.fallbacks).toBe(0);
    if (rules === 'survived') expect(out.activations['survived-silence-floor']).toBeGreaterThan(0);
    // 16 bytes per call (one boxed double) would show as window × 16 bytes here.
    expect(out.perWindow[3]!, `bytes allocated per window: ${out.perWindow.join(', ')}`).toBeLessThan(calls / 4 / 16);
  }, 300_000);
});
