/**
 * The `peers` suite: transferkit against what a user would pick instead, timed in the same run, rounds
 * interleaved, ratios from the medians.
 *
 * - PyTorch (CPU, 1 thread, `OPENBLAS_NUM_THREADS=1`) when `python3` can `import torch` (Debian: python3-torch):
 *   the zoo CNN (conv16 5x5-pool-conv32 3x3-pool-fc128-10, batch 64, Adam) and the student MLP (784-800-800-10,
 *   batch 128, Adam): one training step and one forward pass each, vs transferkit on wasm + training kernels
 *   (`trainClassifier` steps with its defaults: loss read back every 10 steps; PyTorch reads it every step). The BLAS library and the OpenBLAS kernel
 *   the peer ran on (threadpoolctl's `architecture`) go into `extra`.
 * - liblinear (`liblinear-train -s 2`, Debian liblinear-tools) and scikit-learn's LinearSVC (python3-sklearn)
 *   vs transferkit's LinearSvm, with test accuracy, on three feature sets: 3,894 x 128 synthetic Gaussian classes,
 *   and the real fc1 (128-d) and pool2 (800-d) features of the zoo CNN trained on MNIST digits 5-9 (`loadMnist`,
 *   seed 0, 20% test: 3,895 training images, the split of the fc1 figures; skipped when `mnist` is absent).
 *
 * Each peer that is missing is skipped with a note record (no time). `.ci/run` does not install them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../src/core/rng.js';
import {
  FeatureMatrix,
  hintonMlp,
  LinearSvm,
  registerTrainingKernels,
  trainClassifier,
  zeilerFergusCnn,
} from '../src/index.js';
import { loadMnist } from '../src/node.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { makeRecord, median } from './util.js';

const SCRIPT = fileURLToPath(new URL('./peers.py', import.meta.url));

/** The first python3 that imports `module` (PATH's, then Debian's), or undefined. */
function pythonWith(module: string): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

function py(python: string, args: string[]): Record<string, unknown> {
  const out = execFileSync(python, [SCRIPT, ...args], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

function skipped(name: string, why: string): BenchRecord {
  return { name, medianMs: Number.NaN, opsPerSec: 0, extra: { skipped: why } };
}

function blasNote(blas: unknown): string {
  const libs = Array.isArray(blas) ? (blas as Record<string, unknown>[]) : [];
  return libs
    .filter((b) => b.internal_api !== 'openmp')
    .map((b) => `${b.internal_api} ${b.version ?? ''} kernel ${b.architecture ?? '?'}`)
    .join('; ');
}

interface NetTiming {
  stepMs: number;
  forwardMs: number;
}

/** transferkit: ms of one trainClassifier step and of one forward pass (inference), like the peer script. */
async function tkNet(
  model: tfl.LayersModel,
  shape: number[],
  batch: number,
  steps: number,
): Promise<NetTiming> {
  const n = batch * steps;
  const x = tf.randomUniform([n, ...shape], 0, 1, 'float32', 5);
  const y = tf.randomUniform([n], 0, 10, 'int32', 6) as tf.Tensor1D;
  const xb = tf.slice(x, 0, batch);
  try {
    const fwd = async () => {
      const o = tf.tidy(() => model.apply(xb, { training: false }) as tf.Tensor);
      await o.data();
      o.dispose();
    };
    let t = performance.now();
    for (let i = 0; i < steps; i++) await fwd();
    const forwardMs = (performance.now() - t) / steps;
    t = performance.now();
    await trainClassifier(model, x, y, { epochs: 1, batchSize: batch, seed: 1 });
    return { stepMs: (performance.now() - t) / steps, forwardMs };
  } finally {
    tf.dispose([x, y, xb]);
  }
}

async function nets(opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const python = pythonWith('torch');
  if (python === undefined) {
    records.push(
      skipped(
        'PyTorch peer (CNN, MLP)',
        'python3 cannot import torch (Debian: apt-get install python3-torch)',
      ),
    );
    return;
  }
  const steps = opts.quick ? 5 : 20;
  const rounds = opts.quick ? 1 : 3;
  registerTrainingKernels('wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  const cnn = zeilerFergusCnn({ seed: 1 });
  const mlp = hintonMlp({ preset: 'student', seed: 1, inputShape: [784] });
  const tk: Record<'cnn' | 'mlp', NetTiming[]> = { cnn: [], mlp: [] };
  const pt: Record<'cnn' | 'mlp', NetTiming[]> = { cnn: [], mlp: [] };
  let info: Record<string, unknown> = {};
  const load: number[] = [];
  try {
    await tkNet(cnn, [28, 28, 1], 64, 2); // warm-up
    await tkNet(mlp, [784], 128, 2);
    for (let r = 0; r < rounds; r++) {
      load.push(os.loadavg()[0]);
      tk.cnn.push(await tkNet(cnn, [28, 28, 1], 64, steps));
      tk.mlp.push(await tkNet(mlp, [784], 128, steps));
      info = py(python, ['torch', String(steps), '1']);
      pt.cnn.push(info.cnn as NetTiming);
      pt.mlp.push(info.mlp as NetTiming);
    }
  } finally {
    cnn.dispose();
    mlp.dispose();
  }
  const note = {
    peer: `PyTorch ${info.torch} CPU, ${info.threads} thread`,
    blas: blasNote(info.blas),
    loadMedian: +median(load).toFixed(2),
    rounds,
  };
  for (const [key, label, batch] of [
    ['cnn', 'zoo CNN', 64],
    ['mlp', 'MLP 784-800-800-10', 128],
  ] as const) {
    const m = (xs: NetTiming[], k: keyof NetTiming) => median(xs.map((v) => v[k]));
    const ptStep = makeRecord(`PyTorch: ${label} train step (batch ${batch}, Adam)`, m(pt[key], 'stepMs'), {
      unit: 'example',
      perOp: batch,
      extra: { forwardPasses: m(pt[key], 'stepMs') / m(pt[key], 'forwardMs'), ...note },
    });
    const tkStep = makeRecord(
      `transferkit wasm: ${label} train step (batch ${batch}, Adam)`,
      m(tk[key], 'stepMs'),
      {
        unit: 'example',
        perOp: batch,
        extra: { forwardPasses: m(tk[key], 'stepMs') / m(tk[key], 'forwardMs') },
      },
    );
    tkStep.ratios = [{ baseline: ptStep.name, speedup: m(pt[key], 'stepMs') / m(tk[key], 'stepMs') }];
    const ptFwd = makeRecord(`PyTorch: ${label} forward (batch ${batch})`, m(pt[key], 'forwardMs'), {
      unit: 'example',
      perOp: batch,
    });
    const tkFwd = makeRecord(`transferkit wasm: ${label} forward (batch ${batch})`, m(tk[key], 'forwardMs'), {
      unit: 'example',
      perOp: batch,
    });
    tkFwd.ratios = [{ baseline: ptFwd.name, speedup: m(pt[key], 'forwardMs') / m(tk[key], 'forwardMs') }];
    records.push(ptStep, tkStep, ptFwd, tkFwd);
  }
}

/** 3,894 x 128 features of 5 overlapping Gaussian classes (train), and 1,000 more (test). */
function svmData(): Omit<SvmData, 'label'> {
  const d = 128;
  const k = 5;
  const rng = new Rng(11);
  const means = Float32Array.from({ length: k * d }, () => rng.normal(0, 0.25));
  const make = (n: number) => {
    const data = new Float32Array(n * d);
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % k;
      y.push(c);
      for (let j = 0; j < d; j++) data[i * d + j] = means[c * d + j] + rng.normal(0, 1);
    }
    return { x: new FeatureMatrix(n, d, data, 'synthetic'), y };
  };
  const tr = make(3894);
  const te = make(1000);
  return { train: tr.x, yTrain: tr.y, test: te.x, yTest: te.y };
}

function svmlight(file: string, x: FeatureMatrix, y: number[]): void {
  const lines: string[] = [];
  for (let i = 0; i < x.rows; i++) {
    const feats: string[] = [];
    for (let j = 0; j < x.cols; j++) feats.push(`${j + 1}:${x.data[i * x.cols + j]}`);
    lines.push(`${y[i]} ${feats.join(' ')}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

interface SvmData {
  /** What the features are, for the record names. */
  label: string;
  train: FeatureMatrix;
  yTrain: number[];
  test: FeatureMatrix;
  yTest: number[];
}

/**
 * The zoo CNN's fc1 (128-d) and pool2 (800-d, flattened) features of MNIST digits 5-9 (relabelled 0-4), after
 * training it for `epochs` on the training part; undefined when the `mnist` package is missing.
 */
async function cnnFeatures(epochs: number): Promise<SvmData[] | undefined> {
  let mnist: Awaited<ReturnType<typeof loadMnist>>;
  try {
    mnist = await loadMnist({ seed: 0, testFraction: 0.2, classes: [5, 6, 7, 8, 9], relabel: true });
  } catch {
    return undefined;
  }
  registerTrainingKernels('wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  const model = zeilerFergusCnn({ seed: 1, numClasses: 5 });
  try {
    await trainClassifier(model, mnist.train.x, mnist.train.y, { epochs, batchSize: 64, seed: 1 });
    const taps = tfl.model({
      inputs: model.inputs,
      outputs: [model.getLayer('fc1').output, model.getLayer('pool2').output] as tfl.SymbolicTensor[],
    });
    const extract = async (x: tf.Tensor4D): Promise<[FeatureMatrix, FeatureMatrix]> => {
      const n = x.shape[0];
      const fc1 = new Float32Array(n * 128);
      const pool2 = new Float32Array(n * 800);
      for (let i = 0; i < n; i += 256) {
        const b = Math.min(256, n - i);
        const [f, p] = tf.tidy(() => {
          const outs = taps.predict(tf.slice(x, i, b)) as tf.Tensor[];
          return [outs[0], tf.reshape(outs[1], [b, 800])];
        });
        fc1.set(await f.data(), i * 128);
        pool2.set(await p.data(), i * 800);
        tf.dispose([f, p]);
      }
      return [new FeatureMatrix(n, 128, fc1, 'fc1'), new FeatureMatrix(n, 800, pool2, 'pool2')];
    };
    const [trFc1, trPool2] = await extract(mnist.train.x);
    const [teFc1, tePool2] = await extract(mnist.test.x);
    const yTrain = mnist.train.labels;
    const yTest = mnist.test.labels;
    return [
      { label: 'CNN fc1 features of MNIST 5-9', train: trFc1, yTrain, test: teFc1, yTest },
      { label: 'CNN pool2 features of MNIST 5-9', train: trPool2, yTrain, test: tePool2, yTest },
    ];
  } finally {
    model.dispose();
    mnist.dispose();
  }
}

async function svms(opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const synthetic = svmData();
  const sets: SvmData[] = [{ label: 'synthetic Gaussian classes', ...synthetic }];
  const real = await cnnFeatures(opts.quick ? 1 : 2);
  if (real === undefined) {
    records.push(skipped('LinearSvm on CNN features', 'the optional `mnist` package is not installed'));
  } else sets.push(...real);
  for (const set of sets) await svmOn(set, opts, records);
}

async function svmOn(set: SvmData, opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const rounds = opts.quick ? 1 : 3;
  const { train, yTrain, test, yTest } = set;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-peers-'));
  const base = path.join(dir, 'feats');
  svmlight(`${base}.train`, train, yTrain);
  svmlight(`${base}.test`, test, yTest);
  const hasLiblinear = commandExists('liblinear-train');
  const sk = pythonWith('sklearn');
  const tk: number[] = [];
  const ll: number[] = [];
  const skMs: number[] = [];
  let tkAcc = 0;
  let llAcc = 0;
  let skInfo: Record<string, unknown> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      const clf = new LinearSvm({ C: 1 });
      let t = performance.now();
      await clf.fit(train, yTrain);
      tk.push(performance.now() - t);
      const pred = await clf.predict(test);
      tkAcc = pred.reduce((s, p, i) => s + (p === yTest[i] ? 1 : 0), 0) / yTest.length;
      clf.dispose();
      if (hasLiblinear) {
        t = performance.now();
        execFileSync('liblinear-train', ['-s', '2', '-c', '1', '-q', `${base}.train`, `${base}.model`]);
        ll.push(performance.now() - t);
        const out = execFileSync('liblinear-predict', [`${base}.test`, `${base}.model`, `${base}.out`], {
          encoding: 'utf8',
        });
        llAcc = Number(/Accuracy = ([\d.]+)%/.exec(out)?.[1] ?? Number.NaN) / 100;
      }
      if (sk !== undefined) {
        skInfo = py(sk, ['sklearn', base, '1']);
        skMs.push(Number(skInfo.fitMs));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const size = `${set.label}, ${train.rows} x ${train.cols}, 5 classes`;
  const tkRec = makeRecord(`transferkit LinearSvm (C = 1, Newton-CG), ${size}`, median(tk), {
    extra: { testAcc: +tkAcc.toFixed(4), rounds },
  });
  tkRec.ratios = [];
  if (hasLiblinear) {
    const llRec = makeRecord(`liblinear-train -s 2 -c 1 (process wall time), ${size}`, median(ll), {
      extra: { testAcc: +llAcc.toFixed(4) },
    });
    tkRec.ratios.push({ baseline: llRec.name, speedup: llRec.medianMs / tkRec.medianMs });
    records.push(llRec);
  } else {
    records.push(skipped('liblinear-train -s 2', 'liblinear-train not on PATH (Debian: liblinear-tools)'));
  }
  if (sk !== undefined) {
    const skRec = makeRecord(`scikit-learn ${skInfo.sklearn} LinearSVC (C = 1), ${size}`, median(skMs), {
      extra: { testAcc: +Number(skInfo.acc).toFixed(4), blas: blasNote(skInfo.blas) },
    });
    tkRec.ratios.push({ baseline: skRec.name, speedup: skRec.medianMs / tkRec.medianMs });
    records.push(skRec);
  } else {
    records.push(
      skipped('scikit-learn LinearSVC', 'python3 cannot import sklearn (Debian: python3-sklearn)'),
    );
  }
  records.push(tkRec);
}

export const suite: BenchSuite = {
  id: 'peers',
  title:
    'Peers in the same run: PyTorch CPU (CNN, MLP) and liblinear / scikit-learn (linear SVM), when installed',
  async run(opts) {
    const records: BenchRecord[] = [];
    await nets(opts, records);
    await svms(opts, records);
    return records;
  },
};
