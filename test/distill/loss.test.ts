import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { weightedLoss, weightTargets } from '../../src/distill/loss.js';
import {
  checkProbabilities,
  DistillationLoss,
  distillationLoss,
  InvalidArgumentError,
  ShapeMismatchError,
  softmaxWithTemperature,
  softTargets,
} from '../../src/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';
import { hintonLoss, kl, matrix, softmaxT } from './oracle.js';

const Z = matrix(4, 5, 1);
const V = matrix(4, 5, 2);
const LABELS = [0, 3, 4, 1];

describe('softmaxWithTemperature and softTargets', () => {
  it('softens logits as exp(z/T) / sum exp(z/T) (eq. 1)', async () => {
    const z = tf.tensor2d(Z);
    for (const t of [1, 4, 20]) {
      const q = softmaxWithTemperature(z, t);
      expectClose(
        await values(q),
        Z.flatMap((r) => softmaxT(r, t)),
        1e-6,
      );
      q.dispose();
    }
    await expectNoLeak(() => softmaxWithTemperature(z, 3));
    await expectThrowsNoLeak(
      () => softmaxWithTemperature(z, 0),
      InvalidArgumentError,
      /temperature.*> 0.*Received: 0/,
    );
    z.dispose();
  });

  it('combines an ensemble by the arithmetic or the geometric mean (= softmax of the mean logits)', async () => {
    const a = tf.tensor2d(Z);
    const b = tf.tensor2d(V);
    const t = 3;
    const arith = softTargets([a, b], t);
    const expA = Z.flatMap((r, i) => softmaxT(r, t).map((p, j) => (p + softmaxT(V[i], t)[j]) / 2));
    expectClose(await values(arith), expA, 1e-6);
    const geo = softTargets([a, b], t, { combine: 'geometric' });
    const expG = Z.flatMap((r, i) => {
      const g = softmaxT(r, t).map((p, j) => Math.sqrt(p * softmaxT(V[i], t)[j]));
      const s = g.reduce((x, y) => x + y, 0);
      return g.map((x) => x / s);
    });
    expectClose(await values(geo), expG, 1e-6);
    const meanLogits = Z.flatMap((r, i) =>
      softmaxT(
        r.map((v, j) => (v + V[i][j]) / 2),
        t,
      ),
    );
    expectClose(await values(geo), meanLogits, 1e-6);
    // From probabilities at T = 1: the same soft targets as from the logits.
    const pa = tf.softmax(a);
    const fromProbs = softTargets(pa, t, { outputKind: 'probabilities' });
    expectClose(
      await values(fromProbs),
      Z.flatMap((r) => softmaxT(r, t)),
      1e-5,
    );
    await expectNoLeak(() => softTargets([a, b], t, { combine: 'geometric' }));
    const c = tf.zeros([4, 6]);
    await expectThrowsNoLeak(
      () => softTargets([a, c], t),
      ShapeMismatchError,
      /teacher\[1\].*\[4, 5\].*\[4, 6\]/,
    );
    await expectThrowsNoLeak(
      () => softTargets([a, b], t, { combine: 'harmonic' as never }),
      InvalidArgumentError,
      /combine.*"arithmetic", "geometric".*"harmonic"/,
    );
    tf.dispose([a, b, c, arith, geo, pa, fromProbs]);
  });

  it('rejects declared probabilities whose rows do not sum to 1', async () => {
    const bad = tf.tensor2d([
      [0.5, 0.5],
      [0.6, 0.3],
    ]);
    await expectThrowsNoLeak(
      () => checkProbabilities('myLoop', 'probs', bad),
      InvalidArgumentError,
      /row 1 sums to 0\.9/,
    );
    const neg = tf.tensor2d([[1.5, -0.5]]);
    await expectThrowsNoLeak(
      () => checkProbabilities('myLoop', 'probs', neg),
      InvalidArgumentError,
      /-0\.5 at row 0/,
    );
    const ok = tf.tensor2d([[0.25, 0.75]]);
    await checkProbabilities('myLoop', 'probs', ok);
    tf.dispose([bad, neg, ok]);
  });
});

describe('distillationLoss values', () => {
  it('is alpha T^2 soft + (1 - alpha) hard, summed over classes, with each reduction', async () => {
    const z = tf.tensor2d(Z);
    const v = tf.tensor2d(V);
    const y = tf.tensor1d(LABELS, 'int32');
    for (const form of ['cross-entropy', 'kl'] as const) {
      const per = Z.map((r, i) => hintonLoss(r, V[i], 4, 0.7, LABELS[i], form));
      const none = distillationLoss(z, v, {
        temperature: 4,
        alpha: 0.7,
        hardLabels: y,
        form,
        reduction: 'none',
      });
      expectClose(await values(none), per, 1e-4, 1e-5);
      const mean = distillationLoss(z, v, { temperature: 4, alpha: 0.7, hardLabels: y, form });
      expectClose(await values(mean), [per.reduce((a, b) => a + b) / 4], 1e-4, 1e-5);
      const sum = distillationLoss(z, v, {
        temperature: 4,
        alpha: 0.7,
        hardLabels: y,
        form,
        reduction: 'sum',
      });
      expectClose(await values(sum), [per.reduce((a, b) => a + b)], 1e-4, 1e-5);
      tf.dispose([none, mean, sum]);
    }
    // One-hot labels give the same as indices.
    const oh = tf.oneHot(y, 5);
    const a = distillationLoss(z, v, { temperature: 2, alpha: 0.5, hardLabels: y });
    const b = distillationLoss(z, v, { temperature: 2, alpha: 0.5, hardLabels: oh });
    expectClose(await values(a), await values(b), 1e-6);
    await expectNoLeak(() =>
      distillationLoss(z, v, { temperature: 4, alpha: 0.7, hardLabels: y, form: 'kl' }),
    );
    tf.dispose([z, v, y, oh, a, b]);
  });

  it('takes the teacher as logits, probabilities at T = 1 or soft targets at T, all alike', async () => {
    const z = tf.tensor2d(Z);
    const v = tf.tensor2d(V);
    const t = 5;
    const fromLogits = distillationLoss(z, v, { temperature: t, alpha: 1, form: 'kl' });
    const p = tf.softmax(v);
    const fromProbs = distillationLoss(z, p, {
      temperature: t,
      alpha: 1,
      form: 'kl',
      teacherInput: 'probabilities',
    });
    const q = softTargets(v, t);
    const fromSoft = distillationLoss(z, q, {
      temperature: t,
      alpha: 1,
      form: 'kl',
      teacherInput: 'soft-targets',
    });
    const expected = Z.reduce((s, r, i) => s + t * t * kl(r, softmaxT(V[i], t), t), 0) / 4;
    expectClose(await values(fromLogits), [expected], 1e-4, 1e-5);
    expectClose(await values(fromProbs), [expected], 1e-3, 1e-4);
    expectClose(await values(fromSoft), [expected], 1e-4, 1e-5);
    tf.dispose([z, v, p, q, fromLogits, fromProbs, fromSoft]);
  });

  it('equals the ordinary cross-entropy when the teacher is one-hot, alpha = 1 and T = 1', async () => {
    const z = tf.tensor2d(Z);
    const y = tf.tensor1d(LABELS, 'int32');
    const oneHot = tf.cast(tf.oneHot(y, 5), 'float32');
    const ce = Z.map((r, i) => -Math.log(softmaxT(r, 1)[LABELS[i]]));
    for (const teacherInput of ['probabilities', 'soft-targets'] as const) {
      for (const form of ['cross-entropy', 'kl'] as const) {
        const l = distillationLoss(z, oneHot, {
          temperature: 1,
          alpha: 1,
          teacherInput,
          form,
          reduction: 'none',
        });
        expectClose(await values(l), ce, 1e-5, 1e-5);
        l.dispose();
      }
    }
    // And the same as alpha = 0 (pure hard term) with those labels.
    const hard = distillationLoss(z, oneHot, { temperature: 7, alpha: 0, hardLabels: y, reduction: 'none' });
    expectClose(await values(hard), ce, 1e-5, 1e-5);
    tf.dispose([z, y, oneHot, hard]);
  });
});

/** Gradient of the loss (reduction 'sum') with respect to the student logits. */
function gradOf(z: tf.Tensor2D, v: tf.Tensor2D, opts: Parameters<typeof distillationLoss>[2]): tf.Tensor {
  return tf.grad((zz: tf.Tensor) => distillationLoss(zz, v, opts))(z);
}

describe('distillationLoss gradients', () => {
  it('has the gradient T (p - q) per example after the T^2 scaling, for both forms', async () => {
    const z = tf.tensor2d(Z);
    const v = tf.tensor2d(V);
    for (const t of [1, 2, 20]) {
      const expected = Z.flatMap((r, i) => {
        const p = softmaxT(r, t);
        const q = softmaxT(V[i], t);
        return p.map((pi, j) => t * (pi - q[j]));
      });
      for (const form of ['cross-entropy', 'kl'] as const) {
        const g = gradOf(z, v, { temperature: t, alpha: 1, form, reduction: 'sum' });
        expectClose(await values(g), expected, 1e-5, 1e-4);
        g.dispose();
      }
      // With 'mean' the batch of 4 divides it.
      const gm = gradOf(z, v, { temperature: t, alpha: 1, reduction: 'mean' });
      expectClose(
        await values(gm),
        expected.map((e) => e / 4),
        1e-5,
        1e-4,
      );
      gm.dispose();
    }
    tf.dispose([z, v]);
  });

  it('agrees with central finite differences of the loss itself (soft + hard)', async () => {
    const z0 = matrix(2, 4, 7);
    const v = tf.tensor2d(matrix(2, 4, 8));
    const y = tf.tensor1d([2, 0], 'int32');
    const opts = {
      temperature: 2.5,
      alpha: 0.6,
      hardLabels: y,
      reduction: 'sum' as const,
      form: 'kl' as const,
    };
    const z = tf.tensor2d(z0);
    const g = await values(tf.tidy(() => gradOf(z, v, opts)));
    const h = 1e-2;
    const fd: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 4; j++) {
        const at = (d: number) =>
          tf.tidy(() => {
            const zz = z0.map((r) => r.slice());
            zz[i][j] += d;
            return distillationLoss(tf.tensor2d(zz), v, opts).dataSync()[0];
          });
        fd.push((at(h) - at(-h)) / (2 * h));
      }
    }
    expectClose(g, fd, 2e-3, 1e-2);
    tf.dispose([z, v, y]);
  });

  it('tends to logit matching (1/(N T^2))(z - v) at high T for zero-mean logits (eq. 4)', async () => {
    const center = (m: number[][]) => m.map((r) => r.map((x) => x - r.reduce((a, b) => a + b) / r.length));
    const zc = center(Z);
    const vc = center(V);
    const z = tf.tensor2d(zc);
    const v = tf.tensor2d(vc);
    const n = 5;
    const relErr = async (t: number) => {
      // The unscaled soft term's gradient: the T^2-scaled one divided by T^2.
      const g = (
        await values(tf.tidy(() => gradOf(z, v, { temperature: t, alpha: 1, reduction: 'sum' })))
      ).map((x) => x / (t * t));
      const lm = zc.flatMap((r, i) => r.map((zi, j) => (zi - vc[i][j]) / (n * t * t)));
      const num = Math.hypot(...g.map((x, k) => x - lm[k]));
      return num / Math.hypot(...lm);
    };
    const e10 = await relErr(10);
    const e100 = await relErr(100);
    expect(e100).toBeLessThan(0.03);
    expect(e100).toBeLessThan(e10 / 5); // the correction shrinks like 1/T
    tf.dispose([z, v]);
  });
});

describe('the pre-weighted training-step loss', () => {
  it('equals distillationLoss with reduction mean, in value and gradient, for both forms and any alpha', async () => {
    const z = tf.tensor2d(Z);
    const q = softTargets(tf.tensor2d(V), 6);
    const y = tf.tensor1d(LABELS, 'int32');
    for (const form of ['cross-entropy', 'kl'] as const) {
      for (const alpha of [0, 0.3, 1]) {
        const cfg = { temperature: 6, alpha, form };
        const [a, b, ga, gb] = tf.tidy(() => {
          const w = weightTargets(q, tf.oneHot(y, 5), cfg, 4);
          const ref = (zz: tf.Tensor) =>
            distillationLoss(zz, q, { ...cfg, hardLabels: y, teacherInput: 'soft-targets' }) as tf.Scalar;
          const mine = (zz: tf.Tensor) => weightedLoss(zz, w, 6);
          return [mine(z), ref(z), tf.grad(mine)(z), tf.grad(ref)(z)];
        });
        expectClose(await values(a), await values(b), 1e-4, 1e-5);
        expectClose(await values(ga), await values(gb), 1e-6, 1e-4);
        tf.dispose([a, b, ga, gb]);
      }
    }
    tf.dispose([z, q, y]);
  });
});

describe('distillationLoss properties', () => {
  const logits = (k: number) =>
    fc.array(fc.double({ min: -6, max: 6, noNaN: true }), { minLength: k, maxLength: k });

  it('KL is >= 0, zero for equal distributions, and at least Pinsker bound 1/2 ||p - q||_1^2', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 6 })
          .chain((k) => fc.tuple(logits(k), logits(k), fc.double({ min: 0.5, max: 10, noNaN: true }))),
        ([z, v, t]) => {
          const [same, diff] = tf.tidy(() => {
            const zt = tf.tensor2d([z]);
            const vt = tf.tensor2d([v]);
            const opts = { temperature: t, alpha: 1, form: 'kl' as const };
            return [
              distillationLoss(zt, zt, opts).dataSync()[0],
              distillationLoss(zt, vt, opts).dataSync()[0],
            ];
          });
          const p = softmaxT(z, t);
          const q = softmaxT(v, t);
          const l1 = p.reduce((s, pi, i) => s + Math.abs(pi - q[i]), 0);
          // The loss is T^2 * KL; float32 rounding allows a tiny negative.
          expect(Math.abs(same)).toBeLessThan(1e-4 * t * t);
          expect(diff / (t * t)).toBeGreaterThanOrEqual(0.5 * l1 * l1 - 1e-4);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it('is invariant to adding a constant to either logit vector', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 6 })
          .chain((k) =>
            fc.tuple(
              logits(k),
              logits(k),
              fc.double({ min: -20, max: 20, noNaN: true }),
              fc.double({ min: -20, max: 20, noNaN: true }),
            ),
          ),
        fc.constantFrom('cross-entropy' as const, 'kl' as const),
        ([z, v, c1, c2], form) => {
          const [a, b] = tf.tidy(() => {
            const opts = { temperature: 3, alpha: 0.5, form, hardLabels: tf.tensor1d([0], 'int32') };
            const base = distillationLoss(tf.tensor2d([z]), tf.tensor2d([v]), opts).dataSync()[0];
            const shifted = distillationLoss(
              tf.tensor2d([z.map((x) => x + c1)]),
              tf.tensor2d([v.map((x) => x + c2)]),
              opts,
            ).dataSync()[0];
            return [base, shifted];
          });
          expect(Math.abs(a - b)).toBeLessThan(2e-3 * (1 + Math.abs(a)));
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });
});

describe('distillationLoss errors', () => {
  it('rejects bad T, alpha, class counts, batch sizes, missing labels, before allocating', async () => {
    const z = tf.zeros([3, 4]);
    const v = tf.zeros([3, 5]);
    const v3 = tf.zeros([2, 4]);
    const w = tf.zeros([3, 4]);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    const y2 = tf.tensor1d([0, 1], 'int32');
    const call =
      (o: object, teacher = w, student = z) =>
      () =>
        distillationLoss(student, teacher, { temperature: 2, hardLabels: y, ...o });
    await expectThrowsNoLeak(
      call({ temperature: 0 }),
      InvalidArgumentError,
      /`options.temperature`.*> 0.*Received: 0/,
    );
    await expectThrowsNoLeak(call({ temperature: -1 }), InvalidArgumentError, /Received: -1/);
    await expectThrowsNoLeak(
      call({ temperature: undefined }),
      InvalidArgumentError,
      /temperature.*undefined/,
    );
    await expectThrowsNoLeak(call({ alpha: 1.5 }), InvalidArgumentError, /alpha.*\[0, 1\].*1\.5/);
    await expectThrowsNoLeak(call({ alpha: -0.1 }), InvalidArgumentError, /alpha/);
    await expectThrowsNoLeak(
      call({}, v),
      ShapeMismatchError,
      /4 classes.*\[3, 4\].*Received: shape \[3, 5\]/,
    );
    await expectThrowsNoLeak(call({}, v3), ShapeMismatchError, /3 rows.*\[2, 4\]/);
    await expectThrowsNoLeak(
      call({ hardLabels: undefined, alpha: 0.5 }),
      InvalidArgumentError,
      /hardLabels.*alpha: 1/,
    );
    await expectThrowsNoLeak(call({ hardLabels: y2 }), ShapeMismatchError, /\[3\]/);
    await expectThrowsNoLeak(call({ form: 'mse' }), InvalidArgumentError, /form/);
    await expectThrowsNoLeak(
      call({ reduction: 'avg' }),
      InvalidArgumentError,
      /reduction.*"mean", "sum", "none"/,
    );
    await expectThrowsNoLeak(
      () => new DistillationLoss({ temperature: 0 }),
      InvalidArgumentError,
      /DistillationLoss/,
    );
    tf.dispose([z, v, v3, w, y, y2]);
  });
});
