// The browser part of the benchmark (bench/browser/run.mjs): in ONE page, on wasm (with transferkit's training
// kernels), webgl and webgpu, times a CNN training step and a Deconvnet projection, then asks whether
// `registerTrainingKernels` has anything to offer the GPU backends: what the call does there (the kernel registry
// before and after), and the two gradients it replaces on wasm timed both ways: the backend's own
// Conv2DBackpropFilter / Conv2DBackpropInput against the single Conv2D over transposed / reversed tensors that
// transferkit's composite kernels compute.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import {
  Deconvnet,
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  zeilerFergusCnn,
} from '../../src/index.js';

/** One timing: median of `reps` runs after one warm-up (shader compilation, kernel set-up). */
export interface BrowserBenchRecord {
  backend: string;
  task: string;
  medianMs: number;
  /** Every timed run, ms. */
  samplesMs: number[];
}

/** What `registerTrainingKernels(backend)` did on one backend. */
export interface TrainingKernelsProbe {
  backend: string;
  /** 'registered' (with the kernels it returned) or the error class and message it threw. */
  outcome: string;
  /** Kernel configs of the six names that differ after the call (0: the registry is untouched). */
  changedConfigs: number;
}

/** The page's result. */
export interface BrowserBenchRun {
  records: BrowserBenchRecord[];
  trainingKernels: TrainingKernelsProbe[];
  env: Record<string, Record<string, string | number | boolean>>;
}

async function time(
  fn: () => Promise<void>,
  reps: number,
): Promise<{ medianMs: number; samplesMs: number[] }> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], samplesMs: ms };
}

function probeTrainingKernels(backend: string): TrainingKernelsProbe {
  const before = TRAINING_KERNEL_NAMES.map((k) => tf.getKernel(k, backend));
  let outcome: string;
  try {
    outcome = `registered ${registerTrainingKernels(backend as TrainingKernelBackend).join(' ')}`;
  } catch (e) {
    const err = e as Error;
    outcome = `${err.name}: ${err.message}`;
  }
  const after = TRAINING_KERNEL_NAMES.map((k) => tf.getKernel(k, backend));
  return { backend, outcome, changedConfigs: after.filter((a, i) => a !== before[i]).length };
}

/** Reads one tensor back and frees it: GPU work is asynchronous, the read waits for it. */
async function settle(t: tf.Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

export async function run(backends: string[], reps = 2): Promise<BrowserBenchRun> {
  setWasmPaths('/');
  const records: BrowserBenchRecord[] = [];
  const trainingKernels: TrainingKernelsProbe[] = [];
  const env: BrowserBenchRun['env'] = {};
  const push = async (backend: string, task: string, fn: () => Promise<void>) => {
    const t = await time(fn, reps);
    records.push({ backend, task, ...t });
    console.log(`${backend} ${task}: ${t.medianMs.toFixed(1)} ms`);
  };
  for (const backend of backends) {
    // wasm needs the kernels to train a conv net at all; on webgl/webgpu this records what the call does there
    if (backend !== 'cpu') trainingKernels.push(probeTrainingKernels(backend));
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
    await tf.ready();
    if (backend === 'webgl') {
      env.webgl = {
        WEBGL_VERSION: tf.env().getNumber('WEBGL_VERSION'),
        WEBGL_RENDER_FLOAT32_ENABLED: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
        WEBGL_PACK: tf.env().getBool('WEBGL_PACK'),
      };
    }
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
    await push(backend, 'CNN train step, batch 16 (Adam)', async () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
        vars,
      );
      if (loss) await settle(loss);
    });
    const dn = new Deconvnet(model);
    const img = tf.slice(x, 0, 8);
    await push(backend, 'Deconvnet projection, 8 images x 4 conv2 channels', async () => {
      await settle(dn.project(img, { layer: 'conv2', channels: [0, 1, 2, 3], position: 'max' }));
    });
    // The gradients of conv 3x3, 16 -> 32 channels, stride 1, 'same', on [16, 14, 14, 16] (the CNN's conv2 shape).
    const a = tf.randomUniform([16, 14, 14, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomUniform([16, 14, 14, 32], 0, 1, 'float32', 3) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 16, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
    const convAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    await push(backend, "dW: the backend's Conv2DBackpropFilter", async () => {
      await settle(
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: a, dy },
            { ...convAttrs, filterShape: [3, 3, 16, 32] },
          ) as tf.Tensor,
      );
    });
    await push(backend, 'dW: one Conv2D of x^T with dy^T (transferkit wasm kernel)', async () => {
      const pad: [number, number][] = [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ];
      await settle(
        tf.tidy(() =>
          tf.transpose(
            tf.conv2d(
              tf.transpose(tf.pad(a, pad), [3, 1, 2, 0]) as tf.Tensor4D,
              tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D,
              1,
              'valid',
            ),
            [1, 2, 0, 3],
          ),
        ),
      );
    });
    await push(backend, "dx: the backend's Conv2DBackpropInput", async () => {
      await settle(
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy, filter: w },
            { ...convAttrs, inputShape: a.shape },
          ) as tf.Tensor,
      );
    });
    await push(
      backend,
      'dx: one Conv2D of dy with the reversed filter (transferkit wasm kernel)',
      async () => {
        await settle(
          tf.tidy(() =>
            tf.conv2d(dy, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, 'same'),
          ),
        );
      },
    );
    tf.dispose([x, y, img, a, dy, w]);
    dn.dispose();
    optimizer.dispose();
    model.dispose();
  }
  return { records, trainingKernels, env };
}
