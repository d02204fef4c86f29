/**
 * The float model as a TensorFlow.js LayersModel (model/model.json + model/weights.bin) for tfjs users:
 * Input [null, null, 4] → LSTM(64, recurrentActivation 'sigmoid', returnSequences) → Dense(2) per tick.
 * `model.predict` starts from h = c = 0 for each sequence; to carry state across calls, use the runtime.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, jsonText } from '../util/fs.js';
import { FEATURES, OUTPUTS, PARAM_LAYOUT, UNITS } from '../train/engine.js';
import { TOOL_VERSION } from '../version.js';

export function makeLayersModel(params: Float32Array): tf.LayersModel {
  const model = tf.sequential({ name: 'raft_ns_timeout' });
  model.add(tf.layers.lstm({
    name: 'lstm',
    units: UNITS,
    inputShape: [null, FEATURES],
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    returnSequences: true,
    // The trained weights are set below; cheap initializers avoid tfjs's slow orthogonal default.
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
  }));
  model.add(tf.layers.dense({ name: 'head', units: OUTPUTS }));
  model.setWeights(PARAM_LAYOUT.map((t) => tf.tensor(params.slice(t.offset, t.offset + t.size), t.shape, 'float32')));
  return model;
}

/** Writes `dir/model.json` and `dir/weights.bin`; returns the files written (relative to dir). */
export async function exportLayersModel(params: Float32Array, dir: string): Promise<string[]> {
  // tfjs's CPU backend prints a banner recommending tfjs-node at its first tensor; for a one-off export of
  // 17,794 numbers it is noise in every `raft-ns run`. PROD mode only silences tfjs warnings (DEBUG is off
  // anyway); the previous value is restored, so other tfjs users in the process are unaffected.
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  const model = makeLayersModel(params);
  try {
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(tf.io.concatenateArrayBuffers(data as ArrayBuffer[]));
      writeFileAtomic(join(dir, 'weights.bin'), bytes);
      writeFileAtomic(join(dir, 'model.json'), jsonText({
        format: 'layers-model',
        generatedBy: `raft-ns ${TOOL_VERSION}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      }));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON', weightDataBytes: bytes.length } };
    }));
  } finally {
    model.dispose();
    tf.env().set('PROD', prod);
  }
  return ['model.json', 'weights.bin'];
}
