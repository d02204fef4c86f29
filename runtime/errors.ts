/**
 * The runtime's error class. runtime/ imports nothing outside itself, so it cannot use the pipeline's
 * RaftNsError; this one has the same shape (`code`, a message starting with the area), and the pipeline's
 * shells rethrow it as a RaftNsError. Thrown only at load/configuration time — never from observe() or
 * electionTimeoutMs(), which fall back instead.
 */
export class RuntimeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.code = code;
  }
}
