/**
 * A truncated Newton solver for the one-vs-rest squared-hinge (L2-loss) linear SVM, all classes in one batched
 * problem: the solver {@link LinearSvm} uses by default (`solver: 'newton'`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';

/** The data of a one-vs-rest squared-hinge problem (the caller owns every tensor). */
export interface SquaredHingeProblem {
  /** Features `[N, D]`. */
  x: tf.Tensor2D;
  /** Targets t_ik: +1 where row i is of class k, -1 elsewhere, `[N, K]`. */
  t: tf.Tensor2D;
  /** Per-row weights sw_i (class weights), `[N]`. */
  sw: tf.Tensor1D;
  /** lambda of lambda/2 ||w_k||^2. */
  lambda: number;
  /** lambda_b of lambda_b/2 b_k^2 (0: a free bias). */
  biasLambda: number;
}

/** Options of {@link minimizeSquaredHinge}. */
export interface SquaredHingeNewtonOptions {
  /** Newton iterations at most. */
  maxIterations: number;
  /**
   * Stop class k when ||grad_k|| <= tol ||grad_k at W = 0, b = 0||, or when a step decreases f_k by less than float32
   * resolves (1e-7 relative; with tol 0 this is the only rule).
   */
  tol: number;
  /**
   * Conjugate-gradient iterations per Newton step at most.
   * @default 100
   */
  maxCgIterations?: number;
  /** Called after each Newton iteration with its 1-based number and the objective (summed over classes). */
  onIteration?: (iteration: number, f: number) => void;
  /**
   * Name for error messages.
   * @default 'minimizeSquaredHinge'
   */
  fn?: string;
}

/** What {@link minimizeSquaredHinge} returns. */
export interface SquaredHingeNewtonResult {
  /** Newton iterations run. */
  iterations: number;
  /** Conjugate-gradient iterations run, over all Newton iterations. */
  cgIterations: number;
  /** The objective summed over classes at the final W, b. */
  loss: number;
  /** Per class, ||grad_k|| / ||grad_k(0)|| at the final W, b. */
  relativeGradient: number[];
}

const CG_TOL = 0.1;
const C1 = 1e-4;
const MAX_HALVINGS = 20;
/** Relative decrease of f_k below which a class stops (about float32's epsilon). */
const FLOAT_RESOLUTION = 1e-7;

/**
 * Minimises, for every class k at once (one matmul serves all classes),
 *
 *   F_k(w_k, b_k) = lambda/2 ||w_k||^2 + lambda_b/2 b_k^2 + 1/N sum_i sw_i max(0, 1 - t_ik (x_i . w_k + b_k))^2
 *
 * by the finite Newton method of Keerthi & DeCoste (2005, "A modified finite Newton method for fast solution of
 * large scale linear SVMs", JMLR 6): the squared hinge is once differentiable with a piecewise-constant generalised
 * Hessian H_k = lambda I + 2/N X^T D_k X (D_k = sw_i on the rows with a positive hinge), so each Newton step
 * solves H_k d = -g_k by conjugate gradients from Hessian-vector products X^T (D_k (X v)) (two matmuls, all
 * classes together), truncated when ||r_k|| <= 0.1 ||g_k|| as in liblinear's TRON (Lin, Weng & Keerthi 2008,
 * JMLR 9), then a backtracking Armijo line search per class on precomputed X d (no matmul per trial step). Class k
 * stops when ||g_k|| <= tol ||g_k(0)||, liblinear's stopping rule (its `-s 2` default is tol = 0.01 min(pos,
 * neg) / N), g_k(0) being the gradient at the starting point (zero in `LinearSvm.fit`, as in liblinear). The bias is
 * solved as the weight of an extra feature column of ones. `W` `[D, K]` and `b` `[K]` are updated in place. Host
 * reads: 2K numbers per evaluation and per CG iteration, K per line-search trial. Leaves no tensor behind, also when
 * it throws an InvalidArgumentError for features whose objective at the start is not finite (NaN, Infinity).
 */
export async function minimizeSquaredHinge(
  problem: SquaredHingeProblem,
  W: tf.Variable,
  b: tf.Variable,
  options: SquaredHingeNewtonOptions,
): Promise<SquaredHingeNewtonResult> {
  const { x, t, sw, lambda: lam, biasLambda: lamB } = problem;
  const [n, dim] = x.shape;
  const k = t.shape[1];
  const maxCg = options.maxCgIterations ?? 100;
  // The bias as an extra feature of value 1 (its own penalty lambda_b): one matmul serves weights and bias.
  const [xa, xaT, lamV, sw2, sw1] = tf.tidy(() => {
    const a = tf.concat([x, tf.ones([n, 1])], 1);
    return [
      a,
      tf.transpose(a),
      tf.concat([tf.fill([dim, 1], lam), tf.fill([1, 1], lamB)]),
      tf.reshape(tf.mul(sw, 2 / n), [n, 1]),
      tf.reshape(tf.mul(sw, 1 / n), [n, 1]),
    ];
  }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  let w = tf.tidy(() => tf.concat([W, tf.reshape(b, [1, k])])) as tf.Tensor2D;
  /** Per-class objective `[K]`, gradient `[D + 1, K]`, scores and the generalised Hessian's row weights at w. */
  const evaluate = (wa: tf.Tensor2D) =>
    tf.tidy(() => {
      const s = tf.matMul(xa, wa);
      const h = tf.relu(tf.sub(1, tf.mul(t, s)));
      const h2 = tf.square(h);
      const f = tf.add(tf.mul(0.5, tf.sum(tf.mul(lamV, tf.square(wa)), 0)), tf.sum(tf.mul(h2, sw1), 0));
      const g = tf.add(tf.matMul(xaT, tf.neg(tf.mul(tf.mul(t, h), sw2))), tf.mul(lamV, wa));
      // Generalised Hessian weights 2/N sw_i [h_ik > 0].
      const dH = tf.mul(tf.sign(h), sw2);
      // One read: the objective and the squared gradient norm per class.
      const fg = tf.concat([f, tf.sum(tf.square(g), 0)]);
      return { g, dH, s, h2, fg };
    });
  const release = (e: ReturnType<typeof evaluate>) => tf.dispose([e.g, e.dH, e.s, e.h2, e.fg]);
  let state = evaluate(w);
  let fg = await state.fg.data();
  const bad = fg.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    release(state);
    tf.dispose([w, xa, xaT, lamV, sw2, sw1]);
    throw new InvalidArgumentError(
      options.fn ?? 'minimizeSquaredHinge',
      'x',
      'finite features (the objective or its gradient at the start is not finite)',
      `${bad < k ? 'objective' : 'squared gradient norm'} ${fg[bad]} for class ${bad % k}`,
    );
  }
  const gg0 = Array.from(fg.subarray(k));
  let ggNow = gg0;
  let fNow = Array.from(fg.subarray(0, k));
  const target = gg0.map((g) => options.tol * options.tol * g);
  const active = gg0.map((g, j) => g > 0 && g > target[j]);
  let iterations = 0;
  let cgIterations = 0;
  try {
    while (iterations < options.maxIterations && active.some((a) => a)) {
      iterations++;
      const st = state;
      // Conjugate gradients on H d = -g per class; a class done (or inactive) keeps alpha = 0.
      let d = tf.zerosLike(st.g);
      let r = tf.tidy(() => tf.neg(tf.mul(st.g, tf.tensor1d(active.map((a) => (a ? 1 : 0))))));
      let p = tf.clone(r);
      let rr = tf.tidy(() => tf.sum(tf.square(r), 0));
      const cgStop = ggNow.map((g) => CG_TOL * CG_TOL * g);
      const cgActive = [...active];
      for (let c = 0; c < maxCg && cgActive.some((a) => a); c++) {
        cgIterations++;
        const m = tf.tensor1d(cgActive.map((a) => (a ? 1 : 0)));
        const next = tf.tidy(() => {
          const hp = tf.add(tf.matMul(xaT, tf.mul(tf.matMul(xa, p), st.dH)), tf.mul(lamV, p));
          const pHp = tf.sum(tf.mul(p, hp), 0);
          const alpha = tf.mul(m, tf.div(rr, tf.maximum(pHp, 1e-30)));
          const r2 = tf.sub(r, tf.mul(hp, alpha));
          const rr2 = tf.sum(tf.square(r2), 0);
          return {
            d2: tf.add(d, tf.mul(p, alpha)),
            r2,
            rr2,
            p2: tf.add(r2, tf.mul(p, tf.div(rr2, tf.maximum(rr, 1e-30)))),
            // One read per CG iteration: the residual norms and the curvatures, side by side.
            check: tf.concat([rr2, pHp]),
          };
        });
        tf.dispose([m, d, r, p, rr]);
        ({ d2: d, r2: r, p2: p, rr2: rr } = next);
        const check = await next.check.data();
        next.check.dispose();
        for (let j = 0; j < k; j++) {
          if (cgActive[j] && (check[j] <= cgStop[j] || !(check[k + j] > 0))) cgActive[j] = false;
        }
      }
      tf.dispose([r, p, rr]);
      // Line search per class on f_k(w + a d): the scores move along X d, the penalty by a closed form.
      const ls = tf.tidy(() => ({
        z: tf.matMul(xa, d),
        wd: tf.sum(tf.mul(lamV, tf.mul(w, d)), 0),
        dd: tf.sum(tf.mul(lamV, tf.square(d)), 0),
        gd: tf.sum(tf.mul(st.g, d), 0),
      }));
      const gd = await ls.gd.data();
      const step = active.map((a, j) => (a && gd[j] < 0 ? 1 : 0));
      const pending = step.map((v) => v > 0);
      const decrease = new Array<number>(k).fill(0);
      for (let h = 0; h < MAX_HALVINGS && pending.some((v) => v); h++) {
        const a = tf.tensor1d(step);
        // f(a) - f(0) with the data term summed as per-row differences (no cancellation between two large sums):
        // 1/N sum_i sw_i (h_ik(a)^2 - h_ik(0)^2) + a w.Lambda d + a^2/2 d.Lambda d.
        const deltaT = tf.tidy(() => {
          const ha = tf.square(tf.relu(tf.sub(1, tf.mul(t, tf.add(st.s, tf.mul(ls.z, a))))));
          return tf.add(
            tf.sum(tf.mul(tf.sub(ha, st.h2), sw1), 0),
            tf.add(tf.mul(a, ls.wd), tf.mul(tf.mul(tf.square(a), 0.5), ls.dd)),
          );
        });
        a.dispose();
        const delta = await deltaT.data();
        deltaT.dispose();
        for (let j = 0; j < k; j++) {
          if (!pending[j]) continue;
          if (Number.isFinite(delta[j]) && delta[j] <= C1 * step[j] * gd[j]) {
            pending[j] = false;
            decrease[j] = -delta[j];
          } else step[j] *= 0.5;
        }
      }
      for (let j = 0; j < k; j++) {
        // No acceptable step: this class is as good as float32 lets it get.
        if (pending[j] || step[j] === 0) {
          step[j] = 0;
          active[j] = false;
        }
        // A decrease below float32's resolution of f_k: take the step, then stop (tol 0 ends here).
        if (decrease[j] <= FLOAT_RESOLUTION * Math.abs(fNow[j])) active[j] = false;
      }
      const a = tf.tensor1d(step);
      const wNew = tf.tidy(() => tf.add(w, tf.mul(d, a))) as tf.Tensor2D;
      tf.dispose([a, d, w, ls.z, ls.wd, ls.dd, ls.gd]);
      w = wNew;
      release(st);
      state = evaluate(w);
      fg = await state.fg.data();
      fNow = Array.from(fg.subarray(0, k));
      ggNow = Array.from(fg.subarray(k));
      for (let j = 0; j < k; j++) if (active[j] && ggNow[j] <= target[j]) active[j] = false;
      options.onIteration?.(
        iterations,
        fNow.reduce((acc, v) => acc + v, 0),
      );
    }
    const [wNew, bNew] = tf.tidy(() => [
      tf.slice(w, [0, 0], [dim, k]),
      tf.reshape(tf.slice(w, [dim, 0], [1, k]), [k]),
    ]);
    W.assign(wNew);
    b.assign(bNew);
    tf.dispose([wNew, bNew]);
  } finally {
    release(state);
    tf.dispose([w, xa, xaT, lamV, sw2, sw1]);
  }
  return {
    iterations,
    cgIterations,
    loss: fNow.reduce((acc, v) => acc + v, 0),
    relativeGradient: ggNow.map((g, j) => (gg0[j] > 0 ? Math.sqrt(g / gg0[j]) : 0)),
  };
}
