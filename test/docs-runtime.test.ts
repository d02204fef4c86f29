/**
 * runtime/README.md's "Use" block runs as written (its imports bound to the runtime's modules, its free
 * names to one follower tick), so the embedding example cannot drift from the code again.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as runtime from '../runtime/index.js';
import * as nodeLoader from '../runtime/node-loader.js';

const root = new URL('..', import.meta.url).pathname;
const doc = readFileSync(new URL('../runtime/README.md', import.meta.url), 'utf8');

describe('runtime/README.md', () => {
  it('the Use block loads the default artifact, observes a tick and arms a randomized timeout', async () => {
    const use = doc.slice(doc.indexOf('## Use'));
    const block = /```ts\n([\s\S]*?)```/.exec(use)![1]!;
    const imports = [...block.matchAll(/^import \{([^}]*)\} from '([^']+)';$/gm)];
    expect(imports.map((m) => m[2])).toEqual(['raft-ns/runtime', 'raft-ns/runtime/node-loader']);
    const modules: Record<string, Record<string, unknown>> = { 'raft-ns/runtime': runtime, 'raft-ns/runtime/node-loader': nodeLoader };
    const bound: Record<string, unknown> = {};
    for (const [, names, from] of imports) for (const n of names!.split(',').map((x) => x.trim())) bound[n] = modules[from!]![n];
    let campaigned = 0;
    const tick = {
      nodeSeed: 7, nowMs: 1000, term: 3, leaderId: 'n1', heartbeatLatencyMs: 2, logReplicationGap: 0, rpcRetries: 0,
      cpuIdlePct: 80, heartbeatReceived: true, peersReachable: 4, lastLeaderContactMs: 1000, campaign: () => { campaigned++; },
    };
    const body = block.split('\n').filter((l) => !l.startsWith('import ')).join('\n')
      .replaceAll("'artifacts/", `'${root}artifacts/`)
      .replace(/^const policy = /m, 'policy = ');
    const scope = { ...bound, ...tick };
    let policy: InstanceType<typeof runtime.NeuroSymbolicTimeout> | undefined;
    const run = new Function(...Object.keys(scope), 'setPolicy', `let policy; return (async () => {\n${body}\nsetPolicy(policy);\n})();`);
    await run(...Object.values(scope), (p: typeof policy) => { policy = p; });
    expect(campaigned).toBe(0); // a heartbeat just arrived
    const e = policy!.explain();
    expect(e.source).toBe('model');
    expect(e.randomFactor).toBeGreaterThanOrEqual(1);
    expect(e.randomFactor).toBeLessThan(2);
    expect(policy!.electionTimeoutMs()).toBe(e.timeoutMs);
  });
});
