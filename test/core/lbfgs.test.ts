import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from '../../src/core/lbfgs.js';
import { Rng } from '../../src/core/rng.js';
import { expectNoLeak } from '../helpers.js';

/** Solves the SPD system M z = v by Gaussian elimination (plain JS oracle). */
function solve(M: number[][], v: number[]): number[] {
  const n = v.length;
  const a = M.map((row, i) => [...row, v[i]]);
  for (let c = 0; c < n; c++) {
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let k = r + 1; k < n; k++) s -= a[r][k] * z[k];
    z[r] = s / a[r][r];
  }
  return z;
}

describe('minimizeLbfgs', () => {
  it('reaches the closed-form minimiser of a ridge least-squares problem over two variables (weights and bias)', async () => {
    const rng = new Rng(4);
    const rows = 30;
    const dim = 5;
    const A = Array.from({ length: rows }, () => Array.from({ length: dim }, () => rng.normal()));
    const y = A.map((r) => r.reduce((s, v, j) => s + v * (j - 2), 0) + 0.7 + 0.1 * rng.normal());
    const lam = 0.5;
    // Oracle: minimise 1/2 ||A w + b - y||^2 + lam/2 ||w||^2 over [w; b] (bias unpenalised): normal equations.
    const X = A.map((r) => [...r, 1]);
    const M = Array.from({ length: dim + 1 }, (_, i) =>
      Array.from(
        { length: dim + 1 },
        (_, j) => X.reduce((s, r) => s + r[i] * r[j], 0) + (i === j && i < dim ? lam : 0),
      ),
    );
    const v = Array.from({ length: dim + 1 }, (_, i) => X.reduce((s, r, k) => s + r[i] * y[k], 0));
    const want = solve(M, v);
    const At = tf.tensor2d(A);
    const yt = tf.tensor2d(y, [rows, 1]);
    const w = tf.variable(tf.zeros([dim, 1]));
    const b = tf.variable(tf.zeros([1]));
    const iters: number[] = [];
    const r = await minimizeLbfgs(
      ([wv, bv]) => {
        const res = tf.sub(tf.add(tf.matMul(At, wv as tf.Tensor2D), bv), yt);
        const f = tf.add(
          tf.mul(0.5, tf.sum(tf.square(res))),
          tf.mul(lam / 2, tf.sum(tf.square(wv))),
        ) as tf.Scalar;
        return { f, g: [tf.add(tf.matMul(At, res, true, false), tf.mul(lam, wv)), tf.sum(res, 0)] };
      },
      [w, b],
      { maxIterations: 100, tol: 1e-12, onIteration: (it) => iters.push(it) },
    );
    const got = [...(await w.data()), ...(await b.data())];
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 3);
    expect(r.iterations).toBeGreaterThan(1);
    expect(iters[0]).toBe(1);
    expect(iters.length).toBeLessThanOrEqual(r.iterations);
    tf.dispose([At, yt, w, b]);
  });

  it('minimises the Rosenbrock function to (1, 1), with a short memory too, and leaves no tensor behind', async () => {
    const rosen = ([p]: readonly tf.Tensor[]) => {
      const x = tf.slice(p, 0, 1);
      const y = tf.slice(p, 1, 1);
      const t = tf.sub(y, tf.square(x));
      const f = tf.sum(tf.add(tf.mul(100, tf.square(t)), tf.square(tf.sub(1, x)))) as tf.Scalar;
      const gx = tf.sub(tf.mul(-400, tf.mul(x, t)), tf.mul(2, tf.sub(1, x)));
      const gy = tf.mul(200, t);
      return { f, g: [tf.concat([gx, gy])] };
    };
    for (const memory of [10, 3]) {
      const p = tf.variable(tf.tensor1d([-1.2, 1]));
      const r = await minimizeLbfgs(rosen, [p], { maxIterations: 500, tol: 1e-14, memory });
      const [x, y] = await p.data();
      expect(x).toBeCloseTo(1, 2);
      expect(y).toBeCloseTo(1, 2);
      expect(r.loss).toBeLessThan(1e-4);
      p.dispose();
    }
    const p = tf.variable(tf.tensor1d([-1.2, 1]));
    await expectNoLeak(() => minimizeLbfgs(rosen, [p], { maxIterations: 20, tol: 0 }).then(() => undefined));
    p.dispose();
  });

  it('stops at once on a zero gradient (no descent direction) without moving the variables', async () => {
    const p = tf.variable(tf.tensor1d([2, -3]));
    const r = await minimizeLbfgs(() => ({ f: tf.scalar(1), g: [tf.zeros([2])] }), [p], {
      maxIterations: 10,
      tol: 0,
    });
    expect(r.iterations).toBe(0);
    expect(Array.from(await p.data())).toEqual([2, -3]);
    p.dispose();
  });
});
