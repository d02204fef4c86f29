/**
 * Option-value parsers for commander: a bad value is a usage error (exit 2, one line) raised while the
 * arguments are parsed, before any stage starts work or writes a byte.
 */
import { statSync, type Stats } from 'node:fs';
import { InvalidArgumentError } from 'commander';

// semver.org 2.0.0 §2, §9, §10: MAJOR.MINOR.PATCH, optional -prerelease and +build.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `--model-version 1.2.0`; `1.0` is refused with the expected form. */
export function parseSemver(value: string): string {
  if (value.length > 128 || !SEMVER.test(value)) throw new InvalidArgumentError('expected a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0');
  // publish refuses build metadata (semver ignores it for precedence): refuse it before the work, too.
  if (value.includes('+')) throw new InvalidArgumentError('expected a semantic version without +build metadata (publish refuses it), e.g. 1.0.0 or 1.0.0-rc.1');
  return value;
}

/** A finite number > 0 (counts, durations). */
export function parsePositive(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('expected a number greater than 0');
  return v;
}

/** An integer in [min, max] (seeds, counts, budgets). */
export function parseIntIn(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer in [${min}, ${max}]`);
    }
    return v;
  };
}

/** A finite number in a range; `(` excludes the bound, `[` includes it. */
export function parseNumberIn(min: number, max: number, open: { min?: boolean; max?: boolean } = {}): (value: string) => number {
  return (value) => {
    const v = Number(value);
    const low = open.min ? v > min : v >= min;
    const high = open.max ? v < max : v <= max;
    if (value.trim() === '' || !Number.isFinite(v) || !low || !high) {
      throw new InvalidArgumentError(`expected a number in ${open.min ? '(' : '['}${min}, ${Number.isFinite(max) ? max : '∞'}${open.max || !Number.isFinite(max) ? ')' : ']'}`);
    }
    return v;
  };
}

/** One of a fixed set of words (for options whose value is not a commander `.choices()` list). */
export function parseOneOf<T extends string>(...words: T[]): (value: string) => T {
  return (value) => {
    if (!(words as string[]).includes(value)) throw new InvalidArgumentError(`expected ${words.slice(0, -1).join(', ')}${words.length > 1 ? ' or ' : ''}${words[words.length - 1]}`);
    return value as T;
  };
}

/**
 * A path that must exist before the command starts: `file`, `dir`, or `any`. The one-line error names
 * the path (a path, never an identifier from the data) and what was expected.
 */
export function parseExisting(kind: 'file' | 'dir' | 'any'): (value: string) => string {
  return (value) => {
    let st: Stats;
    try {
      st = statSync(value);
    } catch {
      throw new InvalidArgumentError(`no such ${kind === 'dir' ? 'folder' : kind === 'file' ? 'file' : 'file or folder'}`);
    }
    if (kind === 'dir' && !st.isDirectory()) throw new InvalidArgumentError('expected a folder, found a file');
    if (kind === 'file' && !st.isFile()) throw new InvalidArgumentError('expected a file, found a folder');
    return value;
  };
}

/** parseExisting for a variadic argument (`<files...>`): commander passes the values so far. */
export function parseExistingFiles(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), parseExisting('file')(value)];
}
