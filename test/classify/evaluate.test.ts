import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  evaluateClassifier,
  InvalidArgumentError,
  type PredictModel,
  ShapeMismatchError,
} from '../../src/index.js';
import { expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

// Fixed logits: rows 0, 2 and 3 are right (labels 2, 1, 0), row 1 is wrong (argmax 0, label 1).
const LOGITS = [
  [0, 1, 3],
  [2, 1, 0],
  [0, 4, 1],
  [5, 0, 0],
];
const LABELS = [2, 1, 1, 0];

/** A custom model that returns the fixed logits (or their softmax) whatever the input rows are. */
function fixed(kind: 'logits' | 'probabilities'): PredictModel & { outputKind: typeof kind } {
  return {
    outputKind: kind,
    predict: (x) =>
      tf.tidy(() => {
        const rows = tf.cast(
          tf.reshape(tf.slice(tf.reshape(x, [x.shape[0], -1]), [0, 0], [-1, 1]), [-1]),
          'int32',
        );
        const z = tf.gather(tf.tensor2d(LOGITS), rows);
        return kind === 'logits' ? z : tf.softmax(z);
      }),
  };
}

/** Plain-JS oracle: mean -log softmax(z)[y]. */
function meanNll(): number {
  let s = 0;
  LOGITS.forEach((z, r) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    s += lse - z[LABELS[r]];
  });
  return s / LOGITS.length;
}

describe('evaluateClassifier (the one evaluator)', () => {
  it('gives accuracy, errors, loss and per-class errors that match a plain loop, for logits and probabilities', async () => {
    const x = tf.tensor2d([[0], [1], [2], [3]]);
    for (const kind of ['logits', 'probabilities'] as const) {
      const ev = await evaluateClassifier(fixed(kind), { x, labels: LABELS }, { batchSize: 3 });
      expect(ev.count).toBe(4);
      expect(ev.errors).toBe(1);
      expect(ev.accuracy).toBeCloseTo(0.75, 10);
      expect(ev.errorRate).toBeCloseTo(0.25, 10);
      expect(ev.loss).toBeCloseTo(meanNll(), 5);
      expect(ev.perClassCounts).toEqual([1, 2, 1]);
      expect(ev.perClassErrors).toEqual([0, 1, 0]);
    }
    const y = tf.tensor1d(LABELS, 'int32');
    await expectNoLeak(() => evaluateClassifier(fixed('logits'), { x, labels: y }));
    y.dispose();
    x.dispose();
  });

  it('rejects bad labels, shapes and option keys with typed errors and leaks nothing', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [2] })] });
    const x = tf.ones([4, 2]);
    await expectThrowsNoLeak(
      () => evaluateClassifier(model, { x, labels: [0, 1, 3, 0] }),
      InvalidArgumentError,
      /`data.labels\[2\]`.*\[0, 2\].*3/,
    );
    await expectThrowsNoLeak(
      () => evaluateClassifier(model, { x, labels: [0, 1] }),
      ShapeMismatchError,
      /4 labels/,
    );
    const wide = tf.ones([4, 5]);
    await expectThrowsNoLeak(
      () => evaluateClassifier(model, { x: wide, labels: [0, 1, 2, 0] }),
      ShapeMismatchError,
    );
    await expectThrowsNoLeak(
      () => evaluateClassifier(model, { x, labels: [0, 1, 2, 0] }, { batchsize: 2 } as never),
      InvalidArgumentError,
      /batchSize/,
    );
    const two = tf.tensor2d([[0], [1]]);
    // A custom model's class count is known only after predicting: still typed, still no leak.
    await expectThrowsNoLeak(
      () => evaluateClassifier(fixed('logits'), { x: two, labels: [0, 7] }),
      InvalidArgumentError,
    );
    tf.dispose([x, wide, two]);
    model.dispose();
  });
});
