import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { type FilterGradMethod, setFilterGradMethod } from '../../src/kernels/conv2d_backprop_filter.js';
import { TRAINING_KERNEL_NAMES, trainingKernelsRegistered } from '../../src/kernels/index.js';
import { setNativeKernel } from '../../src/kernels/native.js';
import { expectClose } from '../helpers.js';
import { type ConvGeometry, conv2dRef, filterGradRef, inputGradRef } from './oracle.js';
import { onOriginal, useAllTrainingKernels, withSwitch } from './original.js';

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  label: string;
  xShape: [number, number, number, number]; // NHWC
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  nchw: boolean;
  geometry: ConvGeometry;
}

function makeCase(rng: Rng): ConvCase {
  const n = 1 + rng.int(3);
  const h = 3 + rng.int(7);
  const w = 3 + rng.int(7);
  const c = 1 + rng.int(4);
  const f = 1 + rng.int(5);
  const fh = 1 + rng.int(Math.min(4, h));
  const fw = 1 + rng.int(Math.min(4, w));
  const strides: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
  const kind = rng.int(4);
  let pad: Pad;
  let dimRoundingMode: ConvCase['dimRoundingMode'];
  if (kind === 0) pad = 'same';
  else if (kind === 1) pad = 'valid';
  else if (kind === 2) {
    pad = rng.int(3);
    dimRoundingMode = (['floor', 'round', 'ceil'] as const)[rng.int(3)];
  } else {
    pad = [
      [0, 0],
      [rng.int(3), rng.int(3)],
      [rng.int(3), rng.int(3)],
      [0, 0],
    ];
  }
  const nchw = rng.int(4) === 0;
  const info = tf.backend_util.computeConv2DInfo(
    [n, h, w, c],
    [fh, fw, c, f],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const geometry: ConvGeometry = {
    n,
    h,
    w,
    c,
    f,
    fh,
    fw,
    sh: strides[0],
    sw: strides[1],
    oh: info.outHeight,
    ow: info.outWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
  const label = `x [${n},${h},${w},${c}] filter [${fh},${fw},${c},${f}] strides [${strides}] pad ${JSON.stringify(pad)}${dimRoundingMode ? ` ${dimRoundingMode}` : ''}${nchw ? ' NCHW' : ''}`;
  return {
    label,
    xShape: [n, h, w, c],
    filterShape: [fh, fw, c, f],
    strides,
    pad,
    dimRoundingMode,
    nchw,
    geometry,
  };
}

/** A case of fixed shapes (NHWC), stride `st` on both axes. */
function fixedCase(
  xShape: [number, number, number, number],
  fShape: [number, number, number, number],
  pad: 'same' | 'valid',
  st: number,
): ConvCase {
  const info = tf.backend_util.computeConv2DInfo(xShape, fShape, [st, st], 1, pad);
  const [n, h, w, c] = xShape;
  const [fh, fw, , f] = fShape;
  return {
    label: `x [${xShape}] filter [${fShape}] ${pad} stride ${st}`,
    xShape,
    filterShape: fShape,
    strides: [st, st],
    pad,
    nchw: false,
    geometry: {
      n,
      h,
      w,
      c,
      f,
      fh,
      fw,
      sh: st,
      sw: st,
      oh: info.outHeight,
      ow: info.outWidth,
      top: info.padInfo.top,
      left: info.padInfo.left,
    },
  };
}

function randomValues(rng: Rng, size: number): Float32Array {
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.normal();
  return v;
}

function toNchwPad(pad: Pad): Pad {
  return Array.isArray(pad) ? [pad[0], pad[3], pad[1], pad[2]] : pad;
}

/** Runs the registered kernel on NHWC data (transposed to NCHW when the case says so) and returns NHWC values. */
function runFilterGrad(cs: ConvCase, x: Float32Array, dy: Float32Array): Float32Array {
  const g = cs.geometry;
  return tf.tidy(() => {
    let xt: tf.Tensor4D = tf.tensor4d(x, cs.xShape);
    let dyt: tf.Tensor4D = tf.tensor4d(dy, [g.n, g.oh, g.ow, g.f]);
    if (cs.nchw) {
      xt = tf.transpose(xt, [0, 3, 1, 2]);
      dyt = tf.transpose(dyt, [0, 3, 1, 2]);
    }
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, {
      strides: cs.strides,
      pad: cs.nchw ? toNchwPad(cs.pad) : cs.pad,
      dataFormat: cs.nchw ? 'NCHW' : 'NHWC',
      dimRoundingMode: cs.dimRoundingMode,
      filterShape: cs.filterShape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(out.shape).toEqual(cs.filterShape);
    return out.dataSync() as Float32Array;
  });
}

function runInputGrad(cs: ConvCase, dy: Float32Array, filter: Float32Array): Float32Array {
  const g = cs.geometry;
  return tf.tidy(() => {
    let dyt: tf.Tensor4D = tf.tensor4d(dy, [g.n, g.oh, g.ow, g.f]);
    if (cs.nchw) dyt = tf.transpose(dyt, [0, 3, 1, 2]);
    const inputShape = cs.nchw ? [g.n, g.c, g.h, g.w] : cs.xShape;
    let out = tf
      .engine()
      .runKernel('Conv2DBackpropInput', { dy: dyt, filter: tf.tensor4d(filter, cs.filterShape) }, {
        strides: cs.strides,
        pad: cs.nchw ? toNchwPad(cs.pad) : cs.pad,
        dataFormat: cs.nchw ? 'NCHW' : 'NHWC',
        dimRoundingMode: cs.dimRoundingMode,
        inputShape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    expect(out.shape).toEqual(inputShape);
    if (cs.nchw) out = tf.transpose(out, [0, 2, 3, 1]);
    return out.dataSync() as Float32Array;
  });
}

const b = useAllTrainingKernels();

describe(`conv2d training kernels on ${b}`, () => {
  it('are all registered for these tests', () => {
    expect(trainingKernelsRegistered(b)).toEqual([...TRAINING_KERNEL_NAMES]);
  });

  it('Conv2DBackpropFilter equals a plain-loop oracle on 40 random shapes, strides and paddings', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 40; k++) {
      const cs = makeCase(rng);
      const g = cs.geometry;
      const x = randomValues(rng, g.n * g.h * g.w * g.c);
      const dy = randomValues(rng, g.n * g.oh * g.ow * g.f);
      const got = runFilterGrad(cs, x, dy);
      try {
        expectClose(got, filterGradRef(x, dy, g), 1e-4);
      } catch (e) {
        throw new Error(`${cs.label}: ${(e as Error).message}`);
      }
    }
  });

  for (const m of ['native', 'im2col', 'conv'] as FilterGradMethod[]) {
    // The method applies on wasm; on cpu every run takes the convolution method.
    it.skipIf(b !== 'wasm' && m !== 'conv')(
      `Conv2DBackpropFilter by the ${m} method equals the oracle on 40 random cases and the zoo CNN's layers`,
      () => {
        withSwitch(setFilterGradMethod, m, () => {
          const rng = new Rng(16);
          const cases = Array.from({ length: 40 }, () => makeCase(rng));
          // The zoo CNN's two layers (batch cut to 4), a 'same' first layer, a 1x1 layer, and shapes whose rows
          // (FH*FW*C) and output channels leave every partial block of the native loop: C = 1 and C not a multiple
          // of 4, F = 13 (one 8-channel block, one 4-channel block, one lone channel), stride 2 with 'same'.
          for (const [xShape, fShape, pad, st] of [
            [[4, 28, 28, 1], [5, 5, 1, 16], 'valid', 1],
            [[4, 12, 12, 16], [3, 3, 16, 32], 'valid', 1],
            [[3, 9, 11, 3], [3, 3, 3, 8], 'same', 1],
            [[2, 5, 6, 7], [1, 1, 7, 9], 'valid', 1],
            [[2, 9, 8, 5], [3, 2, 5, 13], 'same', 2],
            [[3, 11, 10, 1], [5, 5, 1, 6], 'valid', 2],
            [[2, 7, 9, 6], [2, 3, 6, 3], 'same', 1],
          ] as const) {
            cases.push(fixedCase([...xShape], [...fShape], pad, st));
          }
          for (const cs of cases) {
            const g = cs.geometry;
            const x = randomValues(rng, g.n * g.h * g.w * g.c);
            const dy = randomValues(rng, g.n * g.oh * g.ow * g.f);
            try {
              // float32 sums of up to n*oh*ow = 2,304 products: relative tolerance on the large layers.
              expectClose(runFilterGrad(cs, x, dy), filterGradRef(x, dy, g), 1e-4, 1e-5);
            } catch (e) {
              throw new Error(`${m}: ${cs.label}: ${(e as Error).message}`);
            }
          }
          // No intermediate left behind by this method either.
          const cs = cases[0];
          const x = randomValues(rng, cs.geometry.n * cs.geometry.h * cs.geometry.w * cs.geometry.c);
          const dy = randomValues(rng, cs.geometry.n * cs.geometry.oh * cs.geometry.ow * cs.geometry.f);
          runFilterGrad(cs, x, dy);
          const tensors = tf.memory().numTensors;
          const buffers = tf.engine().backend.numDataIds();
          runFilterGrad(cs, x, dy);
          expect(tf.memory().numTensors).toBe(tensors);
          expect(tf.engine().backend.numDataIds()).toBe(buffers);
        });
      },
    );
  }

  it('Conv2DBackpropInput equals a plain-loop oracle on 40 random shapes, strides and paddings', () => {
    const rng = new Rng(12);
    for (let k = 0; k < 40; k++) {
      const cs = makeCase(rng);
      const g = cs.geometry;
      const dy = randomValues(rng, g.n * g.oh * g.ow * g.f);
      const filter = randomValues(rng, g.fh * g.fw * g.c * g.f);
      const got = runInputGrad(cs, dy, filter);
      try {
        expectClose(got, inputGradRef(dy, filter, g), 1e-4);
      } catch (e) {
        throw new Error(`${cs.label}: ${(e as Error).message}`);
      }
    }
  });

  it.runIf(b === 'wasm')(
    'Conv2DBackpropInput with and without the native loop equals the oracle where its blocks are partial',
    () => {
      const rng = new Rng(17);
      // The zoo CNN's conv2 (batch cut to 2); input channels C = 13 (one 8-channel block, one 4-channel block, one
      // lone channel) and 9; widths that leave 1-3 pixels after the 4-pixel blocks; stride 2 with 'same'.
      const cases = [
        fixedCase([2, 12, 12, 16], [3, 3, 16, 32], 'valid', 1),
        fixedCase([2, 9, 8, 13], [3, 2, 13, 6], 'same', 2),
        fixedCase([3, 11, 10, 9], [5, 5, 9, 4], 'valid', 1),
        fixedCase([2, 7, 7, 5], [3, 3, 5, 7], 'same', 1),
      ];
      for (const native of [true, false]) {
        withSwitch(
          (v) => setNativeKernel('inputGrad', v),
          native,
          () => {
            for (const cs of cases) {
              const g = cs.geometry;
              const dy = randomValues(rng, g.n * g.oh * g.ow * g.f);
              const filter = randomValues(rng, g.fh * g.fw * g.c * g.f);
              try {
                expectClose(runInputGrad(cs, dy, filter), inputGradRef(dy, filter, g), 1e-4, 1e-5);
              } catch (e) {
                throw new Error(`native ${native}: ${cs.label}: ${(e as Error).message}`);
              }
            }
          },
        );
      }
    },
  );

  it('Conv2D (the training forward) equals the oracle with and without the native loop, and frees everything', () => {
    const rng = new Rng(18);
    // The zoo CNN's layers (batch cut to 2), 'same' padding, C = 1 and C not a multiple of 4, F = 13 and 6 (partial
    // channel blocks), widths leaving 1-3 pixels after the 4-pixel blocks; stride 2 and NCHW go to the original.
    const cases = [
      fixedCase([2, 28, 28, 1], [5, 5, 1, 16], 'valid', 1),
      fixedCase([2, 12, 12, 16], [3, 3, 16, 32], 'valid', 1),
      fixedCase([2, 9, 7, 5], [3, 2, 5, 13], 'same', 1),
      fixedCase([3, 6, 11, 3], [1, 1, 3, 6], 'valid', 1),
      fixedCase([2, 9, 8, 5], [3, 3, 5, 7], 'same', 2),
    ];
    const run = (cs: ConvCase, x: Float32Array, w: Float32Array) =>
      tf.tidy(() => {
        const out = tf.conv2d(
          tf.tensor4d(x, cs.xShape),
          tf.tensor4d(w, cs.filterShape),
          cs.strides,
          cs.pad as 'same',
        );
        expect(out.shape).toEqual([cs.geometry.n, cs.geometry.oh, cs.geometry.ow, cs.geometry.f]);
        return out.dataSync() as Float32Array;
      });
    for (const native of [true, false]) {
      withSwitch(
        (v) => setNativeKernel('conv2d', v),
        native,
        () => {
          for (const cs of cases) {
            const g = cs.geometry;
            const x = randomValues(rng, g.n * g.h * g.w * g.c);
            const w = randomValues(rng, g.fh * g.fw * g.c * g.f);
            try {
              expectClose(run(cs, x, w), conv2dRef(x, w, g), 1e-4, 1e-5);
            } catch (e) {
              throw new Error(`native ${native}: ${cs.label}: ${(e as Error).message}`);
            }
          }
        },
      );
    }
    const cs = cases[2];
    const x = randomValues(rng, 2 * 9 * 7 * 5);
    const w = randomValues(rng, 3 * 2 * 5 * 13);
    run(cs, x, w);
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    run(cs, x, w);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });

  it("equals the backend's original kernels where the backend has them", () => {
    const rng = new Rng(13);
    for (let k = 0; k < 15; k++) {
      const cs = makeCase(rng);
      if (b === 'wasm' && cs.nchw) continue; // the wasm originals are NHWC-only
      const g = cs.geometry;
      const x = randomValues(rng, g.n * g.h * g.w * g.c);
      const dy = randomValues(rng, g.n * g.oh * g.ow * g.f);
      const filter = randomValues(rng, g.fh * g.fw * g.c * g.f);
      const dx = runInputGrad(cs, dy, filter);
      expectClose(
        dx,
        onOriginal(b, () => runInputGrad(cs, dy, filter)),
        1e-4,
      );
      if (b === 'cpu') {
        const dw = runFilterGrad(cs, x, dy);
        expectClose(
          dw,
          onOriginal(b, () => runFilterGrad(cs, x, dy)),
          1e-4,
        );
      }
    }
  });

  it('gives tf.grad of a strided conv2d, checked against finite differences', () => {
    const rng = new Rng(14);
    const x = tf.tensor4d(randomValues(rng, 2 * 7 * 6 * 3), [2, 7, 6, 3]);
    const w = tf.tensor4d(randomValues(rng, 3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const r = tf.tensor4d(randomValues(rng, 2 * 4 * 3 * 4), [2, 4, 3, 4]);
    const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(xx, ww, 2, 'same'), r));
    const [gx, gw] = tf.grads((a: tf.Tensor, c: tf.Tensor) => loss(a as tf.Tensor4D, c as tf.Tensor4D))([
      x,
      w,
    ]);
    // The loss is linear in each argument, so a central difference with a step of 1 is exact up to rounding.
    const fd = (t: tf.Tensor4D, which: 0 | 1, i: number): number =>
      tf.tidy(() => {
        const e = tf.reshape(tf.oneHot(tf.tensor1d([i], 'int32'), t.size), t.shape) as tf.Tensor4D;
        const plus = which === 0 ? loss(tf.add(x, e), w) : loss(x, tf.add(w, e));
        const minus = which === 0 ? loss(tf.sub(x, e), w) : loss(x, tf.sub(w, e));
        return (plus.dataSync()[0] - minus.dataSync()[0]) / 2;
      });
    const gxv = gx.dataSync();
    const gwv = gw.dataSync();
    for (const i of [0, 7, 40, 83, x.size - 1]) expect(Math.abs(gxv[i] - fd(x, 0, i))).toBeLessThan(1e-3);
    for (const i of [0, 5, 50, 107]) expect(Math.abs(gwv[i] - fd(w, 1, i))).toBeLessThan(1e-3);
    tf.dispose([x, w, r, gx, gw]);
  });

  it('frees every intermediate: no engine tensor and no backend buffer is left behind', () => {
    const rng = new Rng(15);
    const cs = makeCase(rng);
    const g = cs.geometry;
    const x = randomValues(rng, g.n * g.h * g.w * g.c);
    const dy = randomValues(rng, g.n * g.oh * g.ow * g.f);
    const filter = randomValues(rng, g.fh * g.fw * g.c * g.f);
    runFilterGrad(cs, x, dy);
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let k = 0; k < 3; k++) {
      runFilterGrad(cs, x, dy);
      runInputGrad(cs, dy, filter);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });
});
