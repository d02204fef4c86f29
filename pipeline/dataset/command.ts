/**
 * `raft-ns dataset inspect <dir> [--json] [--verify]` and `raft-ns dataset export <dir> --out <file>`.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { jsonText } from '../util/fs.js';
import { parseExisting } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { EXPORT_CODECS, exportParquet, type ExportCodec } from './export.js';
import { formatManifest, inspectDataset } from './inspect.js';

export function register(program: Command): void {
  const dataset = program.command('dataset').description('look into dataset folders written by ingest, or export them');
  const inspect = dataset
    .command('inspect')
    .description('print a dataset manifest and its column statistics')
    .argument('<dir>', 'dataset folder', parseExisting('dir'))
    .option('--verify', 're-hash every part against the manifest');
  addOutputOptions(inspect, 'the manifest').action(async (dir: string, flags: OutputFlags & { verify?: boolean }) => {
    const out = makeOutput(flags);
    const m = await inspectDataset(dir, { verify: flags.verify ?? false });
    if (out.json) process.stdout.write(jsonText(m));
    else out.info(formatManifest(dir, m));
  });
  const exp = dataset
    .command('export')
    .description('write a dataset as one Parquet file (for DuckDB, polars, pyarrow and Spark)')
    .argument('<dir>', 'dataset folder', parseExisting('dir'))
    .requiredOption('--out <file>', 'Parquet file to write')
    .addOption(new Option('--format <format>', 'output format').choices(['parquet']).default('parquet'))
    .addOption(new Option('--codec <codec>', 'page compression').choices(EXPORT_CODECS.map((c) => c.toLowerCase())).default('zstd').argParser(parseCodec));
  addOutputOptions(exp, '{out, rows, format, codec}').action(async (dir: string, flags: OutputFlags & { out: string; codec: string }) => {
    const out = makeOutput(flags);
    const codec = flags.codec.toUpperCase() as ExportCodec;
    const { rows } = await exportParquet(dir, { out: flags.out, codec });
    out.info(`dataset export: wrote ${rows} rows to ${flags.out} (Parquet, ${flags.codec})\n`);
    out.result({ out: flags.out, rows, format: 'parquet', codec: flags.codec });
  });
}

/** A codec name, refused while parsing (exit 2) when unknown. */
function parseCodec(value: string): string {
  const c = value.toUpperCase();
  if (!(EXPORT_CODECS as readonly string[]).includes(c)) throw new InvalidArgumentError(`expected ${EXPORT_CODECS.map((x) => x.toLowerCase()).join(', ')}`);
  return value.toLowerCase();
}
