/**
 * `raft-ns dataset inspect <dir> [--json] [--verify]`.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { jsonText } from '../util/fs.js';
import { EXPORT_CODECS, exportParquet, type ExportCodec } from './export.js';
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
  dataset
    .command('export')
    .description('write a dataset as one Parquet file (for DuckDB, polars, pyarrow and Spark)')
    .argument('<dir>', 'dataset folder')
    .requiredOption('--out <file>', 'Parquet file to write')
    .addOption(new Option('--format <format>', 'output format').choices(['parquet']).default('parquet'))
    .addOption(new Option('--codec <codec>', 'page compression').choices(EXPORT_CODECS.map((c) => c.toLowerCase())).default('snappy'))
    .option('--json', 'print {rows, out} as JSON')
    .option('--quiet', 'print nothing on success')
    .action(async (dir: string, flags: { out: string; codec: string; json?: boolean; quiet?: boolean }) => {
      const { rows } = await exportParquet(dir, { out: flags.out, codec: flags.codec.toUpperCase() as ExportCodec });
      if (flags.json) process.stdout.write(jsonText({ out: flags.out, rows, format: 'parquet', codec: flags.codec }));
      else if (!flags.quiet) process.stdout.write(`dataset: wrote ${rows} rows to ${flags.out}\n`);
    });
}
