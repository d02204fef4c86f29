/**
 * The shape of evaluation.json (schemas/evaluation-report.schema.json), apart from the stage that fills it
 * (pipeline/evaluate/evaluate.ts) and the page that renders it (pipeline/evaluate/report.ts), so neither
 * imports the other for it. Invariant: imports nothing from those two files.
 */
import type { Comparison, PooledRow, ScenarioRow, SweepPoint } from './aggregate.js';
import type { Goals } from './goals.js';
import type { PolicyEntry } from './policies.js';
import type { Timeline } from './timeline.js';
import type { RulesInfo } from '../util/rules-file.js';

/** The claims under test (docs/EVALUATION.md, "What was measured"): relative changes vs static etcd, and bytes per node. */
export const CLAIMS = { latency_relative_change: -0.345, jitter_unnecessary_relative_change: -0.62, memory_bytes_per_node: 128 * 1024 };

export interface EvaluationReport {
  format: 'raft-ns-evaluation-report';
  format_version: 1;
  tool_version: string;
  created_at: string;
  config: {
    suite: { name: string; source: string; sha256: string; description: string };
    seeds: number[];
    scenarios: Array<{ name: string; tags: string[]; sha256: string }>;
    policies: PolicyEntry[];
    pre_vote: true;
    check_quorum: true;
    sweep: { scenarios: string[]; seeds: number[]; policies: number } | null;
    timeline: { scenario: string; seed: number; node: string } | null;
    claims: typeof CLAIMS;
  };
  model: { dir: string; name: string; version: string; manifest_sha256: string; weights_sha256: string; precision: string; parameter_count: number; rules: RulesInfo; verified_rules_sha256: string | null } | null;
  pooled: PooledRow[];
  per_scenario: ScenarioRow[];
  claims: {
    suite: string;
    latency_vs_static_etcd: Comparison | null;
    jitter_unnecessary_vs_static_etcd: Comparison | null;
    memory_per_node: { node_state_bytes: number; shared_weights_bytes: number; total_bytes: number; claim_bytes: number; meets_claim: boolean } | null;
  };
  /** Goals 1–5 for every policy (pipeline/evaluate/goals.ts); absent in reports written before the goals were (2026-12-07). */
  goals?: Goals;
  model_diagnostics: Array<{ policy: string; ticks: number; fallbacks: number; fallback_rate: number; rule_activations: Record<string, number> }>;
  safety: { violations: number; runs: number; messages: string[] };
  sweep: SweepPoint[] | null;
  timeline: Timeline | null;
  runs: number;
}
