/**
 * The specialists' combination rule (Hinton, Vinyals & Dean 2015, section 5.4, eq. 5): the full distribution q over
 * all classes minimises
 *
 *     KL(p_g, q) + sum_{m in A} KL(p_m, q_m)
 *
 * where p_g is the generalist's distribution, A the active specialists, p_m specialist m's distribution over its
 * classes S_m plus a dustbin, and q_m the projection of q onto them: q's probability of each class in S_m, and q's
 * total mass outside S_m for the dustbin. There is no closed form in general; as in the paper, q = softmax(z) and
 * gradient descent runs on the logits z, here for a whole batch at once on tfjs.
 *
 * @module
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { checkOptionKeys, checkOptions, checkTensor, knownKeys } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { withTracked } from '../core/memory.js';
import { validateClusters } from './clustering.js';
import { resolveCombineOptions } from './internal.js';

/**
 * The `[numClasses, |S| + 1]` 0/1 matrix that projects a distribution over all classes onto a specialist's outputs:
 * column `j < |S|` picks class `classes[j]` (in the order given), the last column sums every class outside S (the dustbin).
 * `q.matMul(dustbinMatrix(S, N))` is q_m of eq. 5; each of its rows sums to the row of q's total.
 *
 * @example
 * ```ts
 * const a = dustbinMatrix([1, 3], 4); // [[0,0,1],[1,0,0],[0,0,1],[0,1,0]]
 * ```
 */
export function dustbinMatrix(classes: readonly number[], numClasses: number): Tensor2D {
  const [set] = validateClusters('dustbinMatrix', [classes], numClasses);
  return tf.tensor2d(dustbinMatrixValues(set, numClasses), [numClasses, set.length + 1]);
}

function dustbinMatrixValues(classes: readonly number[], numClasses: number): Float32Array {
  const w = classes.length + 1;
  const v = new Float32Array(numClasses * w);
  const inS = new Map<number, number>();
  classes.forEach((c, j) => {
    inS.set(c, j);
  });
  for (let c = 0; c < numClasses; c++) v[c * w + (inS.get(c) ?? classes.length)] = 1;
  return v;
}

/** One specialist's output for the combination. */
export interface SpecialistDistribution {
  /** `[batch, |S| + 1]` probabilities: column `j` is class `classes[j]` (in the order given), then the dustbin; rows sum to 1. */
  probabilities: Tensor2D;
  /** The specialist's subset S (generalist class indices). */
  classes: readonly number[];
}

/** Options of {@link combineKL}. */
export interface CombineKLOptions {
  /** Maximum gradient steps. @default 500 */
  maxIterations?: number;
  /** Stop once every row's largest |d objective / d z| is below this. @default 1e-5 */
  tolerance?: number;
  /** Step size; each row's step is `learningRate / (1 + its number of active specialists)`. @default 1 */
  learningRate?: number;
  /** Momentum of the (heavy-ball) gradient descent, in [0, 1) (0.8 helps with `preconditioner: 'none'`). @default 0 */
  momentum?: number;
  /** Read the gradient's size back (a GPU sync) every this many steps. @default 10 */
  checkEvery?: number;
  /**
   * `'probability'` divides each logit's gradient by q (the diagonal of softmax's Fisher information, a
   * natural-gradient step, its direction clipped to [-1 / learningRate, 1 / learningRate] per logit), which moves
   * rare classes as fast as common ones;
   * `'none'` is plain gradient descent, slow when q has tiny entries.
   * @default 'probability'
   */
  preconditioner?: 'probability' | 'none';
}

/** What {@link combineKL} returns. The caller owns `probabilities`. */
export interface CombineKLResult {
  /** `[batch, numClasses]` combined distributions q (rows sum to 1). */
  probabilities: Tensor2D;
  /** Gradient steps taken. */
  iterations: number;
  /** Largest |d objective / d z| over the batch at the end. */
  maxGradient: number;
  /** Whether `maxGradient` fell below the tolerance. */
  converged: boolean;
}

const EPS = 1e-12;

/** The known keys of {@link CombineKLOptions}. */
const COMBINE_KL_OPTION_KEYS = knownKeys<CombineKLOptions>({
  maxIterations: true,
  tolerance: true,
  learningRate: true,
  momentum: true,
  checkEvery: true,
  preconditioner: true,
});

/**
 * Solves eq. 5 of Hinton et al. (2015) for a batch: minimises `KL(p_g, q) + sum_m active[b, m] KL(p_m, q_m)` over
 * q = softmax(z) by gradient descent on z, starting from z = log p_g (the exact answer when no specialist is
 * active). The gradient is analytic: with Q_m = q A_m (A_m from `dustbinMatrix`),
 *
 *     dL/dz = q * (1 + n_active - sum_m active_m (p_m / Q_m) A_m^T) - p_g
 *
 * and by default each logit's gradient is divided by q (a diagonal natural-gradient preconditioner): plain
 * gradient descent needs thousands of steps when some q_c are tiny, the preconditioned one tens. The objective is
 * convex in q, so both reach the same minimum. All specialists are handled with one concatenated projection
 * matrix, so a step costs two matmuls for the whole batch.
 *
 * @param generalist `[batch, numClasses]` generalist probabilities p_g
 * @param specialists each specialist's `[batch, |S_m| + 1]` probabilities and class set
 * @param active `[batch, specialists]` 1 where specialist m is active for row b, else 0
 * @example
 * ```ts
 * const { probabilities } = await combineKL(pg, [{ probabilities: pm, classes: [3, 5, 8] }], tf.ones([pg.shape[0], 1]));
 * ```
 */
export async function combineKL(
  generalist: Tensor2D,
  specialists: readonly SpecialistDistribution[],
  active: Tensor2D,
  options?: CombineKLOptions,
): Promise<CombineKLResult> {
  const fn = 'combineKL';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, COMBINE_KL_OPTION_KEYS);
  checkTensor(fn, 'generalist', generalist, { rank: 2 });
  const [batch, numClasses] = generalist.shape;
  if (!Array.isArray(specialists)) {
    throw new InvalidArgumentError(fn, 'specialists', 'an array of { probabilities, classes }', specialists);
  }
  const sets = specialists.length
    ? validateClusters(
        fn,
        specialists.map((s) => s?.classes as number[]),
        numClasses,
      )
    : [];
  specialists.forEach((s, m) => {
    checkTensor(fn, `specialists[${m}].probabilities`, s.probabilities, { rank: 2 });
    const want = [batch, sets[m].length + 1];
    if (s.probabilities.shape[0] !== want[0] || s.probabilities.shape[1] !== want[1]) {
      throw new ShapeMismatchError(
        fn,
        `specialists[${m}].probabilities`,
        `shape [${want.join(', ')}] (batch, |S| + 1 dustbin)`,
        s.probabilities.shape,
      );
    }
  });
  checkTensor(fn, 'active', active, { rank: 2 });
  if (active.shape[0] !== batch || active.shape[1] !== specialists.length) {
    throw new ShapeMismatchError(fn, 'active', `shape [${batch}, ${specialists.length}]`, active.shape);
  }
  const {
    maxIterations,
    tolerance,
    learningRate: lr,
    momentum,
    checkEvery,
    preconditioner,
  } = resolveCombineOptions(fn, opts);

  const logPg = tf.tidy(() => tf.log(tf.maximum(generalist, EPS)));
  if (specialists.length === 0) {
    const probabilities = tf.tidy(() => tf.softmax(logPg) as Tensor2D);
    logPg.dispose();
    return { probabilities, iterations: 0, maxGradient: 0, converged: true };
  }

  // Everything below is freed when the descent ends, by returning or throwing (the one ownership helper).
  return withTracked(async (track) => {
    track(logPg);
    // Concatenated projection A [N, D], its transpose, the stacked specialist targets masked by activity [B, D].
    const widths = sets.map((s) => s.length + 1);
    const total = widths.reduce((a, b) => a + b, 0);
    const aValues = new Float32Array(numClasses * total);
    const ownerValues = new Float32Array(specialists.length * total);
    let offset = 0;
    sets.forEach((s, m) => {
      const block = dustbinMatrixValues(s, numClasses);
      const w = widths[m];
      for (let c = 0; c < numClasses; c++)
        for (let j = 0; j < w; j++) aValues[c * total + offset + j] = block[c * w + j];
      for (let j = 0; j < w; j++) ownerValues[m * total + offset + j] = 1;
      offset += w;
    });
    const consts = tf.tidy(() => {
      const a = tf.tensor2d(aValues, [numClasses, total]);
      const at = tf.transpose(a) as Tensor2D;
      const owner = tf.tensor2d(ownerValues, [specialists.length, total]);
      const act = tf.cast(tf.greater(active, 0), 'float32') as Tensor2D;
      const mask = tf.matMul(act, owner);
      const target = tf.mul(
        mask,
        tf.concat(
          specialists.map((s) => s.probabilities),
          1,
        ),
      ) as Tensor2D;
      const nActive = tf.sum(act, 1, true);
      const onePlusN = tf.add(nActive, 1) as Tensor2D;
      const step = tf.div(lr, onePlusN) as Tensor2D;
      const pg = tf.cast(generalist, 'float32') as Tensor2D;
      return { a, at, target, onePlusN, step, pg };
    });
    track(Object.values(consts));
    const { a, at, target, onePlusN, step, pg } = consts;
    const gradient = (z: Tensor2D): { q: Tensor2D; g: Tensor2D } =>
      tf.tidy(() => {
        const q = tf.softmax(z) as Tensor2D;
        const projected = tf.maximum(tf.matMul(q, a), EPS);
        const ratio = tf.div(target, projected);
        const g = tf.sub(tf.mul(q, tf.sub(onePlusN, tf.matMul(ratio, at))), pg) as Tensor2D;
        return { q, g };
      });

    let z = tf.clone(logPg) as Tensor2D;
    let velocity = tf.zerosLike(z) as Tensor2D;
    let iterations = 0;
    let maxGradient = Infinity;
    try {
      for (;;) {
        const check = iterations % checkEvery === 0 || iterations === maxIterations;
        const { q, g } = gradient(z);
        if (check) {
          const m = tf.tidy(() => tf.max(tf.abs(g)));
          maxGradient = (await m.data())[0];
          m.dispose();
          if (maxGradient < tolerance || iterations >= maxIterations) {
            tf.dispose([q, g]);
            break;
          }
        }
        const next = tf.tidy(() => {
          const direction =
            preconditioner === 'none' ? g : tf.clipByValue(tf.div(g, tf.maximum(q, EPS)), -1 / lr, 1 / lr);
          const v = tf.sub(tf.mul(velocity, momentum), tf.mul(step, direction)) as Tensor2D;
          return { v, z: tf.add(z, v) as Tensor2D };
        });
        tf.dispose([q, g]);
        velocity.dispose();
        z.dispose();
        velocity = next.v;
        z = next.z;
        iterations++;
      }
      const probabilities = tf.tidy(() => tf.softmax(z) as Tensor2D);
      return { probabilities, iterations, maxGradient, converged: maxGradient < tolerance };
    } finally {
      z.dispose();
      velocity.dispose();
    }
  });
}
