/**
 * Linear classifiers on tfjs, the fast path for features: a one-vs-rest linear SVM with the squared hinge loss
 * (the L2-loss SVM of liblinear, which DeCAF and Razavian et al. train on CNN features) and softmax (multinomial
 * logistic) regression, both full-batch or mini-batch with Adam, L2 regularisation and class weights.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  isTensor,
} from '../core/checks.js';
import { DisposedError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import { LIMITS } from '../core/limits.js';
import { Rng } from '../core/rng.js';
import { type FeatureInput, toFeatureMatrix } from '../features/matrix.js';
import {
  argmaxRows,
  type ClassifierKind,
  type ClassWeight,
  classCount,
  classWeights,
  type FeatureClassifier,
  type FitOptions,
  type FitReport,
  type LabelInput,
  type SavedClassifier,
} from './types.js';

/**
 * Training options shared by the tfjs linear classifiers.
 *
 * @example
 * ```ts
 * const training: LinearTrainingOptions = { epochs: 20, batchSize: 128, learningRate: 0.01, seed: 1 };
 * ```
 */
export interface LinearTrainingOptions {
  /** Number of classes. @default max label + 1 */
  numClasses?: number;
  /** Per-class loss weights: `'balanced'` or one number per class. @default all 1 */
  classWeight?: ClassWeight;
  /** Full batch: most iterations (L-BFGS) or steps (Adam); with `batchSize`: passes over the data. @default 300 */
  epochs?: number;
  /** Mini-batch size (Adam); omit for full-batch optimisation. @default full batch */
  batchSize?: number;
  /** Full-batch optimiser: `'lbfgs'` (limited-memory BFGS, 10 pairs, backtracking Armijo line search; converges in
   * tens of iterations on these convex objectives) or `'adam'`. Mini-batches always use Adam. @default 'lbfgs' */
  solver?: 'lbfgs' | 'adam';
  /** Adam learning rate. @default 0.05 */
  learningRate?: number;
  /** Full batch: stop when the objective changes by less than `tol` (relative; per iteration for L-BFGS, over 10
   * steps for Adam). @default 1e-6 */
  tol?: number;
  /** Seed of the mini-batch order. @default 0 */
  seed?: number;
}

/**
 * Options of {@link LinearSvm}.
 *
 * @example
 * ```ts
 * new LinearSvm({ C: 10, classWeight: 'balanced' });
 * ```
 */
export interface LinearSvmOptions extends LinearTrainingOptions {
  /** Misclassification cost C of the primal 1/2 ||w||^2 + C sum xi^2 (larger: less regularisation). @default 1 */
  C?: number;
  /**
   * Regularise the bias like the weights: the primal becomes 1/2 (||w||^2 + b^2) + C sum xi^2, which is what
   * liblinear solves with `-B 1` (the bias as an extra feature of value 1). Off: the bias is free, as in the
   * textbook SVM. On features with a large common offset the free bias fits better; turn it on to reproduce
   * liblinear's numbers.
   * @default false
   */
  penalizeBias?: boolean;
}

/**
 * Options of {@link SoftmaxRegression}.
 *
 * @example
 * ```ts
 * new SoftmaxRegression({ l2: 1e-3, epochs: 200 });
 * ```
 */
export interface SoftmaxRegressionOptions extends LinearTrainingOptions {
  /** L2 penalty lambda/2 ||W||^2 added to the mean cross-entropy. @default 1e-4 */
  l2?: number;
}

abstract class TfLinearClassifier implements FeatureClassifier {
  /** Which classifier this is (the `kind` recorded by `save()`). */
  abstract readonly kind: ClassifierKind;
  /** Weight matrix `[D, K]` (feature dimension by class count); undefined until fitted or restored. */
  protected W: tf.Variable | undefined;
  /** Bias vector `[K]`; undefined until fitted or restored. */
  protected b: tf.Variable | undefined;
  /** The training options with their defaults filled in (saved with the weights). */
  protected readonly opts: Required<Omit<LinearTrainingOptions, 'numClasses' | 'classWeight' | 'batchSize'>> &
    Pick<LinearTrainingOptions, 'numClasses' | 'classWeight' | 'batchSize'>;
  private disposed = false;
  private k = 0;
  private d = 0;

  protected constructor(
    /** Name used in error messages (the concrete class name). */
    protected readonly fn: string,
    options: LinearTrainingOptions | undefined,
  ) {
    const o = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', o, [
      ...(fn === 'LinearSvm' ? ['C', 'penalizeBias'] : ['l2']),
      ...([
        'numClasses',
        'classWeight',
        'epochs',
        'batchSize',
        'solver',
        'learningRate',
        'tol',
        'seed',
      ] satisfies (keyof LinearTrainingOptions)[]),
    ]);
    this.opts = {
      numClasses: o.numClasses,
      classWeight: o.classWeight,
      epochs: o.epochs ?? 300,
      batchSize: o.batchSize,
      solver: o.solver ?? 'lbfgs',
      learningRate: o.learningRate ?? 0.05,
      tol: o.tol ?? 1e-6,
      seed: o.seed ?? 0,
    };
    if (o.numClasses !== undefined)
      checkInteger(fn, 'options.numClasses', o.numClasses, 2, LIMITS.maxClasses);
    checkInteger(fn, 'options.epochs', this.opts.epochs, 1);
    if (o.batchSize !== undefined) checkInteger(fn, 'options.batchSize', o.batchSize, 1);
    checkPositive(fn, 'options.learningRate', this.opts.learningRate);
    checkOneOf(fn, 'options.solver', this.opts.solver, ['lbfgs', 'adam'] as const);
    if (this.opts.tol !== 0) checkPositive(fn, 'options.tol', this.opts.tol);
    checkInteger(fn, 'options.seed', this.opts.seed);
    if (o.classWeight !== undefined && o.classWeight !== 'balanced' && !Array.isArray(o.classWeight)) {
      throw new InvalidArgumentError(
        fn,
        'options.classWeight',
        "'balanced' or an array of per-class weights",
        o.classWeight,
      );
    }
  }

  get numClasses(): number {
    return this.k;
  }

  get dim(): number {
    return this.d;
  }

  /**
   * The data term of the objective on a batch of B rows and its gradient with respect to the scores: `data` is the
   * mean over the batch of sw_i * loss_i(scores_i), `dS` is d(data)/d(scores) `[B, K]`.
   */
  protected abstract dataTerm(
    scores: tf.Tensor2D,
    oneHot: tf.Tensor2D,
    sw: tf.Tensor1D,
  ): {
    /** Mean over the batch of sw_i * loss_i(scores_i). */
    data: tf.Scalar;
    /** Gradient of `data` with respect to the scores, `[B, K]`. */
    dS: tf.Tensor2D;
  };
  /** lambda of the regulariser lambda/2 ||W||^2 for a training set of n rows. */
  protected abstract lambda(n: number): number;

  /** Weight of the bias's L2 penalty (lambda_b/2 ||b||^2); 0 = a free bias. */
  protected biasLambda(_n: number): number {
    return 0;
  }
  /** Scores from logits (identity for the SVM, softmax for the regression). */
  protected abstract scoresFromLogits(logits: tf.Tensor2D): tf.Tensor2D;
  /** Subclass-specific hyperparameters saved alongside the common options. */
  protected abstract extraOptions(): Record<string, unknown>;

  /** Throws a DisposedError naming `method` if the classifier has been disposed. */
  protected assertLive(method: string): void {
    if (this.disposed) throw new DisposedError(this.fn, method);
  }

  private assertFitted(method: string): void {
    this.assertLive(method);
    if (this.W === undefined) {
      throw new InvalidArgumentError(
        `${this.fn}.${method}`,
        'this',
        'a fitted classifier (call fit() or load() first)',
        'an unfitted classifier',
      );
    }
  }

  /** Features as a tensor, and whether this call owns it. */
  private async features(method: string, x: FeatureInput): Promise<{ t: tf.Tensor2D; owned: boolean }> {
    if (isTensor(x)) {
      if (x.rank !== 2)
        throw new ShapeMismatchError(`${this.fn}.${method}`, 'x', 'features of rank 2 [N, D]', x.shape);
      return { t: x as tf.Tensor2D, owned: false };
    }
    const fm = await toFeatureMatrix(`${this.fn}.${method}`, 'x', x);
    return { t: fm.toTensor(), owned: true };
  }

  async fit(x: FeatureInput, y: LabelInput, options: FitOptions = {}): Promise<FitReport> {
    this.assertLive('fit');
    const start = Date.now();
    const { t: xs, owned } = await this.features('fit', x);
    const owned2: tf.Tensor[] = [];
    let optimizer: tf.Optimizer | undefined;
    try {
      const [n, d] = xs.shape;
      if (n === 0) throw new InvalidArgumentError(`${this.fn}.fit`, 'x', 'at least one example', '0 rows');
      const labels = await readLabels(`${this.fn}.fit`, 'y', y, {
        count: n,
        numClasses: this.opts.numClasses,
      });
      const k = classCount(labels, this.opts.numClasses);
      const cw = classWeights(this.fn, this.opts.classWeight, labels, k);
      tf.dispose([this.W, this.b]);
      this.W = tf.tidy(() => tf.variable(tf.zeros([d, k]), true, undefined, 'float32'));
      this.b = tf.tidy(() => tf.variable(tf.zeros([k]), true, undefined, 'float32'));
      this.k = k;
      this.d = d;
      const yT = tf.tensor1d(labels, 'int32');
      const oneHot = tf.tidy(() => tf.cast(tf.oneHot(yT, k), 'float32')) as tf.Tensor2D;
      const sw = tf.tidy(() => tf.gather(tf.tensor1d(cw), yT)) as tf.Tensor1D;
      owned2.push(yT, oneHot, sw);
      optimizer = tf.train.adam(this.opts.learningRate);
      const W = this.W;
      const b = this.b;
      const lam = this.lambda(n);
      const lamB = this.biasLambda(n);
      const opt = optimizer;
      // Explicit gradients (no tape): dJ/dW = x^T dS + lambda W, dJ/db = sum_i dS_i, with x^T precomputed for the
      // full batch (a plain matmul is several times faster than a transposed one on some backends).
      const step = (xb: tf.Tensor2D, xbT: tf.Tensor2D, yb: tf.Tensor2D, wb: tf.Tensor1D): tf.Scalar => {
        const [cost, gW, gb] = tf.tidy(() => {
          const scores = tf.add(tf.matMul(xb, W), b) as tf.Tensor2D;
          const { data, dS } = this.dataTerm(scores, yb, wb);
          let total = lam > 0 ? tf.add(data, tf.mul(lam / 2, tf.sum(tf.square(W)))) : data;
          const gradW = lam > 0 ? tf.add(tf.matMul(xbT, dS), tf.mul(W, lam)) : tf.matMul(xbT, dS);
          let gradB = tf.sum(dS, 0);
          if (lamB > 0) {
            total = tf.add(total, tf.mul(lamB / 2, tf.sum(tf.square(b))));
            gradB = tf.add(gradB, tf.mul(b, lamB));
          }
          return [total, gradW, gradB];
        });
        opt.applyGradients({ [W.name]: gW, [b.name]: gb });
        tf.dispose([gW, gb]);
        return cost as tf.Scalar;
      };
      let loss = Number.NaN;
      let iterations = 0;
      const epochs = this.opts.epochs;
      const fullBatch = this.opts.batchSize === undefined || this.opts.batchSize >= n;
      if (fullBatch && this.opts.solver === 'lbfgs') {
        const xT = tf.transpose(xs) as tf.Tensor2D;
        owned2.push(xT);
        const r = await this.lbfgs(xs, xT, oneHot, sw, lam, lamB, options);
        iterations = r.iterations;
        loss = r.loss;
      } else if (fullBatch) {
        let prev = Number.POSITIVE_INFINITY;
        const xT = tf.transpose(xs) as tf.Tensor2D;
        owned2.push(xT);
        for (let e = 0; e < epochs; e++) {
          const cost = step(xs, xT, oneHot, sw);
          iterations++;
          if (e % 10 === 9 || e === epochs - 1) {
            loss = (await cost.data())[0];
            cost.dispose();
            options.onProgress?.({ phase: 'fit', done: e + 1, total: epochs, metrics: { loss } });
            if (Math.abs(prev - loss) <= this.opts.tol * Math.max(1, Math.abs(loss))) break;
            prev = loss;
          } else {
            cost.dispose();
          }
        }
      } else {
        const rng = new Rng(this.opts.seed);
        const bs = this.opts.batchSize as number;
        for (let e = 0; e < epochs; e++) {
          const order = rng.permutation(n);
          let sum = 0;
          let batches = 0;
          for (let s = 0; s < n; s += bs) {
            const idx = tf.tensor1d(order.slice(s, s + bs), 'int32');
            const [xb, xbT, yb, wb] = tf.tidy(() => {
              const rows = tf.gather(xs, idx);
              return [rows, tf.transpose(rows), tf.gather(oneHot, idx), tf.gather(sw, idx)];
            });
            const cost = step(xb as tf.Tensor2D, xbT as tf.Tensor2D, yb as tf.Tensor2D, wb as tf.Tensor1D);
            tf.dispose([idx, xb, xbT, yb, wb]);
            sum += (await cost.data())[0];
            cost.dispose();
            batches++;
            iterations++;
          }
          loss = sum / batches;
          options.onProgress?.({ phase: 'fit', done: e + 1, total: epochs, metrics: { loss } });
        }
      }
      return { iterations, loss, ms: Date.now() - start };
    } finally {
      if (owned) xs.dispose();
      tf.dispose(owned2);
      optimizer?.dispose();
    }
  }

  /**
   * Full-batch L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5: two-loop recursion over the last 10 pairs (s, y),
   * initial scaling gamma = s.y / y.y, backtracking line search with the Armijo condition c1 = 1e-4). Pairs with
   * s.y <= 0 are skipped (the squared hinge is only once differentiable). Updates this.W and this.b in place.
   */
  private async lbfgs(
    x: tf.Tensor2D,
    xT: tf.Tensor2D,
    oneHot: tf.Tensor2D,
    sw: tf.Tensor1D,
    lam: number,
    lamB: number,
    options: FitOptions,
  ): Promise<{ iterations: number; loss: number }> {
    const W = this.W as tf.Variable;
    const b = this.b as tf.Variable;
    type Pair = [tf.Tensor, tf.Tensor];
    const evalAt = (w: tf.Tensor, bias: tf.Tensor): { f: tf.Scalar; g: Pair } =>
      tf.tidy(() => {
        const scores = tf.add(tf.matMul(x, w), bias) as tf.Tensor2D;
        const { data, dS } = this.dataTerm(scores, oneHot, sw);
        let f = (lam > 0 ? tf.add(data, tf.mul(lam / 2, tf.sum(tf.square(w)))) : data) as tf.Scalar;
        const gW = lam > 0 ? tf.add(tf.matMul(xT, dS), tf.mul(w, lam)) : tf.matMul(xT, dS);
        let gB = tf.sum(dS, 0);
        if (lamB > 0) {
          f = tf.add(f, tf.mul(lamB / 2, tf.sum(tf.square(bias)))) as tf.Scalar;
          gB = tf.add(gB, tf.mul(bias, lamB));
        }
        return { f, g: [gW, gB] as Pair };
      });
    const dot = (a: Pair, c: Pair): tf.Scalar =>
      tf.add(tf.sum(tf.mul(a[0], c[0])), tf.sum(tf.mul(a[1], c[1])));
    const read = async (t: tf.Tensor): Promise<number> => {
      try {
        return (await t.data())[0];
      } finally {
        t.dispose();
      }
    };
    const history: { s: Pair; y: Pair; rho: number }[] = [];
    let { f: fT, g } = evalAt(W, b);
    let f = await read(fT);
    let iterations = 0;
    const maxIter = this.opts.epochs;
    try {
      for (let it = 0; it < maxIter; it++) {
        // Direction d = -H g by the two-loop recursion.
        const d = tf.tidy(() => {
          let q: Pair = [g[0], g[1]];
          const alphas: tf.Scalar[] = [];
          for (let i = history.length - 1; i >= 0; i--) {
            const h = history[i];
            const a = tf.mul(h.rho, dot(h.s, q)) as tf.Scalar;
            alphas[i] = a;
            q = [tf.sub(q[0], tf.mul(a, h.y[0])), tf.sub(q[1], tf.mul(a, h.y[1]))];
          }
          let r: Pair;
          if (history.length > 0) {
            const last = history[history.length - 1];
            const gamma = tf.div(dot(last.s, last.y), dot(last.y, last.y));
            r = [tf.mul(gamma, q[0]), tf.mul(gamma, q[1])];
          } else {
            // First step: scale so that the step has unit length.
            const norm = tf.sqrt(dot(g, g));
            r = [tf.div(q[0], norm), tf.div(q[1], norm)];
          }
          for (let i = 0; i < history.length; i++) {
            const h = history[i];
            const beta = tf.mul(h.rho, dot(h.y, r));
            const coef = tf.sub(alphas[i], beta);
            r = [tf.add(r[0], tf.mul(coef, h.s[0])), tf.add(r[1], tf.mul(coef, h.s[1]))];
          }
          return [tf.neg(r[0]), tf.neg(r[1])] as Pair;
        });
        let gd = await read(tf.tidy(() => dot(g, d)));
        if (!(gd < 0)) {
          // Not a descent direction: forget the curvature pairs and follow the gradient.
          for (const h of history) tf.dispose([...h.s, ...h.y]);
          history.length = 0;
          tf.dispose(d);
          const dd = tf.tidy(() => {
            const norm = tf.sqrt(dot(g, g));
            return [tf.neg(tf.div(g[0], norm)), tf.neg(tf.div(g[1], norm))] as Pair;
          });
          d[0] = dd[0];
          d[1] = dd[1];
          gd = await read(tf.tidy(() => dot(g, d)));
          if (!(gd < 0)) {
            tf.dispose(d);
            break;
          }
        }
        // Backtracking line search (Armijo).
        let t = 1;
        let accepted: { w: tf.Tensor; bias: tf.Tensor; f: number; g: Pair } | undefined;
        for (let ls = 0; ls < 30; ls++) {
          const [w, bias] = tf.tidy(() => [tf.add(W, tf.mul(t, d[0])), tf.add(b, tf.mul(t, d[1]))]);
          const ev = evalAt(w, bias);
          const fn = await read(ev.f);
          if (Number.isFinite(fn) && fn <= f + 1e-4 * t * gd) {
            accepted = { w, bias, f: fn, g: ev.g };
            break;
          }
          tf.dispose([w, bias, ...ev.g]);
          t *= 0.5;
        }
        iterations++;
        if (accepted === undefined) {
          tf.dispose(d);
          break;
        }
        const s: Pair = tf.tidy(() => [tf.mul(t, d[0]), tf.mul(t, d[1])] as Pair);
        const yv: Pair = tf.tidy(() => [tf.sub(accepted.g[0], g[0]), tf.sub(accepted.g[1], g[1])] as Pair);
        tf.dispose(d);
        const sy = await read(tf.tidy(() => dot(s, yv)));
        if (sy > 1e-10) {
          history.push({ s, y: yv, rho: 1 / sy });
          if (history.length > 10) {
            const old = history.shift() as (typeof history)[number];
            tf.dispose([...old.s, ...old.y]);
          }
        } else {
          tf.dispose([...s, ...yv]);
        }
        W.assign(accepted.w as tf.Tensor2D);
        b.assign(accepted.bias as tf.Tensor1D);
        tf.dispose([accepted.w, accepted.bias, ...g]);
        g = accepted.g;
        const prev = f;
        f = accepted.f;
        options.onProgress?.({ phase: 'fit', done: it + 1, total: maxIter, metrics: { loss: f } });
        if (Math.abs(prev - f) <= this.opts.tol * Math.max(1, Math.abs(f))) break;
      }
    } finally {
      tf.dispose(g);
      for (const h of history) tf.dispose([...h.s, ...h.y]);
    }
    return { iterations, loss: f };
  }

  async predictScores(x: FeatureInput): Promise<tf.Tensor2D> {
    this.assertFitted('predictScores');
    const { t, owned } = await this.features('predictScores', x);
    try {
      if (t.shape[1] !== this.d) {
        throw new ShapeMismatchError(
          `${this.fn}.predictScores`,
          'x',
          `features of shape [*, ${this.d}]`,
          t.shape,
        );
      }
      return tf.tidy(() =>
        this.scoresFromLogits(
          tf.add(tf.matMul(t, this.W as tf.Variable), this.b as tf.Variable) as tf.Tensor2D,
        ),
      );
    } finally {
      if (owned) t.dispose();
    }
  }

  async predict(x: FeatureInput): Promise<Int32Array> {
    const s = await this.predictScores(x);
    try {
      return argmaxRows(await s.data(), s.shape[0], s.shape[1]);
    } finally {
      s.dispose();
    }
  }

  async save(): Promise<SavedClassifier> {
    this.assertFitted('save');
    return {
      format: 'transferkit-classifier',
      version: 1,
      kind: this.kind,
      numClasses: this.k,
      dim: this.d,
      options: { ...this.opts, ...this.extraOptions() },
      state: {
        weights: Array.from(await (this.W as tf.Variable).data()),
        bias: Array.from(await (this.b as tf.Variable).data()),
      },
    };
  }

  /** Restores weights from a saved classifier of the same kind (used by the static `load`). */
  protected restore(saved: SavedClassifier): this {
    const st = saved.state as { weights?: number[]; bias?: number[] };
    const { numClasses: k, dim: d } = saved;
    if (
      !Number.isInteger(k) ||
      !Number.isInteger(d) ||
      !Array.isArray(st.weights) ||
      !Array.isArray(st.bias) ||
      st.weights.length !== d * k ||
      st.bias.length !== k
    ) {
      throw new InvalidArgumentError(
        `${this.fn}.load`,
        'saved',
        `a saved ${this.kind} with ${d} x ${k} weights and ${k} biases`,
        saved,
      );
    }
    for (const [name, values] of [
      ['weights', st.weights],
      ['bias', st.bias],
    ] as const) {
      const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad >= 0) {
        throw new InvalidArgumentError(
          `${this.fn}.load`,
          `saved.state.${name}[${bad}]`,
          'a finite number',
          values[bad],
        );
      }
    }
    this.W = tf.tidy(() =>
      tf.variable(tf.tensor2d(st.weights as number[], [d, k]), true, undefined, 'float32'),
    );
    this.b = tf.tidy(() => tf.variable(tf.tensor1d(st.bias as number[]), true, undefined, 'float32'));
    this.k = k;
    this.d = d;
    return this;
  }

  dispose(): void {
    tf.dispose([this.W, this.b]);
    this.W = undefined;
    this.b = undefined;
    this.disposed = true;
  }
}

function checkSaved(fn: string, saved: unknown, kind: ClassifierKind): SavedClassifier {
  const s = saved as SavedClassifier;
  if (typeof s !== 'object' || s === null || s.format !== 'transferkit-classifier' || s.kind !== kind) {
    throw new InvalidArgumentError(fn, 'saved', `a saved classifier of kind '${kind}'`, s?.kind ?? saved);
  }
  if (s.version !== 1) throw new InvalidArgumentError(fn, 'saved.version', 'version 1', s.version);
  checkInteger(fn, 'saved.numClasses', s.numClasses, 2, LIMITS.maxClasses);
  checkInteger(fn, 'saved.dim', s.dim, 1, LIMITS.maxFeatureDim);
  if (
    s.options !== undefined &&
    (typeof s.options !== 'object' || s.options === null || Array.isArray(s.options))
  ) {
    throw new InvalidArgumentError(fn, 'saved.options', 'an options object', s.options);
  }
  if (typeof s.state !== 'object' || s.state === null) {
    throw new InvalidArgumentError(fn, 'saved.state', 'the saved state object', s.state);
  }
  return s;
}

/**
 * One-vs-rest linear SVM with the squared hinge loss, on tfjs. For classes k = 1..K it minimises (divided by
 * C N, which leaves the minimiser unchanged)
 *
 *   1/2 ||w_k||^2 + C sum_i c_{y_i} max(0, 1 - t_ik (w_k . x_i + b_k))^2,   t_ik = +1 if y_i = k else -1
 *
 * (the L2-loss SVM of liblinear; the bias is not regularised), all classes at once with Adam. Scores are the
 * margins w_k . x + b_k. This is the classifier DeCAF (Donahue et al. 2014) and Razavian et al. (2014) put on
 * CNN features.
 *
 * @example
 * ```ts
 * const svm = new LinearSvm({ C: 1, classWeight: 'balanced' });
 * await svm.fit(features, labels);
 * const acc = accuracy(testLabels, await svm.predict(testFeatures));
 * ```
 */
export class LinearSvm extends TfLinearClassifier {
  /** Always `'linear-svm'`. */
  readonly kind = 'linear-svm' as const;
  private readonly C: number;
  private readonly penalizeBias: boolean;

  constructor(options: LinearSvmOptions = {}) {
    super('LinearSvm', options);
    this.C = options.C ?? 1;
    checkPositive('LinearSvm', 'options.C', this.C);
    this.penalizeBias = options.penalizeBias ?? false;
    if (typeof this.penalizeBias !== 'boolean') {
      throw new InvalidArgumentError('LinearSvm', 'options.penalizeBias', 'a boolean', this.penalizeBias);
    }
  }

  protected dataTerm(
    scores: tf.Tensor2D,
    oneHot: tf.Tensor2D,
    sw: tf.Tensor1D,
  ): {
    /** Mean over the batch of sw_i * loss_i(scores_i). */
    data: tf.Scalar;
    /** Gradient of `data` with respect to the scores, `[B, K]`. */
    dS: tf.Tensor2D;
  } {
    // t = +1 for the true class, -1 otherwise; h = max(0, 1 - t s); loss_i = sum_k h_ik^2.
    const t = tf.sub(tf.mul(oneHot, 2), 1);
    const h = tf.relu(tf.sub(1, tf.mul(t, scores)));
    const data = tf.mean(tf.mul(tf.sum(tf.square(h), 1), sw)) as tf.Scalar;
    const rows = scores.shape[0];
    const dS = tf.mul(tf.mul(t, h), tf.reshape(tf.mul(sw, -2 / rows), [rows, 1])) as tf.Tensor2D;
    return { data, dS };
  }

  protected lambda(n: number): number {
    return 1 / (this.C * n);
  }

  /** liblinear's `-B 1`: the bias regularised like the weights, when `penalizeBias`. */
  protected override biasLambda(n: number): number {
    return this.penalizeBias ? this.lambda(n) : 0;
  }

  protected scoresFromLogits(logits: tf.Tensor2D): tf.Tensor2D {
    return logits;
  }

  /** Saves `C` (and `penalizeBias` when on) with the common options. */
  protected extraOptions(): Record<string, unknown> {
    return this.penalizeBias ? { C: this.C, penalizeBias: true } : { C: this.C };
  }

  /** Restores a LinearSvm saved with `save()`. */
  static async load(saved: SavedClassifier): Promise<LinearSvm> {
    const s = checkSaved('LinearSvm.load', saved, 'linear-svm');
    return new LinearSvm(s.options as LinearSvmOptions).restore(s);
  }
}

/**
 * Softmax (multinomial logistic) regression on tfjs: mean over examples of c_{y_i} times the cross-entropy of
 * softmax(W x_i + b), plus lambda/2 ||W||^2; scores are the class probabilities. With two classes it is logistic
 * regression. DeCAF uses logistic regression on its features for the fine-grained birds.
 *
 * @example
 * ```ts
 * const lr = new SoftmaxRegression({ l2: 1e-3, batchSize: 128, epochs: 20 });
 * await lr.fit(features, labels);
 * const probs = await lr.predictScores(testFeatures); // [N, K], rows sum to 1
 * ```
 */
export class SoftmaxRegression extends TfLinearClassifier {
  /** Always `'softmax'`. */
  readonly kind = 'softmax' as const;
  private readonly l2: number;

  constructor(options: SoftmaxRegressionOptions = {}) {
    super('SoftmaxRegression', options);
    this.l2 = options.l2 ?? 1e-4;
    if (typeof this.l2 !== 'number' || !(this.l2 >= 0) || !Number.isFinite(this.l2)) {
      throw new InvalidArgumentError('SoftmaxRegression', 'options.l2', 'a finite number >= 0', this.l2);
    }
  }

  protected dataTerm(
    scores: tf.Tensor2D,
    oneHot: tf.Tensor2D,
    sw: tf.Tensor1D,
  ): {
    /** Mean over the batch of sw_i * loss_i(scores_i). */
    data: tf.Scalar;
    /** Gradient of `data` with respect to the scores, `[B, K]`. */
    dS: tf.Tensor2D;
  } {
    const logp = tf.logSoftmax(scores);
    const data = tf.mean(tf.mul(tf.neg(tf.sum(tf.mul(oneHot, logp), 1)), sw)) as tf.Scalar;
    const rows = scores.shape[0];
    const dS = tf.mul(tf.sub(tf.exp(logp), oneHot), tf.reshape(tf.div(sw, rows), [rows, 1])) as tf.Tensor2D;
    return { data, dS };
  }

  protected lambda(): number {
    return this.l2;
  }

  protected scoresFromLogits(logits: tf.Tensor2D): tf.Tensor2D {
    return tf.softmax(logits);
  }

  /** Saves `l2` with the common options. */
  protected extraOptions(): Record<string, unknown> {
    return { l2: this.l2 };
  }

  /** Restores a SoftmaxRegression saved with `save()`. */
  static async load(saved: SavedClassifier): Promise<SoftmaxRegression> {
    const s = checkSaved('SoftmaxRegression.load', saved, 'softmax');
    return new SoftmaxRegression(s.options as SoftmaxRegressionOptions).restore(s);
  }
}

export { checkSaved as checkSavedClassifier };
