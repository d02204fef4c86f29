/**
 * Decompressors for columnar input, wired from maintained packages rather than written here:
 * Parquet pages through hyparquet-compressors (SNAPPY, GZIP, BROTLI, ZSTD, LZ4, LZ4_RAW — every codec that
 * DuckDB, polars, pyarrow and arrow-rs write by default or on request), Arrow IPC body buffers through
 * apache-arrow's codec registry (LZ4_FRAME via lz4-napi, a prebuilt lz4_flex binding, ZSTD via fzstd, as polars' and pyarrow's
 * `compression=` write them).
 *
 * Invariant: `registerArrowCodecs()` is idempotent and only adds decoders; it never replaces a codec that a
 * host program registered first.
 */
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import { compressors } from 'hyparquet-compressors';
import { decompressFrameSync } from 'lz4-napi';

/** Parquet page decompressors, passed to hyparquet as `compressors`. */
export const PARQUET_COMPRESSORS = compressors;

/** Parquet codecs this build reads (UNCOMPRESSED included); the message for any other names this list. */
export const PARQUET_CODECS: readonly string[] = ['UNCOMPRESSED', ...Object.keys(compressors)];

/** Arrow IPC compression types this build reads. */
export const ARROW_CODECS: readonly string[] = ['LZ4_FRAME', 'ZSTD'];

/** Registers the Arrow IPC decoders with apache-arrow (once per process). */
export function registerArrowCodecs(): void {
  if (!compressionRegistry.get(CompressionType.LZ4_FRAME)) {
    compressionRegistry.set(CompressionType.LZ4_FRAME, {
      decode: (data: Uint8Array) => new Uint8Array(decompressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength))),
    });
  }
  if (!compressionRegistry.get(CompressionType.ZSTD)) {
    compressionRegistry.set(CompressionType.ZSTD, { decode: (data: Uint8Array) => zstdDecompress(data) });
  }
}

/**
 * The codec name in a hyparquet or apache-arrow failure, when the failure is a missing codec rather than
 * damage, so the message can say "unsupported" instead of "damaged".
 */
export function missingCodec(err: unknown): string | null {
  const msg = (err as Error)?.message ?? '';
  const parquet = /unsupported compression codec:?\s*([A-Z0-9_]+)/i.exec(msg);
  if (parquet) return parquet[1]!;
  if (/compressed but codec not found/i.test(msg)) return 'Arrow IPC body compression';
  return null;
}
