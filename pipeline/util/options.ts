/**
 * Option-value parsers for commander: a bad value is a usage error (exit 2, one line) raised while the
 * arguments are parsed, before any stage starts work or writes a byte.
 */
import { InvalidArgumentError } from 'commander';

// semver.org 2.0.0 §2, §9, §10: MAJOR.MINOR.PATCH, optional -prerelease and +build.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `--model-version 1.2.0`; `1.0` is refused with the expected form. */
export function parseSemver(value: string): string {
  if (!SEMVER.test(value)) throw new InvalidArgumentError('expected a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0');
  return value;
}

/** A finite number > 0 (counts, durations). */
export function parsePositive(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('expected a number greater than 0');
  return v;
}
