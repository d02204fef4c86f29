/**
 * The held-out guard: which (scenario, seed) pairs belong to the held-out evaluation suite
 * (pipeline/evaluate/suites/heldout.json) and so may never become telemetry that a model could train on.
 *
 * It lives below every source stage and is called at the one place every trace writer passes
 * (pipeline/simulate/write.ts, `runInto`: simulate's single run, trace sets, the main job's source and
 * make-model all write through it), so a new writer cannot forget it.
 *
 * Invariant: two scenarios that simulate the same cluster have the same fingerprint. The fingerprint is
 * taken over the *resolved* scenario (sim/scenario.ts `resolveScenario`: every default filled in), minus
 * name, description and seed, so spelling out a default value, renaming, or reordering keys does not
 * make a held-out scenario new.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinScenario, resolveScenario, type Scenario } from '../../sim/index.js';
import { validateAgainst } from '../schemas.js';
import { PACKAGE_ROOT } from '../version.js';
import { RaftNsError } from './errors.js';
import { sha256Hex } from './fs.js';

/** Every seed at or above this is reserved for held-out evaluation. */
export const HELDOUT_SEED_MIN = 900_000;

export const HELDOUT_SUITE_FILE = 'pipeline/evaluate/suites/heldout.json';

interface HeldOut {
  seeds: Set<number>;
  names: Set<string>;
  fingerprints: Set<string>;
}

let cached: HeldOut | null = null;

/**
 * What makes a scenario "the same" for leakage purposes: the resolved scenario but its name, description
 * and seed (a renamed copy, or one with defaults written out, is still held out).
 */
export function scenarioFingerprint(s: Scenario): string {
  const { name: _n, description: _d, seed: _s, ...rest } = resolveScenario(s);
  void _n; void _d; void _s;
  return sha256Hex(canonical(rest));
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The held-out seeds, names and fingerprints, read once from the bundled held-out suite. */
function heldOut(): HeldOut {
  if (cached) return cached;
  const path = join(PACKAGE_ROOT, HELDOUT_SUITE_FILE);
  const f = JSON.parse(readFileSync(path, 'utf8')) as {
    seeds: number[]; scenarios: Array<{ builtin?: string; scenario?: unknown }>; extra_scenarios?: unknown[];
    sweep?: { seeds: number[] }; timeline?: { seed: number };
  };
  const asScenario = (v: unknown, at: string): Scenario => {
    const r = validateAgainst<Scenario>('scenario', v);
    if (!r.ok) throw new Error(`bug: ${path} at ${at}: not a scenario (${r.issues[0]!.message})`);
    return r.value;
  };
  const all = [
    ...f.scenarios.map((e, i) => (e.builtin !== undefined ? builtinScenario(e.builtin)! : asScenario(e.scenario, `/scenarios/${i}`))),
    ...(f.extra_scenarios ?? []).map((e, i) => asScenario(e, `/extra_scenarios/${i}`)),
  ];
  cached = {
    seeds: new Set([...f.seeds, ...(f.sweep?.seeds ?? []), ...(f.timeline ? [f.timeline.seed] : [])]),
    names: new Set(all.map((x) => x.name)),
    fingerprints: new Set(all.map(scenarioFingerprint)),
  };
  return cached;
}

/** Why (scenario, seed) is held out, or null when it may become telemetry. */
export function heldOutReason(scenario: Scenario, seed: number): string | null {
  const r = heldOut();
  if (seed >= HELDOUT_SEED_MIN) return `seed ${seed} is in the reserved held-out range (>= ${HELDOUT_SEED_MIN})`;
  if (r.seeds.has(seed)) return `seed ${seed} is a held-out evaluation seed`;
  if (r.names.has(scenario.name) || scenario.name.startsWith('heldout-')) return `scenario ${scenario.name} belongs to the held-out suite`;
  if (r.fingerprints.has(scenarioFingerprint(scenario))) return `scenario ${scenario.name} has the parameters of a held-out scenario`;
  return null;
}

/**
 * Throws `evaluate.heldout` when (scenario, seed) belongs to the held-out suite.
 * @example assertNotHeldOut(scenario, seed); writeTelemetry(simulate(scenario, seed));
 */
export function assertNotHeldOut(scenario: Scenario, seed: number): void {
  const why = heldOutReason(scenario, seed);
  if (why !== null) {
    throw new RaftNsError('evaluate.heldout', `evaluate: refusing to generate training data from ${scenario.name} seed ${seed}: ${why} (${HELDOUT_SUITE_FILE})`);
  }
}
