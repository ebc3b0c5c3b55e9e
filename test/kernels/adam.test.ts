import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { FusedAdamOptimizer } from '../../src/kernels/adam.js';
import { backendName, expectNoLeak } from '../helpers.js';

/** Runs `steps` minimisations of a small least-squares problem with `opt`; returns the weights and optimizer state. */
async function run(
  opt: tf.Optimizer,
  steps: number,
): Promise<{ w: number[][]; state: number[][]; loss: number[] }> {
  const x = tf.randomNormal([16, 5], 0, 1, 'float32', 1);
  const y = tf.randomNormal([16, 3], 0, 1, 'float32', 2);
  const w = tf.variable(tf.randomNormal([5, 3], 0, 0.5, 'float32', 3));
  const b = tf.variable(tf.zeros([3]));
  const loss: number[] = [];
  for (let s = 0; s < steps; s++) {
    const l = opt.minimize(
      () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar,
      true,
      [w, b],
    ) as tf.Scalar;
    loss.push((await l.data())[0]);
    l.dispose();
  }
  const weights = await opt.getWeights();
  const state = await Promise.all(weights.map(async (nt) => Array.from(await nt.tensor.data())));
  const out = { w: [Array.from(await w.data()), Array.from(await b.data())], state, loss };
  tf.dispose([x, y, w, b]);
  return out;
}

describe(`FusedAdamOptimizer on ${backendName()}`, () => {
  it('gives tf.train.adam numbers bit for bit (weights, moments, iterations), also after setWeights', async () => {
    for (const lr of [1e-3, 0.05]) {
      const plain = tf.train.adam(lr);
      const fused = new FusedAdamOptimizer(lr);
      const a = await run(plain, 7);
      const b = await run(fused, 7);
      expect(b.loss).toEqual(a.loss);
      expect(b.w).toEqual(a.w);
      expect(b.state).toEqual(a.state);
      // Restore the plain optimizer's state into a fresh fused one: its bias corrections follow.
      const again = new FusedAdamOptimizer(lr);
      await again.setWeights(await plain.getWeights());
      const c = await run(again, 2);
      const d = await run(plain, 2);
      expect(c.w).toEqual(d.w);
      plain.dispose();
      fused.dispose();
      again.dispose();
    }
  });

  it('leaves no tensor behind beyond its own state', async () => {
    const w = tf.variable(tf.ones([4]));
    const opt = new FusedAdamOptimizer(0.1);
    const step = () => opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
    step(); // creates the two moment variables
    await expectNoLeak(async () => {
      step();
      step();
    });
    opt.dispose();
    w.dispose();
  });
});
