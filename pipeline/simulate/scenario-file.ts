/**
 * Scenario lookup for the shell: a built-in suite name (`lan-5-calm`) or a JSON file checked against
 * schemas/scenario.schema.json. Bad input is a RaftNsError naming the file, the JSON path and what was expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinScenario, builtinScenarioNames, type Scenario } from '../../sim/index.js';
import { validateAgainst } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';
import { sha256Hex } from '../util/fs.js';

export interface LoadedScenario {
  scenario: Scenario;
  /** `builtin:<name>` or the file path. */
  source: string;
  /** sha256 of the scenario's canonical JSON (recorded in run summaries). */
  sha256: string;
}

export function loadScenario(nameOrFile: string): LoadedScenario {
  const builtin = builtinScenario(nameOrFile);
  if (builtin !== undefined) return { scenario: builtin, source: `builtin:${nameOrFile}`, sha256: sha256Hex(JSON.stringify(builtin)) };
  if (!existsSync(nameOrFile)) {
    throw new RaftNsError('simulate.scenario', `simulate: ${nameOrFile} is neither a built-in scenario (e.g. ${builtinScenarioNames()[0]}; see raft-ns simulate --list) nor a file`);
  }
  const text = readFileSync(nameOrFile, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RaftNsError('simulate.scenario', `simulate: ${nameOrFile}: not valid JSON (${(err as Error).message}); expected a scenario object`, { cause: err });
  }
  const v = validateAgainst<Scenario>('scenario', value);
  if (!v.ok) {
    const first = v.issues.find((i) => !i.message.includes('"then"')) ?? v.issues[0]!;
    throw new RaftNsError('simulate.scenario', `simulate: ${nameOrFile} at ${first.path}: ${first.message} (schemas/scenario.schema.json)`);
  }
  const s = v.value;
  const ids = new Set(Array.from({ length: s.cluster.size }, (_, i) => `n${i + 1}`));
  (s.faults ?? []).forEach((f, i) => {
    const refs = 'node' in f ? [f.node] : 'nodes' in f && f.nodes ? f.nodes : 'groups' in f ? f.groups.flat() : [];
    for (const r of refs) {
      if (r !== 'leader' && !ids.has(r)) {
        throw new RaftNsError('simulate.scenario', `simulate: ${nameOrFile} at /faults/${i}: node ${r} is not in a ${s.cluster.size}-node cluster (expected n1..n${s.cluster.size} or "leader")`);
      }
    }
    if (f.at_ms >= s.duration_ms) {
      throw new RaftNsError('simulate.scenario', `simulate: ${nameOrFile} at /faults/${i}/at_ms: ${f.at_ms} is not before duration_ms ${s.duration_ms}`);
    }
  });
  if (s.cluster.policy?.kind === 'fixed-range' && s.cluster.policy.max_ms < s.cluster.policy.min_ms) {
    throw new RaftNsError('simulate.scenario', `simulate: ${nameOrFile} at /cluster/policy: max_ms ${s.cluster.policy.max_ms} is below min_ms ${s.cluster.policy.min_ms}`);
  }
  return { scenario: s, source: nameOrFile, sha256: sha256Hex(JSON.stringify(s)) };
}
