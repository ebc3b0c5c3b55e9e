/** Tiny generated image tasks and a tiny backbone for the finetune tests. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../../src/core/rng.js';
import { writePng } from '../../src/node/png.js';

/** A seeded conv backbone: conv(8) -> conv(8) -> global average pooling -> its own 5-class head. */
export function tinyBackbone(size = 12, seed = 3): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [size, size, 3],
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv1',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.conv2d({
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv2',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 5, activation: 'softmax', name: 'out' }),
    ],
  });
}

/** RGBA pixels of a noisy image dominated by channel `cls` (0 red, 1 green, 2 blue). */
export function colourImage(cls: number, rng: Rng, size: number): Uint8ClampedArray {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    for (let ch = 0; ch < 3; ch++) {
      const base = ch === cls ? 170 : 70;
      data[4 * p + ch] = base + Math.floor(rng.uniform(-60, 60));
    }
    data[4 * p + 3] = 255;
  }
  return data;
}

/** A labelled tensor set of the colour task: `perClass` images of each of 3 classes, [0, 1] pixels. */
export function colourTensors(
  perClass: number,
  size: number,
  seed: number,
): { x: tf.Tensor4D; labels: number[] } {
  const rng = new Rng(seed);
  const pixels: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < perClass * 3; i++) {
    const cls = i % 3;
    const d = colourImage(cls, rng, size);
    for (let p = 0; p < size * size; p++) for (let ch = 0; ch < 3; ch++) pixels.push(d[4 * p + ch] / 255);
    labels.push(cls);
  }
  return { x: tf.tensor4d(pixels, [perClass * 3, size, size, 3]), labels };
}

/** Writes the colour task as PNGs: dir/red, dir/green, dir/blue (side `size`, or alternating sizes). */
export async function writeColourFolder(
  dir: string,
  perClass: number,
  seed: number,
  sizes: readonly number[] = [12],
): Promise<void> {
  const rng = new Rng(seed);
  const names = ['red', 'green', 'blue'];
  for (let cls = 0; cls < 3; cls++) {
    await mkdir(path.join(dir, names[cls]), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const size = sizes[i % sizes.length];
      await writePng(path.join(dir, names[cls], `${String(i).padStart(3, '0')}.png`), {
        width: size,
        height: size,
        data: colourImage(cls, rng, size),
      });
    }
  }
}
