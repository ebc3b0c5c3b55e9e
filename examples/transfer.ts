/**
 * Layer transfer on MNIST: train a CNN on digits 0-4 (task A), copy its first layers into a net for digits 5-9
 * (task B), freeze or fine-tune them with discriminative learning rates, swap the head for Oquab's adaptation
 * block, and run a small version of Yosinski et al.'s AnB/BnB experiment.
 * Run: npx tsx examples/transfer.ts   (about a minute on 2 cores with the wasm backend)
 */
import {
  LayerTransfer,
  selectClasses,
  summarizeTransfer,
  TransferExperiment,
  trainWithGroups,
  transferTable,
  zeilerFergusCnn,
} from 'transferkit';
import { initBackend, loadMnist } from 'transferkit/node';

await initBackend(); // wasm (or tfjs-node) with transferkit's training kernels
const mnist = await loadMnist({ seed: 0, testFraction: 0.25, limitPerClass: 200 });
const data = {
  train: { x: mnist.train.x, labels: mnist.train.labels },
  test: { x: mnist.test.x, labels: mnist.test.labels },
  classesA: [0, 1, 2, 3, 4],
  classesB: [5, 6, 7, 8, 9],
};
const cnn = (numClasses: number, seed: number) =>
  zeilerFergusCnn({ filters: [8, 16], kernelSizes: [5, 3], hidden: [64], numClasses, seed });

// 1. The whole experiment: baseA, baseB and AnB, BnB, AnB+, BnB+ for n = 1..3 (conv1, conv2, fc1), two seeds.
const experiment = new TransferExperiment(data, {
  modelFactory: cnn,
  seeds: [1, 2],
  training: { epochs: 1, batchSize: 32, learningRate: 0.01 },
  onProgress: (e) => {
    if (e.phase === 'transfer') process.stdout.write(`\rnetworks trained: ${e.done}/${e.total}`);
  },
});
const results = await experiment.run(); // JSON: save it, pass it back as `resume` after an interruption
const { header, rows } = transferTable(summarizeTransfer(results));
console.log(`\n${header.join('\t')}\n${rows.map((r) => r.join('\t')).join('\n')}`);

// 2. The primitives by hand: a base net on A, and B's data (x: new tensors, labels relabelled 0..4).
const a = await selectClasses(data.train, data.classesA);
const b = await selectClasses(data.train, data.classesB);
const bTest = await selectClasses(data.test, data.classesB);
const baseA = cnn(5, 1);
await trainWithGroups(baseA, a, { learningRate: 0.01, seed: 1 });

// AnB+ with discriminative rates: copy conv1 + conv2, new head for 5 classes, copied layers at a 10x lower rate.
const anb = new LayerTransfer(baseA, {
  copy: { name: 'conv2' },
  head: { kind: 'replace', numClasses: 5 },
});
console.log('copied', anb.copiedLayers, 're-initialised', anb.newLayers);
await anb.fineTune(b, { learningRate: 1e-2, copiedLearningRate: 1e-3, seed: 1 });
console.log(`AnB+ (n = 2, lr 1e-3 / 1e-2): ${(100 * (await anb.evaluate(bTest)).accuracy).toFixed(1)}% on B`);

// Oquab et al.: keep every layer but the last, frozen, and train an adaptation block FCa-ReLU-dropout-FCb.
const oquab = new LayerTransfer(baseA, {
  head: { kind: 'adaptation', numClasses: 5, hiddenUnits: 128, dropout: 0.5 },
});
oquab.freeze(); // frozen BatchNormalization layers (none here) would run in inference mode
await oquab.fineTune(b, { learningRate: 1e-2, seed: 1 });
console.log(
  `adaptation block ${oquab.newLayers.join(' + ')} on frozen A features: ${(100 * (await oquab.evaluate(bTest)).accuracy).toFixed(1)}% on B`,
);

for (const t of [a.x, b.x, bTest.x, anb, oquab, baseA, mnist]) t.dispose();
