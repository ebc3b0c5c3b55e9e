/**
 * Projection rules of the pooling and padding layers (Zeiler & Fergus 2013, section 2.1: "unpooling" with the
 * switches recorded in the forward pass), and the helpers behind them: `maxPoolWithSwitches`, `unpool` (scatter, for
 * overlapping windows), `unpoolWindows` (non-overlapping windows, no scatter) and `cropHW`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkChannelsLast,
  type DeconvRule,
  type PoolLike,
  padStart,
  pair,
  windowGeometry,
} from './rule-kit.js';

/**
 * Max-pooling that records its switches: the output, and for every output the flat index `(row * W + col) * C + c`
 * of the FIRST maximum of its window in row-major order (padding never wins; `tf.argMax` picks the first maximum on
 * cpu and wasm), so ties resolve the same way on those backends.
 *
 * Why not `tf.maxPoolWithArgmax`: its wasm kernel (tfjs 4.22) starts each window's maximum at FLT_MIN (the smallest
 * positive float) instead of -inf, so a window of zeros (common after a ReLU) or of negative values gets output
 * 1.2e-38 and switch 0; and cpu and wasm break ties differently (first vs last maximum).
 */
export function maxPoolWithSwitches(
  x: tf.Tensor4D,
  pool: [number, number],
  strides: [number, number],
  padding: 'valid' | 'same',
): { output: tf.Tensor4D; switches: tf.Tensor4D; window: tf.Tensor4D } {
  const [n, h, w, c] = x.shape;
  const outSize = (len: number, p: number, s: number) =>
    padding === 'same' ? Math.ceil(len / s) : Math.floor((len - p) / s) + 1;
  const ho = outSize(h, pool[0], strides[0]);
  const wo = outSize(w, pool[1], strides[1]);
  const pt = padStart(padding, h, pool[0], strides[0]);
  const pl = padStart(padding, w, pool[1], strides[1]);
  const pb = Math.max(0, (ho - 1) * strides[0] + pool[0] - h - pt);
  const pr = Math.max(0, (wo - 1) * strides[1] + pool[1] - w - pl);
  const xp =
    pt + pb + pl + pr > 0
      ? tf.pad(
          x,
          [
            [0, 0],
            [pt, pb],
            [pl, pr],
            [0, 0],
          ],
          -3.4e38,
        )
      : x;
  // every window element at once: a depthwise convolution with one-hot kernels (exact: v*1 plus zeros), output
  // channel c*M + k holds element k (row-major) of channel c's window; much faster than M strided slices on wasm
  const m = pool[0] * pool[1];
  const eye = tf.reshape(tf.eye(m), [pool[0], pool[1], 1, m]);
  const kernel = tf.tile(eye, [1, 1, c, 1]) as tf.Tensor4D;
  let windows = tf.depthwiseConv2d(xp, kernel, strides, 'valid') as tf.Tensor4D;
  if (windows.shape[1] !== ho || windows.shape[2] !== wo)
    windows = tf.slice(windows, [0, 0, 0, 0], [n, ho, wo, -1]);
  const cand = tf.reshape(windows, [n, ho, wo, c, m]);
  const k = tf.argMax(cand, 4); // first maximum on ties (cpu and wasm)
  const output = tf.max(cand, 4) as tf.Tensor4D;
  // flat index in the image: ((row0 + i) * W + col0 + j) * C + c, with i = floor(k / pw), j = k % pw
  const exact = h * w * c < 2 ** 24;
  const dtype = exact ? 'float32' : 'int32';
  const num = (v: number) => tf.scalar(v, dtype);
  const kk = tf.cast(k, dtype);
  const i = exact ? tf.floor(tf.div(kk, num(pool[1]))) : tf.floorDiv(kk, num(pool[1]));
  const j = tf.sub(kk, tf.mul(i, num(pool[1])));
  const rows = tf.reshape(tf.sub(tf.mul(tf.range(0, ho, 1, dtype), num(strides[0])), num(pt)), [1, ho, 1, 1]);
  const cols = tf.reshape(tf.sub(tf.mul(tf.range(0, wo, 1, dtype), num(strides[1])), num(pl)), [1, 1, wo, 1]);
  const chans = tf.reshape(tf.range(0, c, 1, dtype), [1, 1, 1, c]);
  const pos = tf.add(tf.mul(tf.add(tf.mul(tf.add(rows, i), num(w)), tf.add(cols, j)), num(c)), chans);
  return { output, switches: tf.cast(pos, 'int32') as tf.Tensor4D, window: k as tf.Tensor4D };
}

/**
 * MaxPooling2D: forward records the switches ({@link maxPoolWithSwitches}: the first maximum of each window);
 * backward places each value of the signal at its window's switch (Z&F "unpooling"), summing where overlapping
 * windows share a switch.
 */
const maxPoolRule: DeconvRule = {
  forward: (layer, inputs, record) => {
    const l = layer as unknown as PoolLike;
    if (!record) {
      const x = inputs[0] as tf.Tensor4D;
      return {
        output: tf.maxPool(x, pair(l.poolSize, 2), pair(l.strides, 2), l.padding as 'valid' | 'same'),
      };
    }
    const pool = pair(l.poolSize, 2);
    const strides = pair(l.strides, 2);
    const r = maxPoolWithSwitches(inputs[0] as tf.Tensor4D, pool, strides, l.padding as 'valid' | 'same');
    // non-overlapping windows (the common 2x2 / stride 2): the one-hot of each window's switch, for unpoolWindows
    if (pool[0] === strides[0] && pool[1] === strides[1]) {
      return { output: r.output, saved: [tf.cast(tf.oneHot(r.window, pool[0] * pool[1]), 'float32')] };
    }
    return { output: r.output, saved: [r.switches] };
  },
  backward: ({ layer, inputs, saved, signal, repeat }) => {
    if (saved[0].rank === 5) {
      const l = layer as unknown as PoolLike;
      return unpoolWindows(signal, saved[0], inputs[0].shape, repeat, pair(l.poolSize, 2), l.padding);
    }
    return unpool(signal, saved[0], inputs[0].shape, repeat);
  },
  geometry: (layer, inputShape) => {
    const l = layer as unknown as PoolLike;
    return windowGeometry(pair(l.poolSize, 2), pair(l.strides, 2), l.padding, inputShape);
  },
};

/**
 * Unpooling (Z&F section 2.1): places `signal` (`[N*repeat, Ho, Wo, C]`) at the recorded `switches` (`[N, Ho, Wo,
 * C]`, flat indices within one image) of an input of shape `inputShape` (`[N, H, W, C]`), summing collisions.
 */
export function unpool(
  signal: tf.Tensor,
  switches: tf.Tensor,
  inputShape: number[],
  repeat: number,
): tf.Tensor {
  const [n, h, w, c] = inputShape;
  const b = signal.shape[0];
  const m = signal.size / b;
  const hwc = h * w * c;
  const idx = tf.reshape(switches, [n, 1, m]);
  const base = tf.reshape(tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(hwc, 'int32')), [n, repeat, 1]);
  const flat = tf.reshape(tf.add(idx, base), [b * m, 1]);
  const out = tf.scatterND(flat, tf.reshape(signal, [b * m]), [b * hwc]);
  return tf.reshape(out, [b, h, w, c]);
}

/**
 * The `h x w` window at (`top`, `left`) of every image of `t` (`[B, H, W, C]`), as a slice of `[B, H, W * C]`: the same
 * numbers as `tf.slice(t, [0, top, left, 0], [B, h, w, C])`, but each row of the window is one contiguous run, where
 * a 4-D slice copies C values at a time (wasm's Slice loops over every pixel in JavaScript: ~3 s for 64 maps of
 * 113 x 113, 53% of a MobileNetV2 projection; this way ~B * h runs).
 */
export function cropHW(t: tf.Tensor4D, top: number, left: number, h: number, w: number): tf.Tensor4D {
  const [b, hh, ww, c] = t.shape;
  if (top === 0 && left === 0 && h === hh && w === ww) return t;
  const rows = tf.slice(tf.reshape(t, [b, hh, ww * c]), [0, top, left * c], [b, h, w * c]);
  return tf.reshape(rows, [b, h, w, c]);
}

/**
 * Unpooling for non-overlapping windows (stride = pool size), without a scatter: each signal value times the one-hot
 * of its window's switch (`[N, Ho, Wo, C, ph*pw]`), laid out window by window (a transpose, like depth-to-space),
 * then cropped / zero-padded from the padded grid to the input. Exact (products by 1 and 0), the same result as
 * {@link unpool}, and linear in the input size on every backend: webgl's `ScatterNd` compares every output element
 * with every update (minutes for a batch of 28x28 maps on a software GPU).
 */
export function unpoolWindows(
  signal: tf.Tensor,
  windows: tf.Tensor,
  inputShape: number[],
  repeat: number,
  pool: [number, number],
  padding: string,
): tf.Tensor {
  const [n, h, w, c] = inputShape;
  const [, ho, wo] = windows.shape as number[];
  const [ph, pw] = pool;
  const b = signal.shape[0];
  // (+ 0 turns the -0 of a negative value times a zero of the one-hot into +0, as a scatter leaves it)
  const placed = tf.add(
    tf.mul(tf.reshape(signal, [n, repeat, ho, wo, c, 1]), tf.reshape(windows, [n, 1, ho, wo, c, ph * pw])),
    0,
  );
  const grid = tf.reshape(tf.transpose(tf.reshape(placed, [b, ho, wo, c, ph, pw]), [0, 1, 4, 2, 5, 3]), [
    b,
    ho * ph,
    wo * pw,
    c,
  ]);
  const pt = padStart(padding, h, ph, ph);
  const pl = padStart(padding, w, pw, pw);
  const rows = Math.min(h, ho * ph - pt);
  const cols = Math.min(w, wo * pw - pl);
  const inner = cropHW(grid as tf.Tensor4D, pt, pl, rows, cols);
  if (rows === h && cols === w) return inner;
  return tf.pad(inner, [
    [0, 0],
    [0, h - rows],
    [0, w - cols],
    [0, 0],
  ]);
}

/** AveragePooling2D: spreads each value evenly over its window (the exact adjoint). */
const avgPoolRule: DeconvRule = {
  backward: ({ layer, inputs, signal }) => {
    const l = layer as unknown as PoolLike;
    const [, h, w, c] = inputs[0].shape;
    const pad = l.padding as 'valid' | 'same';
    const f = (t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, pair(l.poolSize, 2), pair(l.strides, 2), pad);
    return tf.grad(f)(tf.zeros([signal.shape[0], h, w, c]), signal);
  },
  geometry: (layer, inputShape) => {
    const l = layer as unknown as PoolLike;
    return windowGeometry(pair(l.poolSize, 2), pair(l.strides, 2), l.padding, inputShape);
  },
};

const zeroPaddingRule: DeconvRule = {
  backward: ({ layer, inputs, signal }) => {
    const l = layer as unknown as { padding: [[number, number], [number, number]]; dataFormat: string };
    checkChannelsLast('Deconvnet', layer, l.dataFormat);
    const [, h, w] = inputs[0].shape;
    return cropHW(signal as tf.Tensor4D, l.padding[0][0], l.padding[1][0], h, w);
  },
  geometry: (layer) => {
    const l = layer as unknown as { padding: [[number, number], [number, number]] };
    return { kind: 'window', kernel: [1, 1], strides: [1, 1], padStart: [l.padding[0][0], l.padding[1][0]] };
  },
};

const croppingRule: DeconvRule = {
  backward: ({ layer, signal }) => {
    const l = layer as unknown as { cropping: [[number, number], [number, number]] };
    const cr = l.cropping;
    return tf.pad(signal, [[0, 0], cr[0], cr[1], [0, 0]]);
  },
  geometry: (layer) => {
    const l = layer as unknown as { cropping: [[number, number], [number, number]] };
    return {
      kind: 'window',
      kernel: [1, 1],
      strides: [1, 1],
      padStart: [-l.cropping[0][0], -l.cropping[1][0]],
    };
  },
};

const globalAvgRule: DeconvRule = {
  backward: ({ inputs, signal }) => {
    const [, h, w, c] = inputs[0].shape;
    const s = tf.div(tf.reshape(signal, [signal.shape[0], 1, 1, c]), h * w);
    return tf.broadcastTo(s, [signal.shape[0], h, w, c]);
  },
  geometry: () => ({ kind: 'global' }),
};

/** GlobalMaxPooling2D: the signal goes to the (first) argmax of each channel. */
const globalMaxRule: DeconvRule = {
  forward: (_layer, inputs) => {
    const x = inputs[0];
    const [n, h, w, c] = x.shape;
    const flat = tf.reshape(x, [n, h * w, c]);
    return { output: tf.max(flat, 1), saved: [tf.argMax(flat, 1)] };
  },
  backward: ({ inputs, saved, signal, repeat }) => {
    const [n, h, w, c] = inputs[0].shape;
    const onehot = tf.transpose(tf.oneHot(saved[0] as tf.Tensor2D, h * w), [0, 2, 1]); // [n, hw, c]
    const g = tf.reshape(signal, [n, repeat, 1, c]);
    const out = tf.mul(g, tf.expandDims(onehot, 1));
    return tf.reshape(out, [signal.shape[0], h, w, c]);
  },
  geometry: () => ({ kind: 'global' }),
};

/** The pooling and padding rules by layer class (registered by rules.ts). */
export function poolingRules(): Record<string, DeconvRule> {
  return {
    MaxPooling2D: maxPoolRule,
    AveragePooling2D: avgPoolRule,
    ZeroPadding2D: zeroPaddingRule,
    Cropping2D: croppingRule,
    GlobalAveragePooling2D: globalAvgRule,
    GlobalMaxPooling2D: globalMaxRule,
  };
}
