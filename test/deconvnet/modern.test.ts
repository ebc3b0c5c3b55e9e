import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { Deconvnet } from '../../src/index.js';
import { registeredDeconvLayers } from '../../src/internal.js';
import { expectClose, expectNoLeak } from '../helpers.js';
import type { Strategy } from './oracle.js';
import { oracleGraphForward, oracleGraphProject } from './oracle-graph.js';

const init = (s: number) => tfl.initializers.glorotNormal({ seed: 100 + s });
const bias = (s: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.2, seed: 200 + s });

/**
 * Every modern layer in one small functional net: dilated conv, strided depthwise (multiplier 2), BN, ReLU6 layer,
 * dilated separable conv (relu6), a squeeze-excitation gate (GAP -> Dense relu -> Dense sigmoid -> Reshape ->
 * Multiply), 1x1 conv (swish), gelu, nearest up-sampling, cropping, layer norm, tanh, a hard-swish built from
 * Rescaling + ReLU(maxValue 1) + Multiply, global max pooling and a sigmoid dense head.
 */
function modernNet(): tfl.LayersModel {
  const inp = tfl.input({ shape: [10, 10, 3] });
  const ap = (l: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    l.apply(x) as tfl.SymbolicTensor;
  const c1 = ap(
    tfl.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      dilationRate: 2,
      padding: 'same',
      activation: 'relu',
      name: 'c1',
      kernelInitializer: init(1),
      biasInitializer: bias(1),
    }),
    inp,
  );
  const dw = ap(
    tfl.layers.depthwiseConv2d({
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      depthMultiplier: 2,
      name: 'dw',
      depthwiseInitializer: init(2),
      biasInitializer: bias(2),
    }),
    c1,
  );
  const bn = ap(tfl.layers.batchNormalization({ name: 'bn' }), dw);
  const r6 = ap(tfl.layers.reLU({ maxValue: 6, name: 'r6' }), bn);
  const sep = ap(
    tfl.layers.separableConv2d({
      filters: 5,
      kernelSize: 3,
      padding: 'same',
      dilationRate: 2,
      activation: 'relu6',
      name: 'sep',
      depthwiseInitializer: init(3),
      pointwiseInitializer: init(4),
      biasInitializer: bias(3),
    }),
    r6,
  );
  const gap = ap(tfl.layers.globalAveragePooling2d({ name: 'gap' }), sep);
  const sq = ap(
    tfl.layers.dense({
      units: 2,
      activation: 'relu',
      name: 'sq',
      kernelInitializer: init(5),
      biasInitializer: bias(5),
    }),
    gap,
  );
  const ex = ap(
    tfl.layers.dense({ units: 5, activation: 'sigmoid', name: 'ex', kernelInitializer: init(6) }),
    sq,
  );
  const rs = ap(tfl.layers.reshape({ targetShape: [1, 1, 5], name: 'rs' }), ex);
  const se = ap(tfl.layers.multiply({ name: 'se' }), [sep, rs]);
  const pw = ap(
    tfl.layers.conv2d({
      filters: 6,
      kernelSize: 1,
      activation: 'swish',
      name: 'pw',
      kernelInitializer: init(7),
    }),
    se,
  );
  const ge = ap(tfl.layers.activation({ activation: 'gelu', name: 'ge' }), pw);
  const up = ap(tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }), ge);
  const cr = ap(
    tfl.layers.cropping2D({
      cropping: [
        [1, 0],
        [0, 1],
      ],
      name: 'cr',
    }),
    up,
  );
  const ln = ap(tfl.layers.layerNormalization({ name: 'ln' }), cr);
  const th = ap(tfl.layers.activation({ activation: 'tanh', name: 'th' }), ln);
  const hsr = ap(tfl.layers.rescaling({ scale: 1 / 6, offset: 0.5, name: 'hsr' }), th);
  const hsc = ap(tfl.layers.reLU({ maxValue: 1, name: 'hsc' }), hsr);
  const hs = ap(tfl.layers.multiply({ name: 'hs' }), [th, hsc]);
  const gm = ap(tfl.layers.globalMaxPooling2d({ name: 'gm' }), hs);
  const out = ap(
    tfl.layers.dense({ units: 3, activation: 'sigmoid', name: 'out', kernelInitializer: init(8) }),
    gm,
  );
  const m = tfl.model({ inputs: inp, outputs: out });
  m.getLayer('bn').setWeights([
    tf.tensor1d([1.5, 0.5, -1, 1, 0.8, 1.2, 0.9, 1.1]),
    tf.tensor1d([0.1, -0.2, 0.3, 0, 0.2, 0.1, -0.1, 0.4]),
    tf.tensor1d([0.2, -0.1, 0, 0.1, 0, 0.3, -0.2, 0]),
    tf.tensor1d([2, 0.5, 1.2, 1, 0.7, 1.5, 0.9, 1.1]),
  ]);
  m.getLayer('ln').setWeights([
    tf.tensor1d([1.2, 0.7, 1, -0.5, 0.9, 1.4]),
    tf.tensor1d([0.1, 0, -0.2, 0.3, 0, 0.1]),
  ]);
  return m;
}

/** Oracle projection of one channel: 'max' keeps the strongest position per image, 'all' the whole map. */
async function oracleChannel(
  model: tfl.LayersModel,
  x: tf.Tensor,
  layer: string,
  channel: number,
  strategy: Strategy,
  position: 'max' | 'all',
): Promise<Float32Array> {
  const a = tf.tidy(() => oracleGraphForward(model, x, layer, 'saliency'));
  const v = await a.data();
  const shape = a.shape;
  const c = shape[shape.length - 1];
  const perImage = v.length / shape[0];
  const mask = new Float32Array(v.length);
  for (let n = 0; n < shape[0]; n++) {
    let best = -1;
    for (let p = channel; p < perImage; p += c) {
      const i = n * perImage + p;
      if (position === 'all') mask[i] = v[i];
      else if (best < 0 || v[i] > v[n * perImage + best]) best = p;
    }
    if (position === 'max') mask[n * perImage + best] = v[n * perImage + best];
  }
  a.dispose();
  const s = tf.tensor(mask, shape);
  const g = tf.tidy(() => oracleGraphProject(model, x, layer, s, strategy));
  const out = (await g.data()) as Float32Array;
  tf.dispose([s, g]);
  return out;
}

describe('Deconvnet rules for modern layers', () => {
  let net: tfl.LayersModel;
  let x: tf.Tensor4D;
  beforeAll(() => {
    net = modernNet();
    x = tf.randomNormal([2, 10, 10, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
  });

  it('has rules for the modern layer classes tfjs-layers 4.22 ships', () => {
    for (const cls of [
      'DepthwiseConv2D',
      'SeparableConv2D',
      'Multiply',
      'Rescaling',
      'UpSampling2D',
      'LayerNormalization',
      'GlobalAveragePooling2D',
      'GlobalMaxPooling2D',
      'Cropping2D',
      'ReLU',
    ]) {
      expect(registeredDeconvLayers()).toContain(cls);
    }
  });

  it('the oracle reproduces the model (the test net is what tfjs-layers computes)', async () => {
    const a = net.predict(x) as tf.Tensor;
    const b = tf.tidy(() => oracleGraphForward(net, x, 'out', 'saliency'));
    expectClose(await a.data(), await b.data(), 1e-4, 1e-4);
    tf.dispose([a, b]);
  });

  for (const strategy of ['deconvnet', 'guided', 'saliency'] as const) {
    it(`equals the customGrad oracle (${strategy}) through depthwise, separable, dilated, SE, hard-swish...`, async () => {
      const dn = new Deconvnet(net, { strategy });
      for (const [layer, channels, position] of [
        ['sep', [0, 3], 'max'],
        ['se', [1, 4], 'all'],
        ['ln', [2, 5], 'max'],
        ['out', [0, 2], 'max'],
      ] as const) {
        const proj = dn.project(x, { layer, channels: [...channels], position });
        const pv = await proj.data();
        const [n, k, h, w, c] = proj.shape;
        proj.dispose();
        for (const [j, ch] of channels.entries()) {
          const o = await oracleChannel(net, x, layer, ch, strategy, position);
          const mine = new Float32Array(n * h * w * c);
          for (let i = 0; i < n; i++)
            mine.set(pv.subarray((i * k + j) * h * w * c, (i * k + j + 1) * h * w * c), i * h * w * c);
          expectClose(mine, o, 1e-4, 1e-4);
        }
      }
    });
  }

  it('bilinear up-sampling projects through its exact gradient', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [5, 5, 2],
          filters: 3,
          kernelSize: 3,
          name: 'bc',
          kernelInitializer: init(9),
        }),
        tfl.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear', name: 'bu' }),
        tfl.layers.flatten({ name: 'bf' }),
        tfl.layers.dense({ units: 2, name: 'bd', kernelInitializer: init(10) }),
      ],
    });
    const xi = tf.randomNormal([2, 5, 5, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const dn = new Deconvnet(m, { strategy: 'saliency' });
    const p = dn.project(xi, { layer: 'bd', channels: [1], signal: 'unit' });
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(m.predict(t) as tf.Tensor, [0, 1], [-1, 1])))(xi);
    expectClose(await p.data(), await g.data(), 1e-4, 1e-4);
    tf.dispose([xi, p, g]);
    m.dispose();
  });

  it('receptive fields of dilated and depthwise layers', () => {
    const dn = new Deconvnet(net);
    // dilated 3x3, d=2: a 5x5 window; then a depthwise 3x3 of stride 2 on top: 5 + (3 - 1) * 1 = 7, jump 2
    expect(dn.receptiveField('c1')).toMatchObject({ kind: 'local', size: [5, 5], jump: [1, 1] });
    expect(dn.receptiveField('dw')).toMatchObject({ kind: 'local', size: [7, 7], jump: [2, 2] });
  });

  it('leaks no tensor', async () => {
    const dn = new Deconvnet(net, { strategy: 'guided' });
    await expectNoLeak(() => dn.project(x, { layer: 'hs', channels: [0, 1] }));
    await expectNoLeak(() => dn.project(x, { layer: 'out', channels: 'all', strategy: 'deconvnet' }));
  });
});
