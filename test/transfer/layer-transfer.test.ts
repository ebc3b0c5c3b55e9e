import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DisposedError,
  InvalidArgumentError,
  ShapeMismatchError,
  UnsupportedLayerError,
} from '../../src/index.js';
import { LayerTransfer, modelStructure, trainWithGroups } from '../../src/transfer/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';
import { mlp, nested, tinyCnn, toyData, weightValues } from './models.js';

describe('modelStructure', () => {
  it('counts weight-bearing stages, grouping normalisation and weightless layers with the layer before', () => {
    const cnn = tinyCnn();
    const s = modelStructure(cnn);
    expect(s.stages).toBe(3);
    expect(s.leaves.map((l) => `${l.key}:${l.stage}`)).toEqual([
      'c1:0',
      'bn1:0',
      'r1:0',
      'p1:0',
      'c2:1',
      'f:1',
      'out:2',
    ]);
    const n = nested();
    const t = modelStructure(n);
    expect(t.stages).toBe(3);
    expect(t.leaves.map((l) => `${l.key}:${l.stage}`)).toEqual([
      'block/b1:0',
      'block/bn:0',
      'd2:1',
      'head:2',
    ]);
    cnn.dispose();
    n.dispose();
  });
});

describe('new LayerTransfer', () => {
  let base: tfl.LayersModel;
  beforeAll(() => {
    base = nested();
  });
  afterAll(() => base.dispose());

  it('copies the first n stages: equal values in new, independent variables', async () => {
    const t = new LayerTransfer(base, { copy: 2, seed: 4 });
    expect(t.copiedLayers).toEqual(['block/b1', 'block/bn', 'd2']);
    expect(t.newLayers).toEqual(['head']);
    for (const key of ['b1', 'bn', 'd2']) {
      const inner =
        key === 'd2' ? base.getLayer('d2') : (base.getLayer('block') as tfl.LayersModel).getLayer(key);
      const copy =
        key === 'd2' ? t.model.getLayer('d2') : (t.model.getLayer('block') as tfl.LayersModel).getLayer(key);
      expectClose(await weightValues(copy), await weightValues(inner), 0);
      const bv = inner.weights.map((w) => w.read());
      const cv = copy.weights.map((w) => w.read());
      cv.forEach((v, i) => {
        expect(v).not.toBe(bv[i]);
        expect(v.id).not.toBe(bv[i].id);
        expect((v as tf.Variable).name).not.toBe((bv[i] as tf.Variable).name);
      });
    }
    // The copies declare the base's initializers (they were built from zeros, then overwritten).
    const cfg = (l: tfl.layers.Layer) =>
      JSON.stringify((l.getConfig() as { kernelInitializer: unknown }).kernelInitializer);
    expect(cfg(t.model.getLayer('d2'))).toBe(cfg(base.getLayer('d2')));
    expect(cfg(t.model.getLayer('d2'))).toContain('VarianceScaling');
    // Training the copy leaves the base unchanged.
    const before = await Promise.all(base.layers.map((l) => weightValues(l)));
    const data = toyData(32);
    await trainWithGroups(t.model, data, { epochs: 2, batchSize: 8, learningRate: 0.05, seed: 1 });
    data.x.dispose();
    const after = await Promise.all(base.layers.map((l) => weightValues(l)));
    after.forEach((v, i) => {
      expectClose(v, before[i], 0);
    });
    const moved = await weightValues(t.model.getLayer('d2'));
    expect(moved.some((v, i) => v !== after[2][i])).toBe(true);
    t.dispose();
  });

  it('keeps working after the base is disposed', async () => {
    const b = mlp();
    const expected = await weightValues(b.getLayer('d1'));
    const t = new LayerTransfer(b, { copy: 1, head: { kind: 'replace', numClasses: 2 } });
    b.dispose();
    expectClose(await weightValues(t.model.getLayer('d1')), expected, 0);
    const y = t.model.predict(tf.ones([2, 4])) as tf.Tensor;
    expect(y.shape).toEqual([2, 2]);
    y.dispose();
    t.dispose();
  });

  it('re-initialises the other layers with their declared initializers, following the seed', async () => {
    const a = new LayerTransfer(base, { copy: 1, seed: 11 });
    const b = new LayerTransfer(base, { copy: 1, seed: 11 });
    const c = new LayerTransfer(base, { copy: 1, seed: 12 });
    const d = new LayerTransfer(base, { copy: 2, seed: 11 });
    const baseD2 = await weightValues(base.getLayer('d2'));
    const [ka, kb, kc] = await Promise.all([a, b, c].map((t) => weightValues(t.model.getLayer('d2'))));
    expect(ka.some((v, i) => v !== baseD2[i])).toBe(true); // differs from the base
    expectClose(ka, kb, 0); // same seed, same weights
    expect(ka.some((v, i) => v !== kc[i])).toBe(true); // another seed, other weights
    // The head's initial weights depend on the seed and the layer only, not on how many stages were copied.
    expectClose(
      await weightValues(a.model.getLayer('head')),
      await weightValues(d.model.getLayer('head')),
      0,
    );
    // Declared initializers: Glorot-uniform kernel within +-sqrt(6 / (fanIn + fanOut)), zero bias.
    const [kernel, bias] = a.model.getLayer('d2').getWeights();
    const limit = Math.sqrt(6 / (8 + 6));
    const kv = await kernel.data();
    expect(Math.max(...kv.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...kv.map(Math.abs))).toBeGreaterThan(limit / 3);
    expect(Array.from(await bias.data())).toEqual(new Array(6).fill(0));
    for (const t of [a, b, c, d]) t.dispose();
  });

  it('replaces the head with a new one for a new number of classes (Sequential and functional)', () => {
    for (const make of [() => mlp(3), () => nested(3)]) {
      const m = make();
      const t = new LayerTransfer(m, { copy: 2, head: { kind: 'replace', numClasses: 7 }, seed: 1 });
      const out = t.model.predict(tf.ones([5, 4])) as tf.Tensor;
      expect(out.shape).toEqual([5, 7]);
      out.dispose();
      const headName = m.name === 'mlp' ? 'd3' : 'head';
      expect(
        t.model
          .getLayer(headName)
          .getWeights()
          .map((w) => w.shape),
      ).toEqual([[6, 7], [7]]);
      expect(t.newLayers).toEqual([headName]);
      expect(t.model.getClassName()).toBe(m.getClassName());
      t.dispose();
      m.dispose();
    }
  });

  it('puts Oquab adaptation layers (FCa-ReLU-dropout-FCb) in place of the head', () => {
    for (const make of [() => mlp(3), () => nested(3)]) {
      const m = make();
      const t = new LayerTransfer(m, {
        copy: 2,
        head: { kind: 'adaptation', numClasses: 4, hiddenUnits: 10, dropout: 0.25 },
      });
      const headName = m.name === 'mlp' ? 'd3' : 'head';
      const fca = t.model.getLayer(`${headName}_fca`);
      const drop = t.model.getLayer(`${headName}_dropout`);
      const fcb = t.model.getLayer(`${headName}_fcb`);
      expect(fca.getWeights().map((w) => w.shape)).toEqual([[6, 10], [10]]);
      expect((fca.getConfig() as { activation: string }).activation).toBe('relu');
      expect((drop.getConfig() as { rate: number }).rate).toBe(0.25);
      expect(fcb.getWeights().map((w) => w.shape)).toEqual([[10, 4], [4]]);
      // FCb keeps the old head's activation.
      expect((fcb.getConfig() as { activation: string }).activation).toBe(
        m.name === 'mlp' ? 'softmax' : 'linear',
      );
      const out = t.model.predict(tf.ones([3, 4])) as tf.Tensor;
      expect(out.shape).toEqual([3, 4]);
      out.dispose();
      expect(t.newLayers).toEqual([`${headName}_fca`, `${headName}_fcb`]);
      t.dispose();
      m.dispose();
    }
  });

  it('selects layers by name (leaf, nested path, nested model) and by index', () => {
    const by = (copy: unknown) => {
      const t = new LayerTransfer(base, {
        copy: copy as never,
        head: { kind: 'replace', numClasses: 2 },
      });
      const n = t.copiedStages;
      t.dispose();
      return n;
    };
    expect(by({ name: 'bn' })).toBe(1);
    expect(by({ name: 'block/b1' })).toBe(1);
    expect(by({ name: 'block' })).toBe(1);
    expect(by({ name: 'd2' })).toBe(2);
    expect(by({ index: 1 })).toBe(1); // model.layers = [x, block, d2, head]
    expect(by({ index: -2 })).toBe(2);
    expect(by({ index: 0 })).toBe(0);
  });

  it('rejects n out of range, unknown names and incompatible input shapes with clear errors, leaking nothing', async () => {
    const m = mlp();
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { copy: 3, head: { kind: 'replace', numClasses: 2 } }),
      InvalidArgumentError,
      /Invalid `options.copy`.*\[0, 2\].*3 weight-bearing stages.*Received: 3/,
    );
    await expectThrowsNoLeak(() => new LayerTransfer(m, { copy: 4 }), InvalidArgumentError, /\[0, 3\]/);
    await expectThrowsNoLeak(() => new LayerTransfer(m, { copy: -1 }), InvalidArgumentError);
    await expectThrowsNoLeak(() => new LayerTransfer(m, { copy: 1.5 }), InvalidArgumentError);
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { copy: { name: 'conv9' } }),
      InvalidArgumentError,
      /`options.copy.name`.*closest: '.*listLayers\(model\) lists all.*Received: "conv9"/,
    );
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { copy: { name: 'd3' }, head: { kind: 'replace', numClasses: 2 } }),
      InvalidArgumentError,
      /head/,
    );
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { copy: { index: 9 } }),
      InvalidArgumentError,
      /index/,
    );
    // A wider input changes d1's kernel from [4, 8] to [5, 8]: it cannot be copied.
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { copy: 1, inputShape: [5] }),
      ShapeMismatchError,
      /layer 'd1'.*\[4,8\].*\[5,8\]/,
    );
    // ... but it can when d1 is re-initialised.
    const ok = new LayerTransfer(m, { copy: 0, inputShape: [5] });
    expect(ok.model.inputs[0].shape).toEqual([null, 5]);
    ok.dispose();
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { inputShape: [4, 1] }),
      InvalidArgumentError,
      /rank 1/,
    );
    const cnn = tinyCnn();
    // Three channels instead of one: c1's kernel differs.
    await expectThrowsNoLeak(
      () => new LayerTransfer(cnn, { copy: 1, inputShape: [8, 8, 3] }),
      ShapeMismatchError,
      /layer 'c1'/,
    );
    // 2x2 images cannot go through a 3x3 valid convolution after pooling.
    await expectThrowsNoLeak(
      () => new LayerTransfer(cnn, { copy: 1, inputShape: [2, 2, 1] }),
      ShapeMismatchError,
      /options.inputShape/,
    );
    await expectThrowsNoLeak(
      () => new LayerTransfer(cnn, { head: { kind: 'replace', numClasses: 0 } }),
      InvalidArgumentError,
      /numClasses/,
    );
    await expectThrowsNoLeak(() => new LayerTransfer({} as never), InvalidArgumentError, /LayersModel/);
    const t = new LayerTransfer(m, { copy: 1, head: { kind: 'replace', numClasses: 3 } });
    const wrong = { x: tf.zeros([4, 5]), labels: [0, 1, 2, 0] };
    await expectThrowsNoLeak(() => t.fineTune(wrong), ShapeMismatchError, /\[\*, 4\].*\[4, 5\]/);
    const badLabels = { x: tf.zeros([2, 4]), labels: [0, 3] };
    await expectThrowsNoLeak(() => t.fineTune(badLabels), InvalidArgumentError, /labels\[1\]/);
    wrong.x.dispose();
    badLabels.x.dispose();
    t.dispose();
    await expectThrowsNoLeak(() => t.freeze(), DisposedError, /LayerTransfer\.freeze\(\)/);
    cnn.dispose();
    m.dispose();
  });

  it('rejects a head that is not a Dense layer', async () => {
    const m = tfl.sequential({
      layers: [tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3 })],
    });
    await expectThrowsNoLeak(
      () => new LayerTransfer(m, { head: { kind: 'replace', numClasses: 2 } }),
      UnsupportedLayerError,
      /Conv2D/,
    );
    m.dispose();
  });

  it('leaks nothing: build + dispose, fine-tune, evaluate', async () => {
    const data = toyData(16);
    await expectNoLeak(() => {
      const t = new LayerTransfer(base, {
        copy: 1,
        head: { kind: 'adaptation', numClasses: 3, hiddenUnits: 4 },
      });
      t.dispose();
    });
    const t = new LayerTransfer(base, { copy: 2, head: { kind: 'replace', numClasses: 3 } });
    t.freeze();
    await expectNoLeak(() => t.fineTune(data, { batchSize: 8, seed: 2 }).then(() => undefined));
    await expectNoLeak(() => t.evaluate(data).then(() => undefined));
    t.dispose();
    data.x.dispose();
  });
});

describe('heads in other places', () => {
  it('replaces a head followed by a softmax Activation layer, and a head inside a nested model', () => {
    const seq = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 5, inputShape: [4], activation: 'relu' }),
        tfl.layers.dense({ units: 3, name: 'logits' }),
        tfl.layers.activation({ activation: 'softmax', name: 'probs' }),
      ],
    });
    const inner = tfl.sequential({
      name: 'tail',
      layers: [
        tfl.layers.dense({ units: 6, inputShape: [5], activation: 'relu', name: 't1' }),
        tfl.layers.dense({ units: 3, name: 't2' }),
      ],
    });
    const input = tfl.input({ shape: [4] });
    const h = tfl.layers.dense({ units: 5, name: 'h' }).apply(input) as tfl.SymbolicTensor;
    const fn = tfl.model({ inputs: input, outputs: inner.apply(h) as tfl.SymbolicTensor });
    for (const [m, headKey] of [
      [seq, 'logits'],
      [fn, 'tail/t2'],
    ] as const) {
      for (const head of [
        { kind: 'replace', numClasses: 7 },
        { kind: 'adaptation', numClasses: 7, hiddenUnits: 9 },
      ] as const) {
        const t = new LayerTransfer(m, { copy: 1, head });
        const y = t.model.predict(tf.ones([2, 4])) as tf.Tensor;
        expect(y.shape).toEqual([2, 7]);
        if (m === seq) {
          // The softmax after the head is kept: rows sum to 1.
          const sums = tf.sum(y, -1);
          expectClose(sums.dataSync(), [1, 1], 1e-5);
          sums.dispose();
        }
        expect(t.newLayers.at(-1)).toBe(head.kind === 'replace' ? headKey : `${headKey}_fcb`);
        y.dispose();
        t.dispose();
      }
    }
    seq.dispose();
    fn.dispose();
  });
});
