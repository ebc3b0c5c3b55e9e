import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { Deconvnet } from '../../src/deconvnet/deconvnet.js';
import { createSpecialist } from '../../src/ensemble/specialist.js';
import { FeatureExtractor } from '../../src/features/extractor.js';
import { listLayers } from '../../src/model/layers.js';
import { outputKind } from '../../src/model/output-kind.js';
import { LayerTransfer } from '../../src/transfer/layer-transfer.js';
import { expectThrowsNoLeak } from '../helpers.js';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** input -> c1 -> c2 -> inner (Sequential: iflat, id) -> head (softmax): a functional model with a nested one. */
function functionalNested(): tfl.LayersModel {
  const inner = tfl.sequential({
    name: 'inner',
    layers: [
      tfl.layers.flatten({ inputShape: [4, 4, 3], name: 'iflat' }),
      tfl.layers.dense({ units: 6, activation: 'relu', name: 'id', kernelInitializer: init(3) }),
    ],
  });
  const x = tfl.input({ shape: [8, 8, 1], name: 'img' });
  const c1 = tfl.layers
    .conv2d({ filters: 2, kernelSize: 3, activation: 'relu', name: 'c1', kernelInitializer: init(1) })
    .apply(x) as tfl.SymbolicTensor;
  const c2 = tfl.layers
    .conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'c2', kernelInitializer: init(2) })
    .apply(c1) as tfl.SymbolicTensor;
  const h = inner.apply(c2) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 4, activation: 'softmax', name: 'head', kernelInitializer: init(4) })
    .apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: out });
}

describe('one meaning of a layer reference', () => {
  it('FeatureExtractor, Deconvnet, LayerTransfer and the ensemble pick the same layer for each reference', async () => {
    const model = functionalNested();
    // model.layers = [img (InputLayer), c1, c2, inner, head]: index 1 is c1 everywhere (it used to be c2 in Deconvnet).
    expect(model.layers.map((l) => l.name)).toEqual(['img', 'c1', 'c2', 'inner', 'head']);
    const c2 = model.getLayer('c2');
    const cases: [unknown, string][] = [
      [1, 'c1'],
      [2, 'c2'],
      [-1, 'head'],
      [-4, 'c1'],
      ['c2', 'c2'],
      ['inner/id', 'inner/id'],
      ['id', 'inner/id'],
      [c2, 'c2'],
    ];
    const dn = new Deconvnet(model);
    for (const [ref, name] of cases) {
      const fx = new FeatureExtractor(model, { taps: [ref as string] });
      expect(fx.taps[0].name, `FeatureExtractor ${String(ref)}`).toBe(name);
      fx.dispose();
      expect(dn.layerInfo(ref as string).name, `Deconvnet ${String(ref)}`).toBe(name);
      const t = new LayerTransfer(model, { copy: { layer: ref as string }, head: { kind: 'keep' } });
      // Every reference above is a weight-bearing layer: the copy ends with it.
      expect(t.copiedLayers[t.copiedLayers.length - 1], `LayerTransfer ${String(ref)}`).toBe(name);
      t.dispose();
      expect(listLayers(model).some((l) => l.name === name)).toBe(true);
    }
    // The same activations, read by two primitives.
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const fx = new FeatureExtractor(model, { taps: [1] });
    const [f] = fx.extract(x);
    const a = dn.activations(x, 1);
    expect(Array.from(await f.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, f, a]);
    fx.dispose();
    // The ensemble's specialist head is made from the layer `-1` names: its kernel columns are that layer's.
    expect(outputKind(model)).toBe('probabilities');
    const spec = await createSpecialist(model, [0, 2], { headInit: 'generalist' });
    const [k] = spec.layers[spec.layers.length - 1].getWeights();
    const [hk] = model.getLayer(dn.layerInfo(-1).name).getWeights();
    const want = tf.gather(hk, [0, 2], 1);
    expect(Array.from(await tf.slice(k, [0, 0], [6, 2]).data())).toEqual(Array.from(await want.data()));
    want.dispose();
    spec.dispose();
    model.dispose();
  });

  it('an unknown name lists the closest names in every primitive, and an index past the end gives the range', async () => {
    const model = functionalNested();
    const dn = new Deconvnet(model);
    const close = /closest: 'c1', 'c2'/;
    await expectThrowsNoLeak(
      () => new FeatureExtractor(model, { taps: ['c3'] }),
      InvalidArgumentError,
      close,
    );
    await expectThrowsNoLeak(() => dn.layerInfo('c3'), InvalidArgumentError, close);
    await expectThrowsNoLeak(
      () => new LayerTransfer(model, { copy: { layer: 'c3' }, head: { kind: 'keep' } }),
      InvalidArgumentError,
      close,
    );
    const range = /integer in \[-5, 4\]/;
    await expectThrowsNoLeak(() => new FeatureExtractor(model, { taps: [5] }), InvalidArgumentError, range);
    await expectThrowsNoLeak(() => dn.layerInfo(-6), InvalidArgumentError, range);
    await expectThrowsNoLeak(
      () => new LayerTransfer(model, { copy: { index: 5 }, head: { kind: 'keep' } }),
      InvalidArgumentError,
      range,
    );
    // Index 0 is the InputLayer: a tap reads the input, the Deconvnet has nothing to project.
    await expectThrowsNoLeak(() => dn.layerInfo(0), InvalidArgumentError, /InputLayer computes nothing/);
    model.dispose();
  });
});
