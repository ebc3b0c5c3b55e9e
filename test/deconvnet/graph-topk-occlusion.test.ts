// Deconvnet.topK, occlusion and projectUnits on a GraphModel, on a tiny graph written by hand (a GraphDef of
// Conv2D + BiasAdd + Relu, MaxPool, Reshape, MatMul + BiasAdd, Softmax, loaded by tfjs-converter's loadGraphModel)
// whose oracle is the same network as a tfjs-layers model with the same weights: the LayersModel path is itself
// checked against brute-force scans and plain loops (topk-occlusion.test.ts).
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Deconvnet,
  GraphModelNotSupportedError,
  InvalidArgumentError,
  UnsupportedLayerError,
} from '../../src/index.js';
import { expectClose, expectThrowsNoLeak } from '../helpers.js';

const H = 12;
const F = 4;
const CLASSES = 3;

const dims = (shape: number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });
const str = (s: string) => ({ s: btoa(s) });
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });
const constNode = (name: string, shape: number[], dtype = 'DT_FLOAT') => ({
  name,
  op: 'Const',
  attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: dims(shape) } } },
});

/** The tiny graph, and the same network as a Sequential model with the same weights. */
async function tinyGraph(): Promise<{ gm: GraphModel; model: tfl.Sequential }> {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [H, H, 1],
        filters: F,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'conv',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }),
        biasInitializer: tfl.initializers.constant({ value: 0.05 }),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({
        units: CLASSES,
        activation: 'softmax',
        name: 'out',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }),
      }),
    ],
  });
  const [w1, b1, w2, b2] = model.getWeights();
  const flat = (H / 2) * (H / 2) * F;
  const node = [
    {
      name: 'x',
      op: 'Placeholder',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims([-1, H, H, 1]) } },
    },
    constNode('w1', [3, 3, 1, F]),
    constNode('b1', [F]),
    constNode('w2', [flat, CLASSES]),
    constNode('b2', [CLASSES]),
    constNode('shape', [2], 'DT_INT32'),
    {
      name: 'conv/Conv2D',
      op: 'Conv2D',
      input: ['x', 'w1'],
      attr: {
        strides: ints([1, 1, 1, 1]),
        padding: str('SAME'),
        data_format: str('NHWC'),
        dilations: ints([1, 1, 1, 1]),
        T: { type: 'DT_FLOAT' },
      },
    },
    { name: 'conv/BiasAdd', op: 'BiasAdd', input: ['conv/Conv2D', 'b1'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'conv/Relu', op: 'Relu', input: ['conv/BiasAdd'], attr: { T: { type: 'DT_FLOAT' } } },
    {
      name: 'pool',
      op: 'MaxPool',
      input: ['conv/Relu'],
      attr: {
        ksize: ints([1, 2, 2, 1]),
        strides: ints([1, 2, 2, 1]),
        padding: str('VALID'),
        data_format: str('NHWC'),
      },
    },
    { name: 'flat', op: 'Reshape', input: ['pool', 'shape'], attr: { T: { type: 'DT_FLOAT' } } },
    {
      name: 'out/MatMul',
      op: 'MatMul',
      input: ['flat', 'w2'],
      attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } },
    },
    { name: 'out/BiasAdd', op: 'BiasAdd', input: ['out/MatMul', 'b2'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'probs', op: 'Softmax', input: ['out/BiasAdd'], attr: { T: { type: 'DT_FLOAT' } } },
  ];
  const values = [
    await w1.data(),
    await b1.data(),
    await w2.data(),
    await b2.data(),
    Int32Array.from([-1, flat]),
  ];
  const specs = [
    { name: 'w1', shape: [3, 3, 1, F], dtype: 'float32' as const },
    { name: 'b1', shape: [F], dtype: 'float32' as const },
    { name: 'w2', shape: [flat, CLASSES], dtype: 'float32' as const },
    { name: 'b2', shape: [CLASSES], dtype: 'float32' as const },
    { name: 'shape', shape: [2], dtype: 'int32' as const },
  ];
  const bytes = values.reduce((s, v) => s + v.byteLength, 0);
  const weightData = new Uint8Array(bytes);
  let off = 0;
  for (const v of values) {
    weightData.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), off);
    off += v.byteLength;
  }
  const gm = await loadGraphModel({
    load: async () => ({
      modelTopology: { node, versions: { producer: 1 } },
      weightSpecs: specs,
      weightData: weightData.buffer,
      format: 'graph-model',
    }),
  });
  return { gm, model };
}

describe('Deconvnet.topK / occlusion / projectUnits on a GraphModel', () => {
  let gm: GraphModel;
  let model: tfl.Sequential;
  let data: tf.Tensor4D;
  beforeAll(async () => {
    ({ gm, model } = await tinyGraph());
    data = tf.randomUniform([7, H, H, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  });
  afterAll(() => {
    gm.dispose();
    model.dispose();
    data.dispose();
  });

  it('the hand-written graph computes what the layers model computes', async () => {
    const a = gm.predict(data) as tf.Tensor;
    const b = model.predict(data) as tf.Tensor;
    expectClose(await a.data(), await b.data(), 1e-5);
    tf.dispose([a, b]);
  });

  it('topK finds the units of the layers model and projects them alike (deconvnet and guided; uncropped)', async () => {
    for (const strategy of ['deconvnet', 'guided'] as const) {
      const want = await new Deconvnet(model).topK(data, {
        layer: 'pool',
        k: 3,
        channels: [0, 2, 3],
        crop: false,
        strategy,
      });
      const dn = new Deconvnet(gm);
      const before = tf.memory().numTensors;
      const got = await dn.topK(data, { layer: 'pool', k: 3, channels: [0, 2, 3], batchSize: 3, strategy });
      expect(tf.memory().numTensors).toBe(before + 2); // projections and patches only
      expect(got.layer).toBe('pool');
      expect(got.channels).toEqual([0, 2, 3]);
      expect(got.units.map((l) => l.map((u) => [u.channel, u.index, u.y, u.x]))).toEqual(
        want.units.map((l) => l.map((u) => [u.channel, u.index, u.y, u.x])),
      );
      expectClose(
        got.units.flat().map((u) => u.score),
        want.units.flat().map((u) => u.score),
        1e-5,
      );
      // a GraphModel carries no layer geometry: every unit's box is the whole image, so crop changes nothing
      expect(got.receptiveField.kind).toBe('global');
      expect(got.units[0][0].box).toEqual({ top: 0, left: 0, height: H, width: H });
      expect(got.projections.shape).toEqual([3, 3, H, H, 1]);
      expectClose(await got.projections.data(), await want.projections.data(), 1e-5, 1e-4);
      expectClose(await got.patches.data(), await want.patches.data(), 0);
      tf.dispose([got.projections, got.patches, want.projections, want.patches]);
    }
  });

  it("topK with channels 'all' learns the channel count from the node's activations", async () => {
    const got = await new Deconvnet(gm).topK(data, { layer: 'conv/Relu', k: 1 });
    expect(got.channels).toEqual([0, 1, 2, 3]);
    expect(got.projections.shape).toEqual([F, 1, H, H, 1]);
    tf.dispose([got.projections, got.patches]);
  });

  it('occlusion equals the layers model sweep (probability, predicted class, feature activity)', async () => {
    const x = tf.slice(data, 0, 3);
    const opts = { labels: [0, 2, 1], size: 4, stride: 3, layer: 'conv/Relu', batchSize: 7 };
    const before = tf.memory().numTensors;
    const got = await new Deconvnet(gm).occlusion(x, opts);
    expect(tf.memory().numTensors).toBe(before + 3); // probability, predicted, featureActivity
    const want = await new Deconvnet(model).occlusion(x, { ...opts, layer: 'conv' });
    expect(got.rows).toEqual(want.rows);
    expect(got.strongestChannel).toEqual(want.strongestChannel);
    expectClose(got.baseline, want.baseline, 1e-5);
    expectClose(await got.probability.data(), await want.probability.data(), 1e-5);
    expect(Array.from(await got.predicted.data())).toEqual(Array.from(await want.predicted.data()));
    expectClose(await got.featureActivity!.data(), await want.featureActivity!.data(), 1e-4);
    tf.dispose([x, ...Object.values(got), ...Object.values(want)].filter((v) => v instanceof tf.Tensor));
  });

  it('projectUnits projects single units, like the layers model', async () => {
    const units = [
      { image: 1, channel: 2, y: 3, x: 4 },
      { image: 0, channel: 0 },
    ];
    const got = new Deconvnet(gm).projectUnits(data, units, { layer: 'pool', strategy: 'guided' });
    const want = new Deconvnet(model).projectUnits(data, units, { layer: 'pool', strategy: 'guided' });
    expectClose(await got.data(), await want.data(), 1e-5, 1e-4);
    tf.dispose([got, want]);
  });

  it('bad input: typed errors, nothing leaked', async () => {
    const dn = new Deconvnet(gm);
    await expectThrowsNoLeak(
      () => dn.topK(data, { layer: 'pool', channels: [4] }),
      InvalidArgumentError,
      /channels\[0\]/,
    );
    await expectThrowsNoLeak(() => dn.topK(data, { layer: 'nope' }), InvalidArgumentError, /closest/);
    await expectThrowsNoLeak(
      () => dn.occlusion(data, { labels: [0, 1, 2, 0, 1, 2, 3], size: 4 }),
      InvalidArgumentError,
      /labels\[6\]/,
    );
    await expectThrowsNoLeak(
      () => dn.projectUnits(data, [{ image: 0, channel: 1, y: 6, x: 0 }], { layer: 'pool' }),
      InvalidArgumentError,
      /units\[0\]\.y/,
    );
    // a projection through an op without a deconvnet rule is named (saliency passes it)
    await expectThrowsNoLeak(
      () => dn.topK(data, { layer: 'probs', k: 1, channels: [0] }),
      UnsupportedLayerError,
      /Softmax/,
    );
    expect(() => dn.receptiveField('pool')).toThrow(GraphModelNotSupportedError);
  });
});
