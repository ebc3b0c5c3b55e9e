import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { maxPoolWithSwitches } from '../../src/deconvnet/rules.js';
import { Deconvnet, unitBox } from '../../src/index.js';
import { expectClose, expectNoLeak } from '../helpers.js';
import { jsUnpool } from './oracle.js';

describe('unpooling with switches', () => {
  for (const [pool, stride, padding] of [
    [2, 2, 'valid'],
    [3, 2, 'valid'],
    [3, 2, 'same'],
    [2, 1, 'same'],
  ] as const) {
    it(`places every value exactly at its window's first maximum (pool ${pool}, stride ${stride}, ${padding})`, async () => {
      // integer values in [-2, 2] after a ReLU-like clamp: many ties, zeros and negative windows
      const x = tf.tidy(() =>
        tf.round(tf.randomUniform([2, 7, 6, 3], -2.4, 2.4, 'float32', 11 + pool + stride)),
      ) as tf.Tensor4D;
      const m = tfl.sequential({
        layers: [
          tfl.layers.maxPooling2d({ inputShape: [7, 6, 3], poolSize: pool, strides: stride, padding }),
        ],
      });
      const dn = new Deconvnet(m);
      // every output value sent back: the projection equals the plain-JS unpooling of the pooled output
      const proj = dn.project(x, { layer: 0, channels: [0, 1, 2], position: 'all' });
      const pooled = tf.maxPool(x, pool, stride, padding);
      const pv = await proj.data();
      for (const ch of [0, 1, 2]) {
        const dy = tf.tidy(() =>
          tf.mul(
            pooled,
            tf.reshape(tf.cast(tf.oneHot(tf.tensor1d([ch], 'int32'), 3), 'float32'), [1, 1, 1, 3]),
          ),
        );
        const expected = jsUnpool(x, dy as tf.Tensor4D, [pool, pool], [stride, stride], padding);
        const per = 7 * 6 * 3;
        const mine = new Float32Array(2 * per);
        for (let n = 0; n < 2; n++)
          mine.set(pv.subarray((n * 3 + ch) * per, (n * 3 + ch + 1) * per), n * per);
        expect(Array.from(mine)).toEqual(Array.from(expected));
        dy.dispose();
      }
      // the switches' forward output is max-pooling itself (the wasm MaxPoolWithArgmax kernel gets negative windows wrong)
      const r = tf.tidy(() => maxPoolWithSwitches(x, [pool, pool], [stride, stride], padding).output);
      expectClose(await r.data(), await pooled.data(), 0);
      tf.dispose([x, proj, pooled, r]);
      m.dispose();
    });
  }
});

/** Units of a spatial layer that change when one input pixel moves, for every pixel (one batched forward pass). */
async function bruteForceFields(dn: Deconvnet, layer: string, h: number, w: number): Promise<boolean[][]> {
  const base = tf.tidy(() => tf.add(tf.mul(tf.randomUniform([1, h, w, 1], 0, 1, 'float32', 3), 0.5), 0.5));
  const perturbed = tf.tidy(() => {
    const eye = tf.reshape(tf.oneHot(tf.range(0, h * w, 1, 'int32'), h * w), [h * w, h, w, 1]);
    return tf.add(tf.tile(base, [h * w, 1, 1, 1]), tf.mul(eye, 100));
  });
  const a0 = dn.activations(base as tf.Tensor4D, layer);
  const a1 = dn.activations(perturbed as tf.Tensor4D, layer);
  const v0 = await a0.data();
  const v1 = await a1.data();
  const [, oh, ow, c] = a0.shape;
  const changed: boolean[][] = [];
  for (let p = 0; p < h * w; p++) {
    const row: boolean[] = [];
    for (let u = 0; u < oh * ow; u++) {
      let any = false;
      for (let ch = 0; ch < c; ch++)
        if (Math.abs(v1[(p * oh * ow + u) * c + ch] - v0[u * c + ch]) > 1e-3) any = true;
      row.push(any);
    }
    changed.push(row);
  }
  tf.dispose([base, perturbed, a0, a1]);
  return changed;
}

describe('receptive fields', () => {
  it('match brute force (perturb one pixel, see which units change) through conv, pool, padding and strides', async () => {
    const ones = tfl.initializers.constant({ value: 0.2 });
    const bias = tfl.initializers.constant({ value: 0.1 });
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [13, 12, 1],
          filters: 2,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          name: 'c1',
          kernelInitializer: ones,
          biasInitializer: bias,
        }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
        tfl.layers.zeroPadding2d({ padding: 1, name: 'zp' }),
        tfl.layers.conv2d({
          filters: 2,
          kernelSize: [3, 2],
          strides: 2,
          activation: 'relu',
          name: 'c2',
          kernelInitializer: ones,
          biasInitializer: bias,
        }),
        tfl.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'p2' }),
      ],
    });
    const dn = new Deconvnet(m);
    // (the zero-padding layer's own border units are constants, so it is checked through the layers after it)
    for (const layer of ['c1', 'p1', 'c2', 'p2']) {
      const rf = dn.receptiveField(layer);
      const changed = await bruteForceFields(dn, layer, 13, 12);
      const [, , ow] = dn.layerInfo(layer).outputShape as number[];
      const mismatches: string[] = [];
      changed.forEach((row, p) => {
        const py = Math.floor(p / 12);
        const px = p % 12;
        row.forEach((ch, u) => {
          const b = unitBox(rf, Math.floor(u / ow), u % ow);
          const inside = py >= b.top && py < b.top + b.height && px >= b.left && px < b.left + b.width;
          if (inside !== ch)
            mismatches.push(`pixel (${py},${px}) unit ${u}: box says ${inside}, brute force ${ch}`);
        });
      });
      expect(mismatches.slice(0, 5), `layer ${layer}`).toEqual([]);
    }
    expect(dn.receptiveField('c2')).toEqual({ kind: 'local', size: [8, 6], jump: [4, 4], start: [-3, -3] });
    m.dispose();
  });

  it('is global after Flatten/Dense', () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 1, kernelSize: 3 }),
        tfl.layers.flatten({ name: 'fl' }),
        tfl.layers.dense({ units: 2, name: 'de' }),
      ],
    });
    const dn = new Deconvnet(m);
    expect(dn.receptiveField('de')).toEqual({ kind: 'global', size: [6, 6], jump: [0, 0], start: [0, 0] });
    expect(unitBox(dn.receptiveField('de'), 0, 0)).toEqual({ top: 0, left: 0, height: 6, width: 6 });
    m.dispose();
  });

  it('maxPoolWithSwitches leaks nothing', async () => {
    const x = tf.randomNormal([1, 5, 5, 2]) as tf.Tensor4D;
    await expectNoLeak(() => tf.tidy(() => maxPoolWithSwitches(x, [3, 3], [2, 2], 'same').switches));
    x.dispose();
  });
});
