import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { DisposedError, InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import { FeatureExtractor } from '../../src/features/extractor.js';
import { listTaps } from '../../src/features/taps.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';
import { countCalls, nestedFirst, nestedMiddle, tinyCnn } from './models.js';

function truncated(model: tfl.LayersModel, layer: tfl.layers.Layer): tfl.LayersModel {
  return tfl.model({ inputs: model.inputs, outputs: layer.output as tfl.SymbolicTensor });
}

describe('tap discovery', () => {
  it('lists every layer with its class and output shape', () => {
    const taps = listTaps(tinyCnn());
    expect(taps.map((t) => t.name)).toEqual(['conv1', 'pool1', 'conv2', 'flat', 'fc1', 'logits']);
    expect(taps.map((t) => t.className)).toEqual([
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'Flatten',
      'Dense',
      'Dense',
    ]);
    expect(taps[0].outputShape).toEqual([null, 8, 8, 4]);
    expect(taps[3].outputShape).toEqual([null, 24]);
    expect(taps[0].params).toBe(3 * 3 * 2 * 4 + 4);
  });

  it('expands nested models with path names and depth', () => {
    const { model } = nestedFirst();
    const taps = FeatureExtractor.listTaps(model);
    expect(taps.map((t) => [t.name, t.depth])).toEqual([
      ['backbone', 0],
      ['backbone/bconv', 1],
      ['backbone/gap', 1],
      ['head', 0],
    ]);
    expect(taps[1].outputShape).toEqual([null, 6, 6, 3]);
  });
});

describe('one forward pass for several taps', () => {
  it('gives the same numbers as separate truncated models, and runs each layer once', async () => {
    const model = tinyCnn();
    const x = tf.randomUniform([3, 10, 10, 2], 0, 1, 'float32', 1);
    const fx = new FeatureExtractor(model, { taps: ['conv1', 'conv2', -2, -1] });
    const { counts, restore } = countCalls(model.layers);
    const feats = fx.extract(x);
    restore();
    expect([...counts.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(feats.map((f) => f.shape)).toEqual([
      [3, 256],
      [3, 24],
      [3, 5],
      [3, 3],
    ]);
    for (const [k, name] of ['conv1', 'conv2', 'fc1', 'logits'].entries()) {
      const ref = truncated(model, model.getLayer(name)).predict(x) as tf.Tensor;
      expectClose(await values(feats[k]), await values(tf.reshape(ref, [3, -1])), 1e-6);
      ref.dispose();
    }
    tf.dispose([x, ...feats]);
    fx.dispose();
  });

  it('taps a nested model that is the first layer of a Sequential', async () => {
    const { model, backbone } = nestedFirst();
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 2);
    const fx = new FeatureExtractor(model, { taps: ['bconv', 'backbone', 'head'] });
    const [a, b, c] = fx.extract(x);
    const ra = truncated(backbone, backbone.getLayer('bconv')).predict(x) as tf.Tensor;
    const rb = backbone.predict(x) as tf.Tensor;
    const rc = model.predict(x) as tf.Tensor;
    expectClose(await values(a), await values(tf.reshape(ra, [2, -1])), 1e-6);
    expectClose(await values(b), await values(rb), 1e-6);
    expectClose(await values(c), await values(rc), 1e-6);
    tf.dispose([x, a, b, c, ra, rb, rc]);
  });

  it('enters a nested model applied in the middle of a graph, still in one pass', async () => {
    const { model, inner } = nestedMiddle();
    const x = tf.randomUniform([2, 6, 6, 2], -1, 1, 'float32', 3);
    const fx = new FeatureExtractor(model, { taps: ['inner/iconv', 'inner', 'pre', 'out'] });
    const all = [...model.layers, ...inner.layers];
    const { counts, restore } = countCalls(all);
    const feats = fx.extract(x);
    restore();
    for (const name of ['pre', 'iconv', 'iflat', 'out']) expect(counts.get(name), name).toBe(1);
    const pre = truncated(model, model.getLayer('pre')).predict(x) as tf.Tensor;
    const iconv = truncated(inner, inner.getLayer('iconv')).predict(pre) as tf.Tensor;
    const whole = model.predict(x) as tf.Tensor;
    const innerOut = inner.predict(pre) as tf.Tensor;
    expectClose(await values(feats[0]), await values(tf.reshape(iconv, [2, -1])), 1e-6);
    expectClose(await values(feats[1]), await values(innerOut), 1e-6);
    expectClose(await values(feats[2]), await values(tf.reshape(pre, [2, -1])), 1e-6);
    expectClose(await values(feats[3]), await values(whole), 1e-6);
    tf.dispose([x, pre, iconv, whole, innerOut, ...feats]);
  });

  it('accepts layer objects and negative indices', async () => {
    const model = tinyCnn();
    const fx = new FeatureExtractor(model, { taps: [model.getLayer('fc1'), -2] });
    expect(fx.taps.map((t) => [t.name, t.dim])).toEqual([
      ['fc1', 5],
      ['fc1', 5],
    ]);
  });

  it('leaks nothing (happy path, after dispose)', async () => {
    const model = tinyCnn();
    const x = tf.randomUniform([2, 10, 10, 2]);
    const fx = new FeatureExtractor(model, {
      taps: [{ layer: 'conv2', pool: 'max' }, 'fc1'],
      normalize: 'power',
      augment: { crops: 'center+corners', flip: true },
    });
    await expectNoLeak(() => fx.extract(x));
    await expectNoLeak(() => fx.extractAll(x, { batchSize: 1 }));
    fx.dispose();
    await expectThrowsNoLeak(() => fx.extract(x), DisposedError, /FeatureExtractor\.extract\(\)/);
    await expectThrowsNoLeak(() => fx.extractAll(x), DisposedError);
    x.dispose();
  });
});

describe('bad inputs', () => {
  const model = tinyCnn();

  it('names the close layer names for an unknown tap', () => {
    expect(() => new FeatureExtractor(model, { taps: 'conv3' })).toThrow(InvalidArgumentError);
    expect(() => new FeatureExtractor(model, { taps: 'conv3' })).toThrow(/closest: 'conv1', 'conv2'/);
    expect(() => new FeatureExtractor(model, { taps: ['fc1', 'fc_1x'] })).toThrow(
      /options\.taps\[1\].*closest: 'fc1'/,
    );
  });

  it('rejects an index past the output and a layer of another model', () => {
    expect(() => new FeatureExtractor(model, { taps: 6 })).toThrow(
      /integer in \[-6, 5\].*-1 is the output layer/,
    );
    expect(() => new FeatureExtractor(model, { taps: -7 })).toThrow(InvalidArgumentError);
    expect(() => new FeatureExtractor(model, { taps: tinyCnn().getLayer('fc1') })).toThrow(
      /belongs to another model/,
    );
    expect(() => new FeatureExtractor(model, { taps: [] })).toThrow(/at least one tap/);
    expect(() => new FeatureExtractor(model, { taps: 'fc1', pool: 'sum' as never })).toThrow(/options\.pool/);
  });

  it('rejects batches of the wrong rank, channels or size, without leaking', async () => {
    const fx = new FeatureExtractor(model, { taps: 'fc1', resize: 'none' });
    const rank3 = tf.zeros([10, 10, 2]);
    const rgb = tf.zeros([1, 10, 10, 3]);
    const big = tf.zeros([1, 12, 12, 2]);
    await expectThrowsNoLeak(() => fx.extract(rank3), ShapeMismatchError, /rank 4.*\[10, 10, 2\]/);
    await expectThrowsNoLeak(() => fx.extract(rgb), ShapeMismatchError, /2 channel\(s\).*\[1, 10, 10, 3\]/);
    await expectThrowsNoLeak(() => fx.extract(big), ShapeMismatchError, /10x10/);
    tf.dispose([rank3, rgb, big]);
  });

  it('rejects an empty data set', async () => {
    const fx = new FeatureExtractor(model, { taps: 'fc1' });
    await expectThrowsNoLeak(() => fx.extractAll([]), InvalidArgumentError, /non-empty data set.*0 images/);
    const empty = tf.zeros([0, 10, 10, 2]);
    await expectThrowsNoLeak(() => fx.extractAll(empty), ShapeMismatchError, /at least one image/);
    empty.dispose();
  });
});

describe('input handling', () => {
  it('resizes other sizes to the model input and applies the declared preprocessing', async () => {
    const model = tinyCnn();
    const x = tf.randomUniform([2, 14, 20, 2], 0, 1, 'float32', 4);
    const fx = new FeatureExtractor(model, {
      taps: 'fc1',
      resize: 'stretch',
      preprocess: { scale: 2, offset: -1, mean: [0.1, -0.2] },
    });
    const [f] = fx.extract(x);
    const prepared = tf.sub(
      tf.sub(tf.mul(tf.image.resizeBilinear(x as tf.Tensor4D, [10, 10]), 2), 1),
      tf.tensor1d([0.1, -0.2]),
    );
    const ref = truncated(model, model.getLayer('fc1')).predict(prepared) as tf.Tensor;
    expectClose(await values(f), await values(ref), 1e-5);
    tf.dispose([x, f, prepared, ref]);
  });

  it('rejects preprocessing with the wrong number of channels', () => {
    expect(() => new FeatureExtractor(tinyCnn(), { taps: 'fc1', preprocess: { mean: [1, 2, 3] } })).toThrow(
      /options\.preprocess\.mean/,
    );
  });
});
