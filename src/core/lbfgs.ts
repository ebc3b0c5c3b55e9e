/**
 * Full-batch L-BFGS over a list of tfjs variables (Nocedal & Wright 2006, "Numerical Optimization", Alg. 7.4: the
 * two-loop recursion over the last `memory` pairs (s, y) with the initial scaling gamma = s.y / y.y (Eq. 7.20);
 * Alg. 3.1: backtracking line search under the Armijo condition f(x + t d) <= f(x) + c1 t g.d). The linear
 * classifiers solve their convex objectives with it.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** The objective: its value and gradient (one tensor per variable, same shapes) at `params`. */
export type LbfgsObjective = (params: readonly tf.Tensor[]) => { f: tf.Scalar; g: tf.Tensor[] };

/** Options of {@link minimizeLbfgs}. */
export interface LbfgsOptions {
  /** Iterations (accepted or failed line searches) at most. */
  maxIterations: number;
  /** Stop when |f_prev - f| <= tol * max(1, |f|). */
  tol: number;
  /**
   * Curvature pairs kept.
   * @default 10
   */
  memory?: number;
  /**
   * Armijo constant c1.
   * @default 1e-4
   */
  c1?: number;
  /**
   * Halvings of the step before the line search gives up.
   * @default 30
   */
  maxLineSearch?: number;
  /** Called after each accepted step with its 1-based number and the objective's value. */
  onIteration?: (iteration: number, f: number) => void;
}

/** What {@link minimizeLbfgs} returns. */
export interface LbfgsResult {
  /** Iterations run. */
  iterations: number;
  /** The objective's value at the variables' final values. */
  loss: number;
}

async function read(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** sum_i <a_i, c_i>. */
function dot(a: readonly tf.Tensor[], c: readonly tf.Tensor[]): tf.Scalar {
  let acc = tf.sum(tf.mul(a[0], c[0]));
  for (let i = 1; i < a.length; i++) acc = tf.add(acc, tf.sum(tf.mul(a[i], c[i])));
  return acc as tf.Scalar;
}

/**
 * Minimises `objective` over `variables` (updated in place, by `assign`). Pairs with s.y <= 1e-10 are skipped (a
 * once-differentiable objective such as the squared hinge can give them); a direction that does not descend resets
 * the memory and follows the normalised gradient. The first step has unit length. Leaves no tensor behind.
 *
 * @example
 * ```ts
 * const w = tf.variable(tf.zeros([3]));
 * const target = tf.tensor1d([1, 2, 3]);
 * await minimizeLbfgs(([v]) => ({ f: tf.sum(tf.square(tf.sub(v, target))), g: [tf.mul(2, tf.sub(v, target))] }),
 *   [w], { maxIterations: 50, tol: 1e-9 });
 * ```
 */
export async function minimizeLbfgs(
  objective: LbfgsObjective,
  variables: readonly tf.Variable[],
  options: LbfgsOptions,
): Promise<LbfgsResult> {
  const memory = options.memory ?? 10;
  const c1 = options.c1 ?? 1e-4;
  const maxLineSearch = options.maxLineSearch ?? 30;
  const evalAt = (params: readonly tf.Tensor[]): { f: tf.Scalar; g: tf.Tensor[] } =>
    tf.tidy(() => objective(params));
  const history: { s: tf.Tensor[]; y: tf.Tensor[]; rho: number }[] = [];
  let { f: fT, g } = evalAt(variables);
  let f = await read(fT);
  let iterations = 0;
  try {
    for (let it = 0; it < options.maxIterations; it++) {
      // Direction d = -H g by the two-loop recursion.
      let d = tf.tidy(() => {
        let q = [...g];
        const alphas: tf.Scalar[] = [];
        for (let i = history.length - 1; i >= 0; i--) {
          const h = history[i];
          const a = tf.mul(h.rho, dot(h.s, q)) as tf.Scalar;
          alphas[i] = a;
          q = q.map((qi, j) => tf.sub(qi, tf.mul(a, h.y[j])));
        }
        let r: tf.Tensor[];
        if (history.length > 0) {
          const last = history[history.length - 1];
          const gamma = tf.div(dot(last.s, last.y), dot(last.y, last.y));
          r = q.map((qi) => tf.mul(gamma, qi));
        } else {
          // First step: scale so that the step has unit length.
          const norm = tf.sqrt(dot(g, g));
          r = q.map((qi) => tf.div(qi, norm));
        }
        for (let i = 0; i < history.length; i++) {
          const h = history[i];
          const beta = tf.mul(h.rho, dot(h.y, r));
          const coef = tf.sub(alphas[i], beta);
          r = r.map((ri, j) => tf.add(ri, tf.mul(coef, h.s[j])));
        }
        return r.map((ri) => tf.neg(ri));
      });
      let gd = await read(tf.tidy(() => dot(g, d)));
      if (!(gd < 0)) {
        // Not a descent direction: forget the curvature pairs and follow the gradient.
        for (const h of history) tf.dispose([...h.s, ...h.y]);
        history.length = 0;
        tf.dispose(d);
        d = tf.tidy(() => {
          const norm = tf.sqrt(dot(g, g));
          return g.map((gi) => tf.neg(tf.div(gi, norm)));
        });
        gd = await read(tf.tidy(() => dot(g, d)));
        if (!(gd < 0)) {
          tf.dispose(d);
          break;
        }
      }
      // Backtracking line search (Armijo).
      let t = 1;
      let accepted: { params: tf.Tensor[]; f: number; g: tf.Tensor[] } | undefined;
      for (let ls = 0; ls < maxLineSearch; ls++) {
        const params = tf.tidy(() => variables.map((v, j) => tf.add(v, tf.mul(t, d[j]))));
        const ev = evalAt(params);
        const fNew = await read(ev.f);
        if (Number.isFinite(fNew) && fNew <= f + c1 * t * gd) {
          accepted = { params, f: fNew, g: ev.g };
          break;
        }
        tf.dispose([...params, ...ev.g]);
        t *= 0.5;
      }
      iterations++;
      if (accepted === undefined) {
        tf.dispose(d);
        break;
      }
      const step = t;
      const s = tf.tidy(() => d.map((di) => tf.mul(step, di)));
      const yv = tf.tidy(() => accepted.g.map((gi, j) => tf.sub(gi, g[j])));
      tf.dispose(d);
      const sy = await read(tf.tidy(() => dot(s, yv)));
      if (sy > 1e-10) {
        history.push({ s, y: yv, rho: 1 / sy });
        if (history.length > memory) {
          const old = history.shift() as (typeof history)[number];
          tf.dispose([...old.s, ...old.y]);
        }
      } else {
        tf.dispose([...s, ...yv]);
      }
      variables.forEach((v, j) => {
        v.assign(accepted.params[j]);
      });
      tf.dispose([...accepted.params, ...g]);
      g = accepted.g;
      const prev = f;
      f = accepted.f;
      options.onIteration?.(it + 1, f);
      if (Math.abs(prev - f) <= options.tol * Math.max(1, Math.abs(f))) break;
    }
  } finally {
    tf.dispose(g);
    for (const h of history) tf.dispose([...h.s, ...h.y]);
  }
  return { iterations, loss: f };
}
