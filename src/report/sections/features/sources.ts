/**
 * Where the features section's features come from: nsfwjs's MobileNetV2 at another input size, batches of
 * Fashion-MNIST images built from the uint8 data per batch, raw pixels as features, and feature normalisation.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FeatureMatrix, type NormMode } from '../../../index.js';
import { normalizeFeatures } from '../../../internal.js';
import type { ImageSplit } from '../../../node/datasets.js';
import { pretrainedIOHandler } from '../../../node.js';
import { imagesOf } from '../../data.js';

type Part = ImageSplit['train'];

/**
 * The layers-model topology of nsfwjs's MobileNetV2 for `size` x `size` inputs: the input shape changed and the
 * final 7x7 average pool resized to the last feature map (`size / 32`), so that `flatten_1` stays the global average
 * of the 1280 channels of `out_relu`. The weights do not depend on the input size.
 *
 * @example
 * ```ts
 * const topology = mobilenetTopology(artifacts.modelTopology, 96);
 * ```
 */
export function mobilenetTopology(topology: unknown, size: number): unknown {
  if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) {
    throw new RangeError(`mobilenetTopology: size must be a multiple of 32, got ${size}`);
  }
  const t = JSON.parse(JSON.stringify(topology)) as {
    model_config?: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    config?: { layers: { class_name: string; config: Record<string, unknown> }[] };
  };
  const layers = (t.model_config ?? t).config?.layers;
  const pool = layers?.find((l) => l.class_name === 'AveragePooling2D');
  if (layers === undefined || layers[0]?.class_name !== 'InputLayer' || pool === undefined) {
    throw new RangeError('mobilenetTopology: expected an InputLayer first and one AveragePooling2D');
  }
  layers[0].config.batch_input_shape = [null, size, size, 3];
  const k = size / 32;
  pool.config.pool_size = [k, k];
  pool.config.strides = [k, k];
  return t;
}

export async function loadMobileNet(size: number): Promise<tfl.LayersModel> {
  const base = pretrainedIOHandler('mobilenet_v2');
  return tfl.loadLayersModel({
    load: async () => {
      const a = await (base.load as NonNullable<typeof base.load>)();
      return { ...a, modelTopology: mobilenetTopology(a.modelTopology, size) as typeof a.modelTopology };
    },
  });
}

/** `[rows.length, 28, 28, channels]` batches of the given rows, built from the uint8 images per batch. */
export function batches(part: Part, rows: readonly number[], channels: 1 | 3) {
  return function* (batchSize: number): Generator<tf.Tensor> {
    for (let i = 0; i < rows.length; i += batchSize) {
      const x = imagesOf(part, rows.slice(i, i + batchSize));
      if (channels === 1) {
        yield x;
        continue;
      }
      const x3 = tf.tile(x, [1, 1, 1, 3]);
      x.dispose();
      yield x3;
    }
  };
}

/** Raw pixels in [0, 1], L2-normalised per image, as a feature matrix. */
export function pixels(part: Part, rows: readonly number[]): FeatureMatrix {
  const d = 784;
  const out = new Float32Array(rows.length * d);
  const src = part.source.images;
  rows.forEach((r, i) => {
    const from = part.indices[r] * d;
    let ss = 0;
    for (let k = 0; k < d; k++) ss += (src[from + k] / 255) ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let k = 0; k < d; k++) out[i * d + k] = (src[from + k] / 255) * inv;
  });
  return new FeatureMatrix(rows.length, d, out, 'pixels');
}

export async function normalized(fm: FeatureMatrix, mode: NormMode): Promise<FeatureMatrix> {
  if (mode === 'none') return fm;
  const t = fm.toTensor();
  const y = normalizeFeatures(t, mode, 0.5);
  try {
    return await FeatureMatrix.fromTensor(y, `${fm.name}:${mode}`);
  } finally {
    tf.dispose([t, y]);
  }
}
