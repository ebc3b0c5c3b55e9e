import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { expectClose } from '../helpers.js';
import { type DepthwiseGeometry, depthwiseFilterGradRef, depthwiseInputGradRef } from './oracle.js';
import { onOriginal, useAllTrainingKernels } from './original.js';

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  label: string;
  attrs: {
    strides: [number, number];
    dilations: [number, number];
    pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  g: DepthwiseGeometry;
}

const b = useAllTrainingKernels();

function makeCase(rng: Rng): Case {
  const n = 1 + rng.int(3);
  const h = 3 + rng.int(7);
  const w = 3 + rng.int(7);
  const c = 1 + rng.int(4);
  const m = 1 + rng.int(3);
  const fh = 1 + rng.int(3);
  const fw = 1 + rng.int(3);
  // tfjs's ops allow dilations > 1 only with stride 1; the kernels also take both (a separate code path).
  const kindSD = rng.int(6);
  const strides: [number, number] = kindSD === 0 ? [1, 1] : [1 + rng.int(3), 1 + rng.int(3)];
  const dilations: [number, number] = kindSD <= 1 ? [1 + rng.int(2), 1 + rng.int(2)] : [1, 1];
  const kind = rng.int(4);
  let pad: Pad;
  let dimRoundingMode: Case['attrs']['dimRoundingMode'];
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
  const info = tf.backend_util.computeConv2DInfo(
    [n, h, w, c],
    [fh, fw, c, m],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const g: DepthwiseGeometry = {
    n,
    h,
    w,
    c,
    m,
    fh,
    fw,
    sh: strides[0],
    sw: strides[1],
    dh: dilations[0],
    dw: dilations[1],
    oh: info.outHeight,
    ow: info.outWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
  const label = `x [${n},${h},${w},${c}] filter [${fh},${fw},${c},${m}] strides [${strides}] dilations [${dilations}] pad ${JSON.stringify(pad)}${dimRoundingMode ? ` ${dimRoundingMode}` : ''}`;
  return { label, attrs: { strides, dilations, pad, dimRoundingMode }, g };
}

function randomValues(rng: Rng, size: number): Float32Array {
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.normal();
  return v;
}

function filterGrad(cs: Case, x: Float32Array, dy: Float32Array): Float32Array {
  const g = cs.g;
  return tf.tidy(() => {
    const out = tf
      .engine()
      .runKernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x: tf.tensor4d(x, [g.n, g.h, g.w, g.c]), dy: tf.tensor4d(dy, [g.n, g.oh, g.ow, g.c * g.m]) },
        { ...cs.attrs, filterShape: [g.fh, g.fw, g.c, g.m] } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor;
    expect(out.shape).toEqual([g.fh, g.fw, g.c, g.m]);
    return out.dataSync() as Float32Array;
  });
}

function inputGrad(cs: Case, dy: Float32Array, filter: Float32Array): Float32Array {
  const g = cs.g;
  return tf.tidy(() => {
    const out = tf.engine().runKernel(
      'DepthwiseConv2dNativeBackpropInput',
      {
        dy: tf.tensor4d(dy, [g.n, g.oh, g.ow, g.c * g.m]),
        filter: tf.tensor4d(filter, [g.fh, g.fw, g.c, g.m]),
      },
      { ...cs.attrs, inputShape: [g.n, g.h, g.w, g.c] } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
    expect(out.shape).toEqual([g.n, g.h, g.w, g.c]);
    return out.dataSync() as Float32Array;
  });
}

describe(`depthwise conv training kernels on ${b}`, () => {
  it('DepthwiseConv2dNativeBackpropFilter equals a plain-loop oracle on 40 random configurations', () => {
    const rng = new Rng(31);
    for (let k = 0; k < 40; k++) {
      const cs = makeCase(rng);
      const x = randomValues(rng, cs.g.n * cs.g.h * cs.g.w * cs.g.c);
      const dy = randomValues(rng, cs.g.n * cs.g.oh * cs.g.ow * cs.g.c * cs.g.m);
      try {
        expectClose(filterGrad(cs, x, dy), depthwiseFilterGradRef(x, dy, cs.g), 1e-4);
      } catch (e) {
        throw new Error(`${cs.label}: ${(e as Error).message}`);
      }
    }
  });

  it('DepthwiseConv2dNativeBackpropInput equals a plain-loop oracle on 40 random configurations', () => {
    const rng = new Rng(32);
    for (let k = 0; k < 40; k++) {
      const cs = makeCase(rng);
      const dy = randomValues(rng, cs.g.n * cs.g.oh * cs.g.ow * cs.g.c * cs.g.m);
      const filter = randomValues(rng, cs.g.fh * cs.g.fw * cs.g.c * cs.g.m);
      try {
        expectClose(inputGrad(cs, dy, filter), depthwiseInputGradRef(dy, filter, cs.g), 1e-4);
      } catch (e) {
        throw new Error(`${cs.label}: ${(e as Error).message}`);
      }
    }
  });

  it("equals cpu's original kernels", () => {
    if (b !== 'cpu') return; // wasm has no original depthwise gradients to compare with
    const rng = new Rng(33);
    for (let k = 0; k < 10; k++) {
      const cs = makeCase(rng);
      // Not configurations tfjs's ops produce (and cpu's original ignores dilations in its gradients).
      if (cs.g.dh * cs.g.dw > 1) continue;
      const x = randomValues(rng, cs.g.n * cs.g.h * cs.g.w * cs.g.c);
      const dy = randomValues(rng, cs.g.n * cs.g.oh * cs.g.ow * cs.g.c * cs.g.m);
      const filter = randomValues(rng, cs.g.fh * cs.g.fw * cs.g.c * cs.g.m);
      const ours = [filterGrad(cs, x, dy), inputGrad(cs, dy, filter)];
      onOriginal(b, () => {
        expectClose(ours[0], filterGrad(cs, x, dy), 1e-4);
        expectClose(ours[1], inputGrad(cs, dy, filter), 1e-4);
      });
    }
  });

  it('trains a separable/depthwise layer through tf.grads and frees its intermediates', () => {
    const rng = new Rng(34);
    const x = tf.tensor4d(randomValues(rng, 2 * 8 * 8 * 3), [2, 8, 8, 3]);
    const w = tf.tensor4d(randomValues(rng, 3 * 3 * 3 * 2), [3, 3, 3, 2]);
    const f = (xx: tf.Tensor, ww: tf.Tensor) =>
      tf.sum(tf.square(tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same')));
    tf.dispose(tf.grads(f)([x, w]));
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    tf.dispose(tf.grads(f)([x, w]));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    // Directional derivative check on both arguments: (f(. + eps v) - f(. - eps v)) / 2 eps = <grad, v>.
    const v = [
      tf.tensor4d(randomValues(rng, x.size), x.shape),
      tf.tensor4d(randomValues(rng, w.size), w.shape),
    ];
    const eps = 1e-2;
    tf.tidy(() => {
      const [gx, gw] = tf.grads(f)([x, w]);
      expect(gx.shape).toEqual(x.shape);
      expect(gw.shape).toEqual(w.shape);
      const plus = f(tf.add(x, tf.mul(v[0], eps)), tf.add(w, tf.mul(v[1], eps))).dataSync()[0];
      const minus = f(tf.sub(x, tf.mul(v[0], eps)), tf.sub(w, tf.mul(v[1], eps))).dataSync()[0];
      const dot = tf.add(tf.sum(tf.mul(gx, v[0])), tf.sum(tf.mul(gw, v[1]))).dataSync()[0];
      expect(Math.abs((plus - minus) / (2 * eps) - dot) / Math.max(1, Math.abs(dot))).toBeLessThan(2e-3);
    });
    tf.dispose([x, w, ...v]);
  });
});
