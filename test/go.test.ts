/**
 * The Go side from `npm test`: bindings/go (loader refusals, golden.json, the conformance vectors, provider
 * invariants under fuzzed observations) and integrations/etcd-raft (a short harness run: a leader is
 * re-elected after every crash and isolation, 0 safety problems), through integrations/etcd-raft/run.sh
 * check (gofmt -l and go vet clean first). Needs Go and Debian's etcd raft (`apt-get install golang-go
 * golang-etcd-server-dev`): skipped with a message without them, except under CI=true or RAFT_NS_REQUIRE_GO=1
 * (.ci/run), where missing tools fail. The model is the default of pipeline/run (a new version runs unchanged).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_CONFIG } from '../pipeline/run/pipeline.js';

const ROOT = join(__dirname, '..');
const MODEL = `${DEFAULT_RUN_CONFIG.model.name}/${DEFAULT_RUN_CONFIG.model.version}`;
const ETCD_RAFT = '/usr/share/gocode/src/go.etcd.io/etcd/raft';

function missingTooling(): string | null {
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) return 'no go on PATH (apt-get install golang-go)';
  if (!existsSync(ETCD_RAFT)) return `no etcd raft sources at ${ETCD_RAFT} (apt-get install golang-etcd-server-dev)`;
  return null;
}

describe('README "Use it from Go / with etcd raft"', () => {
  it('shows the lines of integrations/etcd-raft/example_test.go, which go vet compiles and go test runs', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Use it from Go[\s\S]*?```go\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const example = readFileSync(join(ROOT, 'integrations/etcd-raft/example_test.go'), 'utf8').split('\n').map((l) => l.trim());
    const lines = block!.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const line of lines) expect(example, line).toContain(line);
  });
});

const missing = missingTooling();
const required = Boolean(process.env.CI) || process.env.RAFT_NS_REQUIRE_GO === '1';
if (missing && required) {
  describe('Go package and etcd raft harness', () => {
    it('has go and etcd raft under CI', () => {
      throw new Error(`go: ${missing}; .ci/run installs them — CI must not skip the Go tests`);
    });
  });
} else if (missing) {
  console.warn(`go: not running the Go tests here: ${missing}`);
  describe.skip(`Go package and etcd raft harness (skipped: ${missing})`, () => {
    it('passes go test', () => {});
  });
} else {
  describe('Go package and etcd raft harness', () => {
    it(`gofmt and go vet are clean and go test passes (bindings/go on ${MODEL}'s vectors, the etcd harness)`, () => {
      const r = spawnSync('bash', [join(ROOT, 'integrations/etcd-raft/run.sh'), 'check', '-v'], {
        encoding: 'utf8',
        env: {
          ...process.env,
          RAFT_NS_ARTIFACT: join(ROOT, 'artifacts', MODEL),
          RAFT_NS_CONFORMANCE: join(ROOT, 'conformance', MODEL),
          GOFLAGS: '',
        },
        maxBuffer: 64 * 1024 * 1024,
      });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.status, out.slice(-4000)).toBe(0);
      // Each suite must have run, not been filtered away.
      for (const name of ['TestConformanceSequences', 'TestConformanceGuardrails', 'TestLoaderRefusals', 'TestProviderInvariantsUnderFuzzedObservations', 'TestLeaderReelectedAfterEveryFault']) {
        expect(out, name).toContain(`--- PASS: ${name}`);
      }
    }, 600_000);
  });
}
