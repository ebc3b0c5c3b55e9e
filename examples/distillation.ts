/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015) three ways, on MNIST digits:
 *   1. the Distiller (teacher outputs cached once, early stopping, bias correction),
 *   2. DistillationLoss in model.compile({ loss }) / fit() with packed targets,
 *   3. DistillationLoss in a custom loop with optimizer.minimize.
 * Run: npx tsx examples/distillation.ts   (about a minute on the wasm backend)
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DistillationLoss,
  Distiller,
  evaluateClassifier,
  hintonMlp,
  InvalidArgumentError,
  softTargets,
  trainClassifier,
} from 'transferkit';
import { initBackend, loadMnist } from 'transferkit/node';

await initBackend(); // wasm with transferkit's training kernels here (tfjs-node where installed)
const mnist = await loadMnist({ seed: 0, testFraction: 0.2 });
const x = tf.slice(mnist.train.x, 0, 3000);
const y = tf.slice(mnist.train.y, 0, 3000);
const xVal = tf.slice(mnist.train.x, 3000, 500);
const yVal = tf.slice(mnist.train.y, 3000, 500);

// A teacher (Hinton's preset shrunk to 256-256 to keep the example short) and a small student, both output logits.
const teacher = hintonMlp({ preset: 'teacher', hidden: [256, 256], seed: 1 });
await trainClassifier(teacher, x, y, { epochs: 4, batchSize: 128, learningRate: 2e-3 });
const report = async (name: string, model: typeof teacher) => {
  const s = await evaluateClassifier(model, { x: mnist.test.x, labels: mnist.test.y });
  console.log(`${name}: ${s.errors} test errors of ${mnist.test.size} (${(s.errorRate * 100).toFixed(2)}%)`);
};
await report('teacher 784-256-256-10', teacher);

// 1. The Distiller: the teacher runs once over the transfer set; its soft targets at T are cached.
const student = hintonMlp({ hidden: [30, 30], seed: 2 });
const distiller = new Distiller(student, teacher, { temperature: 4, alpha: 0.9, learningRate: 2e-3 });
const history = await distiller.fit(x, {
  labels: y,
  epochs: 6,
  validation: { x: xVal, labels: yVal },
  earlyStopping: { patience: 2 },
  onProgress: (e) => {
    if (e.metrics?.valErrors !== undefined)
      console.log(`  epoch ${e.metrics.epoch}: ${e.metrics.valErrors} val errors`);
  },
});
console.log(
  `Distiller: ${history.epochs.length} epochs, ${history.teacherForwardPasses} teacher passes in all`,
);
await report('student 784-30-30-10, distilled at T = 4', student);
distiller.dispose();

// 2. fit(): y_true packs the soft targets and the labels (q + 2 * onehot(label)); the student outputs logits.
const loss = new DistillationLoss({ temperature: 4, alpha: 0.9 });
const student2 = hintonMlp({ hidden: [30, 30], seed: 3 });
student2.compile({ optimizer: tf.train.adam(2e-3), loss: loss.layersLoss, metrics: ['accuracy'] });
const teacherLogits = teacher.predict(x) as tf.Tensor2D;
const q = softTargets(teacherLogits, loss.temperature);
const yTrue = loss.pack(q, y);
await student2.fit(x, yTrue, { epochs: 4, batchSize: 128, verbose: 0 });
await report('student via compile/fit', student2);

// 3. A custom loop: the same loss inside optimizer.minimize.
const student3 = hintonMlp({ hidden: [30, 30], seed: 4 });
const optimizer = tf.train.adam(2e-3);
const vars = student3.trainableWeights.map((w) => w.read() as tf.Variable);
for (let epoch = 0; epoch < 4; epoch++) {
  for (let start = 0; start < 3000; start += 128) {
    const size = Math.min(128, 3000 - start);
    tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const vb = tf.slice(teacherLogits, start, size);
      const yb = tf.slice(y, start, size);
      optimizer.minimize(
        () => loss.compute(student3.apply(xb, { training: true }) as tf.Tensor, vb, yb) as tf.Scalar,
        false,
        vars,
      );
    });
  }
}
await report('student via a custom loop', student3);

// Errors name the argument, the expectation and what was received.
try {
  new DistillationLoss({ temperature: 0 });
} catch (e) {
  if (e instanceof InvalidArgumentError) console.log(e.message);
}

tf.dispose([x, y, xVal, yVal, teacherLogits, q, yTrue]);
optimizer.dispose();
for (const m of [teacher, student, student2, student3]) m.dispose();
mnist.dispose();
