/**
 * One error class for the pipeline. The message starts with the area (`ingest: …`), names the file and
 * position when there is one, and says what was expected; `code` is stable for tests and scripts.
 * Exceptions are for failures the user must act on; validation results are data (see schemas.ts).
 */
export class RaftNsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RaftNsError';
    this.code = code;
  }
}
