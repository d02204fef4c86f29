import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { PACKAGE_ROOT } from './version.js';

/** A validation result is data, not an exception. */
export type Validation<T> = { ok: true; value: T } | { ok: false; issues: Array<{ path: string; message: string }> };

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
// ajv-formats ships CJS; under NodeNext its default import is the module namespace.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;
addFormats(ajv);

const cache = new Map<string, ValidateFunction>();

/** The parsed JSON Schema `schemas/<name>.schema.json`. */
export function loadSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'schemas', `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
}

/** The compiled ajv validator for `schemas/<name>.schema.json` (compiled once per process). */
export function schemaValidator(name: string): ValidateFunction {
  let fn = cache.get(name);
  if (!fn) {
    fn = ajv.compile(loadSchema(name));
    cache.set(name, fn);
  }
  return fn;
}

/** Validates `value` against `schemas/<name>.schema.json`. */
export function validateAgainst<T>(name: string, value: unknown): Validation<T> {
  const fn = schemaValidator(name);
  if (fn(value)) return { ok: true, value: value as T };
  return { ok: false, issues: (fn.errors ?? []).map(formatAjvError) };
}

function formatAjvError(e: ErrorObject): { path: string; message: string } {
  const path = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') {
    return { path, message: `unknown key "${String((e.params as { additionalProperty: string }).additionalProperty)}"` };
  }
  return { path, message: e.message ?? e.keyword };
}
