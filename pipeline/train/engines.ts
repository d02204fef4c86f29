/**
 * The engine registry: name → factory. Adding an engine is one entry here.
 */
import { RaftNsError } from '../util/errors.js';
import type { TrainEngine } from './engine.js';
import { makeTfjsEngine, type TfjsBackendName } from './tfjs-engine.js';

export interface EngineOptions {
  /** tfjs backend (`auto` = first that loads); other engines may ignore it. */
  backend: 'auto' | TfjsBackendName;
}

export type EngineFactory = (opts: EngineOptions) => Promise<TrainEngine>;

export const ENGINES: Record<string, EngineFactory> = {
  tfjs: (o) => makeTfjsEngine({ backend: o.backend === 'auto' ? undefined : o.backend }),
  // Lazy: the fused engine's kernels and worker threads load only when asked for.
  fused: async () => (await import('./fused/index.js')).createFusedEngine(),
};

export async function makeEngine(name: string, opts: EngineOptions): Promise<TrainEngine> {
  const factory = ENGINES[name];
  if (!factory) {
    throw new RaftNsError('train.engine', `train: unknown or unavailable engine "${name}" (available: ${Object.keys(ENGINES).join(', ')})`);
  }
  return factory(opts);
}
