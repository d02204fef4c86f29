/**
 * Evaluation suites (schemas/suite.schema.json): which scenarios × seeds every policy runs on, and the
 * held-out registry that keeps evaluation honest. `default` is the training distribution (its
 * `training_seeds` generate the training data); `heldout` uses seeds from a reserved range and parameter
 * values the training data never sees. Anything that generates training data calls
 * `assertNotHeldOut(scenario, seed)` first, so a held-out seed or scenario can never leak into a model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinScenario, type Scenario } from '../../sim/index.js';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';
import { PACKAGE_ROOT } from '../version.js';

import { HELDOUT_SEED_MIN } from '../util/heldout.js';

export { HELDOUT_SEED_MIN };

export const BUILTIN_SUITES = ['default', 'heldout', 'short'] as const;

export interface SuiteScenario {
  scenario: Scenario;
  tags: string[];
}

export interface Suite {
  name: string;
  description: string;
  /** Where it came from: `builtin:<name>` or the file path. */
  source: string;
  /** sha256 of the suite file's bytes. */
  sha256: string;
  seeds: number[];
  trainingSeeds: number[];
  /** Seeds no training data comes from: where `evaluate tune` chooses knobs (out of sample for the model). */
  tuningSeeds: number[];
  scenarios: SuiteScenario[];
  /** Scenarios used only by the sweep or the timeline, by name. */
  extra: Scenario[];
  sweep: { scenarios: string[]; seeds: number[] };
  timeline: { scenario: string; seed: number; node: string } | null;
}

interface SuiteFile {
  format: 'raft-ns-eval-suite';
  format_version: 1;
  name: string;
  description?: string;
  seeds: number[];
  training_seeds?: number[];
  tuning_seeds?: number[];
  scenarios: Array<{ builtin?: string; scenario?: unknown; tags?: string[] }>;
  extra_scenarios?: unknown[];
  sweep?: { scenarios: string[]; seeds: number[] };
  timeline?: { scenario: string; seed: number; node: string };
}

/** The folder of the bundled suites (pipeline/evaluate/suites/*.json, read from the package root). */
export function suitesDir(): string {
  return join(PACKAGE_ROOT, 'pipeline', 'evaluate', 'suites');
}

/**
 * Loads a suite by built-in name (`default`, `heldout`, `short`) or from a JSON file.
 * @example const s = loadSuite('heldout'); s.scenarios.length, s.seeds
 */
export function loadSuite(nameOrFile: string): Suite {
  const builtin = (BUILTIN_SUITES as readonly string[]).includes(nameOrFile);
  const path = builtin ? join(suitesDir(), `${nameOrFile}.json`) : nameOrFile;
  if (!existsSync(path)) {
    throw new RaftNsError('evaluate.suite', `evaluate: ${nameOrFile} is neither a built-in suite (${BUILTIN_SUITES.join(', ')}) nor a file`);
  }
  const bytes = readFileSync(path);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RaftNsError('evaluate.suite', `evaluate: ${path}: not valid JSON (${(err as Error).message}); expected a suite (schemas/suite.schema.json)`, { cause: err });
  }
  return suiteFromValue(value, path, builtin ? `builtin:${nameOrFile}` : path, sha256Hex(bytes));
}

/** Validates a parsed suite (schema, embedded scenarios, sweep/timeline references). `where` names it in errors. */
export function suiteFromValue(value: unknown, where: string, source = where, sha256 = sha256Hex(JSON.stringify(value))): Suite {
  const v = validateAgainst<SuiteFile>('suite', value);
  if (!v.ok) {
    const i = v.issues[0]!;
    throw new RaftNsError('evaluate.suite', `evaluate: ${where} at ${i.path}: ${i.message} (schemas/suite.schema.json)`);
  }
  const f = v.value;
  const scenarios = f.scenarios.map((e, i): SuiteScenario => {
    const tags = e.tags ?? [];
    if ((e.builtin === undefined) === (e.scenario === undefined)) {
      throw new RaftNsError('evaluate.suite', `evaluate: ${where} at /scenarios/${i}: expected exactly one of "builtin" or "scenario"`);
    }
    if (e.builtin !== undefined) {
      const s = builtinScenario(e.builtin);
      if (!s) throw new RaftNsError('evaluate.suite', `evaluate: ${where} at /scenarios/${i}/builtin: ${e.builtin} is not a built-in scenario (raft-ns simulate --list)`);
      return { scenario: s, tags };
    }
    return { scenario: checkScenario(e.scenario, `${where} at /scenarios/${i}/scenario`), tags };
  });
  const extra = (f.extra_scenarios ?? []).map((s, i) => checkScenario(s, `${where} at /extra_scenarios/${i}`));
  const names = new Set([...scenarios.map((s) => s.scenario.name), ...extra.map((s) => s.name)]);
  if (names.size !== scenarios.length + extra.length) throw new RaftNsError('evaluate.suite', `evaluate: ${where}: scenario names must be unique`);
  const sweep = f.sweep ?? { scenarios: scenarios.slice(0, 2).map((s) => s.scenario.name), seeds: f.seeds.slice(0, 1) };
  sweep.scenarios.forEach((n, i) => {
    if (!names.has(n)) throw new RaftNsError('evaluate.suite', `evaluate: ${where} at /sweep/scenarios/${i}: ${n} is not a scenario of this suite`);
  });
  if (f.timeline && !names.has(f.timeline.scenario)) {
    throw new RaftNsError('evaluate.suite', `evaluate: ${where} at /timeline/scenario: ${f.timeline.scenario} is not a scenario of this suite`);
  }
  // Knobs chosen on the runs a model was trained on would be chosen in sample: the two seed sets never meet.
  const training = new Set(f.training_seeds ?? []);
  (f.tuning_seeds ?? []).forEach((seed, i) => {
    if (training.has(seed)) throw new RaftNsError('evaluate.suite', `evaluate: ${where} at /tuning_seeds/${i}: seed is also a training seed; expected tuning seeds disjoint from training_seeds`);
    if (seed >= HELDOUT_SEED_MIN) throw new RaftNsError('evaluate.suite', `evaluate: ${where} at /tuning_seeds/${i}: seed is in the reserved held-out range; expected a seed below ${HELDOUT_SEED_MIN}`);
  });
  return {
    name: f.name, description: f.description ?? '', source, sha256,
    seeds: f.seeds, trainingSeeds: f.training_seeds ?? [], tuningSeeds: f.tuning_seeds ?? [], scenarios, extra, sweep, timeline: f.timeline ?? null,
  };
}

/** A scenario of this suite by name (suite scenarios first, then extras). */
export function suiteScenario(suite: Suite, name: string): Scenario {
  const s = suite.scenarios.find((x) => x.scenario.name === name)?.scenario ?? suite.extra.find((x) => x.name === name);
  if (!s) throw new RaftNsError('evaluate.suite', `evaluate: suite ${suite.name}: no scenario ${name}`);
  return s;
}

function checkScenario(value: unknown, where: string): Scenario {
  const v = validateAgainst<Scenario>('scenario', value);
  if (!v.ok) {
    const i = v.issues[0]!;
    throw new RaftNsError('evaluate.suite', `evaluate: ${where}${i.path}: ${i.message} (schemas/scenario.schema.json)`);
  }
  return v.value;
}

// --- The held-out registry: pipeline/util/heldout.ts (below every source stage, called where traces are written).
export { assertNotHeldOut, heldOutReason, scenarioFingerprint } from '../util/heldout.js';
