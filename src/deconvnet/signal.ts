/**
 * The signal that starts a projection (Zeiler & Fergus 2013, section 2.1: "to examine a given convnet activation, we
 * set all other activations in the layer to zero and pass the feature maps as input to the attached deconvnet layer").
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ProjectionPosition, ProjectionSignal } from './options.js';

/** @internal The signal that starts a projection: `[N*K, ...]`, activations of one channel (and position) per row. */
export function initialSignal(
  a: tf.Tensor,
  channels: number[],
  position: ProjectionPosition,
  kind: ProjectionSignal,
): tf.Tensor {
  const n = a.shape[0];
  const c = a.shape[a.rank - 1];
  const k = channels.length;
  const chan = tf.cast(tf.oneHot(tf.tensor1d(channels, 'int32'), c), 'float32'); // [K, C]
  if (a.rank !== 4) {
    const base = tf.mul(tf.expandDims(a, 1), tf.expandDims(chan, 0)); // [N, K, C]
    const s = kind === 'activation' ? base : tf.broadcastTo(tf.expandDims(chan, 0), [n, k, c]);
    return tf.reshape(s, [n * k, ...a.shape.slice(1)]);
  }
  const [, h, w] = a.shape;
  const chan5 = tf.reshape(chan, [1, k, 1, 1, c]);
  const a5 = tf.expandDims(a, 1); // [N, 1, h, w, C]
  const kept = tf.mul(a5, chan5); // [N, K, h, w, C]
  let pos: tf.Tensor | null = null;
  if (position === 'max') {
    const sel = tf.reshape(tf.sum(kept, -1), [n, k, h * w]);
    // (a 1x1 map has one position: tf.oneHot refuses depth 1)
    pos = h * w === 1 ? null : tf.reshape(tf.oneHot(tf.argMax(sel, 2), h * w), [n, k, h, w, 1]);
  } else if (typeof position === 'object') {
    const buf = new Float32Array(h * w);
    buf[position.y * w + position.x] = 1;
    pos = tf.tensor5d(buf, [1, 1, h, w, 1]);
  }
  let s: tf.Tensor = kind === 'activation' ? kept : tf.broadcastTo(chan5, [n, k, h, w, c]);
  if (pos !== null) s = tf.mul(s, pos);
  return tf.reshape(s, [n * k, h, w, c]);
}
