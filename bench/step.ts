/**
 * The `step` suite: where a training step through `trainClassifier` goes beyond its forward pass, on wasm.
 *
 * For the zoo CNN (`zeilerFergusCnn()`, batch 64, Adam) and the distillation student MLP (`hintonMlp()`,
 * 784-800-800-10, batch 128):
 *
 * - the forward pass of one batch (inference, the unit the step is measured in),
 * - one step through `trainClassifier` (an epoch of K batches, divided by K), with transferkit's default wasm kernels
 *   and with the previous kernel set (without the max-pool gradient kernel), rounds interleaved, medians;
 *   `extra.forwardPasses` = step / forward pass from the same rounds,
 * - the per-kernel time of one step (tf.profile over one epoch; op-level wrappers `*__op` left out so nothing is
 *   counted twice): one record per kernel, `extra.share` of the step's kernel time and `extra.calls` per step.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  defaultTrainingKernels,
  hintonMlp,
  registerTrainingKernels,
  trainClassifier,
  zeilerFergusCnn,
} from '../src/index.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, median } from './util.js';

interface Net {
  label: string;
  build: () => tfl.LayersModel;
  inputShape: number[];
  batch: number;
}

const NETS: Net[] = [
  { label: 'CNN', build: () => zeilerFergusCnn({ seed: 1 }), inputShape: [28, 28, 1], batch: 64 },
  {
    label: 'MLP',
    build: () => hintonMlp({ preset: 'student', seed: 1, inputShape: [784] }),
    inputShape: [784],
    batch: 128,
  },
];

/** The wasm kernels before the max-pool gradient kernel existed (the previous default). */
const PREVIOUS = defaultTrainingKernels('wasm').filter((k) => k !== 'MaxPoolGrad');

/** The 1-minute load average (the machine is shared: read ratios, and this, with every number). */
function loadAverage(): string {
  return os.loadavg()[0].toFixed(2);
}

async function measureNet(net: Net, opts: BenchOptions): Promise<BenchRecord[]> {
  const steps = opts.quick ? 4 : 12;
  const rounds = opts.quick ? 3 : 7;
  const n = net.batch * steps;
  const model = net.build();
  const x = tf.randomUniform([n, ...net.inputShape], 0, 1, 'float32', 3);
  const y = tf.randomUniform([n], 0, 10, 'int32', 4) as tf.Tensor1D;
  const xb = tf.slice(x, 0, net.batch);
  const forward = async () => {
    const out = tf.tidy(() => model.apply(xb, { training: false }) as tf.Tensor);
    await out.data();
    out.dispose();
  };
  const epoch = (seed: number) => trainClassifier(model, x, y, { epochs: 1, batchSize: net.batch, seed });
  const fwd: number[] = [];
  const step: number[] = [];
  const prev: number[] = [];
  const load0 = loadAverage();
  try {
    for (let i = 0; i < 3; i++) await forward();
    await epoch(0);
    registerTrainingKernels('wasm', { kernels: PREVIOUS });
    await epoch(0);
    registerTrainingKernels('wasm');
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      for (let i = 0; i < steps; i++) await forward();
      fwd.push((performance.now() - t) / steps);
      t = performance.now();
      await epoch(r + 1);
      step.push((performance.now() - t) / steps);
      registerTrainingKernels('wasm', { kernels: PREVIOUS });
      t = performance.now();
      await epoch(r + 1);
      prev.push((performance.now() - t) / steps);
      registerTrainingKernels('wasm');
    }
    // Per-kernel times of one epoch with the default kernels.
    const prof = await tf.profile(async () => {
      await epoch(99);
    });
    const agg = new Map<string, { ms: number; calls: number }>();
    for (const k of prof.kernels) {
      if (k.name.endsWith('__op')) continue;
      const a = agg.get(k.name) ?? { ms: 0, calls: 0 };
      a.ms += Number(k.kernelTimeMs);
      a.calls += 1;
      agg.set(k.name, a);
    }
    const totalKernelMs = [...agg.values()].reduce((s, a) => s + a.ms, 0) / steps;
    const fwdMs = median(fwd);
    const note = { load: `${load0} -> ${loadAverage()}`, rounds };
    const fwdRec = makeRecord(`${net.label} forward pass (batch ${net.batch}, inference)`, fwdMs, {
      unit: 'example',
      perOp: net.batch,
      extra: { ...note },
    });
    const prevRec = makeRecord(
      `${net.label} trainClassifier step, previous kernels (no MaxPoolGrad kernel)`,
      median(prev),
      {
        unit: 'example',
        perOp: net.batch,
        extra: { forwardPasses: median(prev.map((p, i) => p / fwd[i])), ...note },
      },
    );
    const stepRec = addRatios(
      makeRecord(`${net.label} trainClassifier step (batch ${net.batch}, Adam)`, median(step), {
        unit: 'example',
        perOp: net.batch,
        extra: {
          forwardPasses: median(step.map((p, i) => p / fwd[i])),
          kernelMsPerStep: totalKernelMs,
          kernelsPerStep: prof.kernels.filter((k) => !k.name.endsWith('__op')).length / steps,
          ...note,
        },
      }),
      prevRec,
    );
    const kernelRecs = [...agg]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, opts.quick ? 8 : 14)
      .map(([name, a]) =>
        makeRecord(`${net.label} step kernel: ${name}`, a.ms / steps, {
          extra: {
            calls: a.calls / steps,
            share: a.ms / steps / totalKernelMs,
            forwardPasses: a.ms / steps / fwdMs,
          },
        }),
      );
    return [fwdRec, prevRec, stepRec, ...kernelRecs];
  } finally {
    registerTrainingKernels('wasm');
    tf.dispose([x, y, xb]);
    model.dispose();
  }
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  registerTrainingKernels('wasm');
  const out: BenchRecord[] = [];
  for (const net of NETS) out.push(...(await measureNet(net, opts)));
  return out;
}

export const suite: BenchSuite = {
  id: 'step',
  title:
    'Training step profile on wasm: trainClassifier step in forward passes (CNN, MLP), per-kernel times, before/after',
  run,
};
