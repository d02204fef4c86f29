/**
 * `raft-ns conformance`: writes the conformance vectors of an artifact (pipeline/conformance/conformance.ts).
 */
import type { Command } from 'commander';
import { makeConformance } from './conformance.js';

export function register(program: Command): void {
  program
    .command('conformance')
    .description('write conformance vectors (features, both precision paths, guarded timeouts) for an artifact, from simulated traces')
    .argument('<artifact>', 'artifact folder, e.g. artifacts/raft-ns-default/2.1.0')
    .requiredOption('--out <dir>', 'output folder: conformance/<model>/<version> (never inside the artifact)')
    .option('--rules <file>', 'safety rules (default: the embedded default rules)')
    .action(async (artifact: string, o: { out: string; rules?: string }) => {
      const r = await makeConformance(artifact, { outDir: o.out, ...(o.rules ? { rulesPath: o.rules } : {}) });
      const ticks = (vs: Array<{ rows: unknown[] }>): number => vs.reduce((a, v) => a + v.rows.length, 0);
      process.stdout.write(
        `conformance: ${r.sequences.vectors.length} sequences (${ticks(r.sequences.vectors)} ticks), ${r.guardrails.vectors.length} guardrail streams (${ticks(r.guardrails.vectors)} ticks) → ${r.outDir}\n`,
      );
    });
}
