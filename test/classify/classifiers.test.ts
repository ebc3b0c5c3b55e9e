import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { LinearSvm, SoftmaxRegression } from '../../src/classify/linear.js';
import { loadClassifier } from '../../src/classify/load.js';
import { accuracy } from '../../src/classify/metrics.js';
import { MlSvmClassifier } from '../../src/classify/ml-svm.js';
import { DisposedError, InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { FeatureMatrix } from '../../src/features/matrix.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';

/** K well separated Gaussian blobs in D dims: centres at 4 * e_k (k < D), std 0.5. */
function blobs(n: number, k: number, d: number, seed: number): { x: FeatureMatrix; y: Int32Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    y[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = (j === c ? 4 : 0) + rng.normal(0, 0.5);
  }
  return { x: new FeatureMatrix(n, d, data), y };
}

/** Plain-JS gradient of the one-vs-rest squared-hinge objective (see LinearSvm) at (W [d,k], b [k]). */
function svmGradient(
  x: FeatureMatrix,
  y: Int32Array,
  W: number[],
  b: number[],
  k: number,
  C: number,
  cw: number[],
  penalizeBias = false,
): number[] {
  const { rows: n, cols: d, data } = x;
  const gW = W.map((w) => w / (C * n));
  const gb = b.map((v) => (penalizeBias ? v / (C * n) : 0));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = b[c];
      for (let j = 0; j < d; j++) s += data[i * d + j] * W[j * k + c];
      const t = y[i] === c ? 1 : -1;
      const h = Math.max(0, 1 - t * s);
      const g = (cw[y[i]] * 2 * h * -t) / n;
      for (let j = 0; j < d; j++) gW[j * k + c] += g * data[i * d + j];
      gb[c] += g;
    }
  }
  return [...gW, ...gb];
}

describe('LinearSvm (tfjs, one-vs-rest squared hinge)', () => {
  it('separates separable classes, full batch and mini-batch', async () => {
    const { x, y } = blobs(60, 3, 4, 1);
    const full = new LinearSvm({ C: 1 });
    const rep = await full.fit(x, y);
    expect(rep.iterations).toBeGreaterThan(0);
    expect(accuracy(y, await full.predict(x))).toBe(1);
    const mini = new LinearSvm({ C: 1, batchSize: 16, epochs: 15 });
    await mini.fit(x.toTensor(), Array.from(y));
    expect(accuracy(y, await mini.predict(x))).toBe(1);
    full.dispose();
    mini.dispose();
  });

  for (const [solver, extra, bound] of [
    ['newton', {}, 1e-4],
    ['lbfgs', {}, 1e-3],
    ['adam', { epochs: 3000, learningRate: 0.02 }, 2e-2],
  ] as const) {
    it(`reaches a stationary point of the objective it documents (plain-JS gradient), class weights included: ${solver}`, async () => {
      const { x, y } = blobs(30, 3, 3, 2);
      // Overlap the classes a little so that the hinge is active.
      for (let i = 0; i < x.data.length; i++) x.data[i] *= 0.3;
      const cw = [1, 2, 0.5];
      const svm = new LinearSvm({ C: 0.5, classWeight: cw, tol: 0, solver, ...extra });
      await svm.fit(x, y);
      const saved = await svm.save();
      const W = saved.state.weights as number[];
      const b = saved.state.bias as number[];
      const g = svmGradient(x, y, W, b, 3, 0.5, cw);
      const g0 = svmGradient(x, y, new Array(9).fill(0), [0, 0, 0], 3, 0.5, cw);
      const norm = (v: number[]) => Math.hypot(...v);
      expect(norm(g) / norm(g0)).toBeLessThan(bound);
      svm.dispose();
    });
  }

  it("newton (the default): stops at liblinear's rule ||g_k|| <= tol ||g_k(0)|| per class, reports the plain-JS objective, agrees with L-BFGS", async () => {
    const { x, y } = blobs(40, 3, 4, 7);
    for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i] * 0.4 + 1.5; // overlap and an offset
    const cw = [1, 2, 0.5];
    const k = 3;
    const d = 4;
    /** Plain-JS objective (divided by C N, as documented) and per-class gradient norms at (W, b). */
    const oracle = (W: number[], b: number[], C: number) => {
      const n = x.rows;
      let f = W.reduce((a, w) => a + w * w, 0) / (2 * C * n);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          let s = b[c];
          for (let j = 0; j < d; j++) s += x.data[i * d + j] * W[j * k + c];
          f += (cw[y[i]] * Math.max(0, 1 - (y[i] === c ? 1 : -1) * s) ** 2) / n;
        }
      }
      const g = svmGradient(x, y, W, b, k, C, cw);
      const perClass = [0, 1, 2].map((c) =>
        Math.hypot(...g.filter((_, i) => (i < d * k ? i % k === c : i - d * k === c))),
      );
      return { f, perClass };
    };
    const zero = oracle(new Array(d * k).fill(0), [0, 0, 0], 2);
    const train = async (options: ConstructorParameters<typeof LinearSvm>[0]) => {
      const svm = new LinearSvm({ C: 2, classWeight: cw, ...options });
      const rep = await svm.fit(x, y);
      const saved = await svm.save();
      svm.dispose();
      const W = saved.state.weights as number[];
      const b = saved.state.bias as number[];
      return { rep, W, b, ...oracle(W, b, 2) };
    };
    const loose = await train({ tol: 0.05 });
    const strict = await train({});
    for (const [r, tol] of [
      [loose, 0.05],
      [strict, 1e-3],
    ] as const) {
      for (let c = 0; c < k; c++) expect(r.perClass[c] / zero.perClass[c]).toBeLessThanOrEqual(tol * 1.05);
      expect(Math.abs(r.rep.loss - r.f)).toBeLessThan(1e-5 * Math.max(1, r.f));
    }
    expect(loose.rep.iterations).toBeLessThan(strict.rep.iterations);
    expect(loose.f).toBeGreaterThanOrEqual(strict.f - 1e-7);
    // Run to float32 precision (tol 0), Newton reaches the minimum L-BFGS reaches; a relative-gradient stop leaves an
    // objective gap on this ill-conditioned problem (offset features, free bias), smaller the smaller tol.
    const tight = await train({ tol: 0 });
    const lbfgs = await train({ solver: 'lbfgs', tol: 0 });
    expect(Math.abs(tight.f - lbfgs.f)).toBeLessThan(1e-4 * lbfgs.f);
    expect(strict.f).toBeGreaterThanOrEqual(tight.f - 1e-7);
    // maxIterations (epochs) caps the Newton iterations.
    expect((await train({ epochs: 1, tol: 0 })).rep.iterations).toBe(1);
  });

  it('newton: rejected for SoftmaxRegression and on bad options; leaks nothing, also when the labels are bad', async () => {
    expect(() => new SoftmaxRegression({ solver: 'newton' as 'lbfgs' })).toThrow(InvalidArgumentError);
    expect(() => new SoftmaxRegression({ solver: 'newton' as 'lbfgs' })).toThrow(/options\.solver/);
    expect(() => new LinearSvm({ solver: 'tron' as 'newton' })).toThrow(/options\.solver.*tron/s);
    expect(() => new LinearSvm({ tol: -1 })).toThrow(/options\.tol/);
    const { x, y } = blobs(24, 3, 3, 4);
    const xt = x.toTensor();
    const svm = new LinearSvm({ solver: 'newton', penalizeBias: true, classWeight: 'balanced' });
    await expectNoLeak(() => svm.fit(xt, y).then(() => undefined));
    // Non-finite features: a typed error naming the method, the classifier left unfitted, nothing leaked.
    const nan = new FeatureMatrix(x.rows, x.cols, x.data.slice());
    nan.data[5] = Number.NaN;
    const fresh = new LinearSvm();
    await expectThrowsNoLeak(
      () => fresh.fit(nan, y),
      InvalidArgumentError,
      /LinearSvm\.fit.*finite features/s,
    );
    await expectThrowsNoLeak(() => fresh.predict(xt), InvalidArgumentError, /fitted classifier/);
    fresh.dispose();
    await expectThrowsNoLeak(
      () =>
        svm.fit(
          xt,
          new Array(24).fill(7).map((v, i) => (i === 3 ? -1 : v % 3)),
        ),
      InvalidArgumentError,
      /y\[3\]/,
    );
    svm.dispose();
    xt.dispose();
  });

  it('penalizeBias: a stationary point of 1/2 (||W||^2 + b^2) + C sum xi^2 (liblinear -B 1), with a shrunk bias', async () => {
    const { x, y } = blobs(30, 3, 3, 5);
    // A common offset: the free bias absorbs it, a penalised one cannot.
    for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i] * 0.3 + 3;
    const cw = [1, 1, 1];
    const svm = new LinearSvm({ C: 0.5, tol: 0, penalizeBias: true });
    await svm.fit(x, y);
    const saved = await svm.save();
    expect(saved.options.penalizeBias).toBe(true);
    const W = saved.state.weights as number[];
    const b = saved.state.bias as number[];
    const zero = svmGradient(x, y, new Array(9).fill(0), [0, 0, 0], 3, 0.5, cw, true);
    const norm = (v: number[]) => Math.hypot(...v);
    const penalised = norm(svmGradient(x, y, W, b, 3, 0.5, cw, true)) / norm(zero);
    expect(penalised).toBeLessThan(1e-3);
    // The penalty shrinks the bias against the free-bias fit of the same data.
    const freeSvm = new LinearSvm({ C: 0.5, tol: 0 });
    await freeSvm.fit(x, y);
    const bFree = (await freeSvm.save()).state.bias as number[];
    freeSvm.dispose();
    expect(norm(b)).toBeLessThan(0.9 * norm(bFree));
    const back = await loadClassifier(JSON.parse(JSON.stringify(saved)));
    expect((await back.save()).options.penalizeBias).toBe(true);
    back.dispose();
    svm.dispose();
    expect(() => new LinearSvm({ penalizeBias: 1 as unknown as boolean })).toThrow(
      /options\.penalizeBias.*LinearSvm/,
    );
  });

  it('saves to JSON and loads back with identical scores; leaks nothing', async () => {
    const { x, y } = blobs(24, 3, 4, 3);
    const svm = new LinearSvm({ epochs: 50 });
    const xt = x.toTensor();
    await expectNoLeak(() => svm.fit(xt, y).then(() => undefined));
    const s1 = await svm.predictScores(xt);
    const back = await loadClassifier(JSON.parse(JSON.stringify(await svm.save())));
    expect(back).toBeInstanceOf(LinearSvm);
    const s2 = await back.predictScores(x);
    expectClose(await values(s2), await values(s1), 1e-6);
    await expectNoLeak(() => svm.predictScores(xt));
    await expectNoLeak(() => svm.predict(xt).then(() => undefined));
    tf.dispose([s1, s2]);
    back.dispose();
    svm.dispose();
    await expectThrowsNoLeak(() => svm.predict(xt), DisposedError, /LinearSvm\.predictScores/);
    xt.dispose();
  });

  it('rejects bad labels, bad shapes and use before fit, without leaking', async () => {
    const { x } = blobs(6, 2, 3, 4);
    const xt = x.toTensor();
    const svm = new LinearSvm();
    await expectThrowsNoLeak(() => svm.predict(xt), InvalidArgumentError, /fitted classifier/);
    await expectThrowsNoLeak(() => svm.fit(xt, [0, 1, 0]), ShapeMismatchError, /6 labels/);
    await expectThrowsNoLeak(() => svm.fit(xt, [0, 1, 0, 1, 0, 1.5]), InvalidArgumentError, /y\[5\]/);
    await expectThrowsNoLeak(
      () => new LinearSvm({ numClasses: 2 }).fit(xt, [0, 1, 2, 0, 1, 0]),
      InvalidArgumentError,
      /\[0, 1\]/,
    );
    expect(() => new LinearSvm({ C: 0 })).toThrow(/options\.C/);
    await svm.fit(xt, [0, 1, 0, 1, 0, 1]);
    const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
    await expectThrowsNoLeak(() => svm.predictScores(wrong), ShapeMismatchError, /\[\*, 3\]/);
    tf.dispose([xt, wrong]);
    svm.dispose();
  });
});

describe('SoftmaxRegression (tfjs)', () => {
  it('separates separable classes and gives probabilities', async () => {
    const { x, y } = blobs(45, 3, 5, 5);
    const lr = new SoftmaxRegression({ l2: 1e-3, epochs: 200 });
    await lr.fit(x, y);
    expect(accuracy(y, await lr.predict(x))).toBe(1);
    const p = await lr.predictScores(x);
    const sums = await values(tf.sum(p, 1));
    expectClose(sums, new Array(45).fill(1), 1e-5);
    const back = await loadClassifier(await lr.save());
    expect(back.kind).toBe('softmax');
    const p2 = await back.predictScores(x);
    expectClose(await values(p2), await values(p), 1e-6);
    tf.dispose([p, p2]);
    lr.dispose();
    back.dispose();
  });
});

describe('ml-svm adapter (one-vs-rest over two-class SMO)', () => {
  it('agrees with the tfjs LinearSvm on separable data', async () => {
    const { x, y } = blobs(30, 3, 4, 6);
    const test = blobs(30, 3, 4, 7);
    const ml = new MlSvmClassifier({ C: 1 });
    const rep = await ml.fit(x, y);
    expect(rep.iterations).toBeGreaterThan(0);
    const tfSvm = new LinearSvm({ C: 1 });
    await tfSvm.fit(x, y);
    const a = await ml.predict(test.x);
    const b = await tfSvm.predict(test.x);
    expect(accuracy(test.y, a)).toBe(1);
    expect(Array.from(a)).toEqual(Array.from(b));
    const scores = await ml.predictScores(test.x);
    expect(scores.shape).toEqual([30, 3]);
    const back = await loadClassifier(JSON.parse(JSON.stringify(await ml.save())));
    expect(Array.from(await back.predict(test.x))).toEqual(Array.from(a));
    tf.dispose(scores);
    tfSvm.dispose();
    ml.dispose();
    await expect(ml.predict(test.x)).rejects.toThrow(DisposedError);
  });

  it('exposes kernels: an rbf SVM fits XOR, which no linear classifier can', async () => {
    const pts = [
      [0, 0],
      [1, 1],
      [0, 1],
      [1, 0],
      [0.1, 0.1],
      [0.9, 0.9],
      [0.1, 0.9],
      [0.9, 0.1],
    ];
    const y = [0, 0, 1, 1, 0, 0, 1, 1];
    const rbf = new MlSvmClassifier({ kernel: 'rbf', kernelOptions: { sigma: 0.5 }, C: 10 });
    await rbf.fit(pts, y);
    expect(accuracy(y, await rbf.predict(pts))).toBe(1);
    const lin = new LinearSvm({ epochs: 200 });
    await lin.fit(pts, y);
    expect(accuracy(y, await lin.predict(pts))).toBeLessThan(1);
    lin.dispose();
    expect(() => new MlSvmClassifier({ kernel: 'quantum' as never })).toThrow(/options\.kernel/);
  });
});
