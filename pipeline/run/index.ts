/** The `raft-ns run` orchestrator and its Stage abstraction. */
export { runMainJob, type RunOptions, type RunReport } from './run.js';
export { DEFAULT_RUN_CONFIG, mainJobStages, type RunConfig } from './pipeline.js';
export { runStages, treeSha256, canonicalJson, type Stage, type StageContext, type StageDone, type StageOutput, type StageRecord } from './stage.js';
