/**
 * The foundation section's run: the shared reference CNN (trained once per run, or loaded from the report's model
 * cache), its confusion matrix over the test digits, and a grid of sample predictions.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { pngDataUri, toRgbaGrid } from '../../../internal.js';
import { pct } from '../../html.js';
import { sharedMnist, sharedReferenceCnn } from '../../shared.js';
import type { ReportContext } from '../../types.js';
import { type FoundationConfig, type FoundationResult, foundationConfig } from './config.js';

/**
 * Runs the section.
 *
 * @example
 * ```ts
 * const result = await runFoundation(ctx);
 * ```
 */
export async function runFoundation(
  ctx: ReportContext,
  config?: FoundationConfig,
): Promise<FoundationResult> {
  const cfg = config ?? foundationConfig(ctx.mode);
  const mnist = await sharedMnist(ctx);
  const cnn = await sharedReferenceCnn(ctx);
  ctx.log(`test accuracy ${pct(cnn.test.accuracy)} (${cnn.fromCache ? 'cached model' : 'trained now'})`);
  // Confusion matrix over the test part, in batches.
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  const n = mnist.test.size;
  const preds: number[] = [];
  for (let s = 0; s < n; s += cfg.predictBatch) {
    const size = Math.min(cfg.predictBatch, n - s);
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
  const count = cfg.samples;
  const grid = toRgbaGrid(
    { data: mnist.test.pixels.subarray(0, count * 784), count, height: 28, width: 28, channels: 1 },
    { cols: 8, scale: 2, normalize: 'none', pad: 4 },
  );
  const labels = Array.from({ length: count }, (_, i) => `${preds[i]} (${mnist.test.labels[i]})`);
  return {
    backend: cnn.backend,
    trainSize: mnist.train.size,
    testSize: mnist.test.size,
    config: cnn.config,
    settings: cfg,
    params: cnn.model.countParams(),
    layers: cnn.model.layers.map((l) => ({
      name: l.name,
      className: l.getClassName(),
      outputShape: JSON.stringify(l.outputShape).replace(/null/g, 'N'),
      params: l.countParams(),
    })),
    history: cnn.history.epochs,
    curve: cnn.curve,
    trainSeconds: cnn.history.epochs.reduce((a, e) => a + e.seconds, 0),
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
}
