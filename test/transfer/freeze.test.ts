import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { LayerTransfer } from '../../src/transfer/index.js';
import { expectClose, expectThrowsNoLeak } from '../helpers.js';
import { nested, tinyCnn, toyData, weightValues } from './models.js';

function inner(model: tfl.LayersModel, name: string): tfl.layers.Layer {
  return (model.getLayer('block') as tfl.LayersModel).getLayer(name);
}
const bnOf = (model: tfl.LayersModel) => inner(model, 'bn');

async function snapshot(model: tfl.LayersModel, names: string[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const n of names)
    out[n] = await weightValues(n === 'bn' || n === 'b1' ? inner(model, n) : model.getLayer(n));
  return out;
}

async function fitSome(model: tfl.LayersModel, epochs = 3): Promise<void> {
  // Shifted, scaled inputs so that batch statistics differ clearly from the moving statistics.
  const { x, labels } = toyData(48);
  const xs = tf.tidy(() => tf.add(tf.mul(x, 3), 2));
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  await model.fit(xs, ys, { epochs, batchSize: 16, shuffle: false, verbose: 0 });
  tf.dispose([x, xs, ys]);
}

describe('freeze / unfreeze', () => {
  it("keeps frozen layers, BatchNormalization's moving statistics included, fixed in fit()", async () => {
    const base = nested();
    const t = new LayerTransfer(base, { copy: 2, head: { kind: 'replace', numClasses: 3 }, seed: 3 });
    base.dispose();
    expect(t.freeze()).toEqual(['block/b1', 'block/bn', 'd2']);
    expect(t.frozenStages).toBe(2);
    const probe = tf.randomNormal([6, 4], 2, 3, 'float32', 8);
    const block = t.model.getLayer('block') as tfl.LayersModel;
    const blockBefore = block.predict(probe) as tf.Tensor;
    const before = await snapshot(t.model, ['b1', 'bn', 'd2', 'head']);
    await fitSome(t.model);
    const after = await snapshot(t.model, ['b1', 'bn', 'd2', 'head']);
    for (const n of ['b1', 'bn', 'd2']) expectClose(after[n], before[n], 0);
    expect(after.head.some((v, i) => v !== before.head[i])).toBe(true);
    // The frozen block's outputs are unchanged, and it computes them in inference mode even when training.
    const blockAfter = block.predict(probe) as tf.Tensor;
    const blockTraining = block.apply(probe, { training: true }) as tf.Tensor;
    expectClose(await blockAfter.data(), await blockBefore.data(), 1e-6);
    expectClose(await blockTraining.data(), await blockBefore.data(), 1e-6);
    tf.dispose([probe, blockBefore, blockAfter, blockTraining]);
    t.dispose();
  });

  it("with batchNorm: 'batch-stats', a frozen BN keeps tfjs's behaviour: moving statistics move in fit()", async () => {
    const base = nested();
    const t = new LayerTransfer(base, {
      copy: 2,
      head: { kind: 'replace', numClasses: 3 },
      batchNorm: 'batch-stats',
    });
    base.dispose();
    t.freeze();
    const bn = bnOf(t.model);
    const names = bn.weights.map((w) => w.originalName);
    const before = await Promise.all(bn.getWeights().map((w) => w.data()));
    await fitSome(t.model);
    const after = await Promise.all(bn.getWeights().map((w) => w.data()));
    const changed = names.filter((_, i) => after[i].some((v, j) => v !== before[i][j]));
    expect(changed.sort()).toEqual(['bn/moving_mean', 'bn/moving_variance']);
    t.dispose();
  });

  it('freezes a conv net up to a named layer; the BN of a frozen stage stays fixed', async () => {
    const base = tinyCnn();
    const t = new LayerTransfer(base, { copy: 2, head: { kind: 'replace', numClasses: 2 }, seed: 1 });
    base.dispose();
    expect(t.freeze({ name: 'c2' })).toEqual(['c1', 'bn1', 'r1', 'p1', 'c2', 'f']);
    const before = await Promise.all(
      ['c1', 'bn1', 'c2', 'out'].map((n) => weightValues(t.model.getLayer(n))),
    );
    const x = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 4);
    await t.fineTune(
      { x, labels: [0, 1, 0, 1, 1, 0, 1, 0] },
      { batchSize: 4, learningRate: 0.1, optimizer: 'sgd' },
    );
    const after = await Promise.all(['c1', 'bn1', 'c2', 'out'].map((n) => weightValues(t.model.getLayer(n))));
    for (let i = 0; i < 3; i++) expectClose(after[i], before[i], 0);
    expect(after[3].some((v, i) => v !== before[3][i])).toBe(true);
    x.dispose();
    t.dispose();
  });

  it('unfreeze makes every layer train again (after recompiling for fit())', async () => {
    const base = nested();
    const t = new LayerTransfer(base, { copy: 2, head: { kind: 'replace', numClasses: 3 } });
    base.dispose();
    t.freeze();
    t.unfreeze();
    expect(t.frozenStages).toBe(0);
    expect(t.model.trainableWeights.length).toBe(8); // b1 (2), bn gamma/beta (2), d2 (2), head (2)
    const before = await snapshot(t.model, ['b1', 'bn', 'd2']);
    await fitSome(t.model, 1);
    const after = await snapshot(t.model, ['b1', 'bn', 'd2']);
    for (const n of ['b1', 'bn', 'd2']) expect(after[n].some((v, i) => v !== before[n][i])).toBe(true);
    t.dispose();
  });

  it('rejects a freeze beyond the model', async () => {
    const base = nested();
    const t = new LayerTransfer(base, { copy: 1 });
    await expectThrowsNoLeak(() => t.freeze(4), InvalidArgumentError, /\[0, 3\]/);
    await expectThrowsNoLeak(() => t.freeze({ name: 'nope' }), InvalidArgumentError, /nope/);
    // Everything frozen: nothing to train is a clear error, not a silent no-op.
    t.freeze(3);
    const data = toyData(4);
    await expectThrowsNoLeak(() => t.fineTune(data), InvalidArgumentError, /every layer frozen/);
    data.x.dispose();
    t.dispose();
    base.dispose();
  });
});
