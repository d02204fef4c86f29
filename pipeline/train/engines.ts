/**
 * The engine registry: name → factory. Adding an engine is one entry here.
 */
import { RaftNsError } from '../util/errors.js';
import type { TrainEngine } from './engine.js';
import type { TfjsBackendName } from './tfjs-engine.js';

export interface EngineOptions {
  /** tfjs backend (`auto` = first that loads); other engines may ignore it. */
  backend: 'auto' | TfjsBackendName;
  /** fused: worker threads (null = every core). The weights are bit-identical for a given seed AND count. */
  threads?: number | null;
}

export type EngineFactory = (opts: EngineOptions) => Promise<TrainEngine>;

export const ENGINES: Record<string, EngineFactory> = {
  // Lazy imports: TensorFlow.js (and the fused kernels) load only when an engine is made.
  tfjs: async (o) => (await import('./tfjs-engine.js')).makeTfjsEngine({ backend: o.backend === 'auto' ? undefined : o.backend }),
  fused: async (o) => (await import('./fused/index.js')).createFusedEngine({ threads: o.threads ?? undefined }),
};

export async function makeEngine(name: string, opts: EngineOptions): Promise<TrainEngine> {
  const factory = ENGINES[name];
  if (!factory) {
    throw new RaftNsError('train.engine', `train: unknown or unavailable engine "${name}" (available: ${Object.keys(ENGINES).join(', ')})`);
  }
  return factory(opts);
}
