/**
 * `raft-ns conformance`: writes the conformance vectors of an artifact (pipeline/conformance/conformance.ts).
 */
import type { Command } from 'commander';
import { parseExisting } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { makeConformance } from './conformance.js';

export function register(program: Command): void {
  const cmd = program
    .command('conformance')
    .description('write conformance vectors (features, both precision paths, guarded timeouts) for an artifact, from simulated traces')
    .argument('<artifact>', 'artifact folder, e.g. artifacts/raft-ns-default/2.7.0', parseExisting('dir'))
    .requiredOption('--out <dir>', 'output folder: conformance/<model>/<version> (never inside the artifact)')
    .option('--rules <file>', 'safety rules (default: the embedded default rules)', parseExisting('file'));
  addOutputOptions(cmd, '{out_dir, files: [{file, vectors, ticks}]}').action(async (artifact: string, o: OutputFlags & { out: string; rules?: string }) => {
    const out = makeOutput(o);
    const r = await makeConformance(artifact, { outDir: o.out, ...(o.rules ? { rulesPath: o.rules } : {}) });
    const ticks = (vs: Array<{ rows: unknown[] }>): number => vs.reduce((a, v) => a + v.rows.length, 0);
    out.info(`conformance: ${r.sequences.vectors.length} sequences (${ticks(r.sequences.vectors)} ticks), ${r.guardrails.vectors.length} guardrail streams (${ticks(r.guardrails.vectors)} ticks) → ${r.outDir}\n`);
    out.result({
      out_dir: r.outDir,
      files: [
        { file: 'sequences.json', vectors: r.sequences.vectors.length, ticks: ticks(r.sequences.vectors) },
        { file: 'guardrails.json', vectors: r.guardrails.vectors.length, ticks: ticks(r.guardrails.vectors) },
      ],
    });
  });
}
