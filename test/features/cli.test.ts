import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { featuresCommand } from '../../src/cli/features.js';
import { svmCommand } from '../../src/cli/svm.js';
import { loadFeatures } from '../../src/node/features-io.js';
import { writePng } from '../../src/node/png.js';
import { saveLayersModelTo } from '../../src/node/pretrained.js';
import { backendName } from '../helpers.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tk-cli-'));
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [12, 12, 3],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  await saveLayersModelTo(model, path.join(dir, 'model'));
  model.dispose();
  // Two classes: dark and bright 16x16 images (resized to 12x12 by the extractor).
  for (const [c, level] of [
    ['dark', 40],
    ['bright', 220],
  ] as const) {
    for (let i = 0; i < 4; i++) {
      const data = new Uint8ClampedArray(16 * 16 * 4).map((_, k) =>
        k % 4 === 3 ? 255 : level + ((k * 7 + i * 13) % 20),
      );
      await writePng(path.join(dir, 'images', c, `${i}.png`), { width: 16, height: 16, data });
    }
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('transferkit features / svm', () => {
  it('extracts a folder of images into a feature file and trains an SVM on it', async () => {
    const before = tf.getBackend();
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const file = path.join(dir, 'f.tkf');
      await featuresCommand().parseAsync(
        [
          '--model',
          path.join(dir, 'model', 'model.json'),
          '--images',
          path.join(dir, 'images'),
          '--tap',
          'gap',
          '--tap',
          'conv',
          '--pool',
          'max',
          '--out',
          file,
          '--backend',
          backendName(),
        ],
        { from: 'user' },
      );
      const f = await loadFeatures(file);
      expect(f.matrices.map((m) => [m.name, m.rows, m.cols])).toEqual([
        ['gap', 8, 4],
        ['conv', 8, 4],
      ]);
      expect(Array.from(f.labels ?? [])).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
      expect(f.meta.classes).toEqual(['bright', 'dark']);
      await svmCommand().parseAsync(
        [
          '--train',
          file,
          '--test-fraction',
          '0.5',
          '--save',
          path.join(dir, 'clf.json'),
          '--backend',
          backendName(),
        ],
        { from: 'user' },
      );
      expect(out.join('')).toMatch(/accuracy \d+\.\d\d%/);
      expect(out.join('')).toMatch(/confusion/);
      expect(JSON.parse(await readFile(path.join(dir, 'clf.json'), 'utf8')).kind).toBe('linear-svm');
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    expect(tf.getBackend()).toBe(before);
  });
});
