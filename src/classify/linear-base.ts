/**
 * The common part of the tfjs linear classifiers: option checks, fitting (full-batch L-BFGS from core, or Adam
 * steps through the core training loop), prediction and save/restore. One concern, kept whole (~410 lines): the
 * abstract class both linear classifiers extend; its `fit` holds the solvers' set-up around one shared objective.
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
import { minimizeLbfgs } from '../core/lbfgs.js';
import { LIMITS } from '../core/limits.js';
import { runTrainingLoop } from '../core/train-loop.js';
import type { FeatureInput } from '../features/matrix.js';
import { toFeatureMatrix } from '../features/to-matrix.js';
import type { LinearTrainingOptions } from './linear-options.js';
import { minimizeSquaredHinge } from './svm-newton.js';
import {
  argmaxRows,
  type ClassifierKind,
  classCount,
  classWeights,
  type FeatureClassifier,
  type FitOptions,
  type FitReport,
  type LabelInput,
  type SavedClassifier,
} from './types.js';

/**
 * The tfjs linear classifiers' common part: options, fitting (full-batch L-BFGS, or Adam steps through the core
 * training loop), prediction, save/restore. A subclass supplies the data term of its objective and its gradient.
 */
export abstract class TfLinearClassifier implements FeatureClassifier {
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
      solver: o.solver ?? (fn === 'LinearSvm' ? 'newton' : 'lbfgs'),
      learningRate: o.learningRate ?? 0.05,
      tol: o.tol ?? ((o.solver ?? (fn === 'LinearSvm' ? 'newton' : 'lbfgs')) === 'newton' ? 1e-3 : 1e-6),
      seed: o.seed ?? 0,
    };
    if (o.numClasses !== undefined)
      checkInteger(fn, 'options.numClasses', o.numClasses, 2, LIMITS.maxClasses);
    checkInteger(fn, 'options.epochs', this.opts.epochs, 1);
    if (o.batchSize !== undefined) checkInteger(fn, 'options.batchSize', o.batchSize, 1);
    checkPositive(fn, 'options.learningRate', this.opts.learningRate);
    checkOneOf(
      fn,
      'options.solver',
      this.opts.solver,
      fn === 'LinearSvm' ? (['newton', 'lbfgs', 'adam'] as const) : (['lbfgs', 'adam'] as const),
    );
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
      const W = this.W;
      const b = this.b;
      const lam = this.lambda(n);
      const lamB = this.biasLambda(n);
      // The objective and its explicit gradients (no tape): dJ/dW = x^T dS + lambda W, dJ/db = sum_i dS_i + lambda_b b,
      // with x^T precomputed for the full batch (a plain matmul is several times faster than a transposed one on
      // some backends).
      const objective = (
        xb: tf.Tensor2D,
        xbT: tf.Tensor2D,
        yb: tf.Tensor2D,
        wb: tf.Tensor1D,
        w: tf.Tensor,
        bias: tf.Tensor,
      ): { f: tf.Scalar; g: tf.Tensor[] } => {
        const scores = tf.add(tf.matMul(xb, w), bias) as tf.Tensor2D;
        const { data, dS } = this.dataTerm(scores, yb, wb);
        let f = (lam > 0 ? tf.add(data, tf.mul(lam / 2, tf.sum(tf.square(w)))) : data) as tf.Scalar;
        const gW = lam > 0 ? tf.add(tf.matMul(xbT, dS), tf.mul(w, lam)) : tf.matMul(xbT, dS);
        let gB = tf.sum(dS, 0);
        if (lamB > 0) {
          f = tf.add(f, tf.mul(lamB / 2, tf.sum(tf.square(bias)))) as tf.Scalar;
          gB = tf.add(gB, tf.mul(bias, lamB));
        }
        return { f, g: [gW, gB] };
      };
      const epochs = this.opts.epochs;
      const fullBatch = this.opts.batchSize === undefined || this.opts.batchSize >= n;
      if (fullBatch && this.opts.solver === 'newton') {
        // LinearSvm only (checked in the constructor): the batched Newton-CG solver of the squared hinge.
        const t = tf.tidy(() => tf.sub(tf.mul(oneHot, 2), 1)) as tf.Tensor2D;
        owned2.push(t);
        const r = await minimizeSquaredHinge({ x: xs, t, sw, lambda: lam, biasLambda: lamB }, W, b, {
          maxIterations: epochs,
          tol: this.opts.tol,
          fn: `${this.fn}.fit`,
          onIteration: (it, f) =>
            options.onProgress?.({ phase: 'fit', done: it, total: epochs, metrics: { loss: f } }),
        }).catch((e: unknown) => {
          // Non-finite features: leave the classifier unfitted.
          tf.dispose([this.W, this.b]);
          this.W = undefined;
          this.b = undefined;
          throw e;
        });
        return { iterations: r.iterations, loss: r.loss, ms: Date.now() - start };
      }
      if (fullBatch && this.opts.solver === 'lbfgs') {
        const xT = tf.transpose(xs) as tf.Tensor2D;
        owned2.push(xT);
        const r = await minimizeLbfgs(([w, bias]) => objective(xs, xT, oneHot, sw, w, bias), [W, b], {
          maxIterations: epochs,
          tol: this.opts.tol,
          onIteration: (it, f) =>
            options.onProgress?.({ phase: 'fit', done: it, total: epochs, metrics: { loss: f } }),
        });
        return { iterations: r.iterations, loss: r.loss, ms: Date.now() - start };
      }
      optimizer = tf.train.adam(this.opts.learningRate);
      const opt = optimizer;
      /** One Adam step on a batch; returns its objective. */
      const adamStep = (xb: tf.Tensor2D, xbT: tf.Tensor2D, yb: tf.Tensor2D, wb: tf.Tensor1D): tf.Scalar => {
        const { f, g } = tf.tidy(() => objective(xb, xbT, yb, wb, W, b));
        opt.applyGradients({ [W.name]: g[0], [b.name]: g[1] });
        tf.dispose(g);
        return f;
      };
      if (fullBatch) {
        // Full-batch Adam: each "example" of the loop is one step over all rows; the objective is read back (and
        // the tolerance checked) every 10 steps.
        const xT = tf.transpose(xs) as tf.Tensor2D;
        owned2.push(xT);
        let prev = Number.POSITIVE_INFINITY;
        let loss = Number.NaN;
        const r = await runTrainingLoop({
          count: epochs,
          batchSize: 1,
          epochs: 1,
          seed: this.opts.seed,
          shuffle: false,
          readEvery: 10,
          step: () => ({ loss: adamStep(xs, xT, oneHot, sw) }),
          onStep: (m) => {
            if (m.done % 10 !== 0 && m.done !== epochs) return false;
            loss = m.loss;
            options.onProgress?.({ phase: 'fit', done: m.done, total: epochs, metrics: { loss } });
            if (Math.abs(prev - loss) <= this.opts.tol * Math.max(1, Math.abs(loss))) return true;
            prev = loss;
            return false;
          },
        });
        return { iterations: r.steps, loss, ms: Date.now() - start };
      }
      // Mini-batches: seeded order, epoch loss = mean of the batch objectives.
      let loss = Number.NaN;
      const r = await runTrainingLoop({
        count: n,
        batchSize: this.opts.batchSize as number,
        epochs,
        seed: this.opts.seed,
        lossMean: 'steps',
        readEvery: 10,
        step: ({ indices }) => {
          const idx = tf.tensor1d(indices, 'int32');
          const [xb, xbT, yb, wb] = tf.tidy(() => {
            const rows = tf.gather(xs, idx);
            return [rows, tf.transpose(rows), tf.gather(oneHot, idx), tf.gather(sw, idx)];
          });
          try {
            return {
              loss: adamStep(xb as tf.Tensor2D, xbT as tf.Tensor2D, yb as tf.Tensor2D, wb as tf.Tensor1D),
            };
          } finally {
            tf.dispose([idx, xb, xbT, yb, wb]);
          }
        },
        onEpoch: (e) => {
          loss = e.loss;
          options.onProgress?.({ phase: 'fit', done: e.epoch, total: epochs, metrics: { loss } });
          return undefined;
        },
      });
      return { iterations: r.steps, loss, ms: Date.now() - start };
    } finally {
      if (owned) xs.dispose();
      tf.dispose(owned2);
      optimizer?.dispose();
    }
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

/** Checks a saved linear classifier's envelope (format, version, kind, sizes) before restoring it. */
export function checkSaved(fn: string, saved: unknown, kind: ClassifierKind): SavedClassifier {
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
