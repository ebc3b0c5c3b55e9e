import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { combineKL, InvalidArgumentError, Rng, ShapeMismatchError } from '../../src/index.js';
import { dustbinMatrix } from '../../src/internal.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

function randomDist(rng: Rng, n: number, sharp = 1): number[] {
  const w = Array.from({ length: n }, () => Math.exp(sharp * rng.normal()));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/** Eq. 5 in plain JS (float64): KL(pg, q) + sum_m KL(pm, q projected onto S_m + dustbin). */
function objective(q: number[], pg: number[], specs: { p: number[]; classes: number[] }[]): number {
  let f = 0;
  for (let c = 0; c < q.length; c++) if (pg[c] > 0) f += pg[c] * Math.log(pg[c] / q[c]);
  for (const { p, classes } of specs) {
    let inside = 0;
    classes.forEach((c, j) => {
      f += p[j] * Math.log(p[j] / q[c]);
      inside += q[c];
    });
    const d = p[classes.length];
    f += d * Math.log(d / (1 - inside));
  }
  return f;
}

/** Brute force: plain gradient descent on z with central finite differences, in float64. */
function bruteForce(pg: number[], specs: { p: number[]; classes: number[] }[]): number[] {
  const n = pg.length;
  const z = pg.map(Math.log);
  const soft = (v: number[]) => {
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };
  const h = 1e-6;
  for (let it = 0; it < 1500; it++) {
    const g = new Array<number>(n);
    for (let k = 0; k < n; k++) {
      const zp = [...z];
      const zm = [...z];
      zp[k] += h;
      zm[k] -= h;
      g[k] = (objective(soft(zp), pg, specs) - objective(soft(zm), pg, specs)) / (2 * h);
    }
    for (let k = 0; k < n; k++) z[k] -= (1.5 * g[k]) / (1 + specs.length);
  }
  return soft(z);
}

describe('dustbinMatrix', () => {
  it('projects q onto the subset classes in the order given and puts the mass outside S into the dustbin', async () => {
    // Column j is class classes[j]: [3, 1] puts class 3 in column 0 (0.1.0 sorted the classes silently).
    const a = dustbinMatrix([3, 1], 5);
    expect(a.shape).toEqual([5, 3]);
    expect(await a.array()).toEqual([
      [0, 0, 1],
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
      [0, 0, 1],
    ]);
    const q = tf.tensor2d([
      [0.1, 0.2, 0.3, 0.15, 0.25],
      [0.5, 0.1, 0.1, 0.1, 0.2],
    ]);
    const proj = tf.matMul(q, a);
    const v = (await proj.array()) as number[][];
    expectClose(v[0], [0.15, 0.2, 0.65], 1e-6);
    expectClose(v[1], [0.1, 0.1, 0.8], 1e-6);
    expectClose(
      v.map((r) => r.reduce((s, x) => s + x, 0)),
      [1, 1],
      1e-6,
    );
    tf.dispose([a, q, proj]);
  });
});

describe('combineKL', () => {
  it('matches the closed form for one specialist', async () => {
    // With one specialist, q_c = (pg_c + pm_c) / 2 for c in S, and outside S q keeps pg's shape with total mass
    // (pg(outside) + pm_dustbin) / 2.
    const rng = new Rng(7);
    const n = 6;
    const classes = [1, 4];
    const rows = 5;
    const pg: number[][] = [];
    const pm: number[][] = [];
    const want: number[][] = [];
    for (let r = 0; r < rows; r++) {
      const g = randomDist(rng, n, 1.5);
      const m = randomDist(rng, 3, 1.5);
      pg.push(g);
      pm.push(m);
      const outside = 1 - g[1] - g[4];
      const mass = (outside + m[2]) / 2;
      want.push(
        g.map((v, c) => (c === 1 ? (v + m[0]) / 2 : c === 4 ? (v + m[1]) / 2 : (v / outside) * mass)),
      );
    }
    const g = tf.tensor2d(pg);
    const m = tf.tensor2d(pm);
    const active = tf.ones([rows, 1]) as tf.Tensor2D;
    const r = await combineKL(g, [{ probabilities: m, classes }], active, {
      tolerance: 1e-6,
      maxIterations: 2000,
    });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeLessThan(300);
    expectClose(await r.probabilities.data(), want.flat(), 2e-5);
    tf.dispose([g, m, active, r.probabilities]);
  });

  it("pairs a specialist's columns with its classes in the order given (classes [4, 1] = [1, 4] with columns swapped)", async () => {
    const rng = new Rng(11);
    const rows = 4;
    const pg = Array.from({ length: rows }, () => randomDist(rng, 6, 1.5));
    const pm = Array.from({ length: rows }, () => randomDist(rng, 3, 1.5));
    const g = tf.tensor2d(pg);
    const ascending = tf.tensor2d(pm);
    const swapped = tf.tensor2d(pm.map(([a, b, d]) => [b, a, d]));
    const active = tf.ones([rows, 1]) as tf.Tensor2D;
    const opts = { tolerance: 1e-6, maxIterations: 2000 };
    const r1 = await combineKL(g, [{ probabilities: ascending, classes: [1, 4] }], active, opts);
    const r2 = await combineKL(g, [{ probabilities: swapped, classes: [4, 1] }], active, opts);
    const want = bruteForce(pg[0], [{ p: pm[0], classes: [1, 4] }]);
    expectClose((await r2.probabilities.data()).slice(0, 6), want, 1e-4);
    expectClose(await r2.probabilities.data(), await r1.probabilities.data(), 1e-6);
    tf.dispose([g, ascending, swapped, active, r1.probabilities, r2.probabilities]);
  });

  it('matches a brute-force optimiser with two overlapping specialists', async () => {
    const rng = new Rng(3);
    const n = 5;
    const specsClasses = [
      [0, 2],
      [2, 3, 4],
    ];
    const rows = 3;
    const pg: number[][] = [];
    const p1: number[][] = [];
    const p2: number[][] = [];
    for (let r = 0; r < rows; r++) {
      pg.push(randomDist(rng, n, 1.2));
      p1.push(randomDist(rng, 3, 1.2));
      p2.push(randomDist(rng, 4, 1.2));
    }
    const g = tf.tensor2d(pg);
    const s1 = tf.tensor2d(p1);
    const s2 = tf.tensor2d(p2);
    // Row 2 has only the second specialist active.
    const active = tf.tensor2d([
      [1, 1],
      [1, 1],
      [0, 1],
    ]);
    const r = await combineKL(
      g,
      [
        { probabilities: s1, classes: specsClasses[0] },
        { probabilities: s2, classes: specsClasses[1] },
      ],
      active,
      { tolerance: 1e-6, maxIterations: 3000 },
    );
    const q = await r.probabilities.array();
    for (let row = 0; row < rows; row++) {
      const specs = [
        { p: p1[row], classes: specsClasses[0] },
        { p: p2[row], classes: specsClasses[1] },
      ].filter((_, m) => row < 2 || m === 1);
      const oracle = bruteForce(pg[row], specs);
      expectClose(q[row], oracle, 1e-4);
      // And it is (at least as good as) the optimum: no lower objective nearby.
      expect(objective(q[row], pg[row], specs)).toBeLessThanOrEqual(objective(oracle, pg[row], specs) + 1e-6);
      expectClose([q[row].reduce((a, b) => a + b, 0)], [1], 1e-5);
    }
    // Plain gradient descent on the logits (no preconditioner) reaches the same point.
    const plain = await combineKL(
      g,
      [
        { probabilities: s1, classes: specsClasses[0] },
        { probabilities: s2, classes: specsClasses[1] },
      ],
      active,
      { preconditioner: 'none', momentum: 0.8, tolerance: 1e-5, maxIterations: 8000 },
    );
    expect(plain.converged).toBe(true);
    expectClose(await plain.probabilities.data(), q.flat(), 2e-4);
    tf.dispose([g, s1, s2, active, r.probabilities, plain.probabilities]);
  });

  it('returns p_g when every specialist agrees with the generalist (all KL terms vanish at q = p_g)', async () => {
    const rng = new Rng(12);
    const n = 7;
    const sets = [
      [0, 1, 2],
      [2, 5],
      [6, 3, 4],
    ];
    const rows = 4;
    const pg = Array.from({ length: rows }, () => randomDist(rng, n, 2));
    // Each specialist reports exactly the generalist's projection: its classes in the order given, then the rest.
    const project = (p: number[], classes: number[]) => {
      const inside = classes.map((c) => p[c]);
      return [...inside, 1 - inside.reduce((a, b) => a + b, 0)];
    };
    const g = tf.tensor2d(pg);
    const specs = sets.map((c) => ({ probabilities: tf.tensor2d(pg.map((p) => project(p, c))), classes: c }));
    const active = tf.ones([rows, sets.length]) as tf.Tensor2D;
    const r = await combineKL(g, specs, active);
    expect(r.iterations).toBe(0);
    expectClose(await r.probabilities.data(), pg.flat(), 1e-5);
    tf.dispose([g, active, r.probabilities, ...specs.map((x) => x.probabilities)]);
  });

  it('returns the generalist distribution when no specialist is active', async () => {
    const g = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [0.05, 0.05, 0.9],
    ]);
    const s = tf.tensor2d([
      [0.1, 0.9],
      [0.99, 0.01],
    ]);
    const active = tf.zeros([2, 1]) as tf.Tensor2D;
    const r = await combineKL(g, [{ probabilities: s, classes: [0] }], active);
    expect(r.iterations).toBe(0);
    expectClose(await r.probabilities.data(), await g.data(), 1e-6);
    const none = await combineKL(g, [], tf.zeros([2, 0]) as tf.Tensor2D);
    expectClose(await none.probabilities.data(), await g.data(), 1e-6);
    tf.dispose([g, s, active, r.probabilities, none.probabilities]);
  });

  it('leaks no tensor, on success and on bad input', async () => {
    const g = tf.tensor2d([[0.5, 0.3, 0.2]]);
    const s = tf.tensor2d([[0.6, 0.4]]);
    const active = tf.ones([1, 1]) as tf.Tensor2D;
    await expectNoLeak(
      async () => (await combineKL(g, [{ probabilities: s, classes: [1] }], active)).probabilities,
    );
    await expectThrowsNoLeak(
      () => combineKL(g, [{ probabilities: s, classes: [1, 2] }], active),
      ShapeMismatchError,
      /specialists\[0\]\.probabilities.*shape \[1, 3\].*\[1, 2\]/,
    );
    await expectThrowsNoLeak(
      () => combineKL(g, [{ probabilities: s, classes: [5] }], active),
      InvalidArgumentError,
      /the generalist has 3 classes/,
    );
    const wrongActive = tf.ones([1, 2]) as tf.Tensor2D;
    await expectThrowsNoLeak(
      () => combineKL(g, [{ probabilities: s, classes: [1] }], wrongActive),
      ShapeMismatchError,
      /`active`/,
    );
    wrongActive.dispose();
    await expectThrowsNoLeak(
      () => combineKL(g, [{ probabilities: s, classes: [1] }], active, { momentum: 1 }),
      InvalidArgumentError,
      /momentum/,
    );
    expect(g.isDisposed || s.isDisposed || active.isDisposed).toBe(false);
    tf.dispose([g, s, active]);
  });
});
