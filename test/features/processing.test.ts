import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import { closeNames, editDistance } from '../../src/core/names.js';
import { FeatureExtractor } from '../../src/features/extractor.js';
import { FeatureMatrix } from '../../src/features/matrix.js';
import {
  l2Normalize,
  normalizeFeatures,
  poolFeatures,
  powerNormalize,
  Standardizer,
} from '../../src/features/normalize.js';
import { augmentedViews, centerCropBox, fitToSize, viewSpecs } from '../../src/features/views.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';
import { tinyCnn } from './models.js';

/** Plain-JS NHWC value at (n, y, x, c). */
function at(v: number[], shape: number[], n: number, y: number, x: number, c: number): number {
  const [, h, w, ch] = shape;
  return v[((n * h + y) * w + x) * ch + c];
}

describe('pooling against plain loops', () => {
  it('global average and max over the spatial axes, flatten row-major', async () => {
    const shape = [2, 3, 4, 5];
    const x = tf.randomNormal(shape, 0, 1, 'float32', 7);
    const v = await values(x);
    const avg = new Array(10).fill(0);
    const max = new Array(10).fill(-Infinity);
    for (let n = 0; n < 2; n++)
      for (let y = 0; y < 3; y++)
        for (let xx = 0; xx < 4; xx++)
          for (let c = 0; c < 5; c++) {
            const e = at(v, shape, n, y, xx, c);
            avg[n * 5 + c] += e / 12;
            max[n * 5 + c] = Math.max(max[n * 5 + c], e);
          }
    const pa = poolFeatures(x, 'avg');
    const pm = poolFeatures(x, 'max');
    const pf = poolFeatures(x, 'flatten');
    expectClose(await values(pa), avg, 1e-5);
    expectClose(await values(pm), max, 0);
    expect(pf.shape).toEqual([2, 60]);
    expectClose(await values(pf), v, 0);
    await expectNoLeak(() => poolFeatures(x, 'avg'));
    const s = tf.scalar(1);
    await expectThrowsNoLeak(() => poolFeatures(s, 'avg'), ShapeMismatchError, /rank >= 2/);
    tf.dispose([x, pa, pm, pf, s]);
  });
});

describe('normalisation against plain loops', () => {
  const rows = [
    [3, -4, 0],
    [0.5, 2, -1],
    [0, 0, 0],
  ];
  it('L2 gives unit rows (zero rows stay zero)', async () => {
    const y = l2Normalize(tf.tensor2d(rows));
    const ref = rows.flatMap((r) => {
      const n = Math.hypot(...r);
      return r.map((e) => (n > 0 ? e / n : 0));
    });
    expectClose(await values(y), ref, 1e-6);
    y.dispose();
  });

  it('signed power: sign(x)|x|^a, then L2 (Razavian et al. 2014)', async () => {
    const a = 0.3;
    const y = powerNormalize(tf.tensor2d(rows), a);
    const ref = rows.flatMap((r) => {
      const p = r.map((e) => Math.sign(e) * Math.abs(e) ** a);
      const n = Math.hypot(...p);
      return p.map((e) => (n > 0 ? e / n : 0));
    });
    expectClose(await values(y), ref, 1e-6);
    const none = normalizeFeatures(tf.tensor2d(rows), 'none');
    expectClose(await values(none), rows.flat(), 0);
    const t = tf.tensor2d(rows);
    await expectThrowsNoLeak(() => powerNormalize(t, 0), InvalidArgumentError, /alpha.*> 0.*Received: 0/);
    tf.dispose([y, none, t]);
  });

  it('standardisation is fitted once and reused', async () => {
    const fm = new FeatureMatrix(4, 2, new Float32Array([1, 5, 3, 5, 5, 5, 7, 5]));
    const st = await Standardizer.fit(fm);
    expectClose(st.mean, [4, 5], 1e-6);
    expectClose(st.std, [Math.sqrt(5), 1], 1e-6);
    const z = st.transform(tf.tensor2d([[4, 6]]));
    expectClose(await values(z), [0, 1], 1e-6);
    const again = Standardizer.fromJSON(JSON.parse(JSON.stringify(st.toJSON())));
    expectClose(
      again.transformMatrix(fm).data,
      [-3, 0, -1, 0, 1, 0, 3, 0].map((v, i) => (i % 2 === 0 ? v / Math.sqrt(5) : v)),
      1e-6,
    );
    z.dispose();
    expect(() => st.transform(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow(/\[\*, 2\]/);
  });
});

describe('augmented views (Razavian et al.: centre + corners, flipped)', () => {
  it('lists 10 views in a fixed order', () => {
    const v = viewSpecs({ crops: 'center+corners', flip: true, cropFraction: 0.5 });
    expect(v.map((s) => s.name)).toEqual([
      'center',
      'top-left',
      'top-right',
      'bottom-left',
      'bottom-right',
      'center+flip',
      'top-left+flip',
      'top-right+flip',
      'bottom-left+flip',
      'bottom-right+flip',
    ]);
    expect(v[2].box).toEqual([0, 0.5, 0.5, 1]);
    expect(viewSpecs({ crops: 'center', flip: false })).toHaveLength(1);
  });

  it('crops exact pixel windows and mirrors them', async () => {
    // 5x5 image, crop fraction 0.5 -> boxes land on pixels 0..2 or 2..4, output 3x3: exact copies.
    const shape: [number, number, number, number] = [1, 5, 5, 1];
    const x = tf.reshape(tf.range(0, 25), shape) as tf.Tensor4D;
    const v = await values(x);
    const views = augmentedViews(x, [3, 3], { crops: 'center+corners', flip: true, cropFraction: 0.5 });
    expect(views.shape).toEqual([10, 3, 3, 1]);
    const got = await values(views);
    const origins: [number, number][] = [
      [1, 1],
      [0, 0],
      [0, 2],
      [2, 0],
      [2, 2],
    ];
    for (let k = 0; k < 10; k++) {
      const [oy, ox] = origins[k % 5];
      const flip = k >= 5;
      for (let y = 0; y < 3; y++)
        for (let xx = 0; xx < 3; xx++) {
          const sx = flip ? 2 - xx : xx;
          expect(got[k * 9 + y * 3 + xx], `view ${k} (${y},${xx})`).toBeCloseTo(
            at(v, shape, 0, oy + y, ox + sx, 0),
            4,
          );
        }
    }
    tf.dispose([x, views]);
  });

  it('combines the views of every image by mean or sum, then normalises', async () => {
    const model = tinyCnn();
    const x = tf.randomUniform([2, 12, 12, 2], 0, 1, 'float32', 9) as tf.Tensor4D;
    const augment = { crops: 'center+corners', flip: true, cropFraction: 0.8 } as const;
    const fxMean = new FeatureExtractor(model, { taps: 'fc1', augment: { ...augment, combine: 'mean' } });
    const fxSum = new FeatureExtractor(model, {
      taps: 'fc1',
      augment: { ...augment, combine: 'sum' },
      normalize: 'l2',
    });
    const plain = new FeatureExtractor(model, { taps: 'fc1' });
    const views = augmentedViews(x, [10, 10], augment);
    const [perView] = plain.extract(views);
    const pv = await values(perView); // [10 * 2, 5], view-major
    const mean = new Array(10).fill(0);
    for (let k = 0; k < 10; k++)
      for (let n = 0; n < 2; n++) for (let d = 0; d < 5; d++) mean[n * 5 + d] += pv[(k * 2 + n) * 5 + d] / 10;
    const [fm] = fxMean.extract(x);
    expectClose(await values(fm), mean, 1e-5);
    const [fs] = fxSum.extract(x);
    const l2 = [0, 1].flatMap((n) => {
      const r = mean.slice(n * 5, n * 5 + 5);
      const norm = Math.hypot(...r);
      return r.map((e) => e / norm);
    });
    expectClose(await values(fs), l2, 1e-5);
    expect(fxSum.viewCount).toBe(10);
    const fxCat = new FeatureExtractor(model, { taps: 'fc1', augment: { ...augment, combine: 'concat' } });
    expect(fxCat.taps[0].dim).toBe(50);
    const [fc] = fxCat.extract(x);
    const cat = new Array(100);
    for (let n = 0; n < 2; n++)
      for (let k = 0; k < 10; k++)
        for (let d = 0; d < 5; d++) cat[n * 50 + k * 5 + d] = pv[(k * 2 + n) * 5 + d];
    expectClose(await values(fc), cat, 1e-5);
    fc.dispose();
    tf.dispose([x, views, perView, fm, fs]);
  });

  it('centre-crop resize keeps the central aspect-ratio region', async () => {
    expect(centerCropBox(4, 8, 2, 2)).toEqual([0, 2 / 7, 1, 5 / 7]);
    const x = tf.reshape(tf.range(0, 32), [1, 4, 8, 1]) as tf.Tensor4D;
    const y = fitToSize(x, [4, 4], 'center-crop');
    const v = await values(y);
    expectClose(v, [2, 3, 4, 5, 10, 11, 12, 13, 18, 19, 20, 21, 26, 27, 28, 29], 1e-4);
    tf.dispose([x, y]);
  });
});

describe('extraction over a data set', () => {
  const model = tinyCnn();
  const fx = new FeatureExtractor(model, { taps: ['conv2', 'fc1'], pool: 'avg' });

  it('gives the same features from a tensor, an array, an async iterable and a generator', async () => {
    const x = tf.randomUniform([7, 10, 10, 2], 0, 1, 'float32', 11);
    const ref = fx.extract(x);
    const refV = await Promise.all(ref.map(values));
    const events: number[] = [];
    const fromTensor = await fx.extractAll(x, { batchSize: 3, onProgress: (e) => events.push(e.done) });
    expect(events).toEqual([3, 6, 7]);
    const images = tf.unstack(x) as tf.Tensor3D[];
    const fromArray = await fx.extractAll(images, { batchSize: 4 });
    async function* batches() {
      for (let i = 0; i < 7; i += 2) yield tf.slice(x, i, Math.min(2, 7 - i)) as tf.Tensor4D;
    }
    const fromAsync = await fx.extractAll(batches());
    const sizes: number[] = [];
    const fromGen = await fx.extractAll(
      function* (bs) {
        sizes.push(bs);
        for (let i = 0; i < 7; i += bs) yield tf.slice(x, i, Math.min(bs, 7 - i)) as tf.Tensor4D;
      },
      { memoryBudgetMB: 0.01 },
    );
    expect(sizes[0]).toBe(fx.batchSizeFor(0.01));
    expect(sizes[0]).toBeLessThan(7);
    for (const out of [fromTensor, fromArray, fromAsync, fromGen]) {
      expect(out.map((m) => [m.name, m.rows, m.cols])).toEqual([
        ['conv2', 7, 6],
        ['fc1', 7, 5],
      ]);
      expectClose(out[0].data, refV[0], 1e-5);
      expectClose(out[1].data, refV[1], 1e-5);
    }
    const t = fromTensor[1].toTensor();
    expectClose(await values(t), refV[1], 1e-5);
    expect(fromTensor[1].toMatrix().get(6, 4)).toBeCloseTo(refV[1][34], 5);
    tf.dispose([x, t, ...ref, ...images]);
  });

  it('disposes the batches a generator yields (unless asked to keep them) and leaks nothing', async () => {
    const x = tf.randomUniform([4, 10, 10, 2]);
    const before = tf.memory().numTensors;
    await fx.extractAll(function* () {
      yield tf.slice(x, 0, 2) as tf.Tensor4D;
      yield tf.slice(x, 2, 2) as tf.Tensor4D;
    });
    expect(tf.memory().numTensors).toBe(before);
    await expectThrowsNoLeak(
      () =>
        fx.extractAll(function* () {
          yield tf.slice(x, 0, 2) as tf.Tensor4D;
          yield tf.zeros([2, 10, 10, 3]) as tf.Tensor4D;
        }),
      ShapeMismatchError,
      /source \(batch 1\).*2 channel/,
    );
    x.dispose();
  });

  it('fits standardisers on training features and applies them afterwards', async () => {
    const local = new FeatureExtractor(model, { taps: 'fc1' });
    const x = tf.randomUniform([6, 10, 10, 2], 0, 1, 'float32', 12);
    const [st] = await local.fitStandardizers(x);
    const [z] = await local.extractAll(x);
    const cols = z.cols;
    for (let j = 0; j < cols; j++) {
      let m = 0;
      for (let i = 0; i < z.rows; i++) m += z.data[i * cols + j] / z.rows;
      expect(Math.abs(m)).toBeLessThan(1e-4);
    }
    expect(st.dim).toBe(5);
    expect(local.taps[0].standardizer).toBe(st);
    x.dispose();
  });
});

describe('taps side by side and reusable standardisers', () => {
  it('extractConcat puts the taps side by side; a Standardizer given as tap option is applied last', async () => {
    const model = tinyCnn();
    const x = tf.randomUniform([3, 10, 10, 2], 0, 1, 'float32', 13);
    const fx = new FeatureExtractor(model, { taps: ['fc1', 'logits'] });
    const [a, b] = fx.extract(x);
    const cat = fx.extractConcat(x);
    expect(cat.shape).toEqual([3, 8]);
    const av = await values(a);
    const bv = await values(b);
    const ref = [0, 1, 2].flatMap((i) => [...av.slice(i * 5, i * 5 + 5), ...bv.slice(i * 3, i * 3 + 3)]);
    expectClose(await values(cat), ref, 1e-6);
    const st = await Standardizer.fit(a as tf.Tensor2D);
    const fxSt = new FeatureExtractor(model, { taps: [{ layer: 'fc1', standardizer: st }] });
    const [z] = fxSt.extract(x);
    expectClose(await values(z), st.transformMatrix(await FeatureMatrix.fromTensor(a)).data, 1e-5);
    expect(() => new FeatureExtractor(model, { taps: [{ layer: 'logits', standardizer: st }] })).toThrow(
      /Standardizer of dimension 3/,
    );
    expect(() => fx.setStandardizer(1, st)).toThrow(ShapeMismatchError);
    fx.setStandardizer(0, st);
    expect(fx.taps[0].standardizer).toBe(st);
    tf.dispose([x, a, b, cat, z]);
  });
});

describe('edit distance and close names', () => {
  it('matches hand-computed distances', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('conv2', 'conv2')).toBe(0);
    expect(closeNames('Conv_2', ['dense', 'conv2', 'conv1', 'flatten'], 2)).toEqual(['conv2', 'conv1']);
  });
});
