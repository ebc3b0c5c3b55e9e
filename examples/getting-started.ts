/**
 * Getting started: load MNIST, train the reference CNN for one epoch, evaluate it, and save a figure and a model.
 * Run: npx tsx examples/getting-started.ts   (about 10 s on 2 cores with the wasm backend)
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import {
  evaluateClassifier,
  lineChart,
  tensorToRgbaGrid,
  trainClassifier,
  zeilerFergusCnn,
} from 'transferkit';
import { initBackend, loadMnist, saveLayersModelTo, writePng } from 'transferkit/node';

// 1. The fastest backend installed (tfjs-node, else wasm with transferkit's training kernels, else cpu).
const backend = await initBackend();

// 2. A seeded, stratified split of the 10,000 digits of the `mnist` package; here 200 per class.
const mnist = await loadMnist({ seed: 0, testFraction: 0.2, limitPerClass: 200 });
console.log(`backend ${backend}: ${mnist.train.size} train / ${mnist.test.size} test digits`);

// 3. A small Zeiler-Fergus-style CNN (named layers conv1, pool1, conv2, pool2, flatten, fc1, logits).
const cnn = zeilerFergusCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 0 });

// 4. A seeded training loop (the batch order is the same on every backend for a seed).
const history = await trainClassifier(cnn, mnist.train.x, mnist.train.y, {
  epochs: 3,
  batchSize: 64,
  learningRate: 2e-3,
  seed: 0,
  validation: { x: mnist.test.x, y: mnist.test.y },
  onProgress: (e) => {
    if (e.phase === 'epoch') console.log(`epoch ${e.done}/${e.total}`, e.metrics);
  },
});
const { accuracy } = await evaluateClassifier(cnn, { x: mnist.test.x, labels: mnist.test.y });
console.log(`test accuracy ${(accuracy * 100).toFixed(1)}%`);

// 5. Figures: an SVG learning curve and a PNG grid of the first test digits.
const svg = lineChart({
  title: 'Held-out accuracy',
  xLabel: 'epoch',
  yLabel: 'accuracy',
  series: [
    { name: 'test', x: history.epochs.map((e) => e.epoch), y: history.epochs.map((e) => e.valAcc ?? 0) },
  ],
});
await writeFile('learning-curve.svg', svg);
const first = tf.slice(mnist.test.x, 0, 16);
await writePng('digits.png', await tensorToRgbaGrid(first, { cols: 8, scale: 2 }));
first.dispose();

// 6. Save the model as model.json + weights.bin (load it again with loadLayersModelFrom).
await saveLayersModelTo(cnn, 'my-cnn');
cnn.dispose();
mnist.dispose();
