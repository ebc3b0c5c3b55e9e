/**
 * The `kernels` suite: what transferkit's training kernels buy on the backends this machine has.
 *
 * - a CNN training step (conv32-pool-conv64-pool-dense128-dense10 on 28x28x1, Adam, batch 64),
 * - an MLP epoch (784-800-800-10, 10k samples, batch 128; timed per batch and scaled to the epoch, and in full
 *   mode also measured with one real fit() epoch on wasm),
 * - single kernels (filter/input gradient, transposed matmul) as shipped vs replaced,
 * - achieved GFLOP/s of a matmul and a conv2d, with numpy/OpenBLAS (single thread) as the reference when it is
 *   installed.
 *
 * Each runs on: cpu as shipped, cpu + kernels, wasm as shipped (where it runs), wasm + kernels. One process holds
 * one tfjs engine, so the suite switches with tf.setBackend and (un)registers kernels between measurements; the
 * wasm kernels keep the originals' setupFunc, so switching after the backend initialised is safe.
 */
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  type TrainingKernelName,
} from '../src/index.js';
import { defaultTrainingKernels } from '../src/internal.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, failedRecord, makeRecord, type TimeOptions, timeMedian } from './util.js';

interface Variant {
  label: string;
  backend: TrainingKernelBackend;
  kernels: readonly TrainingKernelName[];
}

const CPU_SHIPPED: Variant = { label: 'cpu as shipped', backend: 'cpu', kernels: [] };
const CPU_KERNELS: Variant = {
  label: 'cpu + kernels',
  backend: 'cpu',
  kernels: defaultTrainingKernels('cpu'),
};
const CPU_ALL: Variant = { label: 'cpu + all kernels', backend: 'cpu', kernels: TRAINING_KERNEL_NAMES };
const WASM_SHIPPED: Variant = { label: 'wasm as shipped', backend: 'wasm', kernels: [] };
const WASM_KERNELS: Variant = {
  label: 'wasm + kernels',
  backend: 'wasm',
  kernels: defaultTrainingKernels('wasm'),
};

async function use(v: Variant): Promise<void> {
  registerTrainingKernels(v.backend, { kernels: v.kernels });
  if (!(await tf.setBackend(v.backend))) throw new Error(`backend ${v.backend} failed to initialise`);
}

function cnn(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({
        filters: 64,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(2),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(3) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

function mlp(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 800, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.dense({ units: 800, activation: 'relu', kernelInitializer: init(2) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

function batch(n: number, shape: number[]): { xs: tf.Tensor; ys: tf.Tensor } {
  return tf.tidy(() => ({
    xs: tf.randomUniform([n, ...shape], 0, 1, 'float32', 7),
    ys: tf.cast(tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 8), 10), 'float32'),
  }));
}

/** One CNN training step on `v`, per image. Returns a failed record where the backend cannot train it. */
async function cnnStep(v: Variant, b: number, t: TimeOptions, warmUpBatch: number): Promise<BenchRecord> {
  const name = `${v.label}: CNN train step`;
  await use(v);
  const model = cnn();
  const data = batch(b, [28, 28, 1]);
  const small = warmUpBatch === b ? data : batch(warmUpBatch, [28, 28, 1]);
  try {
    const timing = await timeMedian(() => model.trainOnBatch(data.xs, data.ys), {
      ...t,
      warmUpFn: () => model.trainOnBatch(small.xs, small.ys),
    });
    return makeRecord(`${name} (batch ${b})`, timing.medianMs, {
      unit: 'image',
      perOp: b,
      extra: { msPerImage: timing.medianMs / b, samples: timing.samplesMs.length },
    });
  } catch (e) {
    return failedRecord(`${name} (batch ${b})`, e, 'image');
  } finally {
    tf.dispose([data.xs, data.ys, small.xs, small.ys]);
    model.dispose();
  }
}

const EPOCH = 10_000;
const MLP_BATCH = 128;
const BATCHES_PER_EPOCH = Math.ceil(EPOCH / MLP_BATCH);

/** One MLP epoch on `v`, timed per batch and scaled to 10k samples (79 batches of 128). */
async function mlpEpoch(v: Variant, t: TimeOptions): Promise<BenchRecord> {
  await use(v);
  const model = mlp();
  const data = batch(MLP_BATCH, [784]);
  try {
    const timing = await timeMedian(() => model.trainOnBatch(data.xs, data.ys), t);
    return makeRecord(`${v.label}: MLP epoch (10k, batch 128)`, timing.medianMs * BATCHES_PER_EPOCH, {
      unit: 'sample',
      perOp: EPOCH,
      extra: {
        msPerBatch: timing.medianMs,
        batchesTimed: timing.samplesMs.length,
        scaledTo: `${BATCHES_PER_EPOCH} batches`,
      },
    });
  } finally {
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  }
}

/** A real fit() epoch on 10k samples (full mode, wasm + kernels), to check the per-batch scaling. */
async function mlpFitEpoch(v: Variant): Promise<BenchRecord> {
  await use(v);
  const model = mlp();
  const data = batch(EPOCH, [784]);
  try {
    const wx = tf.slice(data.xs, 0, MLP_BATCH);
    const wy = tf.slice(data.ys, 0, MLP_BATCH);
    await model.fit(wx, wy, { epochs: 1, batchSize: MLP_BATCH, verbose: 0 });
    tf.dispose([wx, wy]);
    const timing = await timeMedian(
      () => model.fit(data.xs, data.ys, { epochs: 1, batchSize: MLP_BATCH, verbose: 0 }),
      {
        warmUp: 0,
        samples: 1,
      },
    );
    return makeRecord(`${v.label}: MLP epoch measured with fit()`, timing.medianMs, {
      unit: 'sample',
      perOp: EPOCH,
    });
  } finally {
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  }
}

/** A single kernel call through the engine (so the registered kernel runs), output read back. */
async function kernelCall(
  v: Variant,
  label: string,
  make: () => { run: () => tf.Tensor; inputs: tf.Tensor[] },
  t: TimeOptions,
  perImage?: number,
): Promise<BenchRecord> {
  await use(v);
  const { run, inputs } = make();
  try {
    const timing = await timeMedian(async () => {
      const out = run();
      await out.data();
      out.dispose();
    }, t);
    return perImage === undefined
      ? makeRecord(`${v.label}: ${label}`, timing.medianMs)
      : makeRecord(`${v.label}: ${label}`, timing.medianMs, { unit: 'image', perOp: perImage });
  } catch (e) {
    return failedRecord(`${v.label}: ${label}`, e);
  } finally {
    tf.dispose(inputs);
  }
}

/** GFLOP/s of `flops` worth of work done by `run`. */
async function gflops(
  v: Variant,
  label: string,
  flops: number,
  make: () => { run: () => tf.Tensor; inputs: tf.Tensor[] },
  t: TimeOptions,
): Promise<BenchRecord> {
  const rec = await kernelCall(v, label, make, t);
  rec.name = `${v.backend}: ${label}`;
  rec.unit = 'GFLOP';
  rec.opsPerSec = flops / 1e9 / (rec.medianMs / 1000);
  rec.extra = { gflops: rec.opsPerSec };
  return rec;
}

/** numpy/OpenBLAS single-thread matmul GFLOP/s on this machine, or undefined when python3/numpy is missing. */
function numpyReference(n: number): BenchRecord | undefined {
  const code = [
    'import numpy as np, time',
    `n=${n}`,
    'a=np.random.rand(n,n).astype(np.float32); b=np.random.rand(n,n).astype(np.float32); a@b',
    'ts=[]',
    'for _ in range(7):',
    '  t=time.perf_counter(); a@b; ts.append(time.perf_counter()-t)',
    'ts.sort(); print(ts[3]*1000)',
  ].join('\n');
  try {
    const out = execFileSync('python3', ['-c', code], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      timeout: 60_000,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const ms = Number.parseFloat(out.trim());
    if (!Number.isFinite(ms)) return undefined;
    const g = (2 * n ** 3) / 1e9 / (ms / 1000);
    return {
      name: `numpy/OpenBLAS 1 thread: matMul ${n}^3 (reference)`,
      medianMs: ms,
      opsPerSec: g,
      unit: 'GFLOP',
      extra: { gflops: g },
    };
  } catch {
    return undefined;
  }
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const q = opts.quick;
  const out: BenchRecord[] = [];
  const startBackend = tf.getBackend();

  // CNN training step. cpu as shipped takes ~46 s per batch of 64: quick mode times a batch of 8 once.
  const cnnCpuShipped = await cnnStep(CPU_SHIPPED, q ? 4 : 64, { samples: 1 }, 1);
  const cnnCpu = await cnnStep(CPU_KERNELS, q ? 8 : 64, { samples: q ? 1 : 3 }, 2);
  const cnnCpuAll = q ? undefined : await cnnStep(CPU_ALL, 64, { samples: 3 }, 2);
  const cnnWasmShipped = await cnnStep(WASM_SHIPPED, 64, { samples: 1, warmUp: 0 }, 64);
  const cnnWasm = await cnnStep(WASM_KERNELS, 64, { samples: q ? 3 : 7 }, 64);
  addRatios(cnnCpu, cnnCpuShipped);
  if (cnnCpuAll) addRatios(cnnCpuAll, cnnCpuShipped, cnnCpu);
  addRatios(cnnWasm, cnnCpuShipped, cnnCpu);
  out.push(cnnCpuShipped, cnnCpu, ...(cnnCpuAll ? [cnnCpuAll] : []), cnnWasmShipped, cnnWasm);

  // MLP epoch, timed per batch of 128 and scaled to 10k samples.
  const mlpCpuShipped = await mlpEpoch(CPU_SHIPPED, { samples: q ? 1 : 5 });
  const mlpCpuAll = q ? undefined : await mlpEpoch(CPU_ALL, { samples: 5 });
  const mlpWasmShipped = await mlpEpoch(WASM_SHIPPED, { samples: q ? 2 : 10 });
  const mlpWasm = await mlpEpoch(WASM_KERNELS, { samples: q ? 5 : 20 });
  if (mlpCpuAll) addRatios(mlpCpuAll, mlpCpuShipped);
  addRatios(mlpWasmShipped, mlpCpuShipped);
  addRatios(mlpWasm, mlpCpuShipped, mlpWasmShipped);
  out.push(mlpCpuShipped, ...(mlpCpuAll ? [mlpCpuAll] : []), mlpWasmShipped, mlpWasm);
  if (!q) out.push(addRatios(await mlpFitEpoch(WASM_KERNELS), mlpCpuShipped, mlpWasmShipped));

  // Single kernels, on the second conv layer's shapes of the CNN (batch 64) and the MLP's dense layer.
  const filterGrad = (n: number) => () => {
    const x = tf.randomNormal([n, 14, 14, 32], 0, 1, 'float32', 1);
    const dy = tf.randomNormal([n, 14, 14, 64], 0, 1, 'float32', 2);
    return {
      inputs: [x, dy],
      run: () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: [1, 1],
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, 32, 64],
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  };
  const inputGrad = () => {
    const dy = tf.randomNormal([64, 14, 14, 64], 0, 1, 'float32', 2);
    const w = tf.randomNormal([3, 3, 32, 64], 0, 1, 'float32', 3);
    return {
      inputs: [dy, w],
      run: () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
          strides: [1, 1],
          pad: 'same',
          dataFormat: 'NHWC',
          inputShape: [64, 14, 14, 32],
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  };
  const matMulT = () => {
    const dy = tf.randomNormal([128, 800], 0, 1, 'float32', 4);
    const w = tf.randomNormal([800, 800], 0, 1, 'float32', 5);
    return { inputs: [dy, w], run: () => tf.matMul(dy, w, false, true) };
  };
  // The cpu original takes ~0.7 s per image here: it runs on a smaller batch, compared per image.
  const fgLabel = (n: number) => `Conv2DBackpropFilter x[${n},14,14,32] dy[${n},14,14,64]`;
  const nShipped = q ? 2 : 8;
  const nCpuK = q ? 8 : 64;
  const fgCpuShipped = await kernelCall(
    CPU_SHIPPED,
    fgLabel(nShipped),
    filterGrad(nShipped),
    { samples: 1, warmUp: 0 },
    nShipped,
  );
  const fgCpu = await kernelCall(
    CPU_KERNELS,
    fgLabel(nCpuK),
    filterGrad(nCpuK),
    { samples: q ? 1 : 3 },
    nCpuK,
  );
  const fgWasm = await kernelCall(WASM_KERNELS, fgLabel(64), filterGrad(64), { samples: q ? 5 : 15 }, 64);
  out.push(fgCpuShipped, addRatios(fgCpu, fgCpuShipped), addRatios(fgWasm, fgCpuShipped, fgCpu));
  const igLabel = 'Conv2DBackpropInput dy[64,14,14,64] w[3,3,32,64]';
  const igWasmShipped = await kernelCall(WASM_SHIPPED, igLabel, inputGrad, { samples: q ? 2 : 7 });
  const igWasm = await kernelCall(WASM_KERNELS, igLabel, inputGrad, { samples: q ? 5 : 15 });
  out.push(igWasmShipped, addRatios(igWasm, igWasmShipped));
  const mmLabel = 'BatchMatMul [128,800] x [800,800]^T';
  const mmWasmShipped = await kernelCall(WASM_SHIPPED, mmLabel, matMulT, { samples: q ? 2 : 7 });
  const mmWasm = await kernelCall(WASM_KERNELS, mmLabel, matMulT, { samples: q ? 5 : 15 });
  out.push(mmWasmShipped, addRatios(mmWasm, mmWasmShipped));

  // Depthwise filter gradient (a MobileNet-style layer): wasm as shipped has none; cpu's original is the baseline.
  const dwFilterGrad = (n: number) => () => {
    const x = tf.randomNormal([n, 28, 28, 96], 0, 1, 'float32', 10);
    const dy = tf.randomNormal([n, 28, 28, 96], 0, 1, 'float32', 11);
    return {
      inputs: [x, dy],
      run: () =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'same',
          filterShape: [3, 3, 96, 1],
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  };
  const dwLabel = (n: number) => `DepthwiseConv2dNativeBackpropFilter x[${n},28,28,96] 3x3`;
  const nDw = q ? 2 : 4;
  const dwCpuShipped = await kernelCall(CPU_SHIPPED, dwLabel(nDw), dwFilterGrad(nDw), { samples: 1 }, nDw);
  const dwWasmShipped = await kernelCall(
    WASM_SHIPPED,
    dwLabel(16),
    dwFilterGrad(16),
    { samples: 1, warmUp: 0 },
    16,
  );
  const dwWasm = await kernelCall(WASM_KERNELS, dwLabel(16), dwFilterGrad(16), { samples: q ? 3 : 7 }, 16);
  out.push(dwCpuShipped, dwWasmShipped, addRatios(dwWasm, dwCpuShipped));

  // Achieved GFLOP/s (forward kernels, untouched by transferkit).
  const nCpu = q ? 512 : 1024;
  const mm = (n: number) => () => {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 6);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 7);
    return { inputs: [a, b], run: () => tf.matMul(a, b) };
  };
  const conv = (bsz: number) => () => {
    const x = tf.randomNormal([bsz, 64, 64, 32], 0, 1, 'float32', 8);
    const w = tf.randomNormal([3, 3, 32, 64], 0, 1, 'float32', 9);
    return { inputs: [x, w], run: () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') };
  };
  const convFlops = (bsz: number) => 2 * bsz * 64 * 64 * 64 * 32 * 9;
  const mmCpu = await gflops(CPU_SHIPPED, `matMul ${nCpu}^3`, 2 * nCpu ** 3, mm(nCpu), {
    samples: q ? 1 : 3,
  });
  const mmWasmG = await gflops(WASM_KERNELS, 'matMul 1024^3', 2 * 1024 ** 3, mm(1024), {
    samples: q ? 3 : 7,
  });
  const ref = numpyReference(1024);
  addRatios(mmWasmG, mmCpu, ref);
  const bCpu = q ? 2 : 8;
  const convCpu = await gflops(
    CPU_SHIPPED,
    `conv2d [${bCpu},64,64,32] * [3,3,32,64] same`,
    convFlops(bCpu),
    conv(bCpu),
    {
      samples: q ? 1 : 3,
    },
  );
  const convWasm = await gflops(
    WASM_KERNELS,
    'conv2d [8,64,64,32] * [3,3,32,64] same',
    convFlops(8),
    conv(8),
    {
      samples: q ? 3 : 7,
    },
  );
  addRatios(convWasm, convCpu, ref);
  out.push(mmCpu, mmWasmG, ...(ref ? [ref] : []), convCpu, convWasm);

  // Leave the process as the runner set it up: wasm with its default kernels, cpu with its defaults.
  registerTrainingKernels('cpu');
  registerTrainingKernels('wasm');
  await tf.setBackend(startBackend);
  return out;
}

/** The suite `npm run bench -- --only kernels` runs. */
export const suite: BenchSuite = {
  id: 'kernels',
  title:
    'Training kernels: CNN step, MLP epoch, single kernels and GFLOP/s on cpu and wasm, as shipped and with transferkit kernels',
  run,
};
