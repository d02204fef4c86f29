/**
 * The deterministic core of `window`: node streams in, split files and manifest out (as bytes). No I/O, no
 * clock, no randomness beyond the seed; the same streams, config and seed give the same bytes.
 */
import { FEATURE_NAMES, FEATURE_TRANSFORMS, FeatureState, NUM_FEATURES, normalizeInPlace, type Normalization, type SignalSample } from '../../runtime/features.js';
import { hardFloorMs, type CompiledRules, type GuardrailContext } from '../../runtime/rules.js';
import { RaftNsError } from '../util/errors.js';
import { TOOL_VERSION } from '../version.js';
import { SPLIT_NAMES } from './types.js';
import { labelStream, type GapVotes } from './labels.js';
import { planSplit, segmentStreams, type Segment, type SplitFractions, type SplitName } from './split.js';
import type { NodeStream } from './streams.js';
import {
  WINDOWS_FORMAT, WINDOWS_FORMAT_VERSION, recordLayout, type RecordLayout, type SplitEntry, type StreamTableRow, type WindowsManifest,
} from './format.js';

export interface WindowConfig {
  /** Ticks per chunk, T. */
  windowLen: number;
  /** Ticks between chunk starts; = T (the default) gives consecutive chunks for carried state. */
  stride: number;
  seed: number;
  fractions: SplitFractions;
  /** |z| bound after normalization (docs/CONTRACTS.md §3: 5). */
  clip: number;
  tickMs: number;
  /**
   * Raise every gap label to the Raft timing floor of its tick (null = raw gaps). Why: the timeout a follower
   * may arm is never below the floor (the guardrails enforce it), so the quantity worth learning is
   * max(gap, floor) — its τ-quantile is max(floor, quantile of the gap). A model trained on raw gaps proposes
   * values the guardrails must lift on most calm ticks (verify check d measured 38%).
   */
  labelFloor?: LabelFloorConfig | null;
  /** Which ticks carry the gap label (labels.ts GapVotes; default 'per-tick', the original contract). */
  gapVotes?: GapVotes;
}

export interface LabelFloorConfig {
  rules: CompiledRules;
  /** Name and sha256 of the rules file, recorded in the manifest. */
  rulesName: string;
  rulesSha256: string;
  /** The cluster's heartbeat interval (not in the telemetry; the simulator's default is 100 ms). */
  heartbeatIntervalMs: number;
}

/** The heartbeat interval the labels assume when none is given (the simulator's and etcd's default). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 100;

export const DEFAULT_WINDOW_LEN = 32;
export const DEFAULT_CLIP = 5;
/** A feature whose train std is below this is constant: it gets std 1 (z = raw − mean) instead of a blow-up. */
export const MIN_STD = 1e-6;

/** Where the rows came from, recorded in the manifest. */
export interface InputInfo {
  dataset: string;
  datasetManifestSha256: string;
  parts: Array<{ file: string; sha256: string }>;
  rowCount: number;
}

export interface WindowsBuild {
  manifest: WindowsManifest;
  /** `<split>.bin` contents, keyed by split. */
  files: Record<SplitName, Uint8Array>;
}

/**
 * Builds the windows of `streams`: split plan, labels per segment, normalization fitted on train, records.
 * `onProgress(doneTicks, totalTicks)` is called between segments.
 *
 * @example
 *   const build = buildWindows(collector.finish(), { windowLen: 32, stride: 32, seed: 1, fractions, clip: 5, tickMs: 100 }, input);
 */
export function buildWindows(
  streams: readonly NodeStream[],
  config: WindowConfig,
  input: InputInfo,
  onProgress?: (doneTicks: number, totalTicks: number) => void,
): WindowsBuild {
  checkConfig(config);
  const T = config.windowLen;
  const F = NUM_FEATURES;
  // 1. Split plan and segments (a stream is cut only at its cluster's block boundaries).
  const plan = planSplit(streams, config.fractions, config.seed, config.tickMs);
  const segments = segmentStreams(streams, plan);
  const totalTicks = segments.reduce((a, s) => a + s.end - s.start, 0);

  // 2. Normalization from the training segments only, every tick (the runtime observes every tick).
  const norm = fitNormalization(segments.filter((s) => s.split === 'train'), config.clip);

  // 3. Records per split.
  const layout = recordLayout(T, F);
  const files = {} as Record<SplitName, Uint8Array>;
  const entries = {} as Record<SplitName, SplitEntry>;
  const flooredTicks: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  let doneTicks = 0;
  for (const name of SPLIT_NAMES) {
    const mine = segments.filter((s) => s.split === name);
    const chunks = mine.reduce((a, s) => a + chunkStarts(s.end - s.start, T, config.stride).length, 0);
    const bytes = new Uint8Array(chunks * layout.byte_length);
    const entry: SplitEntry = {
      file: `${name}.bin`, sha256: '', byte_length: bytes.byteLength, chunks, streams: mine.length, ticks: 0,
      supervised_ticks: 0, censored_ticks: 0, lost_known_ticks: 0, lost_ticks: 0,
      clusters: [...new Set(mine.map((s) => s.stream.clusterId))], stream_table: [],
    };
    let chunk = 0;
    mine.forEach((seg, streamId) => {
      const row: StreamTableRow = {
        stream_id: streamId, cluster_id: seg.stream.clusterId, node_id: seg.stream.nodeId, first_chunk: chunk, chunks: 0,
        ticks: seg.end - seg.start, first_ts_ms: seg.stream.tsMs[seg.start]!, last_ts_ms: seg.stream.tsMs[seg.end - 1]!,
      };
      const written = encodeSegment(seg, streamId, chunk, bytes, layout, norm, config, entry);
      flooredTicks[name] += written.floored;
      row.chunks = written.chunks;
      chunk += written.chunks;
      entry.ticks += seg.end - seg.start;
      entry.stream_table.push(row);
      doneTicks += seg.end - seg.start;
      onProgress?.(doneTicks, totalTicks);
    });
    files[name] = bytes;
    entries[name] = entry;
  }

  const manifest: WindowsManifest = {
    format: WINDOWS_FORMAT,
    format_version: WINDOWS_FORMAT_VERSION,
    tool_version: TOOL_VERSION,
    seed: config.seed,
    config: { window_len: T, stride: config.stride, tick_ms: config.tickMs, clip: config.clip, fractions: { ...config.fractions } },
    T,
    F,
    stride: config.stride,
    state: config.stride === T ? 'carried' : 'zero',
    feature_names: [...FEATURE_NAMES],
    normalization: { mean: [...norm.mean], std: [...norm.std], clip: norm.clip, transforms: [...FEATURE_TRANSFORMS], fitted_on: 'train', ticks: norm.ticks },
    labels: {
      ...LABELS_DOC,
      gap_votes: config.gapVotes ?? 'per-tick',
      floor: config.labelFloor
        ? {
          rules: config.labelFloor.rulesName, rules_sha256: config.labelFloor.rulesSha256,
          heartbeat_interval_ms: config.labelFloor.heartbeatIntervalMs, absolute_floor_ms: config.labelFloor.rules.absoluteFloorMs,
          rtt_window_ticks: rttWindowOf(config), floored_ticks: SPLIT_NAMES.reduce((a, n) => a + flooredTicks[n], 0),
        }
        : null,
    },
    input: { dataset: input.dataset, dataset_manifest_sha256: input.datasetManifestSha256, parts: input.parts.map((p) => ({ ...p })), row_count: input.rowCount },
    split: plan.mode === 'cluster'
      ? { mode: 'cluster', fractions: { ...config.fractions }, seed: config.seed, clusters: plan.clusters }
      : { mode: 'time', fractions: { ...config.fractions }, seed: config.seed, blocks: plan.blocks },
    record: layout,
    splits: entries,
  };
  return { manifest, files };
}

const LABELS_DOC: WindowsManifest['labels'] = {
  definition:
    'docs/CONTRACTS.md §4. Follower tick t in (L, term): a = last heartbeat from L in term at or before t, b = the next one after t; gap = b − a ms. Masked (w = 0) when not a follower, no leader, or no a.',
  tau_independent: true,
  gap_ln_unit: 'ln(ms)',
  censoring:
    'no b: censored = 1 and gap_ln = ln(e + tick_ms − a), a lower bound, where e is the ts of the last tick of the stream segment in (L, term)',
  leader_lost:
    'lost = 0 when b exists; 1 when censored and a later tick shows another term or another non-null leader; unknown (w_lost = 0) when the segment ends first',
  jk_ln:
    'ln(SRTT + 4·RTTVAR), RFC 6298 (α = 1/8, β = 1/4) over inter-arrival gaps of heartbeats from one (leader, term), up to and including the tick; NaN before two arrivals or when the tick is not in the estimator\'s (leader, term)',
  worst_rtt_ms:
    'max heartbeat_latency_ms over the last rtt_window_ticks ticks of the segment including this one (null latencies skipped; 0 when none): the runtime guardrails\' worst RTT',
  padding: 'the final chunk of a stream segment is padded: x = 0, all labels and weights 0, jk_ln = NaN, worst_rtt_ms = NaN. A segment is one node stream within one split, cut again where the node restarted (event restarted); features, labels and state start afresh in each',
};

/** Chunk start offsets within a segment of `n` ticks: 0, stride, 2·stride, … up to the first chunk reaching the end. */
export function chunkStarts(n: number, T: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s < n; s += stride) {
    starts.push(s);
    if (s + T >= n) break;
  }
  return starts;
}

/** Throws a one-line RaftNsError for an option out of range (called before any input is read, and again here). */
export function checkConfig(c: WindowConfig): void {
  const bad = (what: string, expected: string): never => {
    throw new RaftNsError('window.config', `window: ${what}; expected ${expected}`);
  };
  if (!Number.isInteger(c.windowLen) || c.windowLen < 1 || c.windowLen > 4096) bad(`--window ${c.windowLen}`, 'an integer in [1, 4096]');
  if (!Number.isInteger(c.stride) || c.stride < 1) bad(`--stride ${c.stride}`, 'a positive integer (default: the window length)');
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) bad(`--seed ${c.seed}`, 'a non-negative integer');
  if (!(c.clip > 0)) bad(`clip ${c.clip}`, 'a positive number');
  if (!(c.tickMs > 0)) bad(`tick_ms ${c.tickMs}`, 'a positive number from the dataset manifest');
}

function sampleAt(s: NodeStream, i: number, out: SignalSample): SignalSample {
  const lat = s.heartbeatLatencyMs[i]!;
  const leader = s.leader[i]!;
  out.nowMs = s.tsMs[i]!;
  out.heartbeatReceived = s.heartbeat[i] === 1;
  out.term = s.term[i]!;
  out.leaderId = leader < 0 ? null : leader; // interned per stream: equality is all the silence clock needs
  out.heartbeatLatencyMs = Number.isNaN(lat) ? null : lat;
  out.logReplicationGap = s.logReplicationGap[i]!;
  out.rpcRetries = s.rpcRetries[i]!;
  out.cpuIdlePct = s.cpuIdlePct[i]!;
  return out;
}

/**
 * Mean and population std of the raw features over every tick of `segments`, two passes in float64.
 * Each segment starts from a fresh FeatureState, as the runtime does at its first observation.
 */
export function fitNormalization(segments: readonly Segment[], clip: number): Normalization & { ticks: number } {
  let n = 0;
  const sum = new Float64Array(NUM_FEATURES);
  const sq = new Float64Array(NUM_FEATURES);
  const raw = new Float64Array(NUM_FEATURES);
  const sample: SignalSample = { nowMs: 0, heartbeatReceived: false, term: 0, leaderId: null, heartbeatLatencyMs: null, logReplicationGap: 0, rpcRetries: 0, cpuIdlePct: 0 };
  const pass = (visit: () => void): void => {
    for (const seg of segments) {
      const fs = new FeatureState();
      for (let i = seg.start; i < seg.end; i++) {
        fs.rawInto(sampleAt(seg.stream, i, sample), raw);
        visit();
      }
    }
  };
  pass(() => {
    n++;
    for (let f = 0; f < NUM_FEATURES; f++) sum[f]! += raw[f]!;
  });
  if (n === 0) {
    throw new RaftNsError('window.empty', 'window: the training split has no ticks; expected a dataset with at least one node stream in train');
  }
  const mean = [...sum].map((v) => v / n);
  pass(() => {
    for (let f = 0; f < NUM_FEATURES; f++) sq[f]! += (raw[f]! - mean[f]!) ** 2;
  });
  const std = [...sq].map((v) => {
    const s = Math.sqrt(v / n);
    return s < MIN_STD ? 1 : s;
  });
  return { mean, std, clip, ticks: n };
}

/** The RTT window: the rules' when labels are floored, else the default rules' 64 ticks. */
function rttWindowOf(config: WindowConfig): number {
  return config.labelFloor ? config.labelFloor.rules.rttWindowTicks : 64;
}

/**
 * Worst heartbeat RTT over the last `w` ticks of ticks [start, end) of `latencyMs` (NaN = none that tick,
 * skipped; 0 when the window holds none) — the runtime's ring buffer (runtime/timeout.ts), restarted with
 * the segment as a node's provider starts afresh.
 */
export function worstRttOver(latencyMs: Float64Array, start: number, end: number, w: number): Float64Array {
  const out = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    let worst = 0;
    for (let j = Math.max(start, i - w + 1); j <= i; j++) if (latencyMs[j]! > worst) worst = latencyMs[j]!; // NaN compares false
    out[i - start] = worst;
  }
  return out;
}

/** Writes the chunks of one segment into `bytes` from record `firstChunk`; returns chunks and floored labels. */
function encodeSegment(
  seg: Segment, streamId: number, firstChunk: number, bytes: Uint8Array, layout: RecordLayout,
  norm: Normalization, config: WindowConfig, entry: SplitEntry,
): { chunks: number; floored: number } {
  const T = config.windowLen;
  const n = seg.end - seg.start;
  const labels = labelStream(seg.stream, config.tickMs, seg.start, seg.end, config.gapVotes ?? 'per-tick');
  const worstRtt = worstRttOver(seg.stream.heartbeatLatencyMs, seg.start, seg.end, rttWindowOf(config));
  // Floor the gap labels (WindowConfig.labelFloor: why). A censored lower bound L becomes max(L, floor): still
  // a lower bound of max(gap, floor).
  let floored = 0;
  if (config.labelFloor) {
    const lf = config.labelFloor;
    const ctx: GuardrailContext = { role: 'follower', heartbeatIntervalMs: lf.heartbeatIntervalMs, worstRttMs: 0, smoothedRttMs: 0, clusterSize: 1, peersReachable: 0, survivedSilenceMs: 0, steppedDownThisTerm: false, previousMs: Number.NaN };
    for (let i = 0; i < n; i++) {
      if (labels.wGap[i]! === 0) continue;
      ctx.worstRttMs = worstRtt[i]!;
      const floorLn = Math.log(hardFloorMs(lf.rules, ctx));
      if (labels.gapLn[i]! < floorLn) {
        labels.gapLn[i] = floorLn;
        floored++;
      }
    }
  }
  // Features of every tick, in order from a fresh state (the runtime's view of this segment).
  const x = new Float32Array(n * NUM_FEATURES);
  const buf = new Float64Array(NUM_FEATURES);
  const fs = new FeatureState();
  const sample: SignalSample = { nowMs: 0, heartbeatReceived: false, term: 0, leaderId: null, heartbeatLatencyMs: null, logReplicationGap: 0, rpcRetries: 0, cpuIdlePct: 0 };
  for (let i = 0; i < n; i++) {
    fs.rawInto(sampleAt(seg.stream, seg.start + i, sample), buf);
    normalizeInPlace(buf, 0, norm);
    for (let f = 0; f < NUM_FEATURES; f++) x[i * NUM_FEATURES + f] = buf[f]!;
    entry.supervised_ticks += labels.wGap[i]!;
    entry.censored_ticks += labels.censored[i]! & labels.wGap[i]!;
    entry.lost_known_ticks += labels.wLost[i]!;
    entry.lost_ticks += labels.lost[i]! & labels.wLost[i]!;
  }
  const off = Object.fromEntries(layout.fields.map((f) => [f.name, f.byte_offset])) as Record<string, number>;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const starts = chunkStarts(n, T, config.stride);
  starts.forEach((s0, k) => {
    const base = (firstChunk + k) * layout.byte_length;
    view.setInt32(base + off.stream_id!, streamId, true);
    view.setInt32(base + off.chunk_index!, k, true);
    for (let t = 0; t < T; t++) {
      const i = s0 + t;
      const real = i < n;
      for (let f = 0; f < NUM_FEATURES; f++) view.setFloat32(base + off.x! + 4 * (t * NUM_FEATURES + f), real ? x[i * NUM_FEATURES + f]! : 0, true);
      view.setFloat32(base + off.gap_ln! + 4 * t, real ? labels.gapLn[i]! : 0, true);
      view.setFloat32(base + off.censored! + 4 * t, real ? labels.censored[i]! : 0, true);
      view.setFloat32(base + off.lost! + 4 * t, real ? labels.lost[i]! : 0, true);
      view.setFloat32(base + off.w_gap! + 4 * t, real ? labels.wGap[i]! : 0, true);
      view.setFloat32(base + off.w_lost! + 4 * t, real ? labels.wLost[i]! : 0, true);
      view.setFloat32(base + off.jk_ln! + 4 * t, real ? labels.jkLn[i]! : Number.NaN, true);
      view.setFloat32(base + off.worst_rtt_ms! + 4 * t, real ? worstRtt[i]! : Number.NaN, true);
    }
  });
  return { chunks: starts.length, floored };
}
