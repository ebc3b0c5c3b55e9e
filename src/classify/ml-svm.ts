/**
 * An adapter over `ml-svm` (mljs, simplified SMO). ml-svm is two-class only (labels +1 / -1): this adapter trains
 * one SVM per class against the rest and scores by their margins. It also exposes ml-svm's kernels (rbf,
 * polynomial, ...) for small data. It recomputes the full n x n kernel matrix on every train: use it for a few
 * hundred examples; the tfjs {@link LinearSvm} is the fast path.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import SVM from 'ml-svm';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  knownKeys,
} from '../core/checks.js';
import { describeValue, rawValue } from '../core/describe.js';
import { DisposedError, InvalidArgumentError, ShapeMismatchError, TransferkitError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import { Rng } from '../core/rng.js';
import type { FeatureInput } from '../features/matrix.js';
import { toFeatureMatrix } from '../features/to-matrix.js';
import { checkSavedClassifier } from './linear.js';
import {
  argmaxRows,
  classCount,
  type FeatureClassifier,
  type FitOptions,
  type FitReport,
  type LabelInput,
  type SavedClassifier,
} from './types.js';

/**
 * The kernels of ml-kernel that ml-svm accepts.
 *
 * @example
 * ```ts
 * new MlSvmClassifier({ kernel: 'polynomial', kernelOptions: { degree: 2 } });
 * ```
 */
export type MlSvmKernel =
  | 'linear'
  | 'rbf'
  | 'polynomial'
  | 'anova'
  | 'cauchy'
  | 'exponential'
  | 'histogram'
  | 'laplacian'
  | 'multiquadratic'
  | 'rational'
  | 'sigmoid';

/**
 * The kernel names, for validation and CLIs.
 *
 * @example
 * ```ts
 * ML_SVM_KERNELS.includes('rbf'); // true
 * ```
 */
export const ML_SVM_KERNELS: readonly MlSvmKernel[] = [
  'linear',
  'rbf',
  'polynomial',
  'anova',
  'cauchy',
  'exponential',
  'histogram',
  'laplacian',
  'multiquadratic',
  'rational',
  'sigmoid',
];

/**
 * Options of {@link MlSvmClassifier}.
 *
 * @example
 * ```ts
 * const opts: MlSvmOptions = { C: 10, kernel: 'rbf', kernelOptions: { sigma: 0.5 }, seed: 1 };
 * ```
 */
export interface MlSvmOptions {
  /** Regularisation parameter C. @default 1 */
  C?: number;
  /** Kernel. @default 'linear' */
  kernel?: MlSvmKernel;
  /** Kernel parameters passed to ml-kernel, e.g. `{ sigma: 0.5 }` for rbf, `{ degree: 2 }` for polynomial. @default {} */
  kernelOptions?: Record<string, number>;
  /** Numerical tolerance of SMO. @default 1e-4 */
  tol?: number;
  /** Passes without change before SMO stops. @default 10 */
  maxPasses?: number;
  /** SMO iterations before giving up (ml-svm then throws). @default 10000 */
  maxIterations?: number;
  /** Min-max scaling inside ml-svm. Off by default: it divides by max - min, which is 0 for a constant feature
   * (common in ReLU features) and gives NaN. @default false */
  whitening?: boolean;
  /** Number of classes. @default max label + 1 */
  numClasses?: number;
  /** Seed of SMO's random pair choice (ml-svm's `random`, fed by transferkit's Rng). @default 0 */
  seed?: number;
}

const FN = 'MlSvmClassifier';

/** The known keys of {@link MlSvmOptions}. */
const ML_SVM_OPTION_KEYS = knownKeys<MlSvmOptions>({
  C: true,
  kernel: true,
  kernelOptions: true,
  tol: true,
  maxPasses: true,
  maxIterations: true,
  whitening: true,
  numClasses: true,
  seed: true,
});

/**
 * One-vs-rest multi-class SVM over ml-svm's two-class SMO: class k's SVM separates k (+1) from the rest (-1);
 * the scores are the K margins, the prediction their arg-max.
 *
 * @example
 * ```ts
 * const svm = new MlSvmClassifier({ kernel: 'rbf', kernelOptions: { sigma: 1 }, C: 10 });
 * await svm.fit(smallFeatures, labels);
 * const margins = await svm.predictScores(test); // [N, K]
 * ```
 */
export class MlSvmClassifier implements FeatureClassifier {
  readonly kind = 'ml-svm' as const;
  private readonly opts: Required<Omit<MlSvmOptions, 'numClasses'>> & Pick<MlSvmOptions, 'numClasses'>;
  private models: SVM[] = [];
  private k = 0;
  private d = 0;
  private disposed = false;

  constructor(options: MlSvmOptions = {}) {
    const o = checkOptions(FN, 'options', options);
    checkOptionKeys(FN, 'options', o, ML_SVM_OPTION_KEYS);
    this.opts = {
      C: o.C ?? 1,
      kernel: o.kernel ?? 'linear',
      kernelOptions: o.kernelOptions ?? {},
      tol: o.tol ?? 1e-4,
      maxPasses: o.maxPasses ?? 10,
      maxIterations: o.maxIterations ?? 10000,
      whitening: o.whitening ?? false,
      numClasses: o.numClasses,
      seed: o.seed ?? 0,
    };
    checkPositive(FN, 'options.C', this.opts.C);
    checkOneOf(FN, 'options.kernel', this.opts.kernel, ML_SVM_KERNELS);
    checkPositive(FN, 'options.tol', this.opts.tol);
    checkInteger(FN, 'options.maxPasses', this.opts.maxPasses, 1);
    checkInteger(FN, 'options.maxIterations', this.opts.maxIterations, 1);
    checkOneOf(FN, 'options.whitening', this.opts.whitening, [true, false]);
    if (o.numClasses !== undefined) checkInteger(FN, 'options.numClasses', o.numClasses, 2);
    checkInteger(FN, 'options.seed', this.opts.seed);
    if (typeof this.opts.kernelOptions !== 'object' || this.opts.kernelOptions === null) {
      throw new InvalidArgumentError(
        FN,
        'options.kernelOptions',
        'an object of kernel parameters',
        this.opts.kernelOptions,
      );
    }
  }

  get numClasses(): number {
    return this.k;
  }

  get dim(): number {
    return this.d;
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError(FN, method);
  }

  async fit(x: FeatureInput, y: LabelInput, options: FitOptions = {}): Promise<FitReport> {
    this.assertLive('fit');
    const start = Date.now();
    const fm = await toFeatureMatrix(`${FN}.fit`, 'x', x);
    if (fm.rows < 2)
      throw new InvalidArgumentError(`${FN}.fit`, 'x', 'at least 2 examples', `${fm.rows} rows`);
    const labels = await readLabels(`${FN}.fit`, 'y', y, {
      count: fm.rows,
      numClasses: this.opts.numClasses,
    });
    const k = classCount(labels, this.opts.numClasses);
    const rows = fm.toArrays();
    const rng = new Rng(this.opts.seed);
    const models: SVM[] = [];
    let iterations = 0;
    for (let c = 0; c < k; c++) {
      const t = Array.from(labels, (v) => (v === c ? 1 : -1));
      const svm = new SVM({
        C: this.opts.C,
        kernel: this.opts.kernel,
        kernelOptions: this.opts.kernelOptions,
        tol: this.opts.tol,
        maxPasses: this.opts.maxPasses,
        maxIterations: this.opts.maxIterations,
        whitening: this.opts.whitening,
        random: () => rng.next(),
      });
      try {
        svm.train(rows, t);
      } catch (e) {
        throw new TransferkitError(
          `\`${FN}.fit\`: ml-svm failed on class ${c} vs rest: ${(e as Error).message}. Raise options.maxIterations or scale the features.`,
          'ML_SVM_FAILED',
        );
      }
      iterations += (svm as unknown as { iterations?: number }).iterations ?? 0;
      models.push(svm);
      options.onProgress?.({ phase: 'fit', done: c + 1, total: k });
    }
    this.models = models;
    this.k = k;
    this.d = fm.cols;
    return { iterations, loss: Number.NaN, ms: Date.now() - start };
  }

  private async margins(method: string, x: FeatureInput): Promise<{ data: Float32Array; rows: number }> {
    this.assertLive(method);
    if (this.models.length === 0) {
      throw new InvalidArgumentError(
        `${FN}.${method}`,
        'this',
        'a fitted classifier (call fit() or load() first)',
        'an unfitted classifier',
      );
    }
    const fm = await toFeatureMatrix(`${FN}.${method}`, 'x', x);
    if (fm.cols !== this.d)
      throw new ShapeMismatchError(`${FN}.${method}`, 'x', `features of shape [*, ${this.d}]`, [
        fm.rows,
        fm.cols,
      ]);
    const rows = fm.toArrays();
    const out = new Float32Array(fm.rows * this.k);
    this.models.forEach((svm, c) => {
      const m = svm.margin(rows);
      for (let i = 0; i < fm.rows; i++) out[i * this.k + c] = m[i];
    });
    return { data: out, rows: fm.rows };
  }

  async predictScores(x: FeatureInput): Promise<tf.Tensor2D> {
    const { data, rows } = await this.margins('predictScores', x);
    return tf.tensor2d(data, [rows, this.k]);
  }

  async predict(x: FeatureInput): Promise<Int32Array> {
    const { data, rows } = await this.margins('predict', x);
    return argmaxRows(data, rows, this.k);
  }

  async save(): Promise<SavedClassifier> {
    this.assertLive('save');
    if (this.models.length === 0) {
      throw new InvalidArgumentError(`${FN}.save`, 'this', 'a fitted classifier', 'an unfitted classifier');
    }
    const models = this.models.map((m) => {
      const j = m.toJSON();
      const { random: _random, ...opts } = j.options;
      return { ...j, options: opts };
    });
    return {
      format: 'transferkit-classifier',
      version: 1,
      kind: 'ml-svm',
      numClasses: this.k,
      dim: this.d,
      options: { ...this.opts },
      state: { models },
    };
  }

  /** Restores an MlSvmClassifier saved with `save()`. */
  static async load(saved: SavedClassifier): Promise<MlSvmClassifier> {
    const s = checkSavedClassifier('MlSvmClassifier.load', saved, 'ml-svm');
    const models = (s.state as { models?: SVM.SVMModel[] }).models;
    if (!Array.isArray(models) || models.length !== s.numClasses) {
      throw new InvalidArgumentError('MlSvmClassifier.load', 'saved', `${s.numClasses} ml-svm models`, saved);
    }
    const c = new MlSvmClassifier(s.options as MlSvmOptions);
    c.models = models.map((m, i) => {
      try {
        if (typeof m !== 'object' || m === null) throw new Error('not an object');
        return SVM.load(m);
      } catch (e) {
        throw new InvalidArgumentError(
          'MlSvmClassifier.load',
          `saved.state.models[${i}]`,
          'a saved ml-svm model',
          rawValue(`${describeValue(m)} (${e instanceof Error ? e.message : String(e)})`),
        );
      }
    });
    c.k = s.numClasses;
    c.d = s.dim;
    return c;
  }

  /** Drops the trained SVMs (no tensors are held); later calls throw DisposedError. */
  dispose(): void {
    this.models = [];
    this.disposed = true;
  }
}
