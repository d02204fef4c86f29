/**
 * Telemetry and ground truth, stored column by column in growable typed arrays (a 60 s, 9-node run at
 * 10 ms ticks is 54K rows; objects per row would dominate the run time). Rows come out in the telemetry
 * schema (schemas/telemetry.schema.json, docs/CONTRACTS.md §1) as objects, NDJSON or CSV text; ground
 * truth (docs/CONTRACTS.md §1, keyed by cluster_id and ts_ms) is kept apart so no model sees it as input.
 */
import { grown } from './grown.js';
import { EV_NAMES, ROLE_NAMES, type RoleName } from './node-host.js';

/** One telemetry row, exactly the schema's fields (mirrors pipeline/ingest/telemetry.ts's TelemetryRow). */
export interface SimTelemetryRow {
  ts_ms: number;
  cluster_id: string;
  node_id: string;
  term: number;
  role: RoleName;
  leader_id: string | null;
  heartbeat_latency_ms: number | null;
  log_replication_gap: number;
  rpc_retries: number;
  cpu_idle_pct: number;
  heartbeat_received: boolean;
  event: Exclude<(typeof EV_NAMES)[number], null> | null;
}

/** One ground-truth row per cluster tick. */
export interface GroundTruthRow {
  cluster_id: string;
  ts_ms: number;
  /** A node that believes it leads (highest term among them) is up. */
  leader_alive: boolean;
  /** That leader can exchange messages both ways with a quorum (itself included). */
  leader_quorum_connected: boolean;
  true_leader_id: string | null;
  /** Active injected faults, e.g. `partition:n2`, `cpu:n1`. */
  active_faults: string[];
}

/** Column order of telemetry CSV/NDJSON output (the schema's property order). */
export const TELEMETRY_COLUMNS = [
  'ts_ms', 'cluster_id', 'node_id', 'term', 'role', 'leader_id', 'heartbeat_latency_ms', 'log_replication_gap',
  'rpc_retries', 'cpu_idle_pct', 'heartbeat_received', 'event',
] as const;

export class TelemetryStore {
  numRows = 0;
  // The columns are typed arrays held directly (a row is one store per column, once per node per tick).
  // Invariant: every telemetry column has length `capacity`, every ground-truth column `gtCapacity`.
  private capacity: number;
  private ts: Float64Array;
  private node: Int8Array;
  private term: Int32Array;
  private role: Uint8Array;
  private leader: Int8Array;
  private hbLatency: Float64Array;
  private gap: Int32Array;
  private retries: Int32Array;
  private cpuIdle: Float64Array;
  private hbReceived: Uint8Array;
  private event: Uint8Array;

  gtRows = 0;
  private gtCapacity: number;
  private gtTs: Float64Array;
  private gtAlive: Uint8Array;
  private gtQuorum: Uint8Array;
  private gtLeader: Int8Array;
  private gtFaults: Int32Array;
  private readonly faultSets: string[][] = [[]];
  private readonly faultSetIndex = new Map<string, number>([['', 0]]);
  private lastFaults: readonly string[] | null = null;
  private lastFaultsIndex = 0;

  /**
   * `expectedTicks`: ground-truth rows the run will likely write (one per tick; telemetry rows are at most
   * that times the nodes). Only a capacity hint, capped, so a known-length run grows no column.
   */
  constructor(readonly clusterId: string, readonly nodeIds: readonly string[], expectedTicks = 0) {
    const hint = expectedTicks > 0 ? Math.ceil(expectedTicks) : 0; // NaN: no hint
    const ticks = Math.min(Math.max(hint, 1024), 1 << 18);
    const rows = Math.min(Math.max(ticks * nodeIds.length, 1024), 1 << 21);
    this.capacity = rows;
    this.ts = new Float64Array(rows);
    this.node = new Int8Array(rows);
    this.term = new Int32Array(rows);
    this.role = new Uint8Array(rows);
    this.leader = new Int8Array(rows);
    this.hbLatency = new Float64Array(rows);
    this.gap = new Int32Array(rows);
    this.retries = new Int32Array(rows);
    this.cpuIdle = new Float64Array(rows);
    this.hbReceived = new Uint8Array(rows);
    this.event = new Uint8Array(rows);
    this.gtCapacity = ticks;
    this.gtTs = new Float64Array(ticks);
    this.gtAlive = new Uint8Array(ticks);
    this.gtQuorum = new Uint8Array(ticks);
    this.gtLeader = new Int8Array(ticks);
    this.gtFaults = new Int32Array(ticks);
  }

  /** Appends a row; `hbLatencyMs` < 0 means null, `leader` < 0 means none. */
  push(tsMs: number, node: number, term: number, role: number, leader: number, hbLatencyMs: number, gap: number,
    retries: number, cpuIdlePct: number, hbReceived: boolean, event: number): void {
    const i = this.numRows;
    if (i >= this.capacity) this.grow();
    this.ts[i] = tsMs;
    this.node[i] = node;
    this.term[i] = term;
    this.role[i] = role;
    this.leader[i] = leader;
    this.hbLatency[i] = hbLatencyMs;
    this.gap[i] = gap;
    this.retries[i] = retries;
    this.cpuIdle[i] = cpuIdlePct;
    this.hbReceived[i] = hbReceived ? 1 : 0;
    this.event[i] = event;
    this.numRows = i + 1;
  }

  private grow(): void {
    const n = this.capacity * 2;
    this.capacity = n;
    this.ts = grown(this.ts, n);
    this.node = grown(this.node, n);
    this.term = grown(this.term, n);
    this.role = grown(this.role, n);
    this.leader = grown(this.leader, n);
    this.hbLatency = grown(this.hbLatency, n);
    this.gap = grown(this.gap, n);
    this.retries = grown(this.retries, n);
    this.cpuIdle = grown(this.cpuIdle, n);
    this.hbReceived = grown(this.hbReceived, n);
    this.event = grown(this.event, n);
  }

  /** `faults` is interned by identity first: pass the same array while the active faults are unchanged. */
  pushGroundTruth(tsMs: number, alive: boolean, quorum: boolean, leader: number, faults: readonly string[]): void {
    const i = this.gtRows;
    if (i >= this.gtCapacity) {
      const n = this.gtCapacity * 2;
      this.gtCapacity = n;
      this.gtTs = grown(this.gtTs, n);
      this.gtAlive = grown(this.gtAlive, n);
      this.gtQuorum = grown(this.gtQuorum, n);
      this.gtLeader = grown(this.gtLeader, n);
      this.gtFaults = grown(this.gtFaults, n);
    }
    this.gtTs[i] = tsMs;
    this.gtAlive[i] = alive ? 1 : 0;
    this.gtQuorum[i] = quorum ? 1 : 0;
    this.gtLeader[i] = leader;
    if (faults !== this.lastFaults) {
      const key = faults.join(';');
      let k = this.faultSetIndex.get(key);
      if (k === undefined) {
        k = this.faultSets.length;
        this.faultSets.push(faults.slice());
        this.faultSetIndex.set(key, k);
      }
      this.lastFaults = faults;
      this.lastFaultsIndex = k;
    }
    this.gtFaults[i] = this.lastFaultsIndex;
    this.gtRows = i + 1;
  }

  row(i: number): SimTelemetryRow {
    const hb = this.hbLatency[i]!;
    const leader = this.leader[i]!;
    return {
      ts_ms: this.ts[i]!,
      cluster_id: this.clusterId,
      node_id: this.nodeIds[this.node[i]!]!,
      term: this.term[i]!,
      role: ROLE_NAMES[this.role[i]!]!,
      leader_id: leader < 0 ? null : this.nodeIds[leader]!,
      heartbeat_latency_ms: hb < 0 ? null : hb,
      log_replication_gap: this.gap[i]!,
      rpc_retries: this.retries[i]!,
      cpu_idle_pct: this.cpuIdle[i]!,
      heartbeat_received: this.hbReceived[i] === 1,
      event: EV_NAMES[this.event[i]!]!,
    };
  }

  *rows(): IterableIterator<SimTelemetryRow> {
    for (let i = 0; i < this.numRows; i++) yield this.row(i);
  }

  groundTruthRow(i: number): GroundTruthRow {
    const leader = this.gtLeader[i]!;
    return {
      cluster_id: this.clusterId,
      ts_ms: this.gtTs[i]!,
      leader_alive: this.gtAlive[i] === 1,
      leader_quorum_connected: this.gtQuorum[i] === 1,
      true_leader_id: leader < 0 ? null : this.nodeIds[leader]!,
      active_faults: this.faultSets[this.gtFaults[i]!]!,
    };
  }

  *groundTruthRows(): IterableIterator<GroundTruthRow> {
    for (let i = 0; i < this.gtRows; i++) yield this.groundTruthRow(i);
  }

  /** Telemetry rows [from, to) as NDJSON text (one JSON object per line, schema key order). */
  toNdjson(from = 0, to = this.numRows): string {
    const parts: string[] = [];
    for (let i = from; i < to; i++) parts.push(JSON.stringify(this.row(i)));
    return parts.length > 0 ? `${parts.join('\n')}\n` : '';
  }

  /** Telemetry rows [from, to) as CSV text (with the header line unless `header` is false); null is an empty field. */
  toCsv(from = 0, to = this.numRows, header = true): string {
    const parts: string[] = header ? [TELEMETRY_COLUMNS.join(',')] : [];
    for (let i = from; i < to; i++) {
      const r = this.row(i);
      parts.push([
        r.ts_ms, csvText(r.cluster_id), csvText(r.node_id), r.term, r.role, r.leader_id === null ? '' : csvText(r.leader_id),
        r.heartbeat_latency_ms ?? '', r.log_replication_gap, r.rpc_retries, r.cpu_idle_pct, r.heartbeat_received, r.event ?? '',
      ].join(','));
    }
    return parts.length > 0 ? `${parts.join('\n')}\n` : '';
  }

  groundTruthNdjson(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.gtRows; i++) parts.push(JSON.stringify(this.groundTruthRow(i)));
    return parts.length > 0 ? `${parts.join('\n')}\n` : '';
  }
}

function csvText(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
