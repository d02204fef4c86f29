/**
 * schemas/safety-rules.schema.json is the source of the rules' shape. The runtime cannot use it directly (it has
 * no dependencies and runs in browsers), so runtime/rules-format.ts carries a hand validator and hand types; this file
 * keeps both tied to the schema:
 * - the validator agrees with the schema on cases generated from it: every property of every rule kind (and of
 *   the file) is removed, set to values at and around its bounds, of the wrong type, or joined by an unknown key.
 *   validateRules(x) must be ok exactly when the schema accepts x and the cross-rule checks the schema cannot
 *   express hold (restated below from the schema's description);
 * - the exported types (SafetyRules, each member of Rule) have the schema's properties, optionality and value
 *   types, read with the TypeScript compiler.
 * A schema edit that the runtime does not follow, or the reverse, fails here.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadSchema, schemaValidator } from '../pipeline/schemas.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';
import { validateRules } from '../runtime/rules-format.js';

type Node = Record<string, unknown>;
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SCHEMA = loadSchema('safety-rules') as Node;
const DEFS = SCHEMA.$defs as Record<string, Node>;
const RULE_BRANCHES = DEFS.rule!.oneOf as Node[];

/** Follows $ref (local JSON pointers); picks the oneOf branch whose `kind` const matches the value. */
function resolve(node: Node, value?: unknown): Node {
  if (typeof node.$ref === 'string') {
    const target = node.$ref.slice(2).split('/').reduce<unknown>((n, k) => (n as Node)[k], SCHEMA) as Node;
    return resolve(target, value);
  }
  if (Array.isArray(node.oneOf)) {
    const kind = (value as { kind?: unknown } | undefined)?.kind;
    const branches = (node.oneOf as Node[]).map((b) => resolve(b));
    return branches.find((b) => (b.properties as Record<string, Node>).kind!.const === kind) ?? branches[0]!;
  }
  return node;
}

/** Values of other JSON types than the one a node asks for. */
const NOT_JSON_TYPE = ['x', null, true, {}, []] as const;

const RULE_KINDS = RULE_BRANCHES.map((b) => (resolve(b).properties as Record<string, Node>).kind!.const as string);

/** Values at, just inside and just outside the node's bounds, and of other types. */
function leafProbes(node: Node): Json[] {
  const n = resolve(node);
  if ('const' in n) return [n.const as Json, ...NOT_JSON_TYPE, 2];
  if (Array.isArray(n.enum)) return [...(n.enum as Json[]), 'not-a-member', ...NOT_JSON_TYPE, 1];
  if (n.type === 'number' || n.type === 'integer') {
    const bounds = ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum'].map((k) => n[k]).filter((v): v is number => typeof v === 'number');
    const around = bounds.flatMap((b) => [b - 1, b - 1e-9, b, b + 1e-9, b + 0.5, b + 1]);
    return [...new Set<Json>([-1, 0, 0.5, 1, 2, 1e12, ...around, '1', null, true])];
  }
  if (n.type === 'string') return ['', 'a', 'ok-id_1.2', 'Upper', '-lead', '1st', 1, null];
  if (n.type === 'array') {
    const item = leafProbes(n.items as Node)[0]!;
    return [[], [item], [item, item], [item, item, item, item], [item, item, item, item, item], 'x', null];
  }
  if (n.type === 'object') return [{}, { unknown: 1 }, 'x', null, []];
  if (n.type === 'boolean') return [true, false, 'true', 1, 0, null, {}, []];
  throw new Error(`no probes for ${JSON.stringify(n)}`);
}

/** One-change variants of a schema-valid `value`, recursing into objects and arrays. */
function mutations(value: Json, node: Node): Json[] {
  const n = resolve(node, value);
  // A container's own variants come from the recursion below; here only values of another type.
  const out: Json[] = n.type === 'object' ? ['x', 1, null, []] : n.type === 'array' ? ['x', 1, null, {}] : leafProbes(n);
  if (n.type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const props = (n.properties ?? {}) as Record<string, Node>;
    out.push({ ...value, unknown_key: 1 });
    for (const [k, sub] of Object.entries(props)) {
      const { [k]: current, ...without } = value;
      out.push(without);
      const variants = current === undefined ? leafProbes(sub) : mutations(current, sub);
      for (const v of variants) out.push({ ...value, [k]: v });
    }
    if ('kind' in props) for (const kind of RULE_KINDS) out.push({ ...value, kind });
  }
  if (n.type === 'array' && Array.isArray(value)) {
    out.push([], value.slice(1), [...value, value[value.length - 1]!]);
    value.forEach((el, i) => {
      for (const v of mutations(el, n.items as Node)) out.push(value.map((e, j) => (j === i ? v : e)));
    });
  }
  return out;
}

/** The checks validateRules adds to the schema (the schema's description names them). Input: a schema-valid file. */
function crossRuleOk(doc: { static_fallback_ms: number; rules: Array<Record<string, any>> }): boolean {
  const rs = doc.rules;
  const boxes = rs.flatMap((r) => (r.kind === 'monotonic' ? [r.region] : r.kind === 'input_domain' ? [r.normalized] : []));
  const ranges = rs.flatMap((r) => (r.kind === 'input_domain' ? Object.values(r.raw as Record<string, number[]>) : []));
  const floors = rs.filter((r) => r.kind === 'timing_floor').map((r) => r.absolute_floor_ms as number);
  const ceilings = rs.filter((r) => r.kind === 'ceiling').map((r) => r.max_ms as number);
  const absFloor = Math.max(...floors);
  const ceiling = Math.min(...ceilings);
  return (
    new Set(rs.map((r) => r.id)).size === rs.length &&
    boxes.every((b) => b.min.every((lo: number, i: number) => lo <= b.max[i])) &&
    ranges.every(([lo, hi]) => lo! <= hi!) &&
    floors.length > 0 &&
    ceilings.length > 0 &&
    rs.filter((r) => r.kind === 'input_domain').length === 1 &&
    absFloor <= Math.floor(ceiling) &&
    rs.every((r) => r.kind !== 'conditional_floor' || r.min_ms <= ceiling) &&
    doc.static_fallback_ms >= absFloor &&
    doc.static_fallback_ms <= ceiling
  );
}

describe('the runtime validator agrees with schemas/safety-rules.schema.json', () => {
  const ajv = schemaValidator('safety-rules');
  const base = JSON.parse(JSON.stringify(DEFAULT_RULES)) as Json;

  it('the default rules cover every rule kind of the schema', () => {
    expect(new Set(DEFAULT_RULES.rules.map((r) => r.kind))).toEqual(new Set(RULE_KINDS));
  });

  it('on every generated case', () => {
    const cases = mutations(base, SCHEMA);
    expect(cases.length).toBeGreaterThan(1000);
    const disagreements = new Set<string>();
    for (const doc of cases) {
      const schemaOk = ajv(doc) as boolean;
      const expected = schemaOk && crossRuleOk(doc as never);
      if (validateRules(doc).ok !== expected) disagreements.add(describeChange(base, doc));
    }
    expect([...disagreements]).toEqual([]);
  });
});

/** "path = value" of the one change a case makes to `base` (for readable failures). */
function describeChange(base: Json, doc: Json, path = ''): string {
  if (JSON.stringify(base) === JSON.stringify(doc)) return `${path} unchanged`;
  if (base !== null && doc !== null && typeof base === 'object' && typeof doc === 'object' && Array.isArray(base) === Array.isArray(doc)) {
    const b = base as Record<string, Json>;
    const d = doc as Record<string, Json>;
    const keys = [...new Set([...Object.keys(b), ...Object.keys(d)])].filter((k) => JSON.stringify(b[k]) !== JSON.stringify(d[k]));
    if (keys.length === 1 && Object.keys(b).length === Object.keys(d).length && (!Array.isArray(base) || (base as Json[]).length === (doc as Json[]).length)) {
      return describeChange(b[keys[0]!]!, d[keys[0]!]!, path ? `${path}/${keys[0]}` : keys[0]!);
    }
    if (keys.length === 1 && !(keys[0]! in d)) return `${path ? `${path}/` : ''}${keys[0]} removed`;
    if (keys.length === 1 && !(keys[0]! in b)) return `${path ? `${path}/` : ''}${keys[0]} = ${JSON.stringify(d[keys[0]!])}`;
  }
  return `${path} = ${JSON.stringify(doc)}`;
}

describe('the types in runtime/rules-format.ts follow schemas/safety-rules.schema.json', () => {
  const file = fileURLToPath(new URL('../runtime/rules-format.ts', import.meta.url));
  const program = ts.createProgram([file], { strict: true, exactOptionalPropertyTypes: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
  const declared = (name: string): ts.Type => checker.getDeclaredTypeOfSymbol(exported.find((s) => s.name === name)!);

  /** A canonical text for a TS type: literals, number, string, boolean, T[] (tuples as arrays), objects with sorted keys. */
  function fromType(t: ts.Type, stop: ReadonlySet<ts.Type> = new Set()): string {
    if (stop.has(t)) return 'Rule';
    if (t.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return 'boolean';
    if (t.isUnion()) {
      const parts = t.types.filter((m) => !(m.flags & ts.TypeFlags.Undefined)).map((m) => fromType(m, stop));
      return [...new Set(parts)].sort().join(' | ');
    }
    if (t.isStringLiteral() || t.isNumberLiteral()) return JSON.stringify(t.value);
    if (t.flags & ts.TypeFlags.Number) return 'number';
    if (t.flags & ts.TypeFlags.String) return 'string';
    if (checker.isTupleType(t) || checker.isArrayType(t)) {
      const items = [...new Set(checker.getTypeArguments(t as ts.TypeReference).map((a) => fromType(a, stop)))].sort().join(' | ');
      return `${items}[]`;
    }
    const props = checker.getPropertiesOfType(t).map((p) => `${p.name}${p.flags & ts.SymbolFlags.Optional ? '?' : ''}: ${fromType(checker.getTypeOfSymbol(p), stop)}`);
    return `{ ${props.sort().join('; ')} }`;
  }

  /** The same canonical text for a schema node; with `stopAtRule`, a reference to a rule reads "Rule". */
  function fromSchema(node: Node, stopAtRule = false): string {
    if (stopAtRule && node.$ref === '#/$defs/rule') return 'Rule';
    const n = resolve(node);
    if ('const' in n) return JSON.stringify(n.const);
    if (Array.isArray(n.enum)) return [...new Set(n.enum.map((v) => JSON.stringify(v)))].sort().join(' | ');
    if (n.type === 'number' || n.type === 'integer') return 'number';
    if (n.type === 'string') return 'string';
    if (n.type === 'boolean') return 'boolean';
    if (n.type === 'array') return `${fromSchema(n.items as Node, stopAtRule)}[]`;
    if (n.type === 'object') {
      const required = new Set((n.required as string[] | undefined) ?? []);
      const props = Object.entries((n.properties ?? {}) as Record<string, Node>).map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${fromSchema(v, stopAtRule)}`);
      return `{ ${props.sort().join('; ')} }`;
    }
    throw new Error(`no canonical text for ${JSON.stringify(n)}`);
  }

  const rule = declared('Rule');

  it.each(RULE_BRANCHES.map((b, i) => [RULE_KINDS[i]!, b] as const))('rule kind %s', (kind, branch) => {
    const member = (rule as ts.UnionType).types.find((m) => {
      const k = m.getProperty('kind');
      return k !== undefined && fromType(checker.getTypeOfSymbol(k)) === JSON.stringify(kind);
    });
    expect(member, `no member of Rule has kind "${kind}"`).toBeDefined();
    expect(fromType(member!)).toBe(fromSchema(branch));
  });

  it('Rule has one member per schema rule kind', () => {
    expect((rule as ts.UnionType).types.length).toBe(RULE_BRANCHES.length);
  });

  it('SafetyRules', () => {
    expect(fromType(declared('SafetyRules'), new Set([rule]))).toBe(fromSchema(SCHEMA, true));
  });
});
