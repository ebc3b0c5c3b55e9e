/**
 * Bring your own model: the three ways a model of yours plugs into transferkit without forking it.
 * Run: npx tsx examples/bring-your-own-model.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  Deconvnet,
  Distiller,
  gradientRule,
  type PredictModel,
  registerDeconvRule,
  zeilerFergusCnn,
} from 'transferkit';
import { initBackend } from 'transferkit/node';

await initBackend('cpu');

// 1. Any object with `predict(x) -> logits` is a teacher (PredictModel): here a fixed linear map of the pixels.
const w = tf.randomNormal([784, 10], 0, 0.05, 'float32', 1);
const linearTeacher: PredictModel = { predict: (x) => tf.matMul(tf.reshape(x, [x.shape[0], 784]), w) };

const student = tfl.sequential({
  layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10, name: 'logits' })],
});
const images = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
const distiller = new Distiller(student, linearTeacher, { temperature: 4, alpha: 1 });
const history = await distiller.fit(images, { epochs: 2, batchSize: 16 });
console.log('distilled from a plain object teacher; final loss', history.epochs.at(-1)?.loss.toFixed(4));
distiller.dispose();

// 2. A custom layer class: register how the deconvnet projects through it. `gradientRule` projects through the
// layer's exact gradient, which is right for any smooth elementwise layer.
class Swish extends tfl.layers.Layer {
  static readonly className = 'Swish';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.mul(x, tf.sigmoid(x));
  }
}
tf.serialization.registerClass(Swish);
registerDeconvRule('Swish', gradientRule);

const cnn = zeilerFergusCnn({ filters: [4], kernelSizes: [3], hidden: [], seed: 3 });
const custom = tfl.sequential({
  layers: [...cnn.layers.slice(0, 1), new Swish({ name: 'swish' }), ...cnn.layers.slice(1)],
});
const dn = new Deconvnet(custom);
const two = tf.slice(images, 0, 2);
const projection = dn.project(two, { layer: 'swish', channels: [0, 1] });
console.log('projection through the custom layer:', projection.shape);

// 3. Your own backend: transferkit never imports one. Register it, then (optionally) the training kernels:
//    import '@tensorflow/tfjs-backend-wasm'; registerTrainingKernels('wasm'); await tf.setBackend('wasm');
tf.dispose([w, images, two, projection]);
dn.dispose();
