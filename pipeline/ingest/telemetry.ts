/**
 * Telemetry rows (docs/CONTRACTS.md §1): the TypeScript type, the column order, and a fast per-value
 * validator compiled from `schemas/telemetry.schema.json` itself, so the schema stays the one source of
 * truth. ajv checks the schema and the manifests; the hot loop of ingest uses these checkers instead
 * (test/ingest-validate.test.ts proves they agree with ajv on good and bad rows).
 */
import { loadSchema } from '../schemas.js';
import { RaftNsError } from '../util/errors.js';

/** Version of the telemetry schema recorded in every dataset manifest. */
export const TELEMETRY_SCHEMA_VERSION = 1;

export const ROLES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;
export type Role = (typeof ROLES)[number];

export const EVENTS = [
  'pre_vote_started', 'election_started', 'became_leader', 'stepped_down', 'term_changed', 'crashed', 'restarted',
] as const;
export type TelemetryEvent = (typeof EVENTS)[number];

/** One tick of one node's view of its cluster. Field meanings and units: schemas/telemetry.schema.json. */
export interface TelemetryRow {
  ts_ms: number;
  cluster_id: string;
  node_id: string;
  term: number;
  role: Role;
  leader_id: string | null;
  heartbeat_latency_ms: number | null;
  log_replication_gap: number;
  rpc_retries: number;
  cpu_idle_pct: number;
  heartbeat_received: boolean;
  /** Always present (null when none) in rows returned by `readDataset`; optional in raw input. */
  event?: TelemetryEvent | null;
}

/** Column names in telemetry (and Arrow part) order. */
export const COLUMNS = [
  'ts_ms', 'cluster_id', 'node_id', 'term', 'role', 'leader_id', 'heartbeat_latency_ms', 'log_replication_gap',
  'rpc_retries', 'cpu_idle_pct', 'heartbeat_received', 'event',
] as const satisfies ReadonlyArray<keyof TelemetryRow>;
export type ColumnName = (typeof COLUMNS)[number];

/** The storage kind of a column, which decides how readers coerce text and how the Arrow part stores it. */
export type ColumnKind = 'integer' | 'number' | 'string' | 'boolean';

/** Id columns that ingest pseudonymizes (leader_id shares node_id's pseudonym space so they still match). */
export const ID_COLUMNS = ['cluster_id', 'node_id', 'leader_id'] as const;

/** A broken rule, named like the JSON Schema keyword that states it. */
export interface RuleBreak {
  rule: 'required' | 'type' | 'minimum' | 'maximum' | 'minLength' | 'maxLength' | 'enum' | 'additionalProperties';
  /** What was expected, for the one-line message: `an integer >= 0`, `one of follower, ...`. */
  expected: string;
}

export interface ColumnSpec {
  name: ColumnName;
  index: number;
  kind: ColumnKind;
  nullable: boolean;
  required: boolean;
  /** Returns null when the value satisfies the schema, else the rule it breaks. `undefined` = absent. */
  check: (value: unknown) => RuleBreak | null;
  /** For enum columns: the allowed non-null values. */
  enumValues: readonly string[] | null;
  /** Numeric bounds from the schema (for vectorized checks of whole typed-array columns). */
  minimum: number | undefined;
  maximum: number | undefined;
}

interface PropSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  description?: string;
}

const SUPPORTED_KEYWORDS = new Set(['type', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'description']);

/** The compiled column specs, in COLUMNS order. Compiled once from the JSON Schema. */
export const COLUMN_SPECS: readonly ColumnSpec[] = compileColumnSpecs(loadSchema('telemetry'));

export const SPEC_BY_NAME: ReadonlyMap<string, ColumnSpec> = new Map(COLUMN_SPECS.map((s) => [s.name, s]));

/**
 * Validates a whole row object like ajv would (required, additionalProperties, each property); returns the
 * first broken rule with its column, or null. Used by the agreement test and by readers of object rows.
 */
export function checkRowObject(row: Record<string, unknown>): { column: string; value: unknown; brk: RuleBreak } | null {
  for (const key of Object.keys(row)) {
    if (!SPEC_BY_NAME.has(key)) return { column: key, value: row[key], brk: { rule: 'additionalProperties', expected: 'no column outside the telemetry schema' } };
  }
  for (const spec of COLUMN_SPECS) {
    const brk = spec.check(row[spec.name]);
    if (brk) return { column: spec.name, value: row[spec.name], brk };
  }
  return null;
}

/**
 * Builds a checker per property from the schema's keywords. Only the keywords the telemetry schema uses
 * are understood; any other keyword is a bug here (the schema grew), so it throws instead of ignoring it.
 */
export function compileColumnSpecs(schema: Record<string, unknown>): ColumnSpec[] {
  const props = schema.properties as Record<string, PropSchema>;
  const required = new Set(schema.required as string[]);
  const names = Object.keys(props);
  if (names.join() !== COLUMNS.join()) {
    throw new RaftNsError('schema.columns', `schema: telemetry properties ${names.join(',')} differ from the contract order ${COLUMNS.join(',')}`);
  }
  return COLUMNS.map((name, index) => {
    const p = props[name]!;
    for (const k of Object.keys(p)) {
      if (!SUPPORTED_KEYWORDS.has(k)) throw new RaftNsError('schema.keyword', `schema: telemetry.${name} uses keyword "${k}" the fast validator does not implement`);
    }
    const types = p.type === undefined ? inferTypes(p.enum ?? []) : Array.isArray(p.type) ? p.type : [p.type];
    const nullable = types.includes('null');
    const base = types.filter((t) => t !== 'null');
    if (base.length !== 1) throw new RaftNsError('schema.type', `schema: telemetry.${name} must have exactly one non-null type`);
    const kind = base[0] as ColumnKind;
    const enumValues = p.enum ? (p.enum.filter((v) => v !== null) as string[]) : null;
    const isRequired = required.has(name);
    // Readers hold integers as doubles, exact only inside ±(2^53 - 1): a wider range would let a rounded value
    // pass as the one the file holds (schemas/telemetry.schema.json keeps ts_ms and term inside it).
    if (kind === 'integer' && !(p.minimum !== undefined && p.maximum !== undefined && p.minimum >= -Number.MAX_SAFE_INTEGER && p.maximum <= Number.MAX_SAFE_INTEGER)) {
      throw new RaftNsError('schema.range', `schema: telemetry.${name} is an integer without a minimum and maximum inside ±${Number.MAX_SAFE_INTEGER}; readers could not hold every value exactly`);
    }
    return {
      name, index, kind, nullable, required: isRequired, enumValues, minimum: p.minimum, maximum: p.maximum,
      check: makeCheck(p, kind, nullable, isRequired, enumValues),
    };
  });
}

function inferTypes(values: unknown[]): string[] {
  const t = new Set(values.map((v) => (v === null ? 'null' : typeof v)));
  return [...t];
}

function makeCheck(
  p: PropSchema, kind: ColumnKind, nullable: boolean, isRequired: boolean, enumValues: readonly string[] | null,
): (value: unknown) => RuleBreak | null {
  const typeText = `${kind === 'integer' ? 'an integer' : kind === 'number' ? 'a finite number' : `a ${kind}`}${nullable ? ' or null' : ''}`;
  const enumBreak: RuleBreak | null = enumValues ? { rule: 'enum', expected: `one of ${enumValues.join(', ')}${nullable ? ' or null' : ''}` } : null;
  // Without a declared `type` (an enum alone), a value of the wrong type breaks `enum`, as ajv reports it.
  const typeBreak: RuleBreak = p.type === undefined && enumBreak ? enumBreak : { rule: 'type', expected: typeText };
  const requiredBreak: RuleBreak = { rule: 'required', expected: `a value (${typeText})` };
  // A bounded integer column names its whole range, so a refused term or timestamp says what would fit.
  const range = kind === 'integer' && p.minimum !== undefined && p.maximum !== undefined ? `an integer in [${p.minimum}, ${p.maximum}]` : null;
  const minBreak: RuleBreak | null = p.minimum !== undefined ? { rule: 'minimum', expected: range ?? `${kind === 'integer' ? 'an integer' : 'a number'} >= ${p.minimum}` } : null;
  const maxBreak: RuleBreak | null = p.maximum !== undefined ? { rule: 'maximum', expected: range ?? `a number <= ${p.maximum}` } : null;
  const minBig = p.minimum !== undefined ? BigInt(p.minimum) : undefined;
  const maxBig = p.maximum !== undefined ? BigInt(p.maximum) : undefined;
  const minLen = p.minLength;
  const maxLen = p.maxLength;
  const enumSet = p.enum ? new Set(p.enum) : null;
  const min = p.minimum;
  const max = p.maximum;
  return (v) => {
    if (v === undefined) return isRequired ? requiredBreak : null;
    if (v === null) {
      if (enumSet && !enumSet.has(null)) return enumBreak;
      return nullable ? null : typeBreak;
    }
    switch (kind) {
      case 'integer':
      case 'number':
        // A bigint is an exact integer a reader could not hold as a double (beyond 2^53 - 1). Every integer
        // range lies inside the safe range (compileColumnSpecs asserts it), so it always breaks a bound.
        if (typeof v === 'bigint') {
          if (kind !== 'integer') return typeBreak;
          if (minBig !== undefined && v < minBig) return minBreak;
          if (maxBig !== undefined && v > maxBig) return maxBreak;
          return typeBreak;
        }
        // ajv's strictNumbers (its default) rejects NaN and ±Infinity as numbers; so do we.
        if (typeof v !== 'number' || !Number.isFinite(v)) return typeBreak;
        if (kind === 'integer' && !Number.isInteger(v)) return typeBreak;
        if (min !== undefined && v < min) return minBreak;
        if (max !== undefined && v > max) return maxBreak;
        break;
      case 'string':
        if (typeof v !== 'string') return typeBreak;
        // JSON Schema lengths count code points, not UTF-16 units.
        if (minLen !== undefined || maxLen !== undefined) {
          const fast = v.length <= (maxLen ?? Infinity) / 2 && v.length >= 2 * (minLen ?? 0);
          const len = fast ? v.length : [...v].length;
          if (minLen !== undefined && len < minLen) return { rule: 'minLength', expected: `a string of at least ${minLen} character(s)` };
          if (maxLen !== undefined && len > maxLen) return { rule: 'maxLength', expected: `a string of at most ${maxLen} characters` };
        }
        break;
      case 'boolean':
        if (typeof v !== 'boolean') return typeBreak;
        break;
    }
    if (enumSet && !enumSet.has(v)) return enumBreak;
    return null;
  };
}
