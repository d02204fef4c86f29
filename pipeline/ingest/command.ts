/**
 * `raft-ns ingest <files...> --out <dir>`: the shell around `ingest()` — reads the key, the clock and the
 * terminal, nothing else.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { parseExisting, parseExistingFiles, parseIntIn, parseNumberIn } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { fmtCount, makeProgress, type Progress } from '../util/progress.js';
import { MIN_KEY_BYTES } from './anonymize.js';
import { ingest } from './ingest.js';

interface IngestFlags extends OutputFlags {
  out: string;
  onInvalid: 'fail' | 'quarantine';
  allowExtraColumns?: boolean;
  tickMs?: number;
  force?: boolean;
  anonKeyFile?: string;
  anonymize: boolean;
  partRows: number;
  name?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('validate and pseudonymize telemetry (CSV, NDJSON, Arrow IPC, Parquet) into a dataset folder of Arrow parts + manifest.json')
    .argument('<files...>', 'input files; the format follows the extension (.csv, .ndjson/.jsonl, .arrow/.arrows, .parquet)', parseExistingFiles)
    .requiredOption('--out <dir>', 'dataset folder to create, e.g. datasets/<name> (its name is recorded in every part)')
    .addOption(new Option('--on-invalid <mode>', 'fail: stop at the first bad row, write nothing; quarantine: set bad rows aside in quarantine.ndjson').choices(['fail', 'quarantine']).default('fail'))
    .option('--allow-extra-columns', 'drop columns outside the telemetry schema instead of refusing the file')
    .option('--tick-ms <ms>', 'tick length in ms (default: inferred from the most common per-node step)', parseNumberIn(0, Infinity, { min: true }))
    .option('--anon-key-file <file>', `HMAC-SHA256 key for pseudonyms, at least ${MIN_KEY_BYTES} bytes (default: $RAFT_NS_ANON_KEY)`, parseExisting('file'))
    .option('--no-anonymize', 'keep cluster and node ids as they are (only for data that holds no real identifiers)')
    .option('--force', 'replace an existing dataset folder')
    .option('--name <name>', 'the dataset\'s name in every part\'s schema metadata (default: the base name of --out)')
    .addOption(new Option('--part-rows <n>', 'rows per Arrow part file').default(1048576).argParser(parseIntIn(1)).hideHelp());
  addOutputOptions(cmd, 'the dataset manifest').action(async (files: string[], flags: IngestFlags) => {
    const out = makeOutput(flags);
    const anonKey = flags.anonymize ? loadKey(flags.anonKeyFile) : null;
    let progress: Progress | null = null;
    const t0 = performance.now();
    const { manifest, outDir } = await ingest(files, {
      out: flags.out,
      anonKey,
      createdAt: createdAt(),
      onInvalid: flags.onInvalid,
      allowExtraColumns: flags.allowExtraColumns ?? false,
      ...(flags.tickMs === undefined ? {} : { tickMs: flags.tickMs }),
      force: flags.force ?? false,
      ...(flags.name === undefined ? {} : { name: flags.name }),
      partRows: flags.partRows,
      onProgress: (done, total, rows) => {
        const s = (performance.now() - t0) / 1000;
        progress ??= makeProgress({ label: 'ingest', unit: 'B', total, quiet: out.quiet });
        progress.update(done, `${fmtCount(rows)} rows, ${fmtCount(s > 0 ? rows / s : 0)} rows/s`);
      },
    });
    (progress as Progress | null)?.done();
    const s = (performance.now() - t0) / 1000;
    const refused = manifest.invalid.row_count;
    out.info(
      `ingest: ${manifest.row_count} rows from ${manifest.sources.length} file(s) → ${outDir} (${manifest.parts.length} part(s), ` +
        `${manifest.stream_count} node stream(s), tick ${manifest.tick_ms} ms ${manifest.tick_ms_source}, ` +
        `${refused} refused${refused > 0 ? ` → ${outDir}/${manifest.invalid.file}` : ''}, ${fmtCount(manifest.row_count / Math.max(s, 1e-9))} rows/s)\n`,
    );
    out.result(manifest);
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
    return checkKeyLength(bytes.subarray(0, end), `--anon-key-file ${file}`);
  }
  const env = process.env.RAFT_NS_ANON_KEY;
  if (env !== undefined && env.length > 0) return checkKeyLength(Buffer.from(env, 'utf8'), 'RAFT_NS_ANON_KEY');
  throw new RaftNsError(
    'usage.no-key',
    'ingest: no anonymization key; pass --anon-key-file <file> or set RAFT_NS_ANON_KEY (or --no-anonymize for data without real identifiers)',
  );
}

/** A key shorter than MIN_KEY_BYTES is a usage error (exit 2), refused before any file is read. */
function checkKeyLength(key: Uint8Array, where: string): Uint8Array {
  if (key.length < MIN_KEY_BYTES) throw new RaftNsError('usage.key-short', `ingest: ${where}: the key has ${key.length} bytes; expected at least ${MIN_KEY_BYTES} (e.g. openssl rand -hex 16)`);
  return key;
}

/** Creation time: SOURCE_DATE_EPOCH (seconds) when set, for reproducible manifests; else the clock. */
function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString();
}
