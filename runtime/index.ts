/**
 * raft-ns/runtime: the zero-dependency inference engine and election-timeout provider a Raft node embeds.
 * Imports nothing outside runtime/ and no Node built-ins (the Node file loader is the separate
 * `raft-ns/runtime/node-loader` module), so it runs unchanged in Node and in browsers.
 *
 * @example
 * // artifactFromBytes, makeSharedModel and NeuroSymbolicTimeout come from the package entry raft-ns/runtime
 * const model = makeSharedModel(artifactFromBytes(manifestJson, weightsBytes), 'int8');
 * const policy = new NeuroSymbolicTimeout({ model });
 * policy.observe(obs); const timeoutMs = policy.electionTimeoutMs();
 */
export {
  artifactFromBytes, dequantize, ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION, PARAMETER_COUNT,
  type ArtifactManifest, type DenseParams, type LoadedArtifact, type ParseOptions, type Precision, type QuantizedParams, type TensorEntry,
} from './artifact.js';
export { LstmModel, LstmState, referenceStep, type KernelChoice } from './engine.js';
export { wasmStepAvailable } from './wasm-kernel.js';
export { LstmBatch } from './batch.js';
export { RuntimeError } from './errors.js';
export { requireManifestSignature, verifyManifestSignature } from './signature.js';
export { FeatureState, FEATURE_NAMES, FEATURE_TRANSFORMS, NUM_FEATURES, normalizeInPlace, type Normalization, type SignalSample } from './features.js';
export { DEFAULT_RULES } from './default-rules.js';
export {
  applyGuardrails, compileRules, declaredProperties, GuardrailTrace, hardFloorMs, normalizedDomainViolation, rawDomainViolation,
  survivedSilenceFloorOf, validateRules, RAW_FIELDS, RULES_FORMAT, RULES_FORMAT_VERSION,
  type Box, type CeilingRule, type CompiledRules, type ConditionalFloorRule, type GuardrailContext, type InputDomainRule,
  type MaxChangeRule, type MonotonicRule, type QuantizationBudgetRule, type Role, type Rule, type RuleKind, type SafetyRules,
  type TimingFloorRule, type SurvivedSilenceFloorRule,
} from './rules.js';
export { sha256, sha256Hex } from './sha256.js';
export { checkGolden, parseGolden, type GoldenCase, type GoldenReport } from './golden.js';
export {
  makeSharedModel, NeuroSymbolicTimeout,
  type Explanation, type FallbackReason, type NeuroSymbolicTimeoutOptions, type RuleActivation, type SharedModel, type TimeoutObservation,
} from './timeout.js';
