/** What the notebooks (notebooks/*.ipynb) call: setup, analysis helpers and display. See notebooks/README.md. */
export * from './setup.js';
export * from './analysis.js';
export * from './display.js';
// Stage functions the notebooks use, re-exported here because tslab loads imports with require(): the
// package index (pipeline/index.ts) pulls in vega, whose top-level await require() cannot load.
export { readDataset, readManifest, type Dataset } from '../ingest/read.js';
export type { TelemetryRow } from '../ingest/telemetry.js';
export { TOOL_VERSION } from '../version.js';
export * from './model.js';
export { verifyArtifact, type VerificationReport } from '../verify/verify.js';
export * from './policies.js';
export { stripNotebookFiles, stripNotebookText } from './strip.js';
