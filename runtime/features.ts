/**
 * The feature transform: telemetry signals → the model's four inputs. The single implementation, used by
 * `window` (training) and by the runtime engine (serving), so train and serve cannot drift apart.
 * See docs/CONTRACTS.md §3.
 */

/** Feature order of the model's input vector. */
export const FEATURE_NAMES = ['heartbeat_latency', 'log_replication_gap', 'rpc_retries', 'cpu_idle'] as const;
export const NUM_FEATURES = 4;

/** Human-readable transform per feature, recorded in manifests. */
export const FEATURE_TRANSFORMS: readonly string[] = [
  'log1p(heartbeat_latency_ms); null carries the last non-null value of the node, 0 before the first',
  'log1p(log_replication_gap)',
  'log1p(rpc_retries)',
  'cpu_idle_pct / 100',
];

/** Normalization fitted on the training split: z = clamp((raw - mean) / std, -clip, clip). */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
  clip: number;
}

/** The raw signals of one tick (null latency = no measurement yet / none this tick). */
export interface SignalSample {
  heartbeatLatencyMs: number | null;
  logReplicationGap: number;
  rpcRetries: number;
  cpuIdlePct: number;
}

/**
 * Per-stream transform state: carries the last non-null latency. Writes the normalized features into
 * `out` (length ≥ 4) at `offset`; allocation-free.
 */
export class FeatureState {
  private lastLatencyMs = 0;
  private seenLatency = false;

  reset(): void {
    this.lastLatencyMs = 0;
    this.seenLatency = false;
  }

  /** Raw (pre-normalization) features of one tick into out[offset..offset+4). */
  rawInto(s: SignalSample, out: Float32Array | Float64Array, offset = 0): void {
    if (s.heartbeatLatencyMs !== null) {
      this.lastLatencyMs = s.heartbeatLatencyMs;
      this.seenLatency = true;
    }
    out[offset] = this.seenLatency ? Math.log1p(this.lastLatencyMs) : 0;
    out[offset + 1] = Math.log1p(s.logReplicationGap);
    out[offset + 2] = Math.log1p(s.rpcRetries);
    out[offset + 3] = s.cpuIdlePct / 100;
  }

  /** Normalized features of one tick into out[offset..offset+4). */
  normalizedInto(s: SignalSample, norm: Normalization, out: Float32Array | Float64Array, offset = 0): void {
    this.rawInto(s, out, offset);
    normalizeInPlace(out, offset, norm);
  }
}

/** z = clamp((raw - mean) / std, -clip, clip) for the 4 features at out[offset..offset+4). */
export function normalizeInPlace(out: Float32Array | Float64Array, offset: number, norm: Normalization): void {
  for (let i = 0; i < NUM_FEATURES; i++) {
    const z = (out[offset + i]! - norm.mean[i]!) / norm.std[i]!;
    out[offset + i] = z < -norm.clip ? -norm.clip : z > norm.clip ? norm.clip : z;
  }
}
