/**
 * `raft-ns dataset inspect <dir> [--json] [--verify]`.
 */
import type { Command } from 'commander';
import { jsonText } from '../util/fs.js';
import { formatManifest, inspectDataset } from './inspect.js';

export function register(program: Command): void {
  const dataset = program.command('dataset').description('look into dataset folders written by ingest');
  dataset
    .command('inspect')
    .description('print a dataset manifest and its column statistics')
    .argument('<dir>', 'dataset folder')
    .option('--json', 'print the manifest as JSON')
    .option('--verify', 're-hash every part against the manifest')
    .action(async (dir: string, flags: { json?: boolean; verify?: boolean }) => {
      const m = await inspectDataset(dir, { verify: flags.verify ?? false });
      process.stdout.write(flags.json ? jsonText(m) : formatManifest(dir, m));
    });
}
