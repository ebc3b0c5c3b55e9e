/**
 * Bench suite `features`: what the FeatureExtractor costs over a bare forward pass, whether its memory stays flat
 * over a long data set, and the classifiers on features (tfjs LinearSvm and SoftmaxRegression vs the ml-svm
 * one-vs-rest adapter).
 *
 * - Extraction throughput (images/s) of `FeatureExtractor.extract` at one tap vs `model.predict` of the model
 *   truncated at that layer (the same computation without the extractor's checks, pooling and normalisation); goal:
 *   overhead <= 5%. Also all six layers at once vs the truncated model of the deepest one (one pass for all taps).
 * - `extractAll` over 10,000 images (2,000 in quick mode) from a generator: tensor memory at the first and last batch
 *   and its peak (flat = no growth).
 * - 1,000 x 1,024 synthetic Gaussian features, 10 classes (FINDINGS.md): training time and test accuracy of the
 *   tfjs LinearSvm, SoftmaxRegression and ml-svm one-vs-rest (ml-svm ~40 s there; quick mode trains it on 300).
 *
 * Runs on the wasm backend (training kernels registered by the runner).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  accuracy,
  FeatureExtractor,
  FeatureMatrix,
  LinearSvm,
  MlSvmClassifier,
  Rng,
  SoftmaxRegression,
  zeilerFergusCnn,
} from '../src/index.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, median, timeMedian } from './util.js';

function gaussianClasses(n: number, d: number, k: number, rng: Rng, means: Float32Array): FeatureMatrix {
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    for (let j = 0; j < d; j++) data[i * d + j] = means[c * d + j] + rng.normal();
  }
  return new FeatureMatrix(n, d, data, 'synthetic');
}

/** Median ms of each function, timed in turns (after 2 warm-up rounds). */
async function interleaved(fns: (() => Promise<void>)[], rounds: number): Promise<number[]> {
  const times: number[][] = fns.map(() => []);
  for (let r = -2; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      if (r >= 0) times[i].push(performance.now() - t0);
    }
  }
  return times.map(median);
}

async function extraction(opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const model = zeilerFergusCnn({ filters: [16, 32], hidden: [128], numClasses: 10, seed: 1 });
  const batch = opts.quick ? 128 : 256;
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1);
  const samples = opts.quick ? 5 : 11;
  try {
    for (const tap of ['fc1', 'conv2']) {
      const trunc = tfl.model({
        inputs: model.inputs,
        outputs: model.getLayer(tap).output as tfl.SymbolicTensor,
      });
      const fx = new FeatureExtractor(model, { taps: tap });
      const runBare = async () => {
        const y = trunc.predict(x, { batchSize: batch }) as tf.Tensor;
        await y.data();
        y.dispose();
      };
      const runFx = async () => {
        const [f] = fx.extract(x);
        await f.data();
        f.dispose();
      };
      // Interleaved samples (bare, extractor, bare, ...): a shared, noisy machine slows both alike.
      const [bare, t] = await interleaved([runBare, runFx], samples * 2);
      const bareRec = makeRecord(`bare predict of the model truncated at ${tap} (batch ${batch})`, bare, {
        unit: 'image',
        perOp: batch,
      });
      const rec = addRatios(
        makeRecord(`FeatureExtractor.extract at ${tap} (batch ${batch})`, t, {
          unit: 'image',
          perOp: batch,
        }),
        bareRec,
      );
      rec.extra = { overheadPct: +(100 * (t / bare - 1)).toFixed(1) };
      records.push(bareRec, rec);
    }
    const taps = ['conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'logits'];
    const deepest = tfl.model({
      inputs: model.inputs,
      outputs: model.getLayer('logits').output as tfl.SymbolicTensor,
    });
    const bareAll = await timeMedian(
      async () => {
        const y = deepest.predict(x, { batchSize: batch }) as tf.Tensor;
        await y.data();
        y.dispose();
      },
      { samples, warmUp: 2 },
    );
    const bareAllRec = makeRecord(`bare predict of the whole model (batch ${batch})`, bareAll.medianMs, {
      unit: 'image',
      perOp: batch,
    });
    const fxAll = new FeatureExtractor(model, { taps, normalize: 'l2' });
    const truncs = taps.map((name) =>
      tfl.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tfl.SymbolicTensor }),
    );
    const [sixModels, all] = await interleaved(
      [
        async () => {
          // The naive way: one truncated model per layer, each its own forward pass (no pooling/normalisation).
          for (const m of truncs) {
            const y = m.predict(x, { batchSize: batch }) as tf.Tensor;
            await y.data();
            y.dispose();
          }
        },
        async () => {
          const fs = fxAll.extract(x);
          await Promise.all(fs.map((f) => f.data()));
          tf.dispose(fs);
        },
      ],
      samples,
    );
    const sixRec = makeRecord(`6 truncated models, one pass each (batch ${batch})`, sixModels, {
      unit: 'image',
      perOp: batch,
    });
    const allRec = addRatios(
      makeRecord(`FeatureExtractor.extract, 6 taps + L2 in one pass (batch ${batch})`, all, {
        unit: 'image',
        perOp: batch,
      }),
      bareAllRec,
      sixRec,
    );
    records.push(bareAllRec, sixRec, allRec);

    // Memory over a long data set: a generator of fresh batches, disposed by extractAll.
    const total = opts.quick ? 2000 : 10000;
    const bytes: number[] = [];
    const fx = new FeatureExtractor(model, { taps: ['fc1'] });
    const start = tf.memory().numBytes;
    const t0 = performance.now();
    await fx.extractAll(
      function* (bs: number) {
        for (let s = 0; s < total; s += bs) yield tf.randomUniform([Math.min(bs, total - s), 28, 28, 1]);
      },
      { memoryBudgetMB: 32, total, onProgress: () => bytes.push(tf.memory().numBytes - start) },
    );
    const ms = performance.now() - t0;
    const mb = (b: number) => +(b / 2 ** 20).toFixed(2);
    records.push(
      makeRecord(`extractAll over ${total} generated images (fc1, budget 32 MiB)`, ms, {
        unit: 'image',
        perOp: total,
        extra: {
          batchSize: fx.batchSizeFor(32),
          tensorMiBFirstBatch: mb(bytes[0]),
          tensorMiBLastBatch: mb(bytes[bytes.length - 1]),
          tensorMiBPeak: mb(Math.max(...bytes)),
          tensorMiBAfter: mb(tf.memory().numBytes - start),
        },
      }),
    );
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function classifiers(opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const d = 1024;
  const k = 10;
  const rng = new Rng(7);
  const means = Float32Array.from({ length: k * d }, () => rng.normal(0, 0.15));
  const train = gaussianClasses(1000, d, k, rng, means);
  const test = gaussianClasses(1000, d, k, rng, means);
  const labels = (n: number) => Array.from({ length: n }, (_, i) => i % k);
  const yTrain = labels(1000);
  const yTest = labels(1000);
  const mlN = opts.quick ? 300 : 1000;

  const fitOnce = async (
    make: () => LinearSvm | SoftmaxRegression | MlSvmClassifier,
    x: FeatureMatrix,
    y: number[],
  ) => {
    const clf = make();
    const t0 = performance.now();
    await clf.fit(x, y);
    const ms = performance.now() - t0;
    const acc = accuracy(yTest, await clf.predict(test));
    clf.dispose();
    return { ms, acc };
  };
  const ml = await fitOnce(
    () => new MlSvmClassifier({ C: 1 }),
    mlN === 1000 ? train : train.select(Array.from({ length: mlN }, (_, i) => i)),
    yTrain.slice(0, mlN),
  );
  const mlRec = makeRecord(`ml-svm linear one-vs-rest, train ${mlN} x ${d}`, ml.ms, {
    extra: { testAcc: +ml.acc.toFixed(3) },
  });
  records.push(mlRec);
  for (const [name, make] of [
    ['tfjs LinearSvm (default: full batch, L-BFGS)', () => new LinearSvm({ C: 1 })],
    [
      'tfjs LinearSvm (full batch, 100 Adam steps, lr 0.1)',
      () => new LinearSvm({ C: 1, solver: 'adam', epochs: 100, learningRate: 0.1 }),
    ],
    ['tfjs LinearSvm (mini-batch 128, 10 epochs)', () => new LinearSvm({ C: 1, batchSize: 128, epochs: 10 })],
    ['tfjs SoftmaxRegression (default: full batch, L-BFGS)', () => new SoftmaxRegression({ l2: 1e-3 })],
  ] as const) {
    const samples: number[] = [];
    let acc = 0;
    for (let r = 0; r < (opts.quick ? 1 : 3); r++) {
      const res = await fitOnce(make, train, yTrain);
      samples.push(res.ms);
      acc = res.acc;
    }
    samples.sort((a, b) => a - b);
    const rec = makeRecord(`${name}, train 1000 x ${d}`, samples[samples.length >> 1], {
      extra: { testAcc: +acc.toFixed(3) },
    });
    // The ml-svm record may have trained on fewer rows (quick mode): the ratio compares time per training row,
    // which flatters ml-svm (its SMO costs grow faster than linearly with the rows).
    rec.ratios = [{ baseline: mlRec.name, speedup: ml.ms / mlN / (rec.medianMs / 1000) }];
    records.push(rec);
  }
}

export const suite: BenchSuite = {
  id: 'features',
  title:
    'FeatureExtractor overhead vs bare predict, flat memory over a data set; linear SVM / softmax vs ml-svm',
  async run(opts: BenchOptions): Promise<BenchRecord[]> {
    await tf.setBackend('wasm');
    const records: BenchRecord[] = [];
    await extraction(opts, records);
    await classifiers(opts, records);
    return records;
  },
};
