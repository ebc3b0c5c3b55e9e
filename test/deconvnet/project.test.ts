import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Deconvnet,
  DisposedError,
  InvalidArgumentError,
  registerDeconvRule,
  ShapeMismatchError,
  UnsupportedLayerError,
} from '../../src/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';
import { oracleForward, oracleProject, type Strategy } from './oracle.js';

/** conv(relu, same) -> pool 2 -> conv(relu, valid) -> overlapping pool 3/2 -> flatten -> dense(relu) -> dense */
function convNet(seed: number): tfl.Sequential {
  const init = (s: number) => tfl.initializers.glorotNormal({ seed: seed * 10 + s });
  const bias = (s: number) =>
    tfl.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: seed * 10 + s + 5 });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [12, 12, 2],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'c1',
        kernelInitializer: init(1),
        biasInitializer: bias(1),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tfl.layers.conv2d({
        filters: 5,
        kernelSize: 2,
        activation: 'relu',
        name: 'c2',
        kernelInitializer: init(2),
        biasInitializer: bias(2),
      }),
      tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'p2' }),
      tfl.layers.flatten({ name: 'f' }),
      tfl.layers.dense({
        units: 6,
        activation: 'relu',
        name: 'd1',
        kernelInitializer: init(3),
        biasInitializer: bias(3),
      }),
      tfl.layers.dense({ units: 3, name: 'd2', kernelInitializer: init(4) }),
    ],
  });
}

/** The other supported layers: zero padding, BN, ReLU and Activation layers, strided conv, avg pool, dropout. */
function mixedNet(seed: number): tfl.Sequential {
  const init = (s: number) => tfl.initializers.glorotNormal({ seed: seed * 10 + s });
  const m = tfl.sequential({
    layers: [
      tfl.layers.zeroPadding2d({
        inputShape: [9, 9, 1],
        padding: [
          [1, 2],
          [2, 1],
        ],
        name: 'zp',
      }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, name: 'c1', kernelInitializer: init(1) }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.reLU({ name: 'r1' }),
      tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, name: 'ap' }),
      tfl.layers.dropout({ rate: 0.5, name: 'dr' }),
      tfl.layers.conv2d({
        filters: 4,
        kernelSize: 2,
        padding: 'same',
        name: 'c2',
        kernelInitializer: init(2),
      }),
      tfl.layers.activation({ activation: 'relu', name: 'a2' }),
    ],
  });
  // non-trivial inference statistics
  const bn = m.getLayer('bn');
  bn.setWeights([
    tf.tensor1d([1.5, 0.5, -1]),
    tf.tensor1d([0.1, -0.2, 0.3]),
    tf.tensor1d([0.2, -0.1, 0]),
    tf.tensor1d([2, 0.5, 1.2]),
  ]);
  return m;
}

/** Oracle projection of one channel with the 'max' rule (strongest position per image) or a whole map. */
async function oracleChannel(
  model: tfl.LayersModel,
  x: tf.Tensor,
  layer: string,
  channel: number,
  strategy: Strategy,
  position: 'max' | 'all',
): Promise<Float32Array> {
  const a = tf.tidy(() => oracleForward(model, x, layer, 'saliency'));
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
  const g = tf.tidy(() => oracleProject(model, x, layer, s, strategy));
  const out = (await g.data()) as Float32Array;
  tf.dispose([s, g]);
  return out;
}

describe('Deconvnet projections', () => {
  let net: tfl.Sequential;
  let x: tf.Tensor4D;
  beforeAll(() => {
    net = convNet(1);
    x = tf.randomNormal([3, 12, 12, 2], 0, 1, 'float32', 7) as tf.Tensor4D;
  });

  for (const strategy of ['deconvnet', 'guided', 'saliency'] as const) {
    it(`equals the customGrad oracle (${strategy}) for every channel of conv, pool and dense layers`, async () => {
      const dn = new Deconvnet(net, { strategy });
      for (const [layer, position] of [
        ['c2', 'max'],
        ['p2', 'all'],
        ['d1', 'max'],
      ] as const) {
        const channels = Array.from({ length: dn.layerInfo(layer).channels }, (_, i) => i);
        const proj = dn.project(x, { layer, channels, position });
        const pv = await proj.data();
        const [n, k, h, w, c] = proj.shape;
        proj.dispose();
        for (const ch of channels) {
          const o = await oracleChannel(net, x, layer, ch, strategy, position);
          const mine = new Float32Array(n * h * w * c);
          for (let i = 0; i < n; i++)
            mine.set(pv.subarray((i * k + ch) * h * w * c, (i * k + ch + 1) * h * w * c), i * h * w * c);
          expectClose(mine, o, 1e-4, 1e-4);
        }
      }
    });
  }

  it('equals the oracle on a net with zero padding, BatchNorm, ReLU/Activation layers, avg pooling, dropout', async () => {
    const m = mixedNet(2);
    const xi = tf.randomNormal([2, 9, 9, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    for (const strategy of ['deconvnet', 'guided', 'saliency'] as const) {
      const dn = new Deconvnet(m, { strategy });
      const proj = dn.project(xi, { layer: 'a2', channels: [0, 3], position: 'all' });
      const pv = await proj.data();
      proj.dispose();
      for (const [j, ch] of [0, 3].entries()) {
        const o = await oracleChannel(m, xi, 'a2', ch, strategy, 'all');
        const per = 9 * 9;
        const mine = new Float32Array(2 * per);
        for (let i = 0; i < 2; i++) mine.set(pv.subarray((i * 2 + j) * per, (i * 2 + j + 1) * per), i * per);
        expectClose(mine, o, 1e-4, 1e-4);
      }
    }
    xi.dispose();
    m.dispose();
  });

  it('differs between strategies (the rule at the ReLU matters)', async () => {
    const a = new Deconvnet(net, { strategy: 'deconvnet' }).project(x, { layer: 'd1', channels: [0] });
    const b = new Deconvnet(net, { strategy: 'guided' }).project(x, { layer: 'd1', channels: [0] });
    const diff = tf.max(tf.abs(tf.sub(a, b)));
    expect((await diff.data())[0]).toBeGreaterThan(1e-4);
    tf.dispose([a, b, diff]);
  });

  it('batched projections equal per-image, per-channel projections', async () => {
    const dn = new Deconvnet(net);
    const all = dn.project(x, { layer: 'c2', channels: [1, 4] });
    const one = tf.tidy(() =>
      dn.project(tf.slice(x, [2, 0, 0, 0], [1, -1, -1, -1]), { layer: 'c2', channels: [4] }),
    );
    const part = tf.slice(all, [2, 1, 0, 0, 0], [1, 1, -1, -1, -1]);
    expectClose(await part.data(), await one.data(), 1e-6);
    tf.dispose([all, one, part]);
  });

  it('projectUnits equals project at the same position', async () => {
    const dn = new Deconvnet(net);
    const a = tf.tidy(() => tf.slice(dn.activations(x, 'c2'), [1, 0, 0, 2], [1, -1, -1, 1]));
    const av = await a.data();
    a.dispose();
    let best = 0;
    for (let i = 1; i < av.length; i++) if (av[i] > av[best]) best = i;
    const w = 5;
    const unit = dn.projectUnits(x, [{ image: 1, channel: 2, y: Math.floor(best / w), x: best % w }], {
      layer: 'c2',
    });
    const ref = dn.project(x, {
      layer: 'c2',
      channels: [2],
      position: { y: Math.floor(best / w), x: best % w },
    });
    const refPart = tf.slice(ref, [1, 0, 0, 0, 0], [1, 1, -1, -1, -1]);
    expectClose(await unit.data(), await refPart.data(), 1e-6);
    tf.dispose([unit, ref, refPart]);
  });

  it("signal 'unit' with 'saliency' is the gradient of the kept activations' sum", async () => {
    const dn = new Deconvnet(net, { strategy: 'saliency' });
    const p = dn.project(x, { layer: 'd2', channels: [1], signal: 'unit' });
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(net.predict(t) as tf.Tensor, [0, 1], [-1, 1])))(x);
    expectClose(await p.data(), await g.data(), 1e-4, 1e-4);
    tf.dispose([p, g]);
  });

  it('works on functional graphs with branches (Add, Concatenate) and nested models', async () => {
    const inp = tfl.input({ shape: [8, 8, 1] });
    const c1 = tfl.layers
      .conv2d({
        filters: 2,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'fc1',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }),
      })
      .apply(inp) as tfl.SymbolicTensor;
    const c2 = tfl.layers
      .conv2d({
        filters: 2,
        kernelSize: 1,
        name: 'fc2',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }),
      })
      .apply(c1) as tfl.SymbolicTensor;
    const add = tfl.layers.add({ name: 'add' }).apply([c1, c2]) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({ name: 'cat' }).apply([add, c1]) as tfl.SymbolicTensor;
    const inner = tfl.sequential({
      name: 'inner',
      layers: [
        tfl.layers.maxPooling2d({ inputShape: [8, 8, 4], poolSize: 2, name: 'ip' }),
        tfl.layers.flatten({ name: 'if' }),
      ],
    });
    const out = tfl.layers
      .dense({ units: 2, name: 'fd', kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) })
      .apply(inner.apply(cat) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: inp, outputs: out });
    const dn = new Deconvnet(m, { strategy: 'saliency' });
    expect(dn.layerNames).toEqual(['fc1', 'fc2', 'add', 'cat', 'inner/ip', 'inner/if', 'fd']);
    const xi = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const p = dn.project(xi, { layer: 'fd', channels: [0], signal: 'unit' });
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(m.predict(t) as tf.Tensor, [0, 0], [-1, 1])))(xi);
    expectClose(await p.data(), await g.data(), 1e-4, 1e-4);
    expect(dn.receptiveField('inner/ip')).toEqual({
      kind: 'local',
      size: [4, 4],
      jump: [2, 2],
      start: [-1, -1],
    });
    tf.dispose([xi, p, g]);
    m.dispose();
  });

  it('projects through global max / average pooling and Cropping2D like the gradient', async () => {
    for (const pool of ['max', 'avg'] as const) {
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({
            inputShape: [7, 7, 2],
            filters: 3,
            kernelSize: 3,
            name: 'g1',
            kernelInitializer: tfl.initializers.glorotNormal({ seed: 8 }),
          }),
          tfl.layers.cropping2D({
            cropping: [
              [1, 0],
              [0, 1],
            ],
            name: 'crop',
          }),
          pool === 'max'
            ? tfl.layers.globalMaxPooling2d({ name: 'gp' })
            : tfl.layers.globalAveragePooling2d({ name: 'gp' }),
          tfl.layers.dense({
            units: 2,
            name: 'gd',
            kernelInitializer: tfl.initializers.glorotNormal({ seed: 9 }),
          }),
        ],
      });
      const dn = new Deconvnet(m, { strategy: 'saliency' });
      const xi = tf.randomNormal([2, 7, 7, 2], 0, 1, 'float32', 12) as tf.Tensor4D;
      const p = dn.project(xi, { layer: 'gd', channels: [1], signal: 'unit' });
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(m.predict(t) as tf.Tensor, [0, 1], [-1, 1])))(xi);
      expectClose(await p.data(), await g.data(), 1e-4, 1e-4);
      expect(dn.receptiveField('crop')).toEqual({ kind: 'local', size: [3, 3], jump: [1, 1], start: [1, 0] });
      tf.dispose([xi, p, g]);
      m.dispose();
    }
  });

  it('uses a registered rule for a custom layer class', async () => {
    class TimesThree extends tfl.layers.Layer {
      static className = 'TimesThreeTest';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 3);
      }
    }
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [6, 6, 1],
          filters: 2,
          kernelSize: 3,
          activation: 'relu',
          name: 'k1',
          kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }),
        }),
        new TimesThree({ name: 'three' }),
      ],
    });
    expect(() => new Deconvnet(m)).toThrow(UnsupportedLayerError);
    expect(() => new Deconvnet(m)).toThrow(/three.*TimesThreeTest.*registerDeconvRule\('TimesThreeTest'/);
    registerDeconvRule('TimesThreeTest', {
      backward: ({ signal }) => tf.mul(signal, 3),
      geometry: () => ({ kind: 'identity' }),
    });
    const dn = new Deconvnet(m, { strategy: 'saliency' });
    const xi = tf.randomNormal([1, 6, 6, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const p = dn.project(xi, { layer: 'three', channels: [1], position: 'all', signal: 'unit' });
    const g = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.slice(m.predict(t) as tf.Tensor, [0, 0, 0, 1], [-1, -1, -1, 1])),
    )(xi);
    expectClose(await p.data(), await g.data(), 1e-4, 1e-4);
    expect(dn.receptiveField('three').size).toEqual([3, 3]);
    tf.dispose([xi, p, g]);
  });

  it('leaks no tensor (project, projectUnits, activations)', async () => {
    const dn = new Deconvnet(net);
    await expectNoLeak(() => dn.project(x, { layer: 'c2', channels: 'all' }));
    await expectNoLeak(() => dn.project(x, { layer: 'd1', channels: [0, 2], strategy: 'guided' }));
    await expectNoLeak(() =>
      dn.projectUnits(
        x,
        [
          { image: 0, channel: 1, y: 0, x: 1 },
          { image: 2, channel: 0 },
        ],
        { layer: 'p1' },
      ),
    );
    await expectNoLeak(() => dn.activations(x, 'p2'));
  });

  it('rejects bad input with typed errors before allocating', async () => {
    const dn = new Deconvnet(net);
    await expectThrowsNoLeak(
      () => dn.project(x, { layer: 'nope' }),
      InvalidArgumentError,
      /`options\.layer`.*closest: .*'c1'/,
    );
    await expectThrowsNoLeak(
      () => dn.project(x, { layer: 'c2', channels: [5] }),
      InvalidArgumentError,
      /channels\[0\].*\[0, 4\].*5/,
    );
    await expectThrowsNoLeak(() => dn.project(x, { layer: 99 }), InvalidArgumentError, /layer/);
    const bad = tf.zeros([1, 10, 12, 2]) as tf.Tensor4D;
    await expectThrowsNoLeak(
      () => dn.project(bad, { layer: 'c2' }),
      ShapeMismatchError,
      /\[\*, 12, 12, 2\].*\[1, 10, 12, 2\]/,
    );
    bad.dispose();
    await expectThrowsNoLeak(
      () => dn.project(x, { layer: 'c2', position: { y: 5, x: 0 } }),
      InvalidArgumentError,
      /position\.y/,
    );
    await expectThrowsNoLeak(
      () => dn.project(x, { layer: 'd1', position: { y: 0, x: 0 } }),
      InvalidArgumentError,
      /position/,
    );
    await expectThrowsNoLeak(
      () => dn.project(x, { layer: 'c2', strategy: 'lrp' as never }),
      InvalidArgumentError,
      /strategy/,
    );
    await expectThrowsNoLeak(
      () => dn.projectUnits(x, [{ image: 3, channel: 0 }], { layer: 'c2' }),
      InvalidArgumentError,
      /units\[0\]\.image/,
    );
    expect(() => new Deconvnet({} as never)).toThrow(InvalidArgumentError);
    const tr = tfl.sequential({
      layers: [tfl.layers.conv2dTranspose({ inputShape: [5, 5, 1], filters: 1, kernelSize: 3, name: 'tr' })],
    });
    expect(() => new Deconvnet(tr)).toThrow(
      /`tr` of class `Conv2DTranspose`.*registerDeconvRule.*Supported:.*DepthwiseConv2D/,
    );
    expect(() => new Deconvnet(tr)).toThrow(UnsupportedLayerError);
    tr.dispose();
    dn.dispose();
    await expectThrowsNoLeak(() => dn.project(x, { layer: 'c2' }), DisposedError, /Deconvnet\.project/);
  });
});
