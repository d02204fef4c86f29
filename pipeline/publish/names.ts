/**
 * Registry names and versions. Both become path segments under the registry root, so they are validated
 * before any path is built: a name or version that could climb out of `artifacts/` (`..`, `/`, `\`, a
 * leading dot, NUL) never reaches `path.join`.
 */
import { RaftNsError } from '../util/errors.js';

/** Model names: lower-case letters, digits, `.`, `_`, `-`; starts with a letter or digit; ≤ 64 chars. */
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Semantic Versioning 2.0.0, the regular expression semver.org publishes (no leading `v`). */
const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Returns the name if it is a safe registry model name; throws `publish.bad-name` otherwise. */
export function checkModelName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.includes('..')) {
    throw new RaftNsError(
      'publish.bad-name',
      `publish: ${where}: model name ${JSON.stringify(name)} is not allowed; expected lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64 characters, no '..'`,
    );
  }
  return name;
}

/**
 * Returns the version if it is a semantic version (MAJOR.MINOR.PATCH[-pre]); throws `publish.bad-version`
 * otherwise. Build metadata (`+hotfix`) is refused: semver gives 1.0.0+hotfix the precedence of 1.0.0, so
 * it would publish different bytes under what every consumer treats as the same, immutable version.
 */
export function checkVersion(version: unknown, where: string): string {
  if (typeof version !== 'string' || version.length > 128 || !SEMVER_RE.test(version)) {
    throw new RaftNsError(
      'publish.bad-version',
      `publish: ${where}: version ${JSON.stringify(version)} is not a semantic version; expected MAJOR.MINOR.PATCH such as 1.0.0`,
    );
  }
  if (version.includes('+')) {
    throw new RaftNsError('publish.bad-version', `publish: ${where}: version ${JSON.stringify(version)} carries build metadata, which semver ignores for precedence; publish under a new MAJOR.MINOR.PATCH[-pre] instead`);
  }
  return version;
}

/** Semver precedence (build metadata ignored): negative if a < b, 0 if equal, positive if a > b. */
export function compareSemver(a: string, b: string): number {
  const [ca, pa] = splitCore(a);
  const [cb, pb] = splitCore(b);
  for (let i = 0; i < 3; i++) {
    const d = ca[i]! - cb[i]!;
    if (d !== 0) return d;
  }
  // A version without a pre-release outranks one with it.
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (nx !== ny) {
      return nx ? -1 : 1; // numeric identifiers rank below alphanumeric ones
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** True if the version has no pre-release part (eligible to be a model's `latest`). */
export function isRelease(version: string): boolean {
  return !version.split('+')[0]!.includes('-');
}

function splitCore(v: string): [number[], string[]] {
  const noBuild = v.split('+')[0]!;
  const dash = noBuild.indexOf('-');
  const core = dash < 0 ? noBuild : noBuild.slice(0, dash);
  const pre = dash < 0 ? [] : noBuild.slice(dash + 1).split('.');
  return [core.split('.').map(Number), pre];
}
