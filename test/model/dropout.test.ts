import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { Distiller, hintonMlp, LayerTransfer, trainClassifier } from '../../src/index.js';
import { dropoutLayers, seedDropoutMasks } from '../../src/model/dropout.js';
import { expectClose, expectNoLeak } from '../helpers.js';

/** Three Gaussian blobs in 6-d (seeded). */
function blobs(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D; labels: number[] } {
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  return tf.tidy(() => {
    const y = tf.tensor1d(labels, 'int32');
    const centres = tf.tensor2d([
      [2, 0, 0, 1, 0, -1],
      [0, 2, 0, -1, 1, 0],
      [0, 0, 2, 0, -1, 1],
    ]);
    const x = tf.add(tf.gather(centres, y), tf.randomNormal([n, 6], 0, 1, 'float32', seed)) as tf.Tensor2D;
    return { x, y, labels };
  });
}

async function weightsOf(model: tfl.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

function sameWeights(a: Float32Array[], b: Float32Array[]): boolean {
  return (
    a.length === b.length && a.every((w, i) => w.length === b[i].length && w.every((v, j) => v === b[i][j]))
  );
}

/** A 6-16-16-3 MLP with dropout on inputs and hidden units (the teacher preset's layout, tiny). */
const mlp = (seed = 1) =>
  hintonMlp({ hidden: [16, 16], inputShape: [6], numClasses: 3, dropout: 0.5, inputDropout: 0.2, seed });

/** A one-layer model around a Dropout of `rate`, for looking at masks. */
function dropoutModel(rate: number, width: number): tfl.Sequential {
  return tfl.sequential({ layers: [tfl.layers.dropout({ rate, inputShape: [width], name: 'drop' })] });
}

describe('seeded dropout masks', () => {
  it('finds the dropout layers of a model, nested ones included, each once', () => {
    const teacher = mlp();
    expect(dropoutLayers(teacher).map((l) => l.name)).toEqual(['input_drop', 'drop1', 'drop2']);
    const inner = dropoutModel(0.3, 4);
    const input = tfl.input({ shape: [4] });
    const twice = inner.apply(inner.apply(input)) as tfl.SymbolicTensor;
    const outer = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 2 }).apply(twice) as tfl.SymbolicTensor,
    });
    expect(dropoutLayers(outer).map((l) => l.name)).toEqual(['drop']);
    expect(dropoutLayers(hintonMlp({ hidden: [4], inputShape: [6] }))).toEqual([]);
    teacher.dispose();
    outer.dispose();
  });

  it('drops `rate` of the units and scales the kept ones by 1/(1 - rate), as a plain-JS loop over the drawn uniforms says', async () => {
    const rate = 0.3;
    const model = dropoutModel(rate, 100);
    const layer = model.getLayer('drop') as unknown as { seed?: number | string };
    const x = tf.randomNormal([100, 100], 1, 2, 'float32', 5) as tf.Tensor2D;
    const xs = await x.data();
    const restore = seedDropoutMasks(model, 7);
    let dropped = 0;
    const seeds: (number | string | undefined)[] = [];
    for (let call = 0; call < 3; call++) {
      const out = model.apply(x, { training: true }) as tf.Tensor;
      const got = await out.data();
      seeds.push(layer.seed);
      // The oracle: tf.dropout keeps element i when u_i + (1 - rate) >= 1, u the seeded uniforms of this call.
      const u = tf.randomUniform([100, 100], 0, 1, 'float32', layer.seed);
      const us = await u.data();
      const keep = Math.fround(1 - rate);
      const scale = Math.fround(1 / keep);
      const want = Float32Array.from(xs, (v, i) =>
        Math.floor(Math.fround(us[i] + keep)) >= 1 ? v * scale : 0,
      );
      expectClose(got, want, 1e-6, 1e-6);
      dropped += got.filter((v, i) => v === 0 && xs[i] !== 0).length;
      tf.dispose([out, u]);
    }
    restore();
    // 30,000 Bernoulli(0.3) draws: standard deviation 0.0026, the bound is ~6 of them (for this fixed seed).
    expect(Math.abs(dropped / 30000 - rate)).toBeLessThan(0.015);
    // Every call draws a fresh mask.
    expect(new Set(seeds).size).toBe(3);
    tf.dispose(x);
    model.dispose();
  });

  it('repeats the mask stream for the same seed, differs for another seed, and leaves inference alone', async () => {
    const model = dropoutModel(0.5, 64);
    const x = tf.ones([4, 64]);
    const masks = async (seed: number, inferenceFirst: boolean): Promise<number[][]> => {
      const restore = seedDropoutMasks(model, seed);
      try {
        if (inferenceFirst) {
          const y = model.apply(x, { training: false }) as tf.Tensor;
          // Dropout is the identity at inference, and an inference call does not advance the stream.
          expect(Array.from(await y.data())).toEqual(Array.from(await x.data()));
          y.dispose();
        }
        const out: number[][] = [];
        for (let i = 0; i < 2; i++) {
          const y = model.apply(x, { training: true }) as tf.Tensor;
          out.push(Array.from(await y.data()));
          y.dispose();
        }
        return out;
      } finally {
        restore();
      }
    };
    const a = await masks(1, false);
    const b = await masks(1, true);
    const c = await masks(2, false);
    expect(b).toEqual(a);
    expect(a[1]).not.toEqual(a[0]);
    expect(c[0]).not.toEqual(a[0]);
    tf.dispose(x);
    model.dispose();
  });

  it('puts the layers back: no own call, the old seed, the same config; the model saves and loads', async () => {
    const model = mlp();
    const before = JSON.stringify(model.toJSON(null, false));
    const drop = model.getLayer('drop1') as unknown as { seed?: unknown };
    const restore = seedDropoutMasks(model, 3);
    expect(Object.hasOwn(drop, 'call')).toBe(true);
    const x = tf.ones([2, 6]);
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    restore();
    expect(Object.hasOwn(drop, 'call')).toBe(false);
    expect(drop.seed).toBeUndefined();
    expect(JSON.stringify(model.toJSON(null, false))).toBe(before);
    // A save / load round trip (what the report's model cache does) gives the same predictions.
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const p = model.predict(x) as tf.Tensor;
    const q = loaded.predict(x) as tf.Tensor;
    expect(Array.from(await q.data())).toEqual(Array.from(await p.data()));
    tf.dispose([x, p, q]);
    model.dispose();
    loaded.dispose();
  });

  it('stacks: seeding a seeded model and restoring in reverse order leaves it as it was', () => {
    const model = dropoutModel(0.5, 4);
    const layer = model.getLayer('drop');
    const outer = seedDropoutMasks(model, 1);
    const own = (layer as unknown as { call: unknown }).call;
    const inner = seedDropoutMasks(model, 2);
    inner();
    expect((layer as unknown as { call: unknown }).call).toBe(own);
    outer();
    expect(Object.hasOwn(layer, 'call')).toBe(false);
    // Anything that is not a tfjs-layers model has no dropout layers: a no-op.
    expect(() => seedDropoutMasks({}, 1)()).not.toThrow();
    model.dispose();
  });
});

describe('training with dropout is reproducible for a seed', () => {
  it('trainClassifier: the same seed gives bit-identical weights, another seed other weights; nothing leaks', async () => {
    const { x, y } = blobs(48, 1);
    const run = async (seed: number) => {
      const m = mlp();
      await trainClassifier(m, x, y, { epochs: 2, batchSize: 16, learningRate: 0.01, seed });
      const w = await weightsOf(m);
      m.dispose();
      return w;
    };
    const a = await run(4);
    const b = await run(4);
    const c = await run(5);
    expect(sameWeights(a, b)).toBe(true);
    expect(sameWeights(a, c)).toBe(false);
    const m = mlp();
    await expectNoLeak(() =>
      trainClassifier(m, x, y, { epochs: 1, batchSize: 16, seed: 1 }).then(() => undefined),
    );
    expect(Object.hasOwn(m.getLayer('drop1'), 'call')).toBe(false);
    m.dispose();
    tf.dispose([x, y]);
  });

  it("tfjs's own fit with the same data order and initial weights is NOT reproducible (what the seeding fixes)", async () => {
    const { x, y } = blobs(48, 1);
    const yh = tf.tidy(() => tf.cast(tf.oneHot(y, 3), 'float32'));
    const run = async () => {
      const m = mlp();
      m.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
      await m.fit(x, yh, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
      const w = await weightsOf(m);
      m.dispose();
      return w;
    };
    expect(sameWeights(await run(), await run())).toBe(false);
    tf.dispose([x, y, yh]);
  });

  it('Distiller.fit (the distill section trains its dropout teacher with it) repeats for a seed', async () => {
    const { x, y } = blobs(48, 2);
    const run = async (seed: number) => {
      const m = mlp();
      const d = new Distiller(m, null, { temperature: 1, alpha: 0, learningRate: 0.01 });
      await d.fit(x, { labels: y, epochs: 2, batchSize: 16, seed });
      d.dispose();
      const w = await weightsOf(m);
      m.dispose();
      return w;
    };
    const a = await run(1);
    expect(sameWeights(a, await run(1))).toBe(true);
    expect(sameWeights(a, await run(2))).toBe(false);
    tf.dispose([x, y]);
  });

  it("LayerTransfer.fineTune with Oquab's adaptation block (dropout between FCa and FCb) repeats for a seed", async () => {
    const { x, labels } = blobs(48, 3);
    const base = hintonMlp({ hidden: [12], inputShape: [6], numClasses: 3, seed: 1 });
    const run = async (seed: number) => {
      const t = new LayerTransfer(base, {
        head: { kind: 'adaptation', numClasses: 3, hiddenUnits: 16, dropout: 0.5 },
        seed: 1,
      });
      t.freeze();
      await t.fineTune({ x, labels }, { epochs: 2, batchSize: 16, seed });
      const w = await weightsOf(t.model);
      t.dispose();
      return w;
    };
    const a = await run(1);
    expect(sameWeights(a, await run(1))).toBe(true);
    expect(sameWeights(a, await run(2))).toBe(false);
    base.dispose();
    tf.dispose(x);
  });
});
