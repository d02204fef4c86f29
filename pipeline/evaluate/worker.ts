/**
 * Worker thread of the evaluation harness: loads the artifact once (if any), then runs the jobs it is sent,
 * one at a time, and posts each result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { artifactFromBytes } from '../../runtime/index.js';
import { runJob, type Job } from './harness.js';
import { sharedModelOf } from './policies.js';

const { artifactBytes } = workerData as { artifactBytes: { manifest: Uint8Array; weights: Uint8Array } | null };
const model = artifactBytes ? sharedModelOf(artifactFromBytes(artifactBytes.manifest, artifactBytes.weights)) : null;

parentPort!.on('message', (job: Job) => {
  parentPort!.postMessage(runJob(job, model));
});
