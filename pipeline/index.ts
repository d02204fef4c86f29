/**
 * raft-ns pipeline API: each stage is a function `(inputs, options) → outputs` that the CLI, `raft-ns run`,
 * the tests and the notebooks all call.
 */
export { RaftNsError } from './util/errors.js';
export { TOOL_VERSION } from './version.js';
export { validateAgainst } from './schemas.js';
