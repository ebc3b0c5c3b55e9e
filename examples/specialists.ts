/**
 * A generalist plus specialists on the classes it confuses (Hinton, Vinyals & Dean 2015, section 5), on MNIST:
 * cluster the generalist's predictions, train specialists with a dustbin class, combine them by the KL rule,
 * save and load the ensemble, and distil it back into one model.
 * Run: npx tsx examples/specialists.ts   (about a minute on the wasm backend)
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  clusterClasses,
  distillEnsemble,
  hintonMlp,
  InvalidArgumentError,
  memoryEnsembleStore,
  SpecialistEnsemble,
  trainClassifier,
} from 'transferkit';
import { initBackend, loadMnist } from 'transferkit/node';

await initBackend();
const mnist = await loadMnist({ seed: 0, testFraction: 0.2 });
const x = tf.slice(mnist.train.x, 0, 6400);
const y = tf.slice(mnist.train.y, 0, 6400);
const labels = mnist.train.labels.slice(0, 6400);
const xHeld = tf.slice(mnist.train.x, 6400, 1600);
const heldLabels = mnist.train.labels.slice(6400);

// A weak generalist: 784-8-10, logits.
const generalist = hintonMlp({ hidden: [8], dropout: 0, inputDropout: 0, seed: 1 });
await trainClassifier(generalist, x, y, { epochs: 6, batchSize: 64, learningRate: 3e-3 });

// 1. Confusable classes from its predictions on held-out digits (covariance method, k searched).
const probs = tf.softmax(generalist.predict(xHeld) as tf.Tensor);
const p = await probs.data();
probs.dispose();
const found = clusterClasses(p, 10, { k: { min: 2, max: 6 }, seed: 1 });
const byConfusion = clusterClasses(p, 10, { method: 'confusion', labels: heldLabels, k: { min: 2, max: 6 } });
console.log(
  'covariance clusters',
  found.clusters.map((c) => c.classes),
);
console.log(
  'confusion clusters',
  byConfusion.clusters.map((c) => c.classes),
);

// 2. One specialist per multi-class cluster: a copy of the generalist with a new head (its classes + a dustbin),
//    trained on data half from its subset.
const ensemble = await SpecialistEnsemble.train(generalist, x, labels, {
  clusters: byConfusion,
  sampling: { subsetFraction: 0.5 },
  training: { epochs: 3, learningRate: 3e-3 },
  onProgress: (e) => {
    if (e.done === e.total) console.log(`${e.phase}: ${e.total} batches`);
  },
});

// 3. Predict: top-1 candidate picks the active specialists, q minimises KL(p_g, q) + sum_m KL(p_m, q).
const accuracy = async (pred: tf.Tensor) => {
  const ok = tf.mean(tf.cast(tf.equal(tf.argMax(pred, 1), mnist.test.y), 'float32'));
  const v = (await ok.data())[0];
  tf.dispose([ok, pred]);
  return v;
};
console.log('generalist', await accuracy(generalist.predict(mnist.test.x) as tf.Tensor));
console.log('ensemble  ', await accuracy(await ensemble.predictProba(mnist.test.x, { candidates: 1 })));

// 4. Save and load the whole ensemble through tf.io handlers (here in memory; in a browser use
//    (name) => `indexeddb://mnist-${name}`).
const store = memoryEnsembleStore();
await ensemble.save(store.handler);
const loaded = await SpecialistEnsemble.load(store.handler);
console.log('loaded    ', await accuracy(await loaded.predictProba(mnist.test.x)));
loaded.dispose();

// 5. Distil the ensemble back into one model of the generalist's size.
const student = hintonMlp({ hidden: [8], dropout: 0, inputDropout: 0, seed: 2 });
await distillEnsemble(ensemble, student, x, {
  labels: y,
  temperature: 2,
  alpha: 0.7,
  epochs: 6,
  learningRate: 3e-3,
});
console.log('distilled ', await accuracy(student.predict(mnist.test.x) as tf.Tensor));

// Bad input is a typed error that names the argument.
try {
  await ensemble.predict(mnist.test.x, { candidates: 11 });
} catch (e) {
  if (e instanceof InvalidArgumentError) console.log(e.message);
}

ensemble.dispose(); // the specialists (the generalist is the caller's)
tf.dispose([x, y, xHeld]);
generalist.dispose();
student.dispose();
mnist.dispose();
