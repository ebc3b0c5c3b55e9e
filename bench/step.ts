/**
 * The `step` suite: where a training step through `trainClassifier` goes beyond its forward pass, on wasm.
 *
 * For the zoo CNN (`zeilerFergusCnn()`, batch 64, Adam) and the distillation student MLP (`hintonMlp()`,
 * 784-800-800-10, batch 128):
 *
 * - the forward pass of one batch (inference, the unit the step is measured in),
 * - one step through `trainClassifier` (an epoch of K batches, divided by K) in four set-ups, rounds interleaved
 *   (the order rotates every round), medians: before (the wasm backend's Transpose kernel inside the composite
 *   training kernels, loss and accuracy read back after every step), + the JavaScript transpose, after (JavaScript
 *   transpose, read back every 10 steps: the defaults), and after + the fused Adam update (off by default: slower
 *   on wasm); `extra.forwardPasses` = step / forward pass from the same rounds, speed-ups against "before",
 * - the per-kernel time of one step before and after (tf.profile over one epoch; op-level wrappers `*__op` left out
 *   so nothing is counted twice; a composite kernel's inner transposes count in its own time): one record per
 *   kernel, `extra.share` of the step's kernel time and `extra.calls` per step.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { hintonMlp, registerTrainingKernels, trainClassifier, zeilerFergusCnn } from '../src/index.js';
import { setFusedAdam } from '../src/kernels/adam.js';
import { setDirectTranspose } from '../src/kernels/transpose.js';
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

/** The 1-minute load average (the machine is shared: read ratios, and this, with every number). */
function loadAverage(): string {
  return os.loadavg()[0].toFixed(2);
}

/** A set-up of the step: which levers are on. */
interface Variant {
  label: string;
  /** The JavaScript transpose inside the composite kernels (off: the wasm backend's Transpose kernel). */
  directTranspose: boolean;
  /** `trainClassifier`'s `readEvery` (1: the loss and accuracy read back after every step, as before). */
  readEvery: number;
  /** The fused Adam update (off: `tf.train.adam`). */
  fusedAdam: boolean;
}

const VARIANTS: Variant[] = [
  {
    label: 'before (wasm Transpose, read back every step)',
    directTranspose: false,
    fusedAdam: false,
    readEvery: 1,
  },
  { label: '+ JS transpose', directTranspose: true, fusedAdam: false, readEvery: 1 },
  {
    label: 'after (JS transpose, read back every 10 steps)',
    directTranspose: true,
    fusedAdam: false,
    readEvery: 10,
  },
  {
    label: 'after + fused Adam (off by default)',
    directTranspose: true,
    fusedAdam: true,
    readEvery: 10,
  },
];

/** Per-kernel ms per step from tf.profile over one epoch (op-level wrappers `*__op` left out). */
async function kernelProfile(
  epoch: () => Promise<unknown>,
  steps: number,
): Promise<{ agg: Map<string, { ms: number; calls: number }>; total: number; count: number }> {
  const prof = await tf.profile(async () => {
    await epoch();
  });
  const agg = new Map<string, { ms: number; calls: number }>();
  let count = 0;
  for (const k of prof.kernels) {
    if (k.name.endsWith('__op')) continue;
    count++;
    const a = agg.get(k.name) ?? { ms: 0, calls: 0 };
    a.ms += Number(k.kernelTimeMs);
    a.calls += 1;
    agg.set(k.name, a);
  }
  return { agg, total: [...agg.values()].reduce((s, a) => s + a.ms, 0) / steps, count: count / steps };
}

async function measureNet(net: Net, opts: BenchOptions): Promise<BenchRecord[]> {
  const steps = opts.quick ? 10 : 20;
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
  const epoch = (v: Variant, seed: number) => {
    setDirectTranspose(v.directTranspose);
    setFusedAdam(v.fusedAdam);
    return trainClassifier(model, x, y, { epochs: 1, batchSize: net.batch, seed, readEvery: v.readEvery });
  };
  const fwd: number[] = [];
  const times = VARIANTS.map(() => [] as number[]);
  const load0 = loadAverage();
  try {
    for (let i = 0; i < 3; i++) await forward();
    for (const v of VARIANTS) await epoch(v, 0);
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      for (let i = 0; i < steps; i++) await forward();
      fwd.push((performance.now() - t) / steps);
      // Rotate the order every round so that no variant always runs first.
      for (let j = 0; j < VARIANTS.length; j++) {
        const k = (j + r) % VARIANTS.length;
        t = performance.now();
        await epoch(VARIANTS[k], r + 1);
        times[k].push((performance.now() - t) / steps);
      }
    }
    const before = await kernelProfile(() => epoch(VARIANTS[0], 99), steps);
    const after = await kernelProfile(() => epoch(VARIANTS[2], 99), steps);
    const fwdMs = median(fwd);
    const note = { load: `${load0} -> ${loadAverage()}`, rounds };
    const fwdRec = makeRecord(`${net.label} forward pass (batch ${net.batch}, inference)`, fwdMs, {
      unit: 'example',
      perOp: net.batch,
      extra: { ...note },
    });
    const recs = VARIANTS.map((v, k) =>
      makeRecord(`${net.label} trainClassifier step, ${v.label}`, median(times[k]), {
        unit: 'example',
        perOp: net.batch,
        extra: {
          forwardPasses: median(times[k].map((p, i) => p / fwd[i])),
          ...(k === 0 ? { kernelMsPerStep: before.total, kernelsPerStep: before.count } : {}),
          ...(k === 2 ? { kernelMsPerStep: after.total, kernelsPerStep: after.count } : {}),
          ...note,
        },
      }),
    );
    for (let k = 1; k < recs.length; k++) addRatios(recs[k], recs[0]);
    const kernelRecs = (which: string, p: typeof before) =>
      [...p.agg]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, opts.quick ? 8 : 14)
        .map(([name, a]) =>
          makeRecord(`${net.label} step kernel (${which}): ${name}`, a.ms / steps, {
            extra: {
              calls: a.calls / steps,
              share: a.ms / steps / p.total,
              forwardPasses: a.ms / steps / fwdMs,
            },
          }),
        );
    return [fwdRec, ...recs, ...kernelRecs('before', before), ...kernelRecs('after', after)];
  } finally {
    setDirectTranspose(true);
    setFusedAdam(false);
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
