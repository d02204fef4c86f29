/** `raft-ns window`: argument parsing only; the stage is windowDataset (window.ts). */
import type { Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { SPLIT_NAMES } from './types.js';
import { parseFractions, windowDataset } from './window.js';

export function register(program: Command): void {
  program
    .command('window')
    .description('cut a dataset into per-node chunks of T ticks with labels and train-fitted normalization, split by cluster or time block')
    .requiredOption('--dataset <dir>', 'dataset folder written by `raft-ns ingest`')
    .requiredOption('--out <dir>', 'windows folder to write')
    .option('--window <ticks>', 'ticks per chunk T', '32')
    .option('--stride <ticks>', 'ticks between chunk starts (default: T, consecutive chunks for carried state)')
    .option('--seed <n>', 'seed of the cluster split', '0')
    .option('--split <fractions>', 'train,val,test fractions', '0.7,0.15,0.15')
    .option('--floor-rules <file|default|none>', 'raise gap labels to the Raft timing floor of these safety rules (`none`: raw gaps)', 'default')
    .option('--gap-votes <kind>', 'which ticks carry the gap label: per-tick (every tick of a gap) or per-gap (the tick that starts it: one vote per gap)', 'per-tick')
    .option('--heartbeat-interval-ms <ms>', 'heartbeat interval of the traced cluster, for the timing floor', '100')
    .option('--force', 'replace an existing --out folder')
    .option('--quiet', 'no progress bar')
    .action(async (o: { dataset: string; out: string; window: string; stride?: string; seed: string; split: string; floorRules: string; gapVotes: string; heartbeatIntervalMs: string; force?: boolean; quiet?: boolean }) => {
      const windowLen = intOption('--window', o.window);
      const { manifest } = await windowDataset({
        dataset: o.dataset,
        out: o.out,
        windowLen,
        stride: o.stride === undefined ? windowLen : intOption('--stride', o.stride),
        seed: intOption('--seed', o.seed),
        fractions: parseFractions(o.split),
        labelFloorRules: o.floorRules === 'none' ? null : o.floorRules,
        gapVotes: gapVotesOption(o.gapVotes),
        heartbeatIntervalMs: numberOption('--heartbeat-interval-ms', o.heartbeatIntervalMs),
        force: o.force ?? false,
        quiet: o.quiet ?? false,
      });
      const lines = SPLIT_NAMES.map((name) => {
        const s = manifest.splits[name];
        return `  ${name.padEnd(5)} ${s.chunks} chunks, ${s.streams} streams, ${s.ticks} ticks (${s.supervised_ticks} supervised, ${s.censored_ticks} censored, ${s.lost_ticks}/${s.lost_known_ticks} lost)`;
      });
      const fl = manifest.labels.floor;
      const floorLine = fl ? `  labels floored at the timing floor of rules "${fl.rules}" (heartbeat ${fl.heartbeat_interval_ms} ms): ${fl.floored_ticks} supervised ticks raised` : '  labels: raw gaps (no floor)';
      process.stdout.write(
        `window: ${o.out}: T=${manifest.T}, stride=${manifest.stride}, split by ${manifest.split.mode}, seed ${manifest.seed}, tool ${manifest.tool_version}\n${lines.join('\n')}\n${floorLine}\n`,
      );
    });
}

function numberOption(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new RaftNsError('window.config', `window: ${flag} ${text}; expected a number`);
  return n;
}

function intOption(flag: string, text: string): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new RaftNsError('window.config', `window: ${flag} ${text}; expected an integer`);
  return n;
}

function gapVotesOption(v: string): 'per-tick' | 'per-gap' {
  if (v !== 'per-tick' && v !== 'per-gap') throw new RaftNsError('window.config', `window: --gap-votes ${v}; expected per-tick or per-gap`);
  return v;
}
