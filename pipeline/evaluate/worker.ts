/**
 * Worker thread of the evaluation harness (a PooledWorker of harness.ts): holds the artifact it was last sent
 * (if any) and runs each chunk of jobs it is sent, posting the chunk's results back in one message.
 */
import { parentPort } from 'node:worker_threads';
import { artifactFromBytes, type SharedModel } from '../../runtime/index.js';
import { runJob, type Job } from './harness.js';
import { sharedModelOf } from './policies.js';

type Message =
  | { kind: 'model'; artifactBytes: { manifest: Uint8Array; weights: Uint8Array } | null }
  | { kind: 'jobs'; jobs: Job[]; batched: boolean };

let model: SharedModel | null = null;

parentPort!.on('message', (m: Message) => {
  if (m.kind === 'model') {
    model = m.artifactBytes ? sharedModelOf(artifactFromBytes(m.artifactBytes.manifest, m.artifactBytes.weights)) : null;
    return;
  }
  parentPort!.postMessage(m.jobs.map((job) => runJob(job, model, m.batched)));
});
