import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { listCuts } from '../../src/model/cuts.js';
import { InvalidCutError } from '../../src/model/errors.js';
import { LayerTransfer } from '../../src/transfer/layer-transfer.js';
import { expectClose, expectThrowsNoLeak } from '../helpers.js';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** stem conv -> two residual blocks (conv, relu, conv, Add with the block input, relu) -> GAP -> dense. */
function tinyResNet(): tfl.LayersModel {
  const conv = (name: string, seed: number) =>
    tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name, kernelInitializer: init(seed) });
  const x = tfl.input({ shape: [6, 6, 1], name: 'img' });
  let h = conv('stem', 1).apply(x) as tfl.SymbolicTensor;
  h = tfl.layers.reLU({ name: 'stem_relu' }).apply(h) as tfl.SymbolicTensor;
  for (const b of [1, 2]) {
    let y = conv(`b${b}a`, 2 * b).apply(h) as tfl.SymbolicTensor;
    y = tfl.layers.reLU({ name: `b${b}a_relu` }).apply(y) as tfl.SymbolicTensor;
    y = conv(`b${b}b`, 2 * b + 1).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.add({ name: `b${b}_add` }).apply([y, h]) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ name: `b${b}_out` }).apply(y) as tfl.SymbolicTensor;
  }
  h = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 2, name: 'head', kernelInitializer: init(9) })
    .apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: out });
}

describe('transfer cuts on residual nets', () => {
  it('listCuts lists the cuts between blocks only (one tensor crosses), every stage on a chain', () => {
    const model = tinyResNet();
    // stages: 0 stem, 1 b1a, 2 b1b(+add, relu), 3 b2a, 4 b2b(+add, relu, gap), 5 head
    expect(listCuts(model)).toEqual([
      { stages: 1, layer: 'stem_relu', weightLayer: 'stem' },
      { stages: 3, layer: 'b1_out', weightLayer: 'b1b' },
      { stages: 5, layer: 'gap', weightLayer: 'b2b' },
      { stages: 6, layer: 'head', weightLayer: 'head' },
    ]);
    const chain = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 3, inputShape: [2], name: 'd1' }),
        tfl.layers.dense({ units: 2, activation: 'relu', name: 'd2' }),
        tfl.layers.dense({ units: 2, name: 'd3' }),
      ],
    });
    expect(listCuts(chain).map((c) => c.layer)).toEqual(['d1', 'd2', 'd3']);
    model.dispose();
    chain.dispose();
  });

  it('a cut inside a residual block fails with a typed error naming the block and the nearest valid cuts', async () => {
    const model = tinyResNet();
    let caught: unknown;
    await expectThrowsNoLeak(
      () => {
        try {
          new LayerTransfer(model, { copy: { layer: 'b1a' } });
        } catch (e) {
          caught = e;
          throw e;
        }
      },
      InvalidCutError,
      /`options.copy`.*'b1a_relu' lies inside the block that ends at 'b1_out'.*nearest valid cuts: 'stem_relu', 'b1_out'/,
    );
    const err = caught as InvalidCutError;
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_CUT');
    expect(err.block).toEqual(['b1a', 'b1a_relu', 'b1b', 'b1_add', 'b1_out']);
    expect([err.before, err.after]).toEqual(['stem_relu', 'b1_out']);
    // a count of stages inside the second block: the nearest cuts are the block's ends
    await expectThrowsNoLeak(
      () => new LayerTransfer(model, { copy: 4 }),
      InvalidCutError,
      /nearest valid cuts: 'b1_out', 'gap'/,
    );
    model.dispose();
  });

  it('a listed cut transfers: copied weights equal, the rest re-initialised, a forward pass runs', async () => {
    const model = tinyResNet();
    const cut = listCuts(model)[1];
    const t = new LayerTransfer(model, {
      copy: { layer: cut.layer },
      head: { kind: 'replace', numClasses: 3 },
    });
    expect(t.copiedLayers).toEqual(['stem', 'b1a', 'b1b']);
    expectClose(
      await t.model.getLayer('b1b').getWeights()[0].data(),
      await model.getLayer('b1b').getWeights()[0].data(),
      0,
    );
    expect(await t.model.getLayer('b2a').getWeights()[0].data()).not.toEqual(
      await model.getLayer('b2a').getWeights()[0].data(),
    );
    const x = tf.ones([1, 6, 6, 1]);
    const y = t.model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 3]);
    tf.dispose([x, y]);
    t.dispose();
    model.dispose();
  });
});
