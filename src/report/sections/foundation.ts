/**
 * The foundation section: the reference CNN trained on MNIST (shared with the other sections as `'cnn:mnist'`),
 * its learning curve, test accuracy, confusion matrix, sample predictions, the backend and the timing.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { lineChart, type TileRect } from '../../index.js';
import { barChart, heatMap, labelledGridSvg, pngDataUri, toRgbaGrid } from '../../internal.js';
import { claimsTable, figure, note, paragraph, pct, table } from '../html.js';
import { type ReferenceCnnConfig, sharedMnist, sharedReferenceCnn } from '../shared.js';
import type { ReportSection } from '../types.js';

/** The JSON results of the foundation section. */
export interface FoundationResult {
  backend: string;
  trainSize: number;
  testSize: number;
  config: ReferenceCnnConfig;
  params: number;
  layers: { name: string; className: string; outputShape: string; params: number }[];
  history: { epoch: number; loss: number; acc: number; valLoss?: number; valAcc?: number; seconds: number }[];
  curve: { examples: number; loss: number; acc: number }[];
  trainSeconds: number;
  examplesPerSecond: number;
  fromCache: boolean;
  test: { loss: number; accuracy: number };
  perClassAccuracy: number[];
  confusion: number[][];
  samples: {
    png: string;
    width: number;
    height: number;
    tiles: TileRect[];
    labels: string[];
    wrong: boolean[];
  };
}

const SAMPLES = 32;

/** The foundation report section (id `'foundation'`). */
export const foundation: ReportSection<FoundationResult> = {
  id: 'foundation',
  title: 'Foundation: a reference CNN on MNIST',
  async run(ctx) {
    const mnist = await sharedMnist(ctx);
    const cnn = await sharedReferenceCnn(ctx);
    ctx.log(`test accuracy ${pct(cnn.test.accuracy)} (${cnn.fromCache ? 'cached model' : 'trained now'})`);
    // Confusion matrix over the test part, in batches.
    const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    const n = mnist.test.size;
    const preds: number[] = [];
    for (let s = 0; s < n; s += 500) {
      const size = Math.min(500, n - s);
      const p = tf.tidy(() => tf.argMax(cnn.model.predict(tf.slice(mnist.test.x, s, size)) as tf.Tensor, 1));
      try {
        preds.push(...(await p.data()));
      } finally {
        p.dispose();
      }
    }
    preds.forEach((p, i) => {
      confusion[mnist.test.labels[i]][p] += 1;
    });
    const perClassAccuracy = confusion.map(
      (row, c) =>
        row[c] /
        Math.max(
          1,
          row.reduce((a, b) => a + b, 0),
        ),
    );
    // A grid of the first test digits with their predictions.
    const grid = toRgbaGrid(
      {
        data: mnist.test.pixels.subarray(0, SAMPLES * 784),
        count: SAMPLES,
        height: 28,
        width: 28,
        channels: 1,
      },
      { cols: 8, scale: 2, normalize: 'none', pad: 4 },
    );
    const labels = Array.from({ length: SAMPLES }, (_, i) => `${preds[i]} (${mnist.test.labels[i]})`);
    const trainSeconds = cnn.history.epochs.reduce((a, e) => a + e.seconds, 0);
    return {
      backend: cnn.backend,
      trainSize: mnist.train.size,
      testSize: mnist.test.size,
      config: cnn.config,
      params: cnn.model.countParams(),
      layers: cnn.model.layers.map((l) => ({
        name: l.name,
        className: l.getClassName(),
        outputShape: JSON.stringify(l.outputShape).replace(/null/g, 'N'),
        params: l.countParams(),
      })),
      history: cnn.history.epochs,
      curve: cnn.curve,
      trainSeconds,
      examplesPerSecond: cnn.history.examplesPerSecond,
      fromCache: cnn.fromCache,
      test: { loss: cnn.test.loss, accuracy: cnn.test.accuracy },
      perClassAccuracy,
      confusion,
      samples: {
        png: pngDataUri(grid),
        width: grid.width,
        height: grid.height,
        tiles: grid.tiles,
        labels,
        wrong: labels.map((_, i) => preds[i] !== mnist.test.labels[i]),
      },
    };
  },
  headlines: (r) => [
    {
      claim: 'Reference CNN, MNIST test accuracy',
      paper: 'LeNet-5: 99.05% (60,000 digits)',
      ours: `${pct(r.test.accuracy)} (${r.trainSize} digits, ${r.config.epochs} epochs, ${r.trainSeconds.toFixed(0)} s on ${r.backend})`,
    },
  ],
  render(r) {
    const c = r.config;
    const arch = `conv ${c.architecture.kernelSizes?.[0]}x${c.architecture.kernelSizes?.[0]}x${c.architecture.filters?.[0]} - pool - conv ${c.architecture.kernelSizes?.[1]}x${c.architecture.kernelSizes?.[1]}x${c.architecture.filters?.[1]} - pool - fc ${c.architecture.hidden?.[0]} - 10`;
    const curve = lineChart({
      title: 'Learning curve (training batches, averaged over 10)',
      xLabel: 'training examples seen',
      yLabel: 'accuracy / loss',
      yMin: 0,
      series: [
        { name: 'train accuracy', x: r.curve.map((p) => p.examples), y: r.curve.map((p) => p.acc) },
        {
          name: 'train loss',
          x: r.curve.map((p) => p.examples),
          y: r.curve.map((p) => p.loss),
          dashed: true,
        },
        {
          name: 'test accuracy (per epoch)',
          x: r.history.map((e) => e.epoch * r.trainSize),
          y: r.history.map((e) => e.valAcc ?? Number.NaN),
        },
      ],
      width: 560,
    });
    const names = Array.from({ length: 10 }, (_, i) => String(i));
    const confusion = heatMap({
      title: 'Confusion matrix (rows: true digit, columns: predicted)',
      values: r.confusion,
      rowLabels: names,
      colLabels: names,
      showValues: true,
      cellSize: 26,
    });
    const perClass = barChart({
      title: 'Test accuracy per digit',
      categories: names,
      series: [{ name: 'accuracy', values: r.perClassAccuracy }],
      yMin: Math.max(0, Math.min(...r.perClassAccuracy) - 0.05),
      yMax: 1,
      yLabel: 'accuracy',
      width: 420,
      height: 260,
    });
    const wrong = r.samples.wrong.filter(Boolean).length;
    return [
      paragraph(
        "Every later section builds on this: the MNIST digits of the mnist package (10,000 real digits, split 80/20 per class with the run seed) and a small Zeiler-Fergus-style CNN trained on them with transferkit's seeded training loop, on the fastest backend available here. The trained model is shared with the other sections and cached on disk.",
      ),
      claimsTable([
        {
          claim: 'Small CNN on MNIST digits, test accuracy',
          paper: 'LeNet-5 (LeCun et al. 1998): 99.05% (60,000 training digits, 20 epochs)',
          ours: `${pct(r.test.accuracy)} (${r.trainSize.toLocaleString('en')} training digits, ${c.epochs} epochs)`,
          holds: r.test.accuracy >= 0.95,
          note: "A smaller training set (8k of the package's 10k digits) and far fewer epochs, to fit the quick budget on 2 cores; the test digits are the package's, not the standard test set.",
        },
      ]),
      table(
        ['', ''],
        [
          ['backend', r.backend],
          ['architecture', arch],
          ['parameters', r.params.toLocaleString('en')],
          ['training', `${r.trainSize} digits x ${c.epochs} epochs, batch ${c.batchSize}, Adam lr ${c.lr}`],
          ['training time', `${r.trainSeconds.toFixed(1)} s (${r.examplesPerSecond.toFixed(0)} images/s)`],
          [
            'test loss / accuracy',
            `${r.test.loss.toFixed(4)} / ${pct(r.test.accuracy)} on ${r.testSize} digits`,
          ],
          [
            'model',
            r.fromCache ? 'loaded from the run cache (trained by an earlier run)' : 'trained in this run',
          ],
        ],
        'The reference CNN',
      ),
      figure(
        curve,
        'Training accuracy and loss over the run; dots: accuracy on the held-out digits after each epoch.',
      ),
      figure(confusion, 'Counts of held-out digits by true and predicted class.'),
      figure(perClass, 'Accuracy per digit on the held-out part.'),
      figure(
        labelledGridSvg(r.samples.png, r.samples, r.samples.labels),
        `The first ${r.samples.labels.length} held-out digits, captioned "prediction (truth)"; ${wrong} wrong.`,
      ),
      table(
        ['layer', 'class', 'output shape', 'parameters'],
        r.layers.map((l) => [l.name, l.className, l.outputShape, l.params]),
        'Layers (named, so that other sections can tap them)',
      ),
      note(
        'Timing depends on the machine and on the training kernels: on wasm, transferkit registers fast Conv2DBackpropFilter/Input and transposed-matmul kernels (registerTrainingKernels), without which the wasm backend cannot train conv nets at all.',
      ),
    ].join('\n');
  },
};
