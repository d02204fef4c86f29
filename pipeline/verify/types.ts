/**
 * The shape of verification-report.json (schemas/verification-report.schema.json) and of one check in it,
 * apart from the stage that runs the checks (pipeline/verify/verify.ts), the checks that need the held-out
 * windows (pipeline/verify/data-checks.ts) and the Markdown summary (pipeline/verify/summary.ts), so none of
 * those imports another back for it. Invariant: imports nothing from those files.
 */
import type { ProveResult } from './prove.js';

export const REPORT_FORMAT = 'raft-ns-verification-report';

export type CheckStatus = 'pass' | 'fail' | 'not-run';

export interface CheckResult {
  id: 'a-integrity' | 'b-golden' | 'c-int8-vs-float' | 'd-rules-on-data' | 'e-sound-bounds' | 'f-evaluation';
  name: string;
  status: CheckStatus;
  /** Present when the check ran. */
  passed?: boolean;
  /** Why it failed or did not run (one line). */
  reason?: string;
  figures: Record<string, number | string | boolean | null>;
}

export interface VerificationReport {
  format: typeof REPORT_FORMAT;
  format_version: 1;
  tool_version: string;
  passed: boolean;
  weights_sha256: string | null;
  artifact: { dir: string; name: string | null; version: string | null; manifest_sha256: string | null; weights_sha256: string | null };
  rules: { source: string; name: string; sha256: string };
  windows: { dir: string; manifest_sha256: string } | null;
  config: {
    seed: number;
    split_budget: number;
    search_budget: number;
    search_ticks: number;
    require_proofs: boolean;
    heartbeat_interval_ms: number;
    /** null = the default, twice the artifact's 1 − τ. */
    max_spurious_rate: number | null;
    rounding: { unit_roundoff: number; tiny: number };
    precision: 'int8' | 'float32';
  };
  checks: CheckResult[];
  proof: (Omit<ProveResult, 'stateDomain' | 'inputDomain'> & { input_domain: { lo: number[]; hi: number[] } }) | null;
}
