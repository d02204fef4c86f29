/**
 * raft-ns pipeline API: each stage is a function `(inputs, options) → outputs` that the CLI, `raft-ns run`,
 * the tests and the notebooks all call.
 */
export { RaftNsError } from './util/errors.js';
export { TOOL_VERSION } from './version.js';
export { validateAgainst } from './schemas.js';
export { runMainJob, DEFAULT_RUN_CONFIG, runStages, type RunConfig, type RunReport, type Stage } from './run/index.js';
export { publishArtifact, openPublished, readIndex as readRegistryIndex, verifyManifestSignature, type PublishResult } from './publish/index.js';
export { windowDataset, writeWindows } from './window/window.js';
export { readWindows } from './window/format.js';
export { train, type TrainInput, type TrainOptions, type TrainResult, type RunManifest } from './train/train.js';
export { resolveTrainConfig, readTrainConfig, defaultTrainConfig, type TrainConfig } from './train/config.js';
export { loadTrainInput } from './train/command.js';
export { quantize, quantizeRun, readRunManifest, type ArtifactManifest, type QuantizeOptions } from './quantize/quantize.js';
export { makeEngine, ENGINES } from './train/engines.js';
export { readArtifactWeights } from './quantize/artifact.js';
export { referenceForward, referenceStep, weightsFromFlat, zeroState } from './quantize/reference.js';
export { ingest, type IngestOptions, type IngestResult } from './ingest/ingest.js';
export { readDataset, readManifest, type Dataset, type ReadDatasetOptions } from './ingest/read.js';
export { inspectDataset, formatManifest } from './dataset/inspect.js';
export type { TelemetryRow, Role, TelemetryEvent } from './ingest/telemetry.js';
export type { DatasetManifest } from './ingest/manifest.js';
export { verifyArtifact, writeVerification, proveRules, type VerificationReport, type VerifyOptions } from './verify/index.js';
export { createFusedEngine, type FusedEngineOptions } from './train/fused/index.js';
export { writeSimulationRun, writeSimulatedTraceSet, type TraceFormat, type WrittenRun } from './simulate/write.js';
export { loadScenario } from './simulate/scenario-file.js';
export { infer, formatInferReport, type InferOptions, type InferReport } from './infer/infer.js';
export { evaluate, reportJson as evaluationReportJson, type EvaluateOptions, type EvaluationReport, type EvaluationResult } from './evaluate/evaluate.js';
export { assertNotHeldOut, loadSuite, type Suite } from './evaluate/suites.js';
export { collectDemoFiles, findDefaultArtifact, type DemoFile, type DemoFiles } from './demo/files.js';
export { serveDemo, writeStaticBundle } from './demo/serve.js';
export { notebookModel, exploreDataset, comparePolicies, stripNotebookText, type NotebookModel, type DatasetExploration } from './notebook/index.js';
