/**
 * The README's quick start: a CNN trained on digits 0-4 is looked into (deconvnet) and reused on digits 5-9
 * (off-the-shelf features + a linear SVM). Run: npx tsx examples/quickstart.ts   (about 20 s on wasm)
 */
import { Deconvnet, FeatureExtractor, LinearSvm, trainClassifier, zeilerFergusCnn } from 'transferkit';
import { initBackend, loadMnist } from 'transferkit/node';

await initBackend(); // tfjs-node if installed, else wasm + transferkit's training kernels, else cpu
const a = await loadMnist({ seed: 0, classes: [0, 1, 2, 3, 4], limitPerClass: 300 });
const b = await loadMnist({ seed: 0, classes: [5, 6, 7, 8, 9], relabel: true, limitPerClass: 100 });

const cnn = zeilerFergusCnn({ numClasses: 5, seed: 0 }); // conv1, pool1, conv2, pool2, flatten, fc1, logits
await trainClassifier(cnn, a.train.x, a.train.y, { epochs: 2, seed: 0 });

const deconv = new Deconvnet(cnn); // Zeiler & Fergus: what does each conv2 feature map respond to?
const projections = deconv.project(b.test.x, { layer: 'conv2', channels: [0, 1, 2], position: 'max' });

const features = new FeatureExtractor(cnn, { taps: 'pool2', normalize: 'l2' }); // DeCAF on unseen classes
const [train] = await features.extractAll(b.train.x);
const [test] = await features.extractAll(b.test.x);
const svm = new LinearSvm({ C: 1 });
const [xTrain, xTest] = [train.toTensor(), test.toTensor()];
await svm.fit(xTrain, b.train.labels);
const predicted = await svm.predict(xTest);
const accuracy = predicted.filter((p, i) => p === b.test.labels[i]).length / predicted.length;
console.log(
  `projections ${projections.shape}; pool2 features + SVM on digits 5-9: ${(100 * accuracy).toFixed(1)}%`,
);

for (const d of [projections, xTrain, xTest, cnn, deconv, features, svm, a, b]) d.dispose();
