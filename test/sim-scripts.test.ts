/**
 * Interaction tests as text scripts, in the style of etcd-io/raft's datadriven tests: each `> command`
 * line is followed by the output it must produce. Regenerate the expected output after an intended
 * behaviour change with `RAFT_NS_REWRITE=1 npx vitest run test/sim-scripts.test.ts`, then read the diff.
 *
 * Commands: new size=N seed=S [pre_vote=bool] [check_quorum=bool] [profile=lan|wan] [rate=R]
 *           advance <ms> · status · metrics · crash <node|leader> · restart <node>
 *           partition <node|leader> [both|outbound|inbound] · heal · gc-pause <node|leader> <ms>
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Simulation, type Scenario } from '../sim/index.js';

const dir = new URL('./sim-scripts/', import.meta.url);
const rewrite = process.env.RAFT_NS_REWRITE === '1';

interface Block { command: string; expected: string[] }

function parse(text: string): { header: string[]; blocks: Block[] } {
  const header: string[] = [];
  const blocks: Block[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('> ')) blocks.push({ command: line.slice(2).trim(), expected: [] });
    else if (blocks.length === 0) header.push(line);
    else if (line.trim() !== '') blocks[blocks.length - 1]!.expected.push(line);
  }
  return { header, blocks };
}

function run(command: string, state: { sim: Simulation | null }): string[] {
  const [cmd, ...args] = command.split(/\s+/);
  const kv = Object.fromEntries(args.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]));
  if (cmd === 'new') {
    const sc: Scenario = {
      schema_version: 1, name: 'script', duration_ms: 3_600_000, tick_ms: 10,
      cluster: { size: Number(kv.size ?? 3), pre_vote: kv.pre_vote !== 'false', check_quorum: kv.check_quorum !== 'false' },
      network: { profile: (kv.profile ?? 'lan') as 'lan' | 'wan' }, workload: { rate_per_s: Number(kv.rate ?? 0) },
    };
    state.sim = new Simulation(sc, { seed: Number(kv.seed ?? 1), telemetry: false });
    return [];
  }
  const sim = state.sim!;
  switch (cmd) {
    case 'advance':
      sim.advanceTo(sim.nowMs + Number(args[0]));
      return [];
    case 'status': {
      const s = sim.snapshot();
      return [
        `t=${s.nowMs} ms leader=${s.leaderId ?? '-'} quorum_connected=${s.leaderQuorumConnected}`,
        ...s.nodes.map((n) => `${n.id} ${n.up ? n.role : 'down'} term=${n.term} leader=${n.leaderId ?? '-'} commit=${n.commitIndex} last=${n.lastIndex}`),
      ];
    }
    case 'metrics': {
      const m = sim.summary();
      return [`elections=${m.elections} pre_vote_rounds=${m.pre_vote_rounds} leader_changes=${m.leader_changes} unnecessary=${m.unnecessary_elections} failovers=${m.failovers.map((f) => f.cause).join(',') || '-'}`];
    }
    case 'crash': sim.controls.crash(args[0]); return [];
    case 'restart': sim.controls.restart(args[0]!); return [];
    case 'partition': sim.controls.partition(args[0]!, (args[1] ?? 'both') as 'both'); return [];
    case 'heal': sim.controls.heal(); return [];
    case 'gc-pause': sim.controls.gcPause(args[0]!, Number(args[1])); return [];
    default: throw new Error(`unknown script command: ${command}`);
  }
}

describe('interaction scripts (test/sim-scripts/*.txt)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const { header, blocks } = parse(text);
      const state: { sim: Simulation | null } = { sim: null };
      const actual = blocks.map((b) => ({ command: b.command, expected: run(b.command, state) }));
      if (rewrite) {
        const body = actual.map((b) => [`> ${b.command}`, ...b.expected].join('\n')).join('\n');
        writeFileSync(new URL(file, dir), `${header.join('\n').trimEnd()}\n${body}\n`);
        return;
      }
      for (let i = 0; i < blocks.length; i++) {
        expect(actual[i]!.expected.join('\n'), `${file}: > ${blocks[i]!.command}`).toBe(blocks[i]!.expected.join('\n'));
      }
    });
  }
});
