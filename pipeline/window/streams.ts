/**
 * Groups telemetry rows into node streams, (cluster_id, node_id) → columnar arrays in time order. Memory is
 * about 60 bytes per tick (typed arrays, leader ids interned per stream), never one object per row.
 */
import { RaftNsError } from '../util/errors.js';
import { ROLE_CODES, type RoleName, type StreamColumns } from './labels.js';

/**
 * The telemetry fields `window` reads (schemas/telemetry.schema.json). Structurally a subset of
 * `TelemetryRow` (pipeline/ingest/telemetry.ts), so ingest's rows can be passed as they are.
 */
export interface WindowInputRow {
  ts_ms: number;
  cluster_id: string;
  node_id: string;
  term: number;
  role: string;
  leader_id: string | null;
  heartbeat_latency_ms: number | null;
  log_replication_gap: number;
  rpc_retries: number;
  cpu_idle_pct: number;
  heartbeat_received: boolean;
  /** Only `restarted` matters here: a restarted process starts a new runtime, so a new segment. */
  event?: string | null;
}

/** A finished stream: its ids and its columns. */
export interface NodeStream extends StreamColumns {
  clusterId: string;
  nodeId: string;
  /** 1 where the row's event is `restarted`: the node process (and its runtime state) began anew there. */
  restart: Uint8Array;
}

class GrowingStream {
  length = 0;
  private capacity = 256;
  tsMs = new Float64Array(this.capacity);
  term = new Float64Array(this.capacity);
  leader = new Int32Array(this.capacity);
  role = new Uint8Array(this.capacity);
  heartbeat = new Uint8Array(this.capacity);
  heartbeatLatencyMs = new Float64Array(this.capacity);
  logReplicationGap = new Float64Array(this.capacity);
  rpcRetries = new Float64Array(this.capacity);
  cpuIdlePct = new Float64Array(this.capacity);
  restart = new Uint8Array(this.capacity);
  readonly leaderIds = new Map<string, number>();

  constructor(readonly clusterId: string, readonly nodeId: string) {}

  push(): number {
    if (this.length === this.capacity) this.grow();
    return this.length++;
  }

  private grow(): void {
    this.capacity *= 2;
    const g = <A extends Float64Array | Int32Array | Uint8Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(this.capacity);
      b.set(a);
      return b;
    };
    this.tsMs = g(this.tsMs);
    this.term = g(this.term);
    this.leader = g(this.leader);
    this.role = g(this.role);
    this.heartbeat = g(this.heartbeat);
    this.heartbeatLatencyMs = g(this.heartbeatLatencyMs);
    this.logReplicationGap = g(this.logReplicationGap);
    this.rpcRetries = g(this.rpcRetries);
    this.cpuIdlePct = g(this.cpuIdlePct);
    this.restart = g(this.restart);
  }

  finish(): NodeStream {
    const n = this.length;
    return {
      clusterId: this.clusterId,
      nodeId: this.nodeId,
      length: n,
      tsMs: this.tsMs.slice(0, n),
      term: this.term.slice(0, n),
      leader: this.leader.slice(0, n),
      role: this.role.slice(0, n),
      heartbeat: this.heartbeat.slice(0, n),
      heartbeatLatencyMs: this.heartbeatLatencyMs.slice(0, n),
      logReplicationGap: this.logReplicationGap.slice(0, n),
      rpcRetries: this.rpcRetries.slice(0, n),
      cpuIdlePct: this.cpuIdlePct.slice(0, n),
      restart: this.restart.slice(0, n),
    };
  }
}

/**
 * Collects rows (in any interleaving of streams, each stream in time order) into node streams.
 * `source` names the input in error messages; positions are 0-based row numbers over all rows added.
 */
export class StreamCollector {
  // cluster → node → stream: two lookups of existing strings, no key string built per row.
  private readonly streams = new Map<string, Map<string, GrowingStream>>();
  private rowIndex = 0;

  constructor(private readonly source: string) {}

  get rowCount(): number {
    return this.rowIndex;
  }

  add(row: WindowInputRow): void {
    const pos = this.rowIndex++;
    let nodes = this.streams.get(row.cluster_id);
    if (!nodes) this.streams.set(row.cluster_id, (nodes = new Map()));
    let s = nodes.get(row.node_id);
    if (!s) {
      s = new GrowingStream(row.cluster_id, row.node_id);
      nodes.set(row.node_id, s);
    }
    const role = ROLE_CODES[row.role as RoleName];
    if (role === undefined) this.fail(pos, `role "${row.role}"`, 'one of follower, pre-candidate, candidate, leader');
    if (!Number.isFinite(row.ts_ms)) this.fail(pos, `ts_ms ${row.ts_ms}`, 'a finite number');
    if (s.length > 0 && !(row.ts_ms > s.tsMs[s.length - 1]!)) {
      this.fail(pos, `ts_ms ${row.ts_ms} of node ${row.node_id} in cluster ${row.cluster_id}`,
        `a time after the node's previous tick (${s.tsMs[s.length - 1]})`);
    }
    const i = s.push();
    s.tsMs[i] = row.ts_ms;
    s.term[i] = row.term;
    let leader = -1;
    if (row.leader_id !== null) {
      leader = s.leaderIds.get(row.leader_id) ?? -1;
      if (leader < 0) {
        leader = s.leaderIds.size;
        s.leaderIds.set(row.leader_id, leader);
      }
    }
    s.leader[i] = leader;
    s.role[i] = role;
    s.heartbeat[i] = row.heartbeat_received ? 1 : 0;
    s.heartbeatLatencyMs[i] = row.heartbeat_latency_ms ?? Number.NaN;
    s.logReplicationGap[i] = row.log_replication_gap;
    s.rpcRetries[i] = row.rpc_retries;
    s.cpuIdlePct[i] = row.cpu_idle_pct;
    s.restart[i] = row.event === 'restarted' ? 1 : 0;
  }

  /** The streams sorted by (cluster_id, node_id) in code-unit order, so the output never depends on row order. */
  finish(): NodeStream[] {
    const all = [...this.streams.values()].flatMap((nodes) => [...nodes.values()].map((s) => s.finish()));
    all.sort((a, b) => cmp(a.clusterId, b.clusterId) || cmp(a.nodeId, b.nodeId));
    return all;
  }

  private fail(pos: number, what: string, expected: string): never {
    throw new RaftNsError('window.input', `window: ${this.source} row ${pos}: ${what}; expected ${expected}`);
  }
}

/** Code-unit string comparison (locale-independent, so every machine sorts the same way). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
