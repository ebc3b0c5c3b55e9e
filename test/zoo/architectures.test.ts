import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  efficientNetB0,
  InvalidArgumentError,
  inceptionNet,
  mobileNetV1,
  mobileNetV2,
  mobileNetV3Small,
  resNet18,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

const TINY = { inputShape: [32, 32, 3] as [number, number, number], width: 0.25, depth: 0.34, numClasses: 5 };

describe('architecture builders', () => {
  it('real-sized MobileNetV1 / V2 have the parameter counts of the Keras applications', () => {
    // keras.applications.MobileNet() / MobileNetV2() at alpha 1, 224x224, 1000 classes: 4,253,864 / 3,538,984
    const v1 = mobileNetV1();
    const v2 = mobileNetV2();
    expect(v1.countParams()).toBe(4253864);
    expect(v2.countParams()).toBe(3538984);
    v1.dispose();
    v2.dispose();
  });

  for (const [name, build, classes] of [
    ['mobileNetV1', mobileNetV1, ['DepthwiseConv2D', 'ReLU']],
    ['mobileNetV2', mobileNetV2, ['DepthwiseConv2D', 'Add']],
    ['mobileNetV3Small', mobileNetV3Small, ['DepthwiseConv2D', 'Multiply', 'Rescaling', 'Reshape']],
    ['efficientNetB0', efficientNetB0, ['DepthwiseConv2D', 'Multiply', 'Activation', 'Add']],
    ['resNet18', resNet18, ['Add', 'MaxPooling2D', 'BatchNormalization']],
    ['inceptionNet', inceptionNet, ['Concatenate', 'AveragePooling2D']],
  ] as const) {
    it(`${name}: tiny variant runs, has its layer patterns, and is seeded`, async () => {
      const a = build({ ...TINY, seed: 3 });
      const b = build({ ...TINY, seed: 3 });
      const c = build({ ...TINY, seed: 4 });
      const have = new Set(a.layers.map((l) => l.getClassName()));
      for (const cls of classes) expect(have).toContain(cls);
      expect(new Set(a.layers.map((l) => l.name)).size).toBe(a.layers.length);
      expect(a.outputs[0].shape).toEqual([null, 5]);
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1);
      const [ya, yb, yc] = [a, b, c].map((m) => m.predict(x) as tf.Tensor);
      expectClose(await ya.data(), await yb.data(), 0);
      // another seed, other weights (relative: a deep untrained net at 32x32 has small logits)
      const diff = tf.max(tf.abs(tf.sub(ya, yc)));
      const scale = tf.max(tf.abs(ya));
      expect((await diff.data())[0]).toBeGreaterThan(1e-2 * (await scale.data())[0]);
      expect((await scale.data())[0]).toBeGreaterThan(0);
      tf.dispose([x, ya, yb, yc, diff, scale]);
      for (const m of [a, b, c]) m.dispose();
    });
  }

  it('rejects bad options with typed errors', () => {
    expect(() => mobileNetV2({ width: 0 })).toThrow(InvalidArgumentError);
    expect(() => mobileNetV2({ width: 0 })).toThrow(/options\.width.*mobileNetV2/);
    expect(() => resNet18({ inputShape: [32, 32] as never })).toThrow(/options\.inputShape.*resNet18/);
    expect(() => efficientNetB0({ depth: -1 })).toThrow(/options\.depth/);
    expect(() => inceptionNet({ numClasses: 1 })).toThrow(/options\.numClasses/);
    expect(() => mobileNetV3Small({ seed: 0.5 })).toThrow(/options\.seed/);
    expect(() => mobileNetV1('x' as never)).toThrow(/options/);
  });
});
