/** `verify`: checks a–f of an artifact, and the sound-bounds math it is built on. */
export { verifyArtifact, writeVerification, reportText, REPORT_FILE, SUMMARY_FILE, type VerificationReport, type VerifyOptions, type CheckResult } from './verify.js';
export { reportSummary } from './summary.js';
export { proveRules, type ClaimResult, type ProveOptions, type ProveResult } from './prove.js';
export { invariantBox, stepBounds, derivativeBounds, splitToTarget, type Box, type StateBox } from './ibp.js';
export { normalizedDomain } from '../../runtime/domain.js';
