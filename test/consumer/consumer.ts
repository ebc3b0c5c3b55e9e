// An ESM TypeScript consumer, type-checked against the shipped .d.ts of the packed tarball, that uses every
// primitive once on tiny data: Deconvnet, FeatureExtractor + LinearSvm, LayerTransfer, PatchSampler,
// DistillationLoss, SpecialistEnsemble, plus the training kernels and the core conventions.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import {
  clusterClasses,
  Deconvnet,
  DistillationLoss,
  FeatureExtractor,
  InvalidArgumentError,
  LayerTransfer,
  LinearSvm,
  PatchSampler,
  Rng,
  registerTrainingKernels,
  SpecialistEnsemble,
  zeilerFergusCnn,
} from 'transferkit';

const backend = process.argv[2] === 'wasm' ? 'wasm' : 'cpu';
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
else await import('@tensorflow/tfjs-backend-cpu');
registerTrainingKernels(backend);
await tf.setBackend(backend);

const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(`consumer check failed: ${what}`);
};
const start = tf.memory().numTensors;
const rng = new Rng(1);
const x = tf.randomUniform([12, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = Array.from({ length: 12 }, (_, i) => i % 4);
const model = zeilerFergusCnn({ filters: [4, 8], kernelSizes: [3, 3], hidden: [16], numClasses: 4, seed: 1 });

const dn = new Deconvnet(model);
const proj = dn.project(x, { layer: 'conv2', channels: [0, 1] });
check(proj.shape.join() === '12,2,28,28,1', `Deconvnet.project shape ${proj.shape}`);
dn.dispose();

const extractor = new FeatureExtractor(model, { taps: ['conv1', 'fc1'], pool: 'avg' });
const [f1, f2] = extractor.extract(x);
check(
  f1.shape.join() === '12,4' && f2.shape.join() === '12,16',
  `FeatureExtractor shapes ${f1.shape} ${f2.shape}`,
);
const svm = new LinearSvm({ numClasses: 4 });
await svm.fit(f2, labels);
check((await svm.predict(f2)).length === 12, 'LinearSvm.predict');
svm.dispose();
extractor.dispose();

const transfer = new LayerTransfer(model, {
  copy: { name: 'conv1' },
  head: { kind: 'replace', numClasses: 5 },
});
const out = transfer.model.predict(x) as tf.Tensor;
check(out.shape.join() === '12,5', `LayerTransfer head shape ${out.shape}`);
transfer.dispose();

const grid = new PatchSampler({ scales: 4, overlap: 0.5 }).grid({ height: 64, width: 64 });
check(grid.count > 10, `PatchSampler grid of ${grid.count}`);

const loss = new DistillationLoss({ temperature: 4, alpha: 0.5 });
const teacherLogits = tf.randomNormal([12, 4], 0, 1, 'float32', 2);
const studentLogits = model.predict(x) as tf.Tensor;
const hard = tf.tensor1d(labels, 'int32');
const value = loss.compute(studentLogits, teacherLogits, hard);
check(Number.isFinite((await value.data())[0]), 'DistillationLoss.compute');

const probs = tf.softmax(teacherLogits);
const clusters = clusterClasses(await probs.data(), 4, { k: 2, seed: 1 });
const ensemble = await SpecialistEnsemble.train(model, x, labels, { clusters, training: { epochs: 1 } });
const q = await ensemble.predictProba(x);
check(q.shape.join() === '12,4', `SpecialistEnsemble.predictProba shape ${q.shape}`);
ensemble.dispose();

let typed = false;
try {
  rng.int(0);
} catch (e) {
  typed = e instanceof InvalidArgumentError;
}
check(typed, 'a typed InvalidArgumentError');
tf.dispose([x, proj, f1, f2, out, teacherLogits, studentLogits, hard, value, probs, q]);
model.dispose();
check(tf.memory().numTensors === start, `tensors left: ${tf.memory().numTensors - start}`);
console.log(`consumer (ESM, TypeScript, ${tf.getBackend()}): every primitive ok`);
