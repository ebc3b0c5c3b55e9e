import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { TopKList } from '../../src/deconvnet/topk.js';
import { Deconvnet, InvalidArgumentError, topKFigure, unitBox } from '../../src/index.js';
import { occluderPositions } from '../../src/internal.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

function smallNet(): tfl.Sequential {
  const init = (s: number) => tfl.initializers.glorotNormal({ seed: s });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [10, 10, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        name: 'c1',
        kernelInitializer: init(1),
        biasInitializer: tfl.initializers.constant({ value: 0.05 }),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tfl.layers.flatten({ name: 'f' }),
      tfl.layers.dense({ units: 4, activation: 'softmax', name: 'out', kernelInitializer: init(2) }),
    ],
  });
}

describe('top-k activations', () => {
  let net: tfl.Sequential;
  let data: tf.Tensor4D;
  beforeAll(() => {
    net = smallNet();
    data = tf.randomUniform([11, 10, 10, 1], 0, 1, 'float32', 21) as tf.Tensor4D;
  });

  it('TopKList keeps the k largest, earlier entries winning ties', () => {
    const l = new TopKList(3);
    for (const [score, index] of [
      [1, 0],
      [5, 1],
      [3, 2],
      [5, 3],
      [0, 4],
      [4, 5],
    ])
      l.offer({ score, index, y: 0, x: 0 });
    expect(l.items.map((e) => [e.score, e.index])).toEqual([
      [5, 1],
      [5, 3],
      [4, 5],
    ]);
  });

  it('finds the same units as a brute-force scan, streamed or not, and projects/crops them', async () => {
    const dn = new Deconvnet(net);
    const k = 3;
    const a = dn.activations(data, 'c1');
    const av = await a.data();
    a.dispose();
    const [oh, ow, c] = [8, 8, 3];
    const top = await dn.topK(data, { layer: 'c1', k, batchSize: 4 });
    for (let ch = 0; ch < c; ch++) {
      const best: { score: number; index: number; pos: number }[] = [];
      for (let n = 0; n < 11; n++) {
        let bp = 0;
        for (let p = 1; p < oh * ow; p++)
          if (av[(n * oh * ow + p) * c + ch] > av[(n * oh * ow + bp) * c + ch]) bp = p;
        best.push({ score: av[(n * oh * ow + bp) * c + ch], index: n, pos: bp });
      }
      best.sort((x, y) => y.score - x.score || x.index - y.index);
      expect(top.units[ch].map((u) => u.index)).toEqual(best.slice(0, k).map((b) => b.index));
      expect(top.units[ch].map((u) => u.y * ow + u.x)).toEqual(best.slice(0, k).map((b) => b.pos));
      expectClose(
        top.units[ch].map((u) => u.score),
        best.slice(0, k).map((b) => b.score),
        1e-5,
      );
    }
    expect(top.projections.shape).toEqual([3, k, 3, 3, 1]);
    // the crop equals the slice of the full projection / image at the unit's receptive field
    const u = top.units[1][2];
    const box = unitBox(top.receptiveField, u.y, u.x);
    const full = dn.projectUnits(data, [{ image: u.index, channel: 1, y: u.y, x: u.x }], { layer: 'c1' });
    const want = tf.slice(full, [0, box.top, box.left, 0], [1, 3, 3, 1]);
    const got = tf.slice(top.projections, [1, 2, 0, 0, 0], [1, 1, -1, -1, -1]);
    expectClose(await got.data(), await want.data(), 1e-6);
    const patch = tf.slice(top.patches, [1, 2, 0, 0, 0], [1, 1, -1, -1, -1]);
    const img = tf.slice(data, [u.index, box.top, box.left, 0], [1, 3, 3, 1]);
    expectClose(await patch.data(), await img.data(), 0);
    tf.dispose([full, want, got, patch, img]);

    // a generator of batches gives the same result
    function* batches() {
      for (let s = 0; s < 11; s += 5)
        yield tf.slice(data, [s, 0, 0, 0], [Math.min(5, 11 - s), -1, -1, -1]) as tf.Tensor4D;
    }
    const owned: tf.Tensor[] = [];
    const streamed = await dn.topK(
      (function* () {
        for (const b of batches()) {
          owned.push(b);
          yield b;
        }
      })(),
      { layer: 'c1', k },
    );
    expect(streamed.units).toEqual(top.units);
    expectClose(await streamed.projections.data(), await top.projections.data(), 1e-6);
    tf.dispose([...owned, streamed.projections, streamed.patches, top.projections, top.patches]);
  });

  it('pads short channels with zeros, handles Dense layers (global field) and crops nothing when crop=false', async () => {
    const dn = new Deconvnet(net);
    const two = tf.slice(data, [0, 0, 0, 0], [2, -1, -1, -1]) as tf.Tensor4D;
    const top = await dn.topK(two, { layer: 'out', k: 3, channels: [1, 3] });
    expect(top.units.map((l) => l.length)).toEqual([2, 2]);
    expect(top.projections.shape).toEqual([2, 3, 10, 10, 1]);
    const last = tf.slice(top.projections, [0, 2, 0, 0, 0], [1, 1, -1, -1, -1]);
    expect(Array.from(await last.data()).every((v) => v === 0)).toBe(true);
    const full = await dn.topK(two, { layer: 'c1', k: 1, crop: false });
    expect(full.patches.shape).toEqual([3, 1, 10, 10, 1]);
    tf.dispose([two, last, top.projections, top.patches, full.projections, full.patches]);
  });

  it('leaks nothing and validates its arguments', async () => {
    const dn = new Deconvnet(net);
    await expectNoLeak(async () => {
      const r = await dn.topK(data, { layer: 'p1', k: 2, batchSize: 5 });
      return [r.projections, r.patches];
    });
    await expectThrowsNoLeak(() => dn.topK(data, { layer: 'p1', k: 0 }), InvalidArgumentError, /options\.k/);
    await expectThrowsNoLeak(
      () => dn.topK(data, { layer: 'p1', channels: [3] }),
      InvalidArgumentError,
      /channels\[0\]/,
    );
    await expectThrowsNoLeak(() => dn.topK(42 as never, { layer: 'p1' }), InvalidArgumentError, /`data`/);
    await expectThrowsNoLeak(
      () => dn.topK([] as tf.Tensor4D[], { layer: 'p1' }),
      InvalidArgumentError,
      /at least one image/,
    );
    const bad = tf.zeros([2, 10, 9, 1]);
    await expectThrowsNoLeak(
      () => dn.topK([bad as tf.Tensor4D], { layer: 'p1' }),
      InvalidArgumentError,
      /10, 9/,
    );
    bad.dispose();
  });

  it('renders a fig.2-like grid per layer', async () => {
    const dn = new Deconvnet(net);
    const top = await dn.topK(data, { layer: 'p1', k: 4 });
    const fig = await topKFigure(top, { scale: 1 });
    // 3 channel cells in 2 columns; a cell is two 2x2 grids of 4x4 tiles (pad 1) side by side with a gap of 2
    const cellW = 2 * (1 + 2 * (4 + 1)) + 2;
    expect(fig.width).toBe(4 + 2 * (cellW + 4));
    expect(fig.data.length).toBe(fig.width * fig.height * 4);
    tf.dispose([top.projections, top.patches]);
  });
});

describe('occlusion sensitivity', () => {
  it('positions cover the image up to the border', () => {
    expect(occluderPositions(10, 4, 3)).toEqual([0, 3, 6]);
    expect(occluderPositions(10, 4, 4)).toEqual([0, 4, 6]);
    expect(occluderPositions(4, 4, 2)).toEqual([0]);
  });

  it('equals a plain loop over occluded copies (probability, predicted class, feature activity)', async () => {
    const net = smallNet();
    const dn = new Deconvnet(net);
    const x = tf.randomUniform([2, 10, 10, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const labels = [2, 0];
    const occ = await dn.occlusion(x, { labels, size: 4, stride: 3, fill: 0.5, layer: 'c1', batchSize: 7 });
    expect(occ.rows).toEqual([0, 3, 6]);
    const prob = await occ.probability.data();
    const pred = await occ.predicted.data();
    const feat = await occ.featureActivity!.data();
    const xv = await x.data();
    // the strongest channel of c1 in the unoccluded image
    const a0 = dn.activations(x, 'c1');
    const a0v = await a0.data();
    a0.dispose();
    for (let n = 0; n < 2; n++) {
      let bestC = 0;
      let bestV = -Infinity;
      for (let i = 0; i < 64 * 3; i++)
        if (a0v[n * 192 + i] > bestV) [bestV, bestC] = [a0v[n * 192 + i], i % 3];
      expect(occ.strongestChannel![n]).toBe(bestC);
      for (const [ri, r0] of occ.rows.entries()) {
        for (const [ci, c0] of occ.cols.entries()) {
          const img = Float32Array.from(xv.subarray(n * 100, (n + 1) * 100));
          for (let y = r0; y < r0 + 4; y++) for (let xx = c0; xx < c0 + 4; xx++) img[y * 10 + xx] = 0.5;
          const t = tf.tensor4d(img, [1, 10, 10, 1]);
          const p = net.predict(t) as tf.Tensor;
          const pv = await p.data();
          const a = dn.activations(t, 'c1');
          const av = await a.data();
          let sum = 0;
          for (let i = bestC; i < av.length; i += 3) sum += av[i];
          const at = (n * 3 + ri) * 3 + ci;
          expect(prob[at]).toBeCloseTo(pv[labels[n]], 5);
          expect(pred[at]).toBe(pv.indexOf(Math.max(...pv)));
          expect(feat[at]).toBeCloseTo(sum, 3);
          tf.dispose([t, p, a]);
        }
      }
      const base = net.predict(tf.slice(x, [n, 0, 0, 0], [1, -1, -1, -1])) as tf.Tensor;
      expect(occ.baseline[n]).toBeCloseTo((await base.data())[labels[n]], 5);
      base.dispose();
    }
    tf.dispose([occ.probability, occ.predicted, occ.featureActivity!]);

    const lab = tf.tensor1d([1, 3], 'int32');
    await expectNoLeak(async () => {
      const r = await dn.occlusion(x, { labels: lab, size: 5, stride: 5, layer: 'p1' });
      return [r.probability, r.predicted, r.featureActivity!];
    });
    lab.dispose();
    await expectThrowsNoLeak(() => dn.occlusion(x, { labels: [0], size: 4 }), InvalidArgumentError, /labels/);
    await expectThrowsNoLeak(
      () => dn.occlusion(x, { labels: [0, 9], size: 4 }),
      InvalidArgumentError,
      /labels\[1\]/,
    );
    await expectThrowsNoLeak(
      () => dn.occlusion(x, { labels: [0, 1], size: 11 }),
      InvalidArgumentError,
      /options\.size/,
    );
    x.dispose();
    net.dispose();
  });
});
