import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this file holding raft-ns's package.json (works from dist/ and from sources). */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'raft-ns') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('raft-ns: cannot find the package root');
    dir = parent;
  }
})();

/** The tool version recorded in every artifact and report (package.json's version). */
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
