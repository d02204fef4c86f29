/**
 * The windows folder on disk (docs/CONTRACTS.md §5): `manifest.json` (schemas/windows-manifest.schema.json)
 * and one `<split>.bin` per split, a sequence of fixed-size little-endian chunk records whose layout the
 * manifest spells out, so a reader in any language needs nothing but the manifest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';
import { validateAgainst } from '../schemas.js';
import { SPLIT_NAMES, type WindowSplit } from './types.js';
import type { SplitFractions, SplitName, TimeBlock } from './split.js';

export const WINDOWS_FORMAT = 'raft-ns-windows';
export const WINDOWS_FORMAT_VERSION = 1;

export interface RecordField {
  name: 'stream_id' | 'chunk_index' | 'x' | 'gap_ln' | 'censored' | 'lost' | 'w_gap' | 'w_lost' | 'jk_ln' | 'worst_rtt_ms';
  dtype: 'int32' | 'float32';
  shape: number[];
  byte_offset: number;
}

export interface RecordLayout {
  byte_length: number;
  endianness: 'little';
  fields: RecordField[];
}

/** How the gap labels were floored (schemas/windows-manifest.schema.json labels.floor). */
export interface LabelFloorRecord {
  rules: string;
  rules_sha256: string;
  heartbeat_interval_ms: number;
  absolute_floor_ms: number;
  rtt_window_ticks: number;
  floored_ticks: number;
}

/** One contiguous segment of one node stream within a split; its chunks are consecutive records. */
export interface StreamTableRow {
  stream_id: number;
  cluster_id: string;
  node_id: string;
  first_chunk: number;
  chunks: number;
  ticks: number;
  first_ts_ms: number;
  last_ts_ms: number;
}

export interface SplitEntry {
  file: string;
  sha256: string;
  byte_length: number;
  chunks: number;
  streams: number;
  /** Real ticks (padding excluded). */
  ticks: number;
  /** Ticks with a gap label (w_gap = 1). */
  supervised_ticks: number;
  censored_ticks: number;
  /** Ticks with a known leader_lost label (w_lost = 1), and how many of them are 1. */
  lost_known_ticks: number;
  lost_ticks: number;
  clusters: string[];
  stream_table: StreamTableRow[];
}

export interface WindowsManifest {
  format: typeof WINDOWS_FORMAT;
  format_version: typeof WINDOWS_FORMAT_VERSION;
  tool_version: string;
  seed: number;
  config: { window_len: number; stride: number; tick_ms: number; clip: number; fractions: SplitFractions };
  T: number;
  F: number;
  stride: number;
  /** `carried` when stride = T: chunk k+1 of a stream starts where chunk k ended, so (h, c) can be carried. */
  state: 'carried' | 'zero';
  feature_names: string[];
  normalization: { mean: number[]; std: number[]; clip: number; transforms: string[]; fitted_on: 'train'; ticks: number };
  labels: {
    definition: string;
    tau_independent: true;
    gap_ln_unit: 'ln(ms)';
    censoring: string;
    leader_lost: string;
    jk_ln: string;
    padding: string;
    worst_rtt_ms?: string;
    floor?: LabelFloorRecord | null;
    /** Which ticks carry the gap label (labels.ts GapVotes); absent = per-tick. */
    gap_votes?: 'per-tick' | 'per-gap';
  };
  input: {
    dataset: string;
    dataset_manifest_sha256: string;
    parts: Array<{ file: string; sha256: string }>;
    row_count: number;
  };
  split: {
    mode: 'cluster' | 'time';
    fractions: SplitFractions;
    seed: number;
    clusters?: Array<{ cluster_id: string; split: SplitName; hash: string }>;
    blocks?: TimeBlock[];
  };
  record: RecordLayout;
  splits: Record<SplitName, SplitEntry>;
}

/** Record layout for windows of T ticks: two int32 ids, then the per-tick float32 arrays. */
export function recordLayout(T: number, F: number): RecordLayout {
  const fields: RecordField[] = [];
  let offset = 0;
  const add = (name: RecordField['name'], dtype: RecordField['dtype'], shape: number[]): void => {
    fields.push({ name, dtype, shape, byte_offset: offset });
    offset += 4 * shape.reduce((a, b) => a * b, 1);
  };
  add('stream_id', 'int32', [1]);
  add('chunk_index', 'int32', [1]);
  add('x', 'float32', [T, F]);
  for (const name of ['gap_ln', 'censored', 'lost', 'w_gap', 'w_lost', 'jk_ln', 'worst_rtt_ms'] as const) add(name, 'float32', [T]);
  return { byte_length: offset, endianness: 'little', fields };
}

/**
 * Reads a windows folder: validates the manifest against its schema and every split file against its
 * sha256 and size, then decodes the splits.
 *
 * @example
 *   const { manifest, splits } = readWindows('windows/default');
 *   splits.train.x; // Float32Array [count, T, 4]
 */
export function readWindows(dir: string): { manifest: WindowsManifest; splits: Record<SplitName, WindowSplit> } {
  const manifestPath = join(dir, 'manifest.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new RaftNsError('window.manifest', `window: ${manifestPath}: cannot read a JSON manifest (${(err as Error).message})`, { cause: err });
  }
  const v = validateAgainst<WindowsManifest>('windows-manifest', parsed);
  if (!v.ok) {
    const first = v.issues[0]!;
    throw new RaftNsError('window.manifest', `window: ${manifestPath} at ${first.path}: ${first.message} (expected a windows manifest, ${v.issues.length} issue(s))`);
  }
  const manifest = v.value;
  const expected = recordLayout(manifest.T, manifest.F);
  if (JSON.stringify(expected) !== JSON.stringify(manifest.record)) {
    throw new RaftNsError('window.manifest', `window: ${manifestPath} at /record: layout differs from format_version ${WINDOWS_FORMAT_VERSION} for T=${manifest.T}, F=${manifest.F}`);
  }
  const splits = {} as Record<SplitName, WindowSplit>;
  for (const name of SPLIT_NAMES) {
    const entry = manifest.splits[name];
    const path = join(dir, entry.file);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new RaftNsError('window.file', `window: ${path}: cannot read the ${name} split (${(err as Error).message})`, { cause: err });
    }
    if (bytes.byteLength !== entry.byte_length || bytes.byteLength !== entry.chunks * manifest.record.byte_length) {
      throw new RaftNsError('window.file', `window: ${path}: ${bytes.byteLength} bytes; expected ${entry.chunks} chunks × ${manifest.record.byte_length} bytes`);
    }
    const sha = sha256Hex(bytes);
    if (sha !== entry.sha256) {
      throw new RaftNsError('window.sha256', `window: ${path}: sha256 ${sha}; expected ${entry.sha256} from the manifest (file changed or corrupt)`);
    }
    splits[name] = decodeSplit(name, bytes, entry.chunks, manifest.T, manifest.F, manifest.record);
  }
  return { manifest, splits };
}

/** Decodes `count` records into the column-major WindowSplit arrays. */
export function decodeSplit(name: SplitName, bytes: Uint8Array, count: number, T: number, F: number, layout: RecordLayout): WindowSplit {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const split: WindowSplit = {
    name, T, count,
    x: new Float32Array(count * T * F),
    gapLn: new Float32Array(count * T),
    censored: new Float32Array(count * T),
    lost: new Float32Array(count * T),
    wGap: new Float32Array(count * T),
    wLost: new Float32Array(count * T),
    streamId: new Int32Array(count),
    chunkIndex: new Int32Array(count),
    jkLn: new Float32Array(count * T),
    worstRttMs: new Float32Array(count * T).fill(Number.NaN),
  };
  const target: Record<RecordField['name'], Float32Array | Int32Array> = {
    stream_id: split.streamId, chunk_index: split.chunkIndex, x: split.x, gap_ln: split.gapLn, censored: split.censored,
    lost: split.lost, w_gap: split.wGap, w_lost: split.wLost, jk_ln: split.jkLn, worst_rtt_ms: split.worstRttMs,
  };
  for (const f of layout.fields) {
    const size = f.shape.reduce((a, b) => a * b, 1);
    const dst = target[f.name];
    for (let c = 0; c < count; c++) {
      let p = c * layout.byte_length + f.byte_offset;
      const base = c * size;
      if (f.dtype === 'int32') for (let i = 0; i < size; i++, p += 4) dst[base + i] = view.getInt32(p, true);
      else for (let i = 0; i < size; i++, p += 4) dst[base + i] = view.getFloat32(p, true);
    }
  }
  return split;
}
