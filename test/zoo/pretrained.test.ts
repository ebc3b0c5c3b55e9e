import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { hintonMlp, InvalidArgumentError, MissingDependencyError } from '../../src/index.js';
import { fileIOHandler, packageRoot } from '../../src/internal.js';
import { loadLayersModelFrom, loadPretrained, PRETRAINED_MODELS, saveLayersModelTo } from '../../src/node.js';
import { expectThrowsNoLeak } from '../helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tk-zoo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadPretrained', () => {
  it('loads the ImageNet-initialised MobileNetV2 shipped in nsfwjs, offline', async () => {
    const m = await loadPretrained('mobilenet_v2');
    const info = PRETRAINED_MODELS.mobilenet_v2;
    expect(m.inputs[0].shape).toEqual([null, info.inputSize, info.inputSize, 3]);
    expect(m.countParams()).toBe(2619461);
    expect(m.getLayer(info.featureLayer as string).outputShape).toEqual([null, info.featureDim]);
    if (tf.getBackend() === 'wasm') {
      // The 5-class head ends in a softmax: a forward pass gives probabilities.
      const p = tf.tidy(() => m.predict(tf.fill([1, 224, 224, 3], 0.5)) as tf.Tensor);
      const v = await p.data();
      p.dispose();
      expect(v.length).toBe(5);
      expect(Array.from(v).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    m.dispose();
  });

  it('rejects unknown names and reports missing optional packages', async () => {
    await expectThrowsNoLeak(() => loadPretrained('vgg16' as 'mobilenet_v2'), InvalidArgumentError, /vgg16/);
    expect(() => packageRoot('transferkit-no-such-package', 'for a test')).toThrow(MissingDependencyError);
    expect(() => packageRoot('transferkit-no-such-package', 'for a test')).toThrow(
      /npm i transferkit-no-such/,
    );
  });
});

describe('loadLayersModelFrom / saveLayersModelTo', () => {
  it('round-trips a model through model.json + weights.bin with identical outputs', async () => {
    const m = hintonMlp({ hidden: [6], inputShape: [5], numClasses: 3, seed: 9 });
    await saveLayersModelTo(m, path.join(tmp, 'mlp'));
    const again = await loadLayersModelFrom(path.join(tmp, 'mlp'));
    const viaFile = await loadLayersModelFrom(`file://${path.join(tmp, 'mlp', 'model.json')}`);
    const viaHandler = await loadLayersModelFrom(fileIOHandler(path.join(tmp, 'mlp', 'model.json')));
    expect(again.layers.map((l) => l.name)).toEqual(m.layers.map((l) => l.name));
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
    const outs = await Promise.all(
      [m, again, viaFile, viaHandler].map(async (model) => {
        const y = model.predict(x) as tf.Tensor;
        const v = Array.from(await y.data());
        y.dispose();
        return v;
      }),
    );
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
    expect(outs[3]).toEqual(outs[0]);
    x.dispose();
    for (const model of [m, again, viaFile, viaHandler]) model.dispose();
  });

  it('rejects missing or malformed sources with the path in the message', async () => {
    await expectThrowsNoLeak(() => loadLayersModelFrom(path.join(tmp, 'nope')), InvalidArgumentError, /nope/);
    await expectThrowsNoLeak(() => loadLayersModelFrom(42 as unknown as string), InvalidArgumentError, /42/);
    writeFileSync(path.join(tmp, 'bad.json'), '{not json');
    await expectThrowsNoLeak(
      () => loadLayersModelFrom(path.join(tmp, 'bad.json')),
      InvalidArgumentError,
      /bad\.json/,
    );
  });
});
