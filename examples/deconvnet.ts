/**
 * Deconvnet (Zeiler & Fergus 2013) on a small CNN trained on MNIST digits:
 *   1. the top-9 activations of every conv2 feature map, projected to pixels beside their input patches (fig. 2),
 *   2. deconvnet vs guided backprop vs gradient saliency for the correct class,
 *   3. an occlusion map (section 4.2),
 *   4. a projection rule for a custom layer.
 * Writes deconvnet-conv2.png and prints what it measured.
 * Run: npx tsx examples/deconvnet.ts   (about half a minute on the wasm backend)
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Deconvnet, registerDeconvRule, topKFigure, trainClassifier, zeilerFergusCnn } from 'transferkit';
import { initBackend, loadMnist, writePng } from 'transferkit/node';

await initBackend();
const mnist = await loadMnist({ seed: 0, testFraction: 0.2 });
const model = zeilerFergusCnn({ seed: 1 }); // conv1 5x5x16, pool1, conv2 3x3x32, pool2, fc1 128, logits
const x = tf.slice(mnist.train.x, 0, 3000);
const y = tf.slice(mnist.train.y, 0, 3000);
await trainClassifier(model, x, y, { epochs: 1, batchSize: 64, learningRate: 2e-3 });

// 1. Top-9 per feature map over 1,000 test digits, cropped to the receptive field of conv2's units.
const dn = new Deconvnet(model); // strategy 'deconvnet' by default
const images = tf.slice(mnist.test.x, 0, 1000);
console.log('conv2 receptive field:', dn.receptiveField('conv2')); // {kind: 'local', size: [10, 10], ...}
const top = await dn.topK(images, { layer: 'conv2', k: 9 });
console.log('projections', top.projections.shape, 'strongest unit of channel 0:', top.units[0][0]);
await writePng('deconvnet-conv2.png', await topKFigure(top, { scale: 2 }));
tf.dispose([top.projections, top.patches]);

// 2. Three backward rules on the same machinery: the correct class's logit projected to pixels.
const digits = tf.slice(mnist.test.x, 0, 4) as tf.Tensor4D;
const labels = mnist.test.labels.slice(0, 4);
for (const strategy of ['deconvnet', 'guided', 'saliency'] as const) {
  const p = dn.projectUnits(
    digits,
    labels.map((c, i) => ({ image: i, channel: c })),
    { layer: 'logits', strategy, signal: 'unit' },
  );
  const energy = tf.tidy(() => tf.sum(tf.abs(p)));
  console.log(`${strategy}: total |projection| ${(await energy.data())[0].toFixed(3)}`);
  tf.dispose([p, energy]);
}

// 3. Occlusion: an 8px square slid with stride 2; where does the correct class's probability drop most?
const occ = await dn.occlusion(digits, { labels, size: 8, stride: 2, layer: 'conv2' });
const probs = await occ.probability.data();
const per = occ.rows.length * occ.cols.length;
for (let i = 0; i < 4; i++) {
  const row = Array.from(probs.subarray(i * per, (i + 1) * per));
  const worst = row.indexOf(Math.min(...row));
  const r0 = occ.rows[Math.floor(worst / occ.cols.length)];
  const c0 = occ.cols[worst % occ.cols.length];
  console.log(
    `digit ${labels[i]}: p ${occ.baseline[i].toFixed(3)} -> ${row[worst].toFixed(3)} with the square at (${r0}, ${c0})`,
  );
}
tf.dispose([occ.probability, occ.predicted, occ.featureActivity!]);

// 4. A custom layer plugs in through the rule registry (here: its projection is its exact gradient, scaled).
class Scale extends tfl.layers.Layer {
  static className = 'ExampleScale';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 0.5);
  }
}
registerDeconvRule('ExampleScale', {
  backward: ({ signal }) => tf.mul(signal, 0.5),
  geometry: () => ({ kind: 'identity' }),
});
const custom = tfl.sequential({
  layers: [
    tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, name: 'c' }),
    new Scale({ name: 'half' }),
  ],
});
const pc = new Deconvnet(custom).project(digits, { layer: 'half', channels: [0, 1] });
console.log('custom-layer projections', pc.shape); // [4, 2, 28, 28, 1]
tf.dispose([pc, x, y, images, digits]);
custom.dispose();
model.dispose();
mnist.dispose();
