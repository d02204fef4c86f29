/**
 * Shapes that more than one runtime/ file needs, kept apart from the files that build or consume them so
 * that neither has to import the other: the timeout provider (runtime/timeout.ts) makes a SharedModel, the
 * batch (runtime/batch.ts) steps one. Invariant: this file imports types only, and none from its users.
 */
import type { LoadedArtifact, Precision } from './artifact.js';
import type { LstmModel } from './engine.js';

/** A loaded model of one precision path, shareable by every node of a process. */
export interface SharedModel {
  artifact: LoadedArtifact;
  precision: Precision;
  lstm: LstmModel;
}
