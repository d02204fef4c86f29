/**
 * `raft-ns infer`: the inference smoke test. Loads an artifact through the runtime (raft-ns/runtime), checks
 * its golden vectors, then replays a telemetry trace tick by tick through one NeuroSymbolicTimeout per node
 * and reports the timeouts chosen, fallbacks and rule activations. A failure is data in the report; the CLI
 * shell turns `ok: false` into a non-zero exit.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../ingest/ingest.js';
import { readDataset } from '../ingest/read.js';
import type { TelemetryRow } from '../ingest/telemetry.js';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import { checkGolden, parseGolden, type GoldenReport } from '../../runtime/golden.js';
import { loadArtifactFromDir } from '../../runtime/node-loader.js';
import { RuntimeError } from '../../runtime/errors.js';
import type { Precision } from '../../runtime/artifact.js';
import type { KernelChoice } from '../../runtime/engine.js';
import { wasmStepAvailable } from '../../runtime/wasm-kernel.js';
import { DEFAULT_RULES } from '../../runtime/default-rules.js';
import { compileRules, type CompiledRules } from '../../runtime/rules.js';
import { makeSharedModel, NeuroSymbolicTimeout, type FallbackReason, type TimeoutObservation } from '../../runtime/timeout.js';

export interface InferOptions {
  /** A dataset folder (output of ingest) or a telemetry file (CSV / NDJSON / Arrow / Parquet). */
  tracePath?: string;
  /** Safety-rules file; default: the embedded default rules. */
  rulesPath?: string;
  /** Precision path served; default int8 (what verify proves). */
  precision?: Precision;
  /** Leader heartbeat interval of the traced cluster (not a telemetry column). Default 100 ms (etcd). */
  heartbeatIntervalMs?: number;
  /** Golden tolerance; default 1e-5. */
  goldenTolerance?: number;
  /** Kernel serving the trace: auto (WebAssembly SIMD where available), wasm or js. Golden vectors run on both. */
  kernel?: KernelChoice;
  /** Ed25519 public key (SPKI PEM text): the artifact's manifest.sig must verify under it (runtime/signature.ts). */
  publicKeyPem?: string;
}

export interface TimeoutStats {
  count: number;
  minMs: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

export interface InferReport {
  ok: boolean;
  failures: string[];
  tool_version: string;
  artifact: { dir: string; name: string; version: string; weights_sha256: string; precision: Precision; kernel: 'js' | 'wasm' };
  rules: { name: string; source: string; sha256: string; floor_ms: number; ceiling_ms: number };
  /** Golden vectors on the exact JS kernel and, where available, on the WebAssembly SIMD kernel. */
  golden: GoldenReport[] | null;
  trace: { path: string; rows: number; nodes: number; tick_ms: number; heartbeat_interval_ms: number } | null;
  timeouts: TimeoutStats | null;
  /** Ticks whose timeout left [floor, ceiling] (must be 0). */
  out_of_bounds: number;
  fallback_count: number;
  fallbacks: Record<FallbackReason, number>;
  rule_activations: Record<string, number>;
}

export async function infer(artifactDir: string, options: InferOptions = {}): Promise<InferReport> {
  const failures: string[] = [];
  const art = await wrapRuntime(() => loadArtifactFromDir(artifactDir, options.publicKeyPem !== undefined ? { publicKeyPem: options.publicKeyPem } : {}));
  const precision: Precision = options.precision ?? (art.int8 ? 'int8' : 'float32');
  if (precision === 'int8' && !art.int8) throw new RaftNsError('infer.precision', `infer: ${artifactDir}/manifest.json has no int8 tensors; use --precision float32`);
  const { rules, info } = loadRules(options.rulesPath);

  let golden: GoldenReport[] | null = null;
  const goldenPath = join(artifactDir, 'golden.json');
  if (existsSync(goldenPath)) {
    const parsed = await wrapRuntime(async () => parseGolden(readFileSync(goldenPath, 'utf8'), goldenPath));
    const kernels: KernelChoice[] = wasmStepAvailable() ? ['js', 'wasm'] : ['js'];
    golden = kernels.map((k) => checkGolden(art, parsed.cases, options.goldenTolerance ?? 1e-5, k));
    for (const g of golden) {
      if (g.ok) continue;
      const f = g.failures[0]!;
      failures.push(`golden (${g.kernel} kernel): ${g.failures.length}${g.failures.length === 20 ? '+' : ''} outputs off by more than ${g.tolerance} (first: ${f.case} tick ${f.tick} ${f.precision} ${f.output} expected ${f.expected} got ${f.got})`);
    }
  }
  const model = makeSharedModel(art, precision, options.kernel ?? 'auto');

  const report: InferReport = {
    ok: true,
    failures,
    tool_version: TOOL_VERSION,
    artifact: { dir: artifactDir, name: art.manifest.name, version: art.manifest.version, weights_sha256: art.weightsSha256, precision, kernel: model.lstm.kernel },
    rules: { ...info, floor_ms: rules.absoluteFloorMs, ceiling_ms: rules.ceilingMs },
    golden,
    trace: null,
    timeouts: null,
    out_of_bounds: 0,
    fallback_count: 0,
    fallbacks: { 'no-model': 0, 'invalid-input': 0, 'outside-domain': 0, 'engine-fault': 0 },
    rule_activations: Object.fromEntries(rules.rules.map((r) => [r.id, 0])),
  };

  if (options.tracePath !== undefined) {
    const hbMs = options.heartbeatIntervalMs ?? 100;
    await withDataset(options.tracePath, async (dir) => {
      const ds = await readDataset(dir);
      // Pass 1: cluster sizes (distinct nodes per cluster), needed by the pre-vote rule.
      const nodesOf = new Map<string, Set<string>>();
      for await (const rows of ds.batches) for (const r of rows) getOr(nodesOf, r.cluster_id, () => new Set()).add(r.node_id);
      // Pass 2: one provider per node, rows in file order (per-node time order is guaranteed by ingest).
      const policies = new Map<string, NeuroSymbolicTimeout>();
      const o: TimeoutObservation = {
        nowMs: 0, tickMs: ds.manifest.tick_ms, role: 'follower', term: 0, leaderId: null, heartbeatLatencyMs: null, logReplicationGap: 0,
        rpcRetries: 0, cpuIdlePct: 0, heartbeatReceived: false, clusterSize: 1, peersReachable: 0, heartbeatIntervalMs: hbMs,
      };
      let timeouts = new Float64Array(1 << 16);
      let n = 0;
      for await (const rows of ds.batches) {
        for (const r of rows) {
          const key = `${r.cluster_id}\u0000${r.node_id}`;
          // Seeded by the node's order of appearance: the same trace gives the same report.
          const p = getOr(policies, key, () => new NeuroSymbolicTimeout({ model, rules, randomization: { seed: policies.size + 1 } }));
          fillObservation(o, r, nodesOf.get(r.cluster_id)!.size);
          p.observe(o);
          const t = p.electionTimeoutMs();
          if (!(t >= rules.absoluteFloorMs && t <= rules.ceilingMs)) report.out_of_bounds++;
          if (n === timeouts.length) {
            const bigger = new Float64Array(n * 2);
            bigger.set(timeouts);
            timeouts = bigger;
          }
          timeouts[n++] = t;
        }
      }
      for (const p of policies.values()) {
        const e = p.explain();
        report.fallback_count += e.fallbackCount;
        for (const k of Object.keys(report.fallbacks) as FallbackReason[]) report.fallbacks[k] += e.fallbackCounts[k];
        for (const [id, c] of Object.entries(e.ruleActivationCounts)) report.rule_activations[id] = (report.rule_activations[id] ?? 0) + c;
      }
      report.trace = { path: options.tracePath!, rows: n, nodes: policies.size, tick_ms: ds.manifest.tick_ms, heartbeat_interval_ms: hbMs };
      report.timeouts = stats(timeouts.subarray(0, n));
    });
    if (report.out_of_bounds > 0) failures.push(`bounds: ${report.out_of_bounds} timeouts outside [${rules.absoluteFloorMs}, ${rules.ceilingMs}] ms`);
  }
  report.ok = failures.length === 0;
  return report;
}

/**
 * TelemetryRow → TimeoutObservation, in place. The trace has no reachability column, so a node is taken to
 * reach every peer (the pre-vote rule then never fires on replays; the simulator's closed loop exercises it).
 */
function fillObservation(o: TimeoutObservation, r: TelemetryRow, clusterSize: number): void {
  o.nowMs = r.ts_ms;
  o.role = r.role;
  o.term = r.term;
  o.leaderId = r.leader_id;
  o.heartbeatLatencyMs = r.heartbeat_latency_ms;
  o.logReplicationGap = r.log_replication_gap;
  o.rpcRetries = r.rpc_retries;
  o.cpuIdlePct = r.cpu_idle_pct;
  o.heartbeatReceived = r.heartbeat_received;
  o.clusterSize = clusterSize;
  o.peersReachable = clusterSize - 1;
}

function stats(v: Float64Array): TimeoutStats | null {
  if (v.length === 0) return null;
  const s = Float64Array.from(v).sort();
  const q = (p: number): number => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { count: s.length, minMs: s[0]!, medianMs: q(0.5), p99Ms: q(0.99), maxMs: s[s.length - 1]! };
}

function getOr<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

function loadRules(path: string | undefined): { rules: CompiledRules; info: { name: string; source: string; sha256: string } } {
  if (path === undefined) {
    return { rules: compileRules(DEFAULT_RULES, 'embedded default rules'), info: { name: DEFAULT_RULES.name, source: 'embedded default (runtime/default-rules.ts)', sha256: sha256Hex(JSON.stringify(DEFAULT_RULES)) } };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RaftNsError('infer.rules', `infer: ${path}: cannot read the rules file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RaftNsError('infer.rules', `infer: ${path}: not valid JSON (${(err as Error).message}); expected safety rules (schemas/safety-rules.schema.json)`);
  }
  const rules = wrapRuntimeSync(() => compileRules(value, path));
  return { rules, info: { name: rules.source.name, source: path, sha256: sha256Hex(text) } };
}

/** A dataset folder is read in place; a single trace file is ingested into a temporary dataset first. */
async function withDataset(path: string, use: (dir: string) => Promise<void>): Promise<void> {
  const st = statSafe(path);
  if (!st) throw new RaftNsError('infer.trace', `infer: ${path}: no such file or folder; expected a dataset folder or a telemetry file`);
  if (st.isDirectory()) return use(path);
  const tmp = mkdtempSync(join(tmpdir(), 'raft-ns-infer-'));
  try {
    // The creation time only lands in the throw-away manifest; pinned so the run stays deterministic.
    await ingest([path], { out: join(tmp, 'ds'), anonKey: null, createdAt: '1970-01-01T00:00:00.000Z' });
    await use(join(tmp, 'ds'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function statSafe(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

async function wrapRuntime<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw asRaftNsError(err);
  }
}

function wrapRuntimeSync<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asRaftNsError(err);
  }
}

function asRaftNsError(err: unknown): unknown {
  if (err instanceof RuntimeError) return new RaftNsError(err.code.replace(/^runtime\./, 'infer.'), `infer: ${err.message.replace(/^runtime: /, '')}`, { cause: err });
  return err;
}

/** The human summary printed by the CLI. */
export function formatInferReport(r: InferReport): string {
  const lines: string[] = [];
  lines.push(`infer: ${r.artifact.name}@${r.artifact.version} (${r.artifact.precision}, ${r.artifact.kernel} kernel, weights sha256 ${r.artifact.weights_sha256.slice(0, 16)}…), rules "${r.rules.name}" [${r.rules.floor_ms}, ${r.rules.ceiling_ms}] ms, tool ${r.tool_version}`);
  if (r.golden) {
    const fmt = (v: number): string => (Number.isNaN(v) ? 'n/a' : v.toExponential(2));
    for (const g of r.golden) {
      lines.push(`  golden    ${g.ok ? 'pass' : 'FAIL'} (${g.kernel} kernel): ${g.cases} sequences, ${g.ticks} ticks, max |Δ| float32 ${fmt(g.maxAbsError.float32)}, int8 ${fmt(g.maxAbsError.int8)} (tolerance ${g.tolerance})`);
    }
  } else {
    lines.push('  golden    absent (no golden.json in the artifact)');
  }
  if (r.trace && r.timeouts) {
    const t = r.timeouts;
    lines.push(`  trace     ${r.trace.path}: ${r.trace.rows} ticks, ${r.trace.nodes} nodes, tick ${r.trace.tick_ms} ms, heartbeat interval ${r.trace.heartbeat_interval_ms} ms`);
    lines.push(`  timeouts  min ${t.minMs} ms, median ${t.medianMs} ms, p99 ${t.p99Ms} ms, max ${t.maxMs} ms; outside bounds: ${r.out_of_bounds}`);
    const fb = Object.entries(r.fallbacks).filter(([, c]) => c > 0).map(([k, c]) => `${k} ${c}`).join(', ');
    lines.push(`  fallbacks ${r.fallback_count}${fb ? ` (${fb})` : ''}`);
    const acts = Object.entries(r.rule_activations).map(([k, c]) => `${k} ${c}`).join(', ');
    lines.push(`  rules     ${acts}`);
  } else if (r.trace) {
    lines.push(`  trace     ${r.trace.path}: empty`);
  }
  lines.push(r.ok ? 'infer: ok' : `infer: FAILED — ${r.failures.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
