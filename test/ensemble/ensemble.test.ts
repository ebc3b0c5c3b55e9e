import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSpecialist,
  DisposedError,
  distillEnsemble,
  InvalidArgumentError,
  memoryEnsembleStore,
  outputKind,
  type ProgressEvent,
  Rng,
  ShapeMismatchError,
  SpecialistEnsemble,
  trainSpecialist,
} from '../../src/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

const NUM_CLASSES = 5;
const DIM = 6;

/** Gaussian classes in 6-d; classes 1 and 2 sit close together (confusable). */
function makeData(n: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: NUM_CLASSES }, (_, c) =>
    Array.from(
      { length: DIM },
      (_, d) => (d === c ? 3 : 0) + (c === 2 && d === 1 ? 2.6 : 0) - (c === 2 && d === 2 ? 2.6 : 0),
    ),
  );
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % NUM_CLASSES;
    y.push(c);
    x.push(centres[c].map((m) => m + rng.normal(0, 0.9)));
  }
  return { x: tf.tensor2d(x), y: Int32Array.from(y) };
}

function makeGeneralist(seed: number, activation: 'softmax' | 'linear' = 'softmax'): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      inputShape: [DIM],
      units: 12,
      activation: 'relu',
      name: 'hidden',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(
    tfl.layers.dense({
      units: NUM_CLASSES,
      activation,
      name: 'out',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return m;
}

let train: { x: tf.Tensor2D; y: Int32Array };
let test: { x: tf.Tensor2D; y: Int32Array };
let generalist: tfl.LayersModel;

beforeAll(async () => {
  train = makeData(300, 1);
  test = makeData(60, 2);
  generalist = makeGeneralist(3);
  const opt = tf.train.adam(0.02);
  generalist.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
  const y = tf.oneHot(tf.tensor1d(train.y, 'int32'), NUM_CLASSES);
  await generalist.fit(train.x, y, { epochs: 10, batchSize: 50, shuffle: false, verbose: 0 });
  tf.dispose([y]);
  opt.dispose();
});

afterAll(() => {
  tf.dispose([train.x, test.x]);
  generalist.dispose();
});

describe('createSpecialist', () => {
  it('deep-copies the body and starts the new head from the generalist head', async () => {
    const s = await createSpecialist(generalist, [1, 2]);
    expect(s.outputs[0].shape).toEqual([null, 3]);
    expect(outputKind(s)).toBe('probabilities');
    // Body weights equal, but not shared.
    const gw = generalist.getLayer('hidden').getWeights();
    const sw = s.getLayer('hidden').getWeights();
    expectClose(await sw[0].data(), await gw[0].data(), 0);
    expect(sw[0]).not.toBe(gw[0]);
    // Inside S the head reproduces the generalist's odds: p_s(1) / p_s(2) == p_g(1) / p_g(2).
    const pg = (await (generalist.predict(test.x) as tf.Tensor).array()) as number[][];
    const ps = (await (s.predict(test.x) as tf.Tensor).array()) as number[][];
    for (let i = 0; i < 5; i++)
      expect(Math.log(ps[i][0] / ps[i][1])).toBeCloseTo(Math.log(pg[i][1] / pg[i][2]), 3);
    // Training the specialist leaves the generalist untouched.
    const before = await generalist.getLayer('hidden').getWeights()[0].data();
    await trainSpecialist(
      s,
      train.x,
      Array.from(train.y, (c) => (c === 1 ? 0 : c === 2 ? 1 : 2)),
      3,
      { epochs: 1 },
    );
    expectClose(await generalist.getLayer('hidden').getWeights()[0].data(), before, 0);
    const changed = await s.getLayer('hidden').getWeights()[0].data();
    expect(changed.some((v, i) => v !== before[i])).toBe(true);
    s.dispose();
  });

  it("keeps a logits generalist's output kind, with its logits for the subset and LSE-style dustbin", async () => {
    const g = makeGeneralist(21, 'linear');
    const s = await createSpecialist(g, [0, 3]);
    expect(outputKind(s)).toBe('logits');
    const zg = (await (g.predict(test.x) as tf.Tensor).array()) as number[][];
    const zs = (await (s.predict(test.x) as tf.Tensor).array()) as number[][];
    for (let i = 0; i < 5; i++) {
      expectClose([zs[i][0], zs[i][1]], [zg[i][0], zg[i][3]], 1e-4);
      // Dustbin: mean of the other logits + log(3).
      expectClose([zs[i][2]], [(zg[i][1] + zg[i][2] + zg[i][4]) / 3 + Math.log(3)], 1e-4);
    }
    // The order given is the column order: [3, 0] puts class 3's logit first.
    const swapped = await createSpecialist(g, [3, 0]);
    const zw = (await (swapped.predict(test.x) as tf.Tensor).array()) as number[][];
    for (let i = 0; i < 5; i++)
      expectClose([zw[i][0], zw[i][1], zw[i][2]], [zs[i][1], zs[i][0], zs[i][2]], 1e-5);
    swapped.dispose();
    const r = await createSpecialist(g, [0, 3], { headInit: 'random', seed: 4 });
    const zr = (await (r.predict(test.x) as tf.Tensor).array()) as number[][];
    expect(Math.abs(zr[0][0] - zg[0][0])).toBeGreaterThan(1e-3);
    s.dispose();
    r.dispose();
    g.dispose();
  });

  it('leaks nothing and rejects class sets that do not fit the generalist', async () => {
    await expectNoLeak(async () => {
      const s = await createSpecialist(generalist, [0, 3], { headInit: 'random' });
      s.dispose();
    });
    await expectThrowsNoLeak(
      () => createSpecialist(generalist, [1, 7]),
      InvalidArgumentError,
      /generalist has 5 classes/,
    );
    await expectThrowsNoLeak(() => createSpecialist(generalist, []), InvalidArgumentError, /non-empty/);
    await expectThrowsNoLeak(
      () => createSpecialist(generalist, [0, 1, 2, 3, 4]),
      InvalidArgumentError,
      /dustbin/,
    );
  });
});

describe('trainSpecialist', () => {
  it('reports progress per batch up to the total', async () => {
    const s = await createSpecialist(generalist, [1, 2]);
    const events: ProgressEvent[] = [];
    const labels = Array.from(train.y, (c) => (c === 1 ? 0 : c === 2 ? 1 : 2));
    const h = await trainSpecialist(s, train.x, labels, 3, {
      epochs: 2,
      batchSize: 100,
      onProgress: (e) => events.push(e),
    });
    expect(h.loss.length).toBe(2);
    expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(
      events.every((e) => e.total === 6 && e.phase === 'specialist' && e.metrics?.loss !== undefined),
    ).toBe(true);
    await expectThrowsNoLeak(
      () => trainSpecialist(s, train.x, labels.slice(1), 3),
      ShapeMismatchError,
      /300 labels/,
    );
    await expectThrowsNoLeak(() => trainSpecialist(s, train.x, labels, 4), ShapeMismatchError, /4 outputs/);
    s.dispose();
  });
});

describe('SpecialistEnsemble', () => {
  let ensemble: SpecialistEnsemble;

  beforeAll(async () => {
    ensemble = await SpecialistEnsemble.train(generalist, train.x, train.y, {
      clusters: [
        [1, 2],
        [0, 3],
      ],
      training: { epochs: 2, batchSize: 50 },
    });
  });

  afterAll(() => {
    ensemble.dispose();
  });

  it('combines per row: only rows whose top class a specialist covers change', async () => {
    const r = await ensemble.predictDetailed(test.x);
    expect(r.probabilities.shape).toEqual([60, NUM_CLASSES]);
    const q = (await r.probabilities.array()) as number[][];
    const pg = (await r.generalist.array()) as number[][];
    const act = (await r.active.array()) as number[][];
    expectClose(await (generalist.predict(test.x) as tf.Tensor).data(), pg.flat(), 1e-6);
    let sawInactive = false;
    for (let i = 0; i < q.length; i++) {
      expectClose([q[i].reduce((a, b) => a + b, 0)], [1], 1e-5);
      const top = pg[i].indexOf(Math.max(...pg[i]));
      expect(act[i]).toEqual([top === 1 || top === 2 ? 1 : 0, top === 0 || top === 3 ? 1 : 0]);
      if (top === 4) {
        sawInactive = true;
        expectClose(q[i], pg[i], 1e-5);
      }
    }
    expect(sawInactive).toBe(true);
    tf.dispose([r.probabilities, r.generalist, r.active]);
    // With n = 5 every specialist is active on every row.
    const all = await ensemble.predictDetailed(test.x, { candidates: 5, batchSize: 17 });
    expect(await all.active.data()).toEqual(new Float32Array(120).fill(1));
    tf.dispose([all.probabilities, all.generalist, all.active]);
  });

  it('matches combineKL on the specialists’ dustbin-corrected outputs', async () => {
    const specs = ensemble.specialists;
    expect(specs.map((s) => s.classes)).toEqual([
      [1, 2],
      [0, 3],
    ]);
    // 60 of 300 examples are class 1 or 2; the sample is half subset: shift = log(0.6 / 0.5) - log(0.4 / 0.5).
    expect(specs[0].dustbinLogitShift).toBeCloseTo(Math.log(0.6 / 0.5) - Math.log(0.4 / 0.5), 6);
    const q = await ensemble.predictProba(test.x, { candidates: 5, tolerance: 1e-6 });
    // Oracle: single-row closed form is not available with two specialists; check the optimality condition
    // (zero gradient of eq. 5 in q's logits) in plain JS instead.
    const pg = (await (generalist.predict(test.x) as tf.Tensor).array()) as number[][];
    const pms = await Promise.all(
      specs.map(async (s) => {
        const p = (await (s.model.predict(test.x) as tf.Tensor).array()) as number[][];
        return p.map((row) => {
          const l = row.map((v, j) => Math.log(v) + (j === s.classes.length ? s.dustbinLogitShift : 0));
          const z = l.reduce((a, b) => a + Math.exp(b), 0);
          return l.map((v) => Math.exp(v) / z);
        });
      }),
    );
    const qa = (await q.array()) as number[][];
    for (let i = 0; i < 10; i++) {
      const grad = qa[i].map((qk, k) => {
        let g = qk * 3 - pg[i][k];
        specs.forEach((s, m) => {
          const j = s.classes.indexOf(k);
          const mass = j >= 0 ? qa[i][k] : 1 - s.classes.reduce((a, c) => a + qa[i][c], 0);
          const pj = pms[m][i][j >= 0 ? j : s.classes.length];
          g -= (qk * pj) / mass;
        });
        return g;
      });
      expectClose(grad, [0, 0, 0, 0, 0], 2e-5);
    }
    q.dispose();
  });

  it('distils the ensemble back into one model that agrees with it', async () => {
    const student = makeGeneralist(9, 'linear');
    const q = await ensemble.predictProba(train.x);
    const before = tf.memory().numTensors;
    const events: ProgressEvent[] = [];
    const h = await distillEnsemble(ensemble, student, train.x, {
      epochs: 8,
      batchSize: 50,
      learningRate: 0.02,
      temperature: 2,
      alpha: 1,
      onProgress: (e) => events.push(e),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(h.epochs.length).toBe(8);
    expect(h.epochs[7].loss).toBeLessThan(h.epochs[0].loss);
    expect(events[0].phase).toBe('ensemble');
    const s = student.predict(train.x) as tf.Tensor;
    const agree = tf.mean(tf.cast(tf.equal(tf.argMax(s, 1), tf.argMax(q, 1)), 'float32'));
    expect((await agree.data())[0]).toBeGreaterThan(0.85);
    tf.dispose([q, s, agree]);
    await expectThrowsNoLeak(
      () => distillEnsemble(ensemble, generalist, train.x),
      InvalidArgumentError,
      /logits/,
    );
    student.dispose();
  });

  it('saves and loads the whole ensemble through io handlers', async () => {
    const store = memoryEnsembleStore();
    const manifest = await ensemble.save(store.handler);
    expect([...store.artifacts.keys()]).toEqual(['generalist', 'specialist-0', 'specialist-1']);
    expect(manifest.specialists.map((s) => s.classes)).toEqual([
      [1, 2],
      [0, 3],
    ]);
    expect(generalist.getUserDefinedMetadata()).toBeUndefined();
    const loaded = await SpecialistEnsemble.load(store.handler);
    expect(loaded.specialists.map((s) => s.dustbinLogitShift)).toEqual(
      ensemble.specialists.map((s) => s.dustbinLogitShift),
    );
    const a = await ensemble.predictProba(test.x, { candidates: 2 });
    const b = await loaded.predictProba(test.x, { candidates: 2 });
    expectClose(await b.data(), await a.data(), 1e-6);
    // predict: the arg-max of each row of q (plain-JS oracle), as labels.
    const rowsA = (await a.array()) as number[][];
    const argmax = rowsA.map((r) => r.indexOf(Math.max(...r)));
    expect(Array.from(await loaded.predict(test.x, { candidates: 2 }))).toEqual(argmax);
    tf.dispose([a, b]);
    const before = tf.memory().numTensors;
    loaded.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    await expect(loaded.predict(test.x)).rejects.toThrow(DisposedError);
    await expect(SpecialistEnsemble.load(memoryEnsembleStore().handler)).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('leaks nothing and rejects a bad candidate count', async () => {
    await expectNoLeak(() => ensemble.predict(test.x, { candidates: 2 }));
    await expectThrowsNoLeak(
      () => ensemble.predict(test.x, { candidates: 6 }),
      InvalidArgumentError,
      /`options.candidates`.*\[1, 5\].*6/,
    );
    await expectThrowsNoLeak(
      () => ensemble.predict(test.x, { candidates: 2, momentum: 1 }),
      InvalidArgumentError,
      /`options.momentum`.*\[0, 1\)/,
    );
    const empty = tf.zeros([0, DIM]);
    await expectThrowsNoLeak(() => ensemble.predict(empty), ShapeMismatchError, /non-empty batch/);
    empty.dispose();
  });

  it('rejects class sets that do not match the generalist, and overlap when disallowed', async () => {
    await expectThrowsNoLeak(
      () => SpecialistEnsemble.train(generalist, train.x, train.y, { clusters: [[1, 5]] }),
      InvalidArgumentError,
      /generalist has 5 classes/,
    );
    await expectThrowsNoLeak(
      () =>
        SpecialistEnsemble.train(generalist, train.x, train.y, {
          clusters: [
            [1, 2],
            [2, 3],
          ],
          allowOverlap: false,
        }),
      InvalidArgumentError,
      /class 2 is also in clusters\[0\]/,
    );
    const s = ensemble.specialists[0];
    expect(() => new SpecialistEnsemble(generalist, [{ ...s, classes: [1, 2, 3] }])).toThrow(
      /3 classes \+ the dustbin|4 outputs/,
    );
  });
});

describe('SpecialistEnsemble with a model factory and a logits generalist', () => {
  it('trains factory-made specialists, disposes them, and throws after dispose', async () => {
    const g = makeGeneralist(5, 'linear');
    const before = tf.memory().numTensors;
    const events: ProgressEvent[] = [];
    const e = await SpecialistEnsemble.train(g, train.x, train.y, {
      clusters: [[1, 2]],
      modelFactory: ({ numOutputs }) =>
        tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [DIM], units: numOutputs })] }),
      specialistOutput: 'logits',
      training: { epochs: 1, batchSize: 40 },
      onProgress: (ev) => events.push(ev),
    });
    expect(e.generalistOutput).toBe('logits');
    expect(events.at(-1)?.done).toBe(events.at(-1)?.total);
    expect(events.every((ev) => ev.phase === 'specialists')).toBe(true);
    const q = await e.predictProba(test.x);
    const sums = tf.sum(q, 1);
    expectClose(await sums.data(), new Array(60).fill(1), 1e-5);
    tf.dispose([q, sums]);
    e.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => e.specialists).toThrow(DisposedError);
    g.dispose();
  });
});
