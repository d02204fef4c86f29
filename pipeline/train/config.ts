/**
 * The training configuration: schemas/train-config.schema.json is the source of truth (every key has a
 * description and a default there); this file turns a validated file plus CLI overrides into a resolved,
 * fully-specified config that is recorded in every run and checkpoint.
 */
import { readFileSync } from 'node:fs';
import { loadSchema, validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';

export interface TrainConfig {
  epochs: number;
  batch_size: number;
  lr: number;
  warmup_steps: number;
  min_lr_ratio: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  grad_clip: number;
  patience: number;
  tau: number;
  lambda_lost: number;
  segment_chunks: number;
  max_steps_per_epoch: number;
  seed: number;
  engine: 'tfjs' | 'fused';
  backend: 'auto' | 'node' | 'wasm' | 'cpu';
  eval_batch_size: number;
  /** [lo, hi] ms the raw proposal exp(q) is constrained to (constraints.ts); null = unconstrained. */
  q_range_ms: [number, number] | null;
  /** `alive-leader`: the gap loss is masked where the leader was lost (outage gaps are not heartbeat gaps). */
  gap_labels: 'contract' | 'alive-leader';
  /** fused engine: worker threads (null = every core); part of what makes the weights reproducible. */
  threads: number | null;
  /** Weight of the monotonicity penalty (monotone.ts); 0 = off. */
  monotone_weight: number;
  /** Features the quantile head is pushed to be nondecreasing in. */
  monotone_features: Array<'heartbeat_latency' | 'log_replication_gap' | 'rpc_retries' | 'cpu_idle'>;
  /** Target one-step slope (ln ms per normalized unit) below which samples are penalized. */
  monotone_margin: number;
  /** Samples per step from data states and from probe states (each). */
  monotone_samples: number;
  /** Soft bound C on |c| after a step, and its hinge weight (0 = off); monotone.ts "cell bound". */
  cell_bound: number;
  cell_weight: number;
}

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
