/**
 * The `step` suite: where a training step through `trainClassifier` goes beyond its forward pass, on wasm.
 *
 * For the zoo CNN (`zeilerFergusCnn()`, batch 64, Adam) and the distillation student MLP (`hintonMlp()`,
 * 784-800-800-10, batch 128):
 *
 * - the forward pass of one batch (inference, the unit the step is measured in),
 * - one step through `trainClassifier` (an epoch of K batches, divided by K) in several set-ups of the training
 *   kernels, rounds interleaved (the order rotates every round), medians: `before` = the kernels as they were at the
 *   start of this work (2026-11-30, session 4: every training kernel in JavaScript over the wasm heap, tfjs's Adam,
 *   the wasm backend's Sum), then each native kernel (src/kernels/native/) added in turn: MaxPoolGrad, the filter
 *   gradient's im2col matrix (with the cost rule that follows from it), the bias gradients' Sum, the training
 *   forward's bias Add, the fused Adam, the register-blocked filter gradient (no im2col matrix), the register-blocked
 *   convolution of the input gradient, the native matmul (products below 2^27 multiply-adds), the native forward
 *   Conv2D (stride 1), the Identity clones without a copy;
 *   `after` = today's defaults; `extra.forwardPasses` = step / forward pass from the same rounds, `extra.cpuMs`
 *   = the process's CPU time per step (user + system: what the step costs when other processes share the cores,
 *   since waiting for a core is not counted) and `extra.cpuForwardPasses` the same ratio in CPU time; speed-ups
 *   against `before`,
 * - the per-kernel time of one step before, at the start of the GEMM round (the fused-Adam set-up) and after
 *   (tf.profile over one epoch, the three profiled alternately, twice each; op-level wrappers `*__op` left out so
 *   nothing is counted twice; a composite kernel's inner transposes and matmuls count in its own time): one record
 *   per kernel, `extra.share` of the step's kernel time, `extra.calls` per step.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { hintonMlp, registerTrainingKernels, trainClassifier, zeilerFergusCnn } from '../src/index.js';
import { type FusedAdamSetting, setFusedAdam } from '../src/kernels/adam.js';
import { setMatMulSwap } from '../src/kernels/batch_mat_mul.js';
import { type FilterGradMethod, setFilterGradMethod } from '../src/kernels/conv2d_backprop_filter.js';
import { setGatherRows } from '../src/kernels/gather.js';
import { setSharedIdentity } from '../src/kernels/identity.js';
import { setMaxPoolKeyCompare } from '../src/kernels/max_pool_grad.js';
import { type NativeKernel, setNativeKernel } from '../src/kernels/native.js';
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

/** CPU time of this process (user + system), in ms. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A set-up of the training kernels: which levers are on. */
interface Variant {
  label: string;
  /** The JavaScript transpose inside the composite kernels (off: the wasm backend's Transpose kernel). */
  directTranspose: boolean;
  /** Conv2DBackpropFilter's method on wasm. */
  filterGrad: FilterGradMethod;
  /** MaxPoolGrad's branch-free comparison. */
  maxPoolKeys: boolean;
  /** A.B^T as (B.A^T)^T where B is the larger operand. */
  matMulSwap: boolean;
  /** GatherV2 of whole rows as block copies. */
  gatherRows: boolean;
  /** The native kernels switched on. */
  native: readonly NativeKernel[];
  /** trainClassifier's Adam: fused where native (`'native'`), or tfjs's (`false`). */
  fusedAdam: FusedAdamSetting;
  /** Identity (the engine's clones of saved tensors) sharing the data instead of copying it. */
  sharedIdentity: boolean;
}

const NATIVE: readonly NativeKernel[] = [
  'maxPoolGrad',
  'im2col',
  'columnSum',
  'biasAdd',
  'adam',
  'filterGrad',
  'inputGrad',
  'matMul',
  'conv2d',
];

const BEFORE: Variant = {
  label: 'before (JS kernels over the wasm heap, tfjs Adam, wasm Sum)',
  directTranspose: false,
  filterGrad: 'auto',
  maxPoolKeys: true,
  matMulSwap: true,
  gatherRows: true,
  native: [],
  fusedAdam: false,
  sharedIdentity: false,
};

const VARIANTS: Variant[] = [
  BEFORE,
  { ...BEFORE, label: '+ native MaxPoolGrad', native: ['maxPoolGrad'] },
  { ...BEFORE, label: '+ native im2col for dW (and its cost rule)', native: ['maxPoolGrad', 'im2col'] },
  { ...BEFORE, label: '+ native bias-gradient Sum', native: ['maxPoolGrad', 'im2col', 'columnSum'] },
  {
    ...BEFORE,
    label: '+ native bias Add (training forward)',
    native: ['maxPoolGrad', 'im2col', 'columnSum', 'biasAdd'],
  },
  {
    ...BEFORE,
    label: '+ native fused Adam',
    native: ['maxPoolGrad', 'im2col', 'columnSum', 'biasAdd', 'adam'],
    fusedAdam: 'native',
  },
  {
    ...BEFORE,
    label: '+ native register-blocked filter gradient (no im2col)',
    native: ['maxPoolGrad', 'im2col', 'columnSum', 'biasAdd', 'adam', 'filterGrad'],
    fusedAdam: 'native',
  },
  {
    ...BEFORE,
    label: '+ native register-blocked input gradient',
    native: ['maxPoolGrad', 'im2col', 'columnSum', 'biasAdd', 'adam', 'filterGrad', 'inputGrad'],
    fusedAdam: 'native',
  },
  {
    ...BEFORE,
    label: '+ native matmul (products below 2^27 multiply-adds)',
    native: ['maxPoolGrad', 'im2col', 'columnSum', 'biasAdd', 'adam', 'filterGrad', 'inputGrad', 'matMul'],
    fusedAdam: 'native',
  },
  {
    ...BEFORE,
    label: '+ native forward Conv2D (stride 1)',
    native: NATIVE,
    fusedAdam: 'native',
  },
  {
    ...BEFORE,
    label: 'after (the defaults: + Identity without a copy)',
    native: NATIVE,
    fusedAdam: 'native',
    sharedIdentity: true,
  },
];

/** Index of the `after` variant. */
const AFTER = VARIANTS.length - 1;

/** Index of the defaults at the start of the GEMM round (2026-11-30, fifth session: up to the fused Adam). */
const ROUND = VARIANTS.findIndex((v) => v.label === '+ native fused Adam');

function apply(v: Variant): void {
  setDirectTranspose(v.directTranspose);
  setFilterGradMethod(v.filterGrad);
  setMaxPoolKeyCompare(v.maxPoolKeys);
  setMatMulSwap(v.matMulSwap);
  setGatherRows(v.gatherRows);
  for (const k of NATIVE) setNativeKernel(k, v.native.includes(k));
  setFusedAdam(v.fusedAdam);
  setSharedIdentity(v.sharedIdentity);
}

function restoreDefaults(): void {
  apply(VARIANTS[AFTER]);
}

/** Per-kernel ms summed over profiled epochs. */
interface Profile {
  agg: Map<string, { ms: number; calls: number }>;
  count: number;
}

function emptyProfile(): Profile {
  return { agg: new Map(), count: 0 };
}

/** Adds the kernels of one profiled epoch to `into` (op-level wrappers `*__op` left out). */
async function kernelProfile(epoch: () => Promise<unknown>, into: Profile): Promise<void> {
  const prof = await tf.profile(async () => {
    await epoch();
  });
  for (const k of prof.kernels) {
    if (k.name.endsWith('__op')) continue;
    into.count++;
    const a = into.agg.get(k.name) ?? { ms: 0, calls: 0 };
    a.ms += Number(k.kernelTimeMs);
    a.calls += 1;
    into.agg.set(k.name, a);
  }
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
    apply(v);
    return trainClassifier(model, x, y, { epochs: 1, batchSize: net.batch, seed });
  };
  const fwd: number[] = [];
  const fwdCpu: number[] = [];
  const times = VARIANTS.map(() => [] as number[]);
  const cpus = VARIANTS.map(() => [] as number[]);
  const load0 = loadAverage();
  try {
    for (let i = 0; i < 3; i++) await forward();
    for (const v of VARIANTS) await epoch(v, 0);
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      let c = cpuNow();
      for (let i = 0; i < steps; i++) await forward();
      fwd.push((performance.now() - t) / steps);
      fwdCpu.push((cpuNow() - c) / steps);
      // Rotate the order every round so that no variant always runs first.
      for (let j = 0; j < VARIANTS.length; j++) {
        const k = (j + r) % VARIANTS.length;
        t = performance.now();
        c = cpuNow();
        await epoch(VARIANTS[k], r + 1);
        times[k].push((performance.now() - t) / steps);
        cpus[k].push((cpuNow() - c) / steps);
      }
    }
    // Profiles of before, the start of the GEMM round and after, alternately, twice each (profiling slows every
    // kernel alike).
    const before = emptyProfile();
    const round = emptyProfile();
    const after = emptyProfile();
    for (let r = 0; r < 2; r++) {
      await kernelProfile(() => epoch(VARIANTS[0], 99), before);
      await kernelProfile(() => epoch(VARIANTS[ROUND], 99), round);
      await kernelProfile(() => epoch(VARIANTS[AFTER], 99), after);
    }
    const profSteps = 2 * steps;
    const total = (p: Profile) => [...p.agg.values()].reduce((acc, a) => acc + a.ms, 0) / profSteps;
    const fwdMs = median(fwd);
    const note = { load: `${load0} -> ${loadAverage()}`, rounds };
    const fwdRec = makeRecord(`${net.label} forward pass (batch ${net.batch}, inference)`, fwdMs, {
      unit: 'example',
      perOp: net.batch,
      extra: { cpuMs: +median(fwdCpu).toFixed(3), ...note },
    });
    const recs = VARIANTS.map((v, k) =>
      makeRecord(`${net.label} trainClassifier step, ${v.label}`, median(times[k]), {
        unit: 'example',
        perOp: net.batch,
        extra: {
          forwardPasses: +median(times[k].map((p, i) => p / fwd[i])).toFixed(3),
          cpuMs: +median(cpus[k]).toFixed(3),
          cpuForwardPasses: +median(cpus[k].map((p, i) => p / fwdCpu[i])).toFixed(3),
          ...(k === 0
            ? { kernelMsPerStep: +total(before).toFixed(3), kernelsPerStep: before.count / profSteps }
            : {}),
          ...(k === ROUND
            ? { kernelMsPerStep: +total(round).toFixed(3), kernelsPerStep: round.count / profSteps }
            : {}),
          ...(k === AFTER
            ? { kernelMsPerStep: +total(after).toFixed(3), kernelsPerStep: after.count / profSteps }
            : {}),
          ...note,
        },
      }),
    );
    for (let k = 1; k < recs.length; k++) addRatios(recs[k], recs[0]);
    const kernelRecs = (which: string, p: Profile) =>
      [...p.agg]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, opts.quick ? 10 : 16)
        .map(([name, a]) =>
          makeRecord(`${net.label} step kernel (${which}): ${name}`, a.ms / profSteps, {
            extra: {
              calls: a.calls / profSteps,
              share: +(a.ms / profSteps / total(p)).toFixed(4),
              forwardPasses: +(a.ms / profSteps / fwdMs).toFixed(3),
            },
          }),
        );
    return [
      fwdRec,
      ...recs,
      ...kernelRecs('before', before),
      ...kernelRecs('start of the GEMM round', round),
      ...kernelRecs('after', after),
    ];
  } finally {
    restoreDefaults();
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
