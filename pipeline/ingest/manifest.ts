/**
 * The dataset manifest type (schemas/dataset-manifest.schema.json is the source of truth; this mirrors it).
 */
export interface ColumnStat {
  null_count: number;
  min?: number | null;
  max?: number | null;
  mean?: number | null;
  std?: number | null;
  distinct_count?: number;
}

export type SourceFormat = 'csv' | 'ndjson' | 'arrow-file' | 'arrow-stream' | 'parquet';

export interface SourceEntry {
  file: string;
  format: SourceFormat;
  sha256: string;
  byte_length: number;
  row_count: number;
  invalid_row_count: number;
  extra_columns_dropped?: string[];
  ts_ms_conversion?: TsConversion;
}

/** How a timestamp-typed ts_ms column became integer epoch milliseconds (recorded per source). */
export interface TsConversion {
  source_type: string;
  source_unit: 's' | 'ms' | 'us' | 'ns';
  conversion: string;
}

export interface PartEntry {
  file: string;
  sha256: string;
  byte_length: number;
  row_count: number;
  batch_count: number;
}

export interface DatasetManifest {
  format: 'raft-ns-dataset';
  schema_version: 1;
  tool_version: string;
  created_at: string;
  tick_ms: number;
  tick_ms_source: 'flag' | 'inferred';
  row_count: number;
  stream_count: number;
  cluster_count: number;
  columns: Array<{ name: string; arrow_type: string; nullable: boolean }>;
  stats: Record<string, ColumnStat>;
  sources: SourceEntry[];
  parts: PartEntry[];
  invalid: {
    on_invalid: 'fail' | 'quarantine';
    row_count: number;
    file?: string;
    sha256?: string;
    by_rule?: Record<string, number>;
  };
  anonymization: {
    method: 'hmac-sha256' | 'none';
    key_fingerprint?: string;
    columns?: string[];
    pseudonym_format?: string;
  };
  options: { allow_extra_columns: boolean; part_rows: number; batch_rows: number };
}

export const MANIFEST_FILE = 'manifest.json';
export const QUARANTINE_FILE = 'quarantine.ndjson';
