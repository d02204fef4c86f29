import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateAgainst } from '../pipeline/schemas.js';

const cli = new URL('../dist/pipeline/cli.js', import.meta.url).pathname;

describe('raft-ns CLI', () => {
  it('prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(execFileSync('node', [cli, '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });
});

describe('telemetry schema', () => {
  const row = {
    ts_ms: 1000, cluster_id: 'c1', node_id: 'n1', term: 3, role: 'follower', leader_id: 'n2',
    heartbeat_latency_ms: 0.8, log_replication_gap: 0, rpc_retries: 0, cpu_idle_pct: 93.5, heartbeat_received: true,
  };
  it('accepts a well-formed row', () => {
    expect(validateAgainst('telemetry', row).ok).toBe(true);
  });
  it('rejects CPU idle above 100 and unknown columns', () => {
    expect(validateAgainst('telemetry', { ...row, cpu_idle_pct: 101 }).ok).toBe(false);
    const r = validateAgainst('telemetry', { ...row, hostname: 'db-1.internal' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.message).toContain('hostname');
  });
});
