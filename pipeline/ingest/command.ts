/**
 * `raft-ns ingest <files...> --out <dir>`: the shell around `ingest()` — reads the key, the clock and the
 * terminal, nothing else.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { fmtCount, makeProgress, type Progress } from '../util/progress.js';
import { ingest } from './ingest.js';

interface IngestFlags {
  out: string;
  onInvalid: 'fail' | 'quarantine';
  allowExtraColumns?: boolean;
  tickMs?: string;
  force?: boolean;
  quiet?: boolean;
  anonKeyFile?: string;
  anonymize: boolean;
  partRows?: string;
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('validate and pseudonymize telemetry (CSV, NDJSON, Arrow IPC, Parquet) into a dataset folder of Arrow parts + manifest.json')
    .argument('<files...>', 'input files; the format follows the extension (.csv, .ndjson/.jsonl, .arrow/.arrows, .parquet)')
    .requiredOption('--out <dir>', 'dataset folder to create, e.g. datasets/<name>')
    .addOption(new Option('--on-invalid <mode>', 'fail: stop at the first bad row, write nothing; quarantine: set bad rows aside in quarantine.ndjson').choices(['fail', 'quarantine']).default('fail'))
    .option('--allow-extra-columns', 'drop columns outside the telemetry schema instead of refusing the file')
    .option('--tick-ms <ms>', 'tick length in ms (default: inferred from the most common per-node step)')
    .option('--anon-key-file <file>', 'HMAC-SHA256 key for pseudonyms (default: $RAFT_NS_ANON_KEY)')
    .option('--no-anonymize', 'keep cluster and node ids as they are (only for data that holds no real identifiers)')
    .option('--force', 'replace an existing dataset folder')
    .option('--quiet', 'no progress bar and no summary')
    .addOption(new Option('--part-rows <n>', 'rows per Arrow part file').default('1048576').hideHelp())
    .action(async (files: string[], flags: IngestFlags) => {
      const anonKey = flags.anonymize ? loadKey(flags.anonKeyFile) : null;
      const tickMs = flags.tickMs === undefined ? undefined : Number(flags.tickMs);
      if (tickMs !== undefined && !(Number.isFinite(tickMs) && tickMs > 0)) {
        throw new RaftNsError('ingest.option', `ingest: --tick-ms ${JSON.stringify(flags.tickMs)}; expected a positive number of milliseconds`);
      }
      let progress: Progress | null = null;
      const t0 = performance.now();
      const { manifest, outDir } = await ingest(files, {
        out: flags.out,
        anonKey,
        createdAt: createdAt(),
        onInvalid: flags.onInvalid,
        allowExtraColumns: flags.allowExtraColumns ?? false,
        ...(tickMs === undefined ? {} : { tickMs }),
        force: flags.force ?? false,
        partRows: Number(flags.partRows),
        onProgress: (done, total, rows) => {
          const s = (performance.now() - t0) / 1000;
          progress ??= makeProgress({ label: 'ingest', unit: 'B', total, quiet: flags.quiet ?? false });
          progress.update(done, `${fmtCount(rows)} rows, ${fmtCount(s > 0 ? rows / s : 0)} rows/s`);
        },
      });
      (progress as Progress | null)?.done();
      if (!flags.quiet) {
        const s = (performance.now() - t0) / 1000;
        const refused = manifest.invalid.row_count;
        process.stdout.write(
          `ingest: ${manifest.row_count} rows from ${manifest.sources.length} file(s) → ${outDir} (${manifest.parts.length} part(s), ` +
            `${manifest.stream_count} node stream(s), tick ${manifest.tick_ms} ms ${manifest.tick_ms_source}, ` +
            `${refused} refused${refused > 0 ? ` → ${outDir}/${manifest.invalid.file}` : ''}, ${fmtCount(manifest.row_count / Math.max(s, 1e-9))} rows/s)\n`,
        );
      }
    });
}

/** The key from --anon-key-file (raw bytes, one trailing newline dropped) or RAFT_NS_ANON_KEY. */
function loadKey(file: string | undefined): Uint8Array {
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      throw new RaftNsError('ingest.key-file', `ingest: --anon-key-file ${file}: cannot read the key file`);
    }
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 10) end--;
    if (end > 0 && bytes[end - 1] === 13) end--;
    return bytes.subarray(0, end);
  }
  const env = process.env.RAFT_NS_ANON_KEY;
  if (env !== undefined && env.length > 0) return Buffer.from(env, 'utf8');
  throw new RaftNsError(
    'ingest.no-key',
    'ingest: no anonymization key; pass --anon-key-file <file> or set RAFT_NS_ANON_KEY (or --no-anonymize for data without real identifiers)',
  );
}

/** Creation time: SOURCE_DATE_EPOCH (seconds) when set, for reproducible manifests; else the clock. */
function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString();
}
