/** `raft-ns window`: argument parsing only; the stage is windowDataset (window.ts). */
import { InvalidArgumentError, type Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { parseExisting, parseIntIn, parseNumberIn, parseOneOf } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import type { SplitFractions } from './split.js';
import { SPLIT_NAMES } from './types.js';
import { parseFractions, windowDataset } from './window.js';

interface WindowFlags extends OutputFlags {
  dataset: string; out: string; window: number; stride?: number; seed: number; split: SplitFractions; floorRules: string;
  gapVotes: 'per-tick' | 'per-gap'; heartbeatIntervalMs: number; force?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('window')
    .description('cut a dataset into per-node chunks of T ticks with labels and train-fitted normalization, split by cluster or time block')
    .requiredOption('--dataset <dir>', 'dataset folder written by `raft-ns ingest`', parseExisting('dir'))
    .requiredOption('--out <dir>', 'windows folder to write')
    .option('--window <ticks>', 'ticks per chunk T', parseIntIn(1), 32)
    .option('--stride <ticks>', 'ticks between chunk starts (default: T, consecutive chunks for carried state)', parseIntIn(1))
    .option('--seed <n>', 'seed of the cluster split', parseIntIn(0), 0)
    .option('--split <fractions>', 'train,val,test fractions', splitArg, parseFractions('0.7,0.15,0.15'))
    .option('--floor-rules <file|default|none>', 'raise gap labels to the Raft timing floor of these safety rules (`none`: raw gaps)', rulesArg, 'default')
    .option('--gap-votes <kind>', 'which ticks carry the gap label: per-tick (every tick of a gap) or per-gap (the tick that starts it: one vote per gap)', parseOneOf('per-tick', 'per-gap'), 'per-tick' as const)
    .option('--heartbeat-interval-ms <ms>', 'heartbeat interval of the traced cluster, for the timing floor', parseNumberIn(0, Infinity, { min: true }), 100)
    .option('--force', 'replace an existing --out folder');
  addOutputOptions(cmd, 'the windows manifest').action(async (o: WindowFlags) => {
    const out = makeOutput(o);
    const { manifest } = await windowDataset({
      dataset: o.dataset,
      out: o.out,
      windowLen: o.window,
      stride: o.stride ?? o.window,
      seed: o.seed,
      fractions: o.split,
      labelFloorRules: o.floorRules === 'none' ? null : o.floorRules,
      gapVotes: o.gapVotes,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      force: o.force ?? false,
      quiet: out.quiet,
    });
    const lines = SPLIT_NAMES.map((name) => {
      const s = manifest.splits[name];
      return `  ${name.padEnd(5)} ${s.chunks} chunks, ${s.streams} streams, ${s.ticks} ticks (${s.supervised_ticks} supervised, ${s.censored_ticks} censored, ${s.lost_ticks}/${s.lost_known_ticks} lost)`;
    });
    const fl = manifest.labels.floor;
    const floorLine = fl ? `  labels floored at the timing floor of rules "${fl.rules}" (heartbeat ${fl.heartbeat_interval_ms} ms): ${fl.floored_ticks} supervised ticks raised` : '  labels: raw gaps (no floor)';
    out.info(`window: ${o.out}: T=${manifest.T}, stride=${manifest.stride}, split by ${manifest.split.mode}, seed ${manifest.seed}, tool ${manifest.tool_version}\n${lines.join('\n')}\n${floorLine}\n`);
    out.result(manifest);
  });
}

/** `0.7,0.15,0.15`, checked while parsing (the stage checks the sum and ranges again). */
function splitArg(text: string): SplitFractions {
  try {
    return parseFractions(text);
  } catch (err) {
    if (err instanceof RaftNsError) throw new InvalidArgumentError('expected three numbers train,val,test such as 0.7,0.15,0.15');
    throw err;
  }
}

/** `default`, `none`, or a rules file that exists. */
function rulesArg(text: string): string {
  return text === 'default' || text === 'none' ? text : parseExisting('file')(text);
}
