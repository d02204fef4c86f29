/** Publishing verified artifacts into a versioned registry; see publish.ts for the guarantees. */
export { publishArtifact, verificationVerdict, REPORT_FILE, type PublishOptions, type PublishResult, type PublishStep } from './publish.js';
export { checkRegistry, openPublished, readIndex, type RegistryProblem, type RegistryIndex, type RegistryVersion, type RegistryFile } from './registry.js';
export { signManifest, verifyManifestSignature, verifyManifestSignatureWebCrypto } from './signature.js';
export { checkModelName, checkVersion, compareSemver } from './names.js';
export { renderModelCard } from './model-card.js';
