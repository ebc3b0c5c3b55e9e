import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { runDeconvCommand } from '../../src/cli/deconv.js';
import { InvalidArgumentError, Rng } from '../../src/index.js';
import { decodePng } from '../../src/internal.js';
import { saveLayersModelTo, writePng } from '../../src/node.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-deconv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fixtures(): Promise<{ model: string; images: string }> {
  const images = path.join(dir, `images-${tf.getBackend()}`);
  const rng = new Rng(5);
  for (const cls of ['a', 'b']) {
    mkdirSync(path.join(images, cls), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const data = new Uint8ClampedArray(12 * 12 * 4);
      for (let p = 0; p < 144; p++) data.set([rng.int(256), rng.int(256), rng.int(256), 255], p * 4);
      await writePng(path.join(images, cls, `${i}.png`), { width: 12, height: 12, data });
    }
  }
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [12, 12, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        name: 'c1',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tfl.layers.flatten(),
      tfl.layers.dense({
        units: 2,
        activation: 'softmax',
        name: 'out',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }),
      }),
    ],
  });
  const modelDir = path.join(dir, `model-${tf.getBackend()}`);
  await saveLayersModelTo(m, modelDir);
  m.dispose();
  return { model: path.join(modelDir, 'model.json'), images };
}

describe('transferkit deconv', () => {
  it('writes the top-k grid, the occlusion maps and a JSON summary for a folder of PNGs', async () => {
    const { model, images } = await fixtures();
    const out = path.join(dir, `out-${tf.getBackend()}`);
    const base = {
      model,
      images,
      layer: 'c1',
      k: 2,
      strategy: 'guided' as const,
      occlusion: true,
      occluder: 4,
      stride: 4,
      scale: 1,
      out,
      backend: tf.getBackend(),
      progress: false,
    };
    const before = tf.memory().numTensors;
    const res = await runDeconvCommand(base);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.images).toBe(6);
    expect((res.topK as unknown[][]).map((u) => u.length)).toEqual([2, 2, 2]);
    expect((res.occlusion as { classes: number[] }).classes).toEqual([0, 0, 0, 1, 1, 1]);
    const png = decodePng(readFileSync(path.join(out, 'topk-c1.png')));
    expect(png.width).toBeGreaterThan(10);
    expect(existsSync(path.join(out, 'occlusion.png'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'deconv.json'), 'utf8')).layer).toBe('c1');

    await expect(runDeconvCommand({ ...base, layer: 'nope' })).rejects.toThrow(/`layer`.*closest: .*'c1'/);
    await expect(runDeconvCommand({ ...base, model: path.join(dir, 'missing.json') })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(runDeconvCommand({ ...base, images: path.join(dir, 'none') })).rejects.toThrow(/--images/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
