/**
 * The training configuration: schemas/train-config.schema.json is the source of truth (every key has a
 * description and a default there; the TrainConfig type is generated from it into config.generated.ts);
 * this file turns a validated file plus CLI overrides into a resolved, fully-specified config that is
 * recorded in every run and checkpoint.
 */
import { readFileSync } from 'node:fs';
import { loadSchema, validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import type { TrainConfig } from './config.generated.js';

export type { TrainConfig };

/** The defaults, read from the schema so there is one place to change them. */
export function defaultTrainConfig(): TrainConfig {
  const props = loadSchema('train-config').properties as Record<string, { default: unknown }>;
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.default])) as unknown as TrainConfig;
}

/**
 * Validates a partial config (from a file, `source` names it in errors) and merges it over the defaults,
 * then applies `overrides` (CLI flags, also validated).
 */
export function resolveTrainConfig(partial: unknown, source: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  for (const [what, value] of [[source, partial], ['command-line options', overrides]] as const) {
    const v = validateAgainst<Partial<TrainConfig>>('train-config', value);
    if (!v.ok) {
      const issue = v.issues[0]!;
      throw new RaftNsError('train.config', `train: ${what}: at ${issue.path}: ${issue.message} (see schemas/train-config.schema.json)`);
    }
  }
  const cfg = { ...defaultTrainConfig(), ...(partial as Partial<TrainConfig>), ...overrides };
  if (cfg.q_range_ms && !(cfg.q_range_ms[0] > 0 && cfg.q_range_ms[1] >= cfg.q_range_ms[0] * 1.001)) {
    throw new RaftNsError('train.config', `train: ${source}: at /q_range_ms: [${cfg.q_range_ms.join(', ')}]; expected [lo, hi] ms with 0 < lo and hi ≥ 1.001·lo`);
  }
  return cfg;
}

/** Reads and resolves a config file (JSON). */
export function readTrainConfig(path: string | undefined, overrides: Partial<TrainConfig> = {}): TrainConfig {
  if (!path) return resolveTrainConfig({}, 'defaults', overrides);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new RaftNsError('train.config', `train: ${path}: cannot read a JSON config (${(err as Error).message})`, { cause: err });
  }
  return resolveTrainConfig(parsed, path, overrides);
}
