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
  'log1p(max(heartbeat_latency_ms, silence_ms)): the effective heartbeat delay. Latency null carries the last non-null value of the node (0 before the first); silence_ms = now_ms − ts of the last tick with heartbeat_received from the current (leader, term), restarted at 0 when leader or term changes and at the first observation',
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

/**
 * The raw signals of one tick (null latency = no measurement yet / none this tick). `nowMs`,
 * `heartbeatReceived`, `term` and `leaderId` drive the silence clock of feature 0; the runtime's
 * TimeoutObservation carries them under the same names, the window builder from the trace columns.
 */
export interface SignalSample {
  /** End of the tick (ms, any origin; only differences are used). */
  nowMs: number;
  /** A heartbeat (or AppendEntries) from the current leader arrived in this tick. */
  heartbeatReceived: boolean;
  term: number;
  /** Current leader as the node sees it; only equality between ticks matters (ids are interned by the window). */
  leaderId: string | number | null;
  heartbeatLatencyMs: number | null;
  logReplicationGap: number;
  rpcRetries: number;
  cpuIdlePct: number;
}

/**
 * Per-stream transform state: carries the last non-null latency and the silence clock. Writes the
 * normalized features into `out` (length ≥ 4) at `offset`; allocation-free.
 *
 * Why feature 0 is max(latency, silence): a carried-forward latency does not change when the leader dies,
 * so the model could not tell an outage from a calm cluster (docs/EVALUATION.md, finding 1). The silence
 * since the current leader's last heartbeat grows exactly then, and equals 0 on every tick with a heartbeat,
 * so in a healthy cluster the feature is the latency as before. The width stays F = 4 (kernels, verify).
 */
export class FeatureState {
  private lastLatencyMs = 0;
  private seenLatency = false;
  /** Start of the current silence (ms); NaN before the first observation. */
  private silenceFromMs = Number.NaN;
  private term = Number.NaN;
  private leaderId: string | number | null = null;

  reset(): void {
    this.lastLatencyMs = 0;
    this.seenLatency = false;
    this.silenceFromMs = Number.NaN;
    this.term = Number.NaN;
    this.leaderId = null;
  }

  /** Raw (pre-normalization) features of one tick into out[offset..offset+4). */
  rawInto(s: SignalSample, out: Float32Array | Float64Array, offset = 0): void {
    if (s.heartbeatLatencyMs !== null) {
      this.lastLatencyMs = s.heartbeatLatencyMs;
      this.seenLatency = true;
    }
    // The clock restarts on a heartbeat, on a new (leader, term) — a new leader has not been silent yet — and
    // at the first observation (no history: no evidence of silence).
    // Leader ids compare by value: a String object (a caller's wrapper) is unwrapped, never compared by identity.
    const leaderId = s.leaderId !== null && typeof s.leaderId === 'object' ? String(s.leaderId) : s.leaderId;
    if (s.heartbeatReceived || Number.isNaN(this.silenceFromMs) || s.term !== this.term || leaderId !== this.leaderId) {
      this.silenceFromMs = s.nowMs;
      this.term = s.term;
      this.leaderId = leaderId;
    }
    const silenceMs = s.nowMs > this.silenceFromMs ? s.nowMs - this.silenceFromMs : 0;
    const latencyMs = this.seenLatency ? this.lastLatencyMs : 0;
    out[offset] = Math.log1p(latencyMs > silenceMs ? latencyMs : silenceMs);
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

