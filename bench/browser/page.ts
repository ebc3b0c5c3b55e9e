// The browser part of the benchmark (bench/browser/run.mjs): in ONE page, on wasm (with transferkit's training
// kernels), webgl and webgpu, times a CNN training step, a Deconvnet projection, and the filter gradient of a conv
// layer two ways (the backend's own Conv2DBackpropFilter vs the single Conv2D over transposed tensors that
// registerTrainingKernels uses on wasm), to say whether those kernels could help the GPU backends.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { Deconvnet, registerTrainingKernels, zeilerFergusCnn } from '../../src/index.js';

/** One timing: median of `reps` runs after one warm-up (shader compilation, kernel set-up). */
export interface BrowserBenchRecord {
  backend: string;
  task: string;
  medianMs: number;
}

async function time(fn: () => Promise<void>, reps: number): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

export async function run(backends: string[], reps = 2): Promise<BrowserBenchRecord[]> {
  setWasmPaths('/');
  registerTrainingKernels('wasm');
  const out: BrowserBenchRecord[] = [];
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
    await tf.ready();
    const x = tf.randomUniform([16, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 10),
        'int32',
      ),
      10,
    );
    const model = zeilerFergusCnn({ seed: 1 }); // conv 5x5x16, pool, conv 3x3x32, pool, fc 128, 10
    const optimizer = tf.train.adam(1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    out.push({
      backend,
      task: 'CNN train step, batch 16 (Adam)',
      medianMs: await time(async () => {
        const loss = optimizer.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
          vars,
        );
        await loss?.data();
        loss?.dispose();
      }, reps),
    });
    const dn = new Deconvnet(model);
    const img = tf.slice(x, 0, 8);
    out.push({
      backend,
      task: 'Deconvnet projection, 8 images x 4 conv2 channels',
      medianMs: await time(async () => {
        const p = dn.project(img, { layer: 'conv2', channels: [0, 1, 2, 3], position: 'max' });
        await p.data();
        p.dispose();
      }, reps),
    });
    // The filter gradient of conv 3x3, 16 -> 32 channels on [16, 14, 14, 16]: the backend's kernel vs one Conv2D of
    // x^T [16, 14, 14, 16] with dy^T [14, 14, 16, 32] (what registerTrainingKernels does on wasm).
    const a = tf.randomUniform([16, 14, 14, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomUniform([16, 14, 14, 32], 0, 1, 'float32', 3) as tf.Tensor4D;
    out.push({
      backend,
      task: "conv filter gradient: the backend's Conv2DBackpropFilter",
      medianMs: await time(async () => {
        const g = tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: a, dy },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [3, 3, 16, 32] },
          ) as tf.Tensor;
        await g.data();
        g.dispose();
      }, reps),
    });
    out.push({
      backend,
      task: 'conv filter gradient: one Conv2D over transposed tensors',
      medianMs: await time(async () => {
        const g = tf.tidy(() =>
          tf.transpose(
            tf.conv2d(
              tf.transpose(
                tf.pad(a, [
                  [0, 0],
                  [1, 1],
                  [1, 1],
                  [0, 0],
                ]),
                [3, 1, 2, 0],
              ) as tf.Tensor4D,
              tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D,
              1,
              'valid',
            ),
            [1, 2, 0, 3],
          ),
        );
        await g.data();
        g.dispose();
      }, reps),
    });
    tf.dispose([x, y, img, a, dy]);
    dn.dispose();
    optimizer.dispose();
    model.dispose();
  }
  return out;
}
