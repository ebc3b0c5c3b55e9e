/**
 * CNN features off the shelf (DeCAF; Razavian et al. 2014): train a small CNN on MNIST digits 0-4, tap several of
 * its layers in one forward pass for digits 5-9 it never saw, and train a linear SVM on 10 labelled digits per class,
 * against raw pixels. Then the pretrained MobileNetV2 shipped in nsfwjs as a frozen feature extractor with
 * Razavian's augmented views, a feature file round trip, and the classifiers' common interface.
 * Run: npx tsx examples/features.ts   (about a minute on 2 cores with the wasm backend)
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  accuracy,
  confusionMatrix,
  type FeatureClassifier,
  FeatureExtractor,
  FeatureMatrix,
  LinearSvm,
  loadClassifier,
  MlSvmClassifier,
  Rng,
  SoftmaxRegression,
  trainClassifier,
  zeilerFergusCnn,
} from 'transferkit';
import {
  initBackend,
  loadFeatures,
  loadMnist,
  loadPretrained,
  PRETRAINED_MODELS,
  saveFeatures,
} from 'transferkit/node';

await initBackend(); // wasm (or tfjs-node) with transferkit's training kernels

// 1. A source CNN trained on digits 0-4 only.
const source = await loadMnist({ seed: 0, testFraction: 0.2, classes: [0, 1, 2, 3, 4], relabel: true });
const cnn = zeilerFergusCnn({ filters: [16, 32], hidden: [128], numClasses: 5, seed: 1 });
await trainClassifier(cnn, source.train.x, source.train.y, { epochs: 1, batchSize: 64, learningRate: 2e-3 });
source.dispose();

// 2. Discover the taps (no guessing of layer names), then read several layers in ONE forward pass.
for (const t of FeatureExtractor.listTaps(cnn))
  console.log(t.name.padEnd(8), t.className.padEnd(14), t.outputShape);
const fx = new FeatureExtractor(cnn, { taps: ['pool1', 'pool2', 'fc1'], normalize: 'l2' });

// 3. Digits 5-9: 10 labelled examples per class for training, the rest of the test part for testing.
const target = await loadMnist({ seed: 0, testFraction: 0.2, classes: [5, 6, 7, 8, 9], relabel: true });
const rng = new Rng(0);
const trainIdx = [0, 1, 2, 3, 4].flatMap((c) =>
  rng.sample(
    target.train.labels.flatMap((l, i) => (l === c ? [i] : [])),
    10,
  ),
);
const trainY = trainIdx.map((i) => target.train.labels[i]);
const trainX = tf.gather(target.train.x, tf.tensor1d(trainIdx, 'int32'));
const train = await fx.extractAll(trainX); // one FeatureMatrix per tap
const test = await fx.extractAll(target.test.x, {
  memoryBudgetMB: 32, // batch size chosen to fit
  onProgress: (e) => process.stdout.write(`\rextract ${e.done}/${e.total}`),
});
console.log();

const pixels = async (x: tf.Tensor) => FeatureMatrix.fromTensor(tf.reshape(x, [x.shape[0], -1]), 'pixels');
const sets = [
  { name: 'pixels', train: await pixels(trainX), test: await pixels(target.test.x) },
  ...train.map((m, k) => ({ name: m.name, train: m, test: test[k] })),
];
for (const s of sets) {
  const svm = new LinearSvm({ C: 1 });
  await svm.fit(s.train, trainY);
  const acc = accuracy(target.test.labels, await svm.predict(s.test));
  console.log(`${s.name.padEnd(7)} ${s.train.cols}-d: ${(100 * acc).toFixed(1)}% on digits 5-9`);
  svm.dispose();
}

// 4. Extract once, reuse: the feature file format (browser-safe encodeFeatures/decodeFeatures underneath).
await saveFeatures('out/digits-5-9-fc1.tkf', [test[2]], { labels: target.test.labels, meta: { tap: 'fc1' } });
const again = await loadFeatures('out/digits-5-9-fc1.tkf');
console.log('reloaded', again.matrices[0].rows, 'x', again.matrices[0].cols, again.meta);

// 5. One interface, three classifiers: swap them freely; save to JSON and load back.
const fc1Train = train[2];
const classifiers: FeatureClassifier[] = [
  new LinearSvm({ C: 1, classWeight: 'balanced' }),
  new SoftmaxRegression({ l2: 1e-3 }),
  new MlSvmClassifier({ C: 1 }), // ml-svm, one-vs-rest over its two-class SMO
];
for (const clf of classifiers) {
  await clf.fit(fc1Train, trainY);
  const restored = await loadClassifier(JSON.parse(JSON.stringify(await clf.save())));
  const yhat = await restored.predict(test[2]);
  console.log(
    clf.kind,
    (100 * accuracy(target.test.labels, yhat)).toFixed(1),
    confusionMatrix(target.test.labels, yhat, 5)[0],
  );
  clf.dispose();
  restored.dispose();
}
fx.dispose();
cnn.dispose();
tf.dispose(trainX);

// 6. Off the shelf: nsfwjs's ImageNet-initialised MobileNetV2, penultimate layer, Razavian's 10 views averaged.
const net = await loadPretrained('mobilenet_v2');
const info = PRETRAINED_MODELS.mobilenet_v2;
const mobile = new FeatureExtractor(net, {
  taps: info.featureLayer as string, // 'flatten_1', 1280-d
  normalize: 'power', // sign(x)|x|^0.5, then L2
  resize: 'center-crop', // any image size -> 224x224
  preprocess: { scale: 1 }, // the model wants RGB in [0, 1], which our images already are
  augment: { crops: 'center+corners', flip: true, combine: 'sum' },
});
const images = tf.randomUniform([2, 96, 128, 3]); // stand-ins for your photos
const [f] = mobile.extract(images);
console.log('MobileNetV2 features', f.shape, `(${mobile.viewCount} views per image)`);
tf.dispose([images, f]);
mobile.dispose();
net.dispose();
target.dispose();
