import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { FusedAdamOptimizer } from '../../src/kernels/adam.js';
import { setFilterGradMethod } from '../../src/kernels/conv2d_backprop_filter.js';
import { trainingKernelsRegistered } from '../../src/kernels/index.js';
import {
  NATIVE_EXPORTS,
  NATIVE_SOURCE_SHA256,
  NATIVE_WASM_BASE64,
  NATIVE_WASM_BYTES,
} from '../../src/kernels/native/module.generated.js';
import { type NativeKernel, nativeKernels, setNativeKernel } from '../../src/kernels/native.js';
import { expectNoLeak } from '../helpers.js';
import { onOriginal, useAllTrainingKernels, withSwitch } from './original.js';

const b = useAllTrainingKernels();
const dir = join(import.meta.dirname, '../../src/kernels/native');

/** Runs `fn` with one native kernel switched off. */
function without<T>(k: NativeKernel, fn: () => T): T {
  return withSwitch((v) => setNativeKernel(k, v), false, fn);
}

function bitsEqual(a: ArrayLike<number>, e: ArrayLike<number>): number[] {
  const bad: number[] = [];
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], e[i])) bad.push(i);
  return bad.slice(0, 5);
}

describe('the embedded native module', () => {
  it('was built from the current C sources and flags (else run `npm run build:wasm`)', () => {
    const config = readFileSync(join(dir, 'build.json'), 'utf8');
    const h = createHash('sha256');
    for (const name of JSON.parse(config).sources as string[]) {
      h.update(`${name}\0${readFileSync(join(dir, name), 'utf8')}\0`);
    }
    h.update(config);
    expect(NATIVE_SOURCE_SHA256, 'module.generated.ts is stale: npm run build:wasm').toBe(h.digest('hex'));
    const bytes = Buffer.from(NATIVE_WASM_BASE64, 'base64');
    expect(bytes.length).toBe(NATIVE_WASM_BYTES);
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual([
      'env.memory:memory',
    ]);
    expect(WebAssembly.Module.exports(mod).map((e) => e.name)).toEqual([...NATIVE_EXPORTS]);
  });

  it(`is ${b === 'wasm' ? 'bound to the wasm backend memory' : 'not used on cpu'}`, () => {
    const native = nativeKernels(tf.backend());
    if (b === 'wasm') expect(typeof native?.tk_max_pool_grad).toBe('function');
    else expect(native).toBeUndefined();
  });
});

describe.runIf(b === 'wasm')('native kernels on wasm equal the JavaScript loops and the originals', () => {
  it('MaxPoolGrad: bit for bit with the JavaScript loop, odd channel counts, ties, NaN, +-Inf, denormals', () => {
    const rng = new Rng(7);
    const special = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      1,
      2 ** -126,
      2 ** -130,
    ];
    for (let k = 0; k < 30; k++) {
      const n = 1 + rng.int(3);
      const f = 1 + rng.int(3);
      // At least one window: tfjs-backend-wasm's own MaxPool reads out of bounds on an empty output. The last six
      // cases tile x exactly (stride = window, sizes multiples of it: the one-pass path of the native loop).
      const tiled = k >= 24;
      const h = tiled ? f * (1 + rng.int(4)) : f + rng.int(8);
      const w = tiled ? f * (1 + rng.int(4)) : f + rng.int(8);
      const c = 1 + rng.int(10);
      const s = tiled ? f : f + rng.int(2);
      const pad = tiled || rng.int(2) === 0 ? 'valid' : 'same';
      const size = n * h * w * c;
      const xv = Float32Array.from({ length: size }, () => {
        const u = rng.int(4);
        return u === 0 ? special[rng.int(special.length)] : u === 1 ? rng.int(3) : rng.normal();
      });
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, [n, h, w, c]);
          const y = tf.maxPool(x, f, s, pad);
          const dyv = Float32Array.from({ length: y.size }, (_, i) =>
            i % 17 === 3 ? Number.NaN : Math.sin(i),
          );
          const dy = tf.tensor(dyv, y.shape);
          const attrs = { filterSize: [f, f], strides: [s, s], pad };
          return (
            tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor
          ).dataSync();
        });
      const native = run();
      const js = without('maxPoolGrad', run);
      expect(bitsEqual(native, js), `x [${n}, ${h}, ${w}, ${c}] pool ${f} stride ${s} ${pad}`).toEqual([]);
    }
  });

  it('Conv2DBackpropFilter by im2col: the native matrix gives the same bits as the JavaScript one', () => {
    withSwitch(setFilterGradMethod, 'im2col', () => {
      const rng = new Rng(8);
      for (const [xs, fs, st, pad] of [
        [[3, 28, 28, 1], [5, 5, 1, 16], 1, 'valid'],
        [[3, 12, 12, 16], [3, 3, 16, 32], 1, 'valid'],
        [[2, 9, 11, 3], [3, 3, 3, 8], 2, 'same'],
        [[2, 7, 6, 5], [4, 2, 5, 3], 3, 'same'],
      ] as const) {
        const xv = Float32Array.from({ length: xs.reduce((a: number, d: number) => a * d, 1) }, () =>
          rng.normal(),
        );
        const run = () =>
          tf.tidy(() => {
            const x = tf.tensor4d(xv, [...xs]);
            const dy = tf.sin(tf.conv2d(x, tf.ones([...fs]) as tf.Tensor4D, st, pad));
            return tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x, dy },
                { strides: [st, st], pad, dataFormat: 'NHWC', filterShape: [...fs] },
              );
          });
        const native = (run() as tf.Tensor).dataSync();
        const js = (without('im2col', run) as tf.Tensor).dataSync();
        expect(bitsEqual(native, js), `x [${xs}] filter [${fs}]`).toEqual([]);
      }
    });
  });

  it('Sum over leading axes: bit for bit with the original (transpose + row sums), keepDims, negative axes', () => {
    const rng = new Rng(9);
    const cases: [number[], number[], boolean][] = [
      [[64, 24, 24, 16], [0, 1, 2], false],
      [[64, 128], [0], false],
      [[5, 7, 3], [0, 1], true],
      [[4, 3, 2, 37], [-4, -3, -2], false],
      // leading axes out of order: the original (it adds in the order listed)
      [[3, 5, 9], [1, 0], false],
      [[6, 1, 23], [0], true],
      // not a leading prefix: the original kernel
      [[4, 5, 6], [1, 2], false],
      [[4, 5, 6], [0, 2], false],
    ];
    for (const [shape, axes, keepDims] of cases) {
      const xv = Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rng.normal() * 100);
      const run = () => tf.tidy(() => tf.sum(tf.tensor(xv, shape), axes, keepDims));
      const ours = run();
      const orig = onOriginal(b, run);
      expect(ours.shape).toEqual(orig.shape);
      expect(bitsEqual(ours.dataSync(), orig.dataSync()), `[${shape}] axes [${axes}]`).toEqual([]);
      tf.dispose([ours, orig]);
    }
    expect(trainingKernelsRegistered(b)).toContain('Sum');
    // No tensor or buffer left behind.
    const x = tf.randomNormal([8, 4, 4, 6]);
    const before = tf.engine().backend.numDataIds();
    tf.sum(x, [0, 1, 2]).dispose();
    expect(tf.engine().backend.numDataIds()).toBe(before);
    x.dispose();
  });

  it('Add of a bias over the last axis: bit for bit with the original, either order; other forms fall back', () => {
    const rng = new Rng(11);
    const cases: [number[], number[]][] = [
      [[64, 24, 24, 16], [16]],
      [[16], [4, 6, 6, 16]],
      [
        [64, 128],
        [1, 128],
      ],
      [[5, 7], [7]],
      [
        [3, 2, 2, 3],
        [1, 1, 3],
      ],
      // not a bias over the last axis: the original
      [
        [5, 3],
        [5, 1],
      ],
      [
        [5, 3],
        [5, 3],
      ],
      [[5, 3], [1]],
      [[4], [4]],
    ];
    for (const [sa, sb] of cases) {
      const values = (shape: number[]) =>
        Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) =>
          i % 13 === 5 ? Number.NaN : rng.normal() * 1e3,
        );
      const av = values(sa);
      const bv = values(sb);
      const run = () => tf.tidy(() => tf.add(tf.tensor(av, sa), tf.tensor(bv, sb)));
      const ours = run();
      const orig = onOriginal(b, run);
      expect(ours.shape).toEqual(orig.shape);
      expect(bitsEqual(ours.dataSync(), orig.dataSync()), `[${sa}] + [${sb}]`).toEqual([]);
      tf.dispose([ours, orig]);
    }
    expect(trainingKernelsRegistered(b)).toContain('Add');
  });

  it('Adam: the native update equals tf.train.adam bit for bit (and the JavaScript one), odd sizes', async () => {
    const rng = new Rng(10);
    const shapes = [[37, 5], [3], [1], [8, 8, 3]];
    const init = shapes.map((s) =>
      Float32Array.from({ length: s.reduce((a, d) => a * d, 1) }, () => rng.normal()),
    );
    const train = async (opt: tf.Optimizer) => {
      const vars = shapes.map((s, i) => tf.variable(tf.tensor(init[i], s)));
      for (let step = 0; step < 5; step++) {
        opt.minimize(
          () => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.sin(v), i + step + 1)))) as tf.Scalar,
          false,
          vars,
        );
      }
      const out = await Promise.all(vars.map(async (v) => Array.from(await v.data())));
      tf.dispose(vars);
      opt.dispose();
      return out.flat();
    };
    const plain = await train(tf.train.adam(0.01));
    const native = await train(new FusedAdamOptimizer(0.01));
    const js = await (async () => {
      const was = setNativeKernel('adam', false);
      try {
        return await train(new FusedAdamOptimizer(0.01));
      } finally {
        setNativeKernel('adam', was);
      }
    })();
    expect(bitsEqual(native, plain)).toEqual([]);
    expect(bitsEqual(js, plain)).toEqual([]);
    const w = tf.variable(tf.ones([9]));
    const opt = new FusedAdamOptimizer(0.1);
    await expectNoLeak(() => {
      opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
    });
    opt.dispose();
    w.dispose();
  });
});

describe.runIf(b === 'wasm')('a training step with the native kernels', () => {
  it('trains a small CNN to the same weights as without them (float32 tolerance: dW method changes)', async () => {
    const { trainClassifier, zeilerFergusCnn } = await import('../../src/zoo/index.js');
    const all: NativeKernel[] = [
      'maxPoolGrad',
      'im2col',
      'adam',
      'columnSum',
      'biasAdd',
      'filterGrad',
      'inputGrad',
    ];
    const x = tf.randomUniform([32, 14, 14, 1], 0, 1, 'float32', 5);
    const y = tf.randomUniform([32], 0, 3, 'int32', 6) as tf.Tensor1D;
    const weights = async (native: boolean) => {
      const was = all.map((k) => setNativeKernel(k, native));
      try {
        const model = zeilerFergusCnn({ inputShape: [14, 14, 1], numClasses: 3, filters: [8, 16], seed: 3 });
        await trainClassifier(model, x, y, { epochs: 2, batchSize: 8, seed: 1 });
        const w = await Promise.all(model.getWeights().map((t) => t.data()));
        model.dispose();
        return w.flatMap((a) => Array.from(a));
      } finally {
        for (const [i, k] of all.entries()) setNativeKernel(k, was[i]);
      }
    };
    const withNative = await weights(true);
    const without = await weights(false);
    expect(withNative.length).toBe(without.length);
    let worst = 0;
    for (let i = 0; i < without.length; i++) worst = Math.max(worst, Math.abs(withNative[i] - without[i]));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, y]);
  });
});
