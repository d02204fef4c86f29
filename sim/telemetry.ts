/**
 * Telemetry and ground truth, stored column by column in growable typed arrays (a 60 s, 9-node run at
 * 10 ms ticks is 54K rows; objects per row would dominate the run time). Rows come out in the telemetry
 * schema (schemas/telemetry.schema.json, docs/CONTRACTS.md §1) as objects, NDJSON or CSV text; ground
 * truth (docs/CONTRACTS.md §1, keyed by cluster_id and ts_ms) is kept apart so no model sees it as input.
 */
import { EV_NAMES, ROLE_NAMES, type RoleName } from './node.js';

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

class Column<T extends Float64Array | Int32Array | Int8Array | Uint8Array> {
  data: T;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const bigger = this.make(Math.max(n, this.data.length * 2));
    bigger.set(this.data as never);
    this.data = bigger;
  }
}

export class TelemetryStore {
  numRows = 0;
  private readonly ts = new Column((n) => new Float64Array(n));
  private readonly node = new Column((n) => new Int8Array(n));
  private readonly term = new Column((n) => new Int32Array(n));
  private readonly role = new Column((n) => new Uint8Array(n));
  private readonly leader = new Column((n) => new Int8Array(n));
  private readonly hbLatency = new Column((n) => new Float64Array(n));
  private readonly gap = new Column((n) => new Int32Array(n));
  private readonly retries = new Column((n) => new Int32Array(n));
  private readonly cpuIdle = new Column((n) => new Float64Array(n));
  private readonly hbReceived = new Column((n) => new Uint8Array(n));
  private readonly event = new Column((n) => new Uint8Array(n));

  gtRows = 0;
  private readonly gtTs = new Column((n) => new Float64Array(n));
  private readonly gtAlive = new Column((n) => new Uint8Array(n));
  private readonly gtQuorum = new Column((n) => new Uint8Array(n));
  private readonly gtLeader = new Column((n) => new Int8Array(n));
  private readonly gtFaults = new Column((n) => new Int32Array(n));
  private readonly faultSets: string[][] = [[]];
  private readonly faultSetIndex = new Map<string, number>([['', 0]]);
  private lastFaults: readonly string[] | null = null;
  private lastFaultsIndex = 0;

  constructor(readonly clusterId: string, readonly nodeIds: readonly string[]) {}

  /** Appends a row; `hbLatencyMs` < 0 means null, `leader` < 0 means none. */
  push(tsMs: number, node: number, term: number, role: number, leader: number, hbLatencyMs: number, gap: number,
    retries: number, cpuIdlePct: number, hbReceived: boolean, event: number): void {
    const i = this.numRows;
    if (i >= this.ts.data.length) {
      const n = i + 1;
      for (const c of [this.ts, this.node, this.term, this.role, this.leader, this.hbLatency, this.gap, this.retries, this.cpuIdle, this.hbReceived, this.event]) c.ensure(n);
    }
    this.ts.data[i] = tsMs;
    this.node.data[i] = node;
    this.term.data[i] = term;
    this.role.data[i] = role;
    this.leader.data[i] = leader;
    this.hbLatency.data[i] = hbLatencyMs;
    this.gap.data[i] = gap;
    this.retries.data[i] = retries;
    this.cpuIdle.data[i] = cpuIdlePct;
    this.hbReceived.data[i] = hbReceived ? 1 : 0;
    this.event.data[i] = event;
    this.numRows = i + 1;
  }

  /** `faults` is interned by identity first: pass the same array while the active faults are unchanged. */
  pushGroundTruth(tsMs: number, alive: boolean, quorum: boolean, leader: number, faults: readonly string[]): void {
    const i = this.gtRows;
    if (i >= this.gtTs.data.length) for (const c of [this.gtTs, this.gtAlive, this.gtQuorum, this.gtLeader, this.gtFaults]) c.ensure(i + 1);
    this.gtTs.data[i] = tsMs;
    this.gtAlive.data[i] = alive ? 1 : 0;
    this.gtQuorum.data[i] = quorum ? 1 : 0;
    this.gtLeader.data[i] = leader;
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
    this.gtFaults.data[i] = this.lastFaultsIndex;
    this.gtRows = i + 1;
  }

  row(i: number): SimTelemetryRow {
    const hb = this.hbLatency.data[i]!;
    const leader = this.leader.data[i]!;
    return {
      ts_ms: this.ts.data[i]!,
      cluster_id: this.clusterId,
      node_id: this.nodeIds[this.node.data[i]!]!,
      term: this.term.data[i]!,
      role: ROLE_NAMES[this.role.data[i]!]!,
      leader_id: leader < 0 ? null : this.nodeIds[leader]!,
      heartbeat_latency_ms: hb < 0 ? null : hb,
      log_replication_gap: this.gap.data[i]!,
      rpc_retries: this.retries.data[i]!,
      cpu_idle_pct: this.cpuIdle.data[i]!,
      heartbeat_received: this.hbReceived.data[i] === 1,
      event: EV_NAMES[this.event.data[i]!]!,
    };
  }

  *rows(): IterableIterator<SimTelemetryRow> {
    for (let i = 0; i < this.numRows; i++) yield this.row(i);
  }

  groundTruthRow(i: number): GroundTruthRow {
    const leader = this.gtLeader.data[i]!;
    return {
      cluster_id: this.clusterId,
      ts_ms: this.gtTs.data[i]!,
      leader_alive: this.gtAlive.data[i] === 1,
      leader_quorum_connected: this.gtQuorum.data[i] === 1,
      true_leader_id: leader < 0 ? null : this.nodeIds[leader]!,
      active_faults: this.faultSets[this.gtFaults.data[i]!]!,
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
