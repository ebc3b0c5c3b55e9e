/**
 * Kernel profile of one Deconvnet projection of the pretrained MobileNetV2 (224x224, a late block) on the active
 * backend, beside one forward + backward pass of the same batch: which kernels dominate (`tf.profile`, wall time per
 * kernel as the backend reports it). `npx tsx bench/profile-projection.ts [batch] [channels] [layer]`.
 */
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { Deconvnet, registerTrainingKernels } from '../src/index.js';
import { loadPretrained } from '../src/node.js';

async function profile(label: string, f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  const info = await tf.profile(f);
  const ms = performance.now() - t0;
  const by = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    if (process.env.SHAPES === k.name)
      console.log(
        `  ${k.name} ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}: ${t.toFixed(0)} ms`,
      );
    total += t;
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += t;
    e.calls++;
    by.set(k.name, e);
  }
  console.log(
    `\n${label}: ${ms.toFixed(0)} ms wall, ${total.toFixed(0)} ms in ${info.kernels.length} kernels`,
  );
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(
      `  ${name.padEnd(40)} ${e.ms.toFixed(0).padStart(7)} ms  ${e.calls} calls  ${((100 * e.ms) / total).toFixed(1)}%`,
    );
  }
  return ms;
}

const batch = Number(process.argv[2] ?? 8);
const nch = Number(process.argv[3] ?? 8);
const layer = process.argv[4] ?? 'block_13_expand';
registerTrainingKernels('wasm');
await tf.setBackend('wasm');
const model = await loadPretrained('mobilenet_v2');
const x = tf.randomUniform([batch, 224, 224, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
const labels = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 5),
    'int32',
  ),
  5,
);
const xv = tf.variable(x, true);
const fb = async () => {
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(labels, model.predict(xv) as tf.Tensor) as tf.Scalar,
  );
  await Promise.all([value.data(), ...Object.values(grads).map((g) => g.data())]);
  tf.dispose([value, grads]);
};
await fb(); // warm-up
const dn = new Deconvnet(model);
const channels = Array.from({ length: nch }, (_, i) => i);
const proj = async () => {
  const p = dn.project(x, { layer, channels, position: 'max' });
  await p.data();
  p.dispose();
};
await proj(); // warm-up: the wasm heap grows to the projection's peak once (a growth is charged to whichever kernel hits it)
const fbMs = await profile(`forward + backward, ${batch} images`, fb);
const pMs = await profile(`projection ${batch} images x ${nch} channels of ${layer}`, proj);
console.log(`\nprojection / (forward + backward) = ${(pMs / fbMs).toFixed(2)}`);
