/**
 * SpecialistEnsemble: a generalist plus specialists on confusable classes, combined at inference by the KL rule of
 * Hinton, Vinyals & Dean (2015, section 5).
 *
 * Construction follows the library's convention: `new SpecialistEnsemble(generalist, specialists, options)` wraps
 * models you already have (synchronously, like every constructor of transferkit); the async static factories are
 * for construction that must await work: `SpecialistEnsemble.train` (clusters, samples and trains the specialists
 * first) and `SpecialistEnsemble.load` (reads saved models). `predict` returns class labels like every classifier
 * of transferkit; `predictProba` returns the combined distributions q.
 *
 * @module
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { DisposedError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { PredictModel } from '../core/types.js';
import { isPredictModel, predict2d } from '../core/types.js';
import type { OutputKind } from '../model/output-kind.js';
import { checkEnsembleInput, checkSpecialists } from './checks.js';
import type { ClassClustering } from './clustering.js';
import { validateClusters } from './clustering.js';
import { combineKL } from './combine.js';
import { disposeModel, resolveCombineOptions, resolveNumClasses, resolveOutputKind } from './internal.js';
import { type EnsembleHandlers, type EnsembleManifest, loadEnsemble, saveEnsemble } from './persistence.js';
import { createSpecialist, trainSpecialist } from './specialist.js';
import { trainSpecialists } from './train.js';
import type {
  EnsemblePrediction,
  EnsemblePredictOptions,
  Specialist,
  SpecialistEnsembleOptions,
  TrainEnsembleOptions,
} from './types.js';

/**
 * A generalist plus specialists on confusable classes (Hinton, Vinyals & Dean 2015, section 5). At inference the
 * generalist's n most probable classes pick the active specialists (those whose subset meets them), and the full
 * distribution q minimising `KL(p_g, q) + sum_m KL(p_m, q)` (eq. 5) is found by gradient descent on q's logits
 * ({@link combineKL}).
 *
 * @example
 * ```ts
 * const found = clusterClasses(await generalist.predict(xHeld).data(), 10, { k: 4 });
 * const ensemble = await SpecialistEnsemble.train(generalist, xTrain, yTrain, { clusters: found });
 * const q = await ensemble.predictProba(xTest, { candidates: 1 });
 * await ensemble.save((name) => `indexeddb://mnist-${name}`);
 * ensemble.dispose();
 * ```
 */
export class SpecialistEnsemble {
  /** The generalist's class count. */
  readonly numClasses: number;
  /** What the generalist returns. */
  readonly generalistOutput: OutputKind;
  /** The clustering the specialists came from, if known. */
  readonly clustering: ClassClustering | undefined;
  private readonly generalistModel: PredictModel;
  private readonly members: Specialist[];
  private readonly owns: 'specialists' | 'all';
  private disposed = false;

  /**
   * Wraps a generalist and ready specialists (use {@link SpecialistEnsemble.train} to make them).
   *
   * @throws {@link InvalidArgumentError} when a specialist's classes are empty, out of range for the generalist,
   * repeated, cover every class, or overlap while `allowOverlap` is false.
   */
  constructor(
    generalist: PredictModel,
    specialists: readonly Specialist[],
    options?: SpecialistEnsembleOptions,
  ) {
    const fn = 'SpecialistEnsemble';
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(
      fn,
      'options',
      opts,
      knownKeys<SpecialistEnsembleOptions>({
        numClasses: true,
        generalistOutput: true,
        owns: true,
        clustering: true,
        allowOverlap: true,
      }),
    );
    if (!isPredictModel(generalist)) {
      throw new InvalidArgumentError(fn, 'generalist', 'a model with a predict() method', generalist);
    }
    this.numClasses = resolveNumClasses(fn, generalist, opts.numClasses);
    this.generalistOutput = resolveOutputKind(fn, generalist, opts.generalistOutput);
    if (!Array.isArray(specialists)) {
      throw new InvalidArgumentError(fn, 'specialists', 'an array of specialists', specialists);
    }
    checkSpecialists(fn, specialists);
    const sets = specialists.length
      ? validateClusters(
          fn,
          specialists.map((s) => s.classes),
          this.numClasses,
          { allowOverlap: opts.allowOverlap ?? true },
        )
      : [];
    this.members = specialists.map((s, m) => ({ ...s, classes: sets[m] }));
    this.generalistModel = generalist;
    this.owns = opts.owns ?? 'specialists';
    checkOneOf(fn, 'options.owns', this.owns, ['specialists', 'all'] as const);
    this.clustering = opts.clustering;
  }

  /** The generalist. */
  get generalist(): PredictModel {
    this.assertLive('generalist');
    return this.generalistModel;
  }

  /** The specialists (a copy of the list; the models are the ensemble's). */
  get specialists(): readonly Specialist[] {
    this.assertLive('specialists');
    return this.members.map((s) => ({ ...s, classes: [...s.classes] }));
  }

  /**
   * Trains one specialist per class set (Hinton et al. 2015, section 5.2): an enriched sample of the training set
   * (see `enrichedSample`), a copy of the generalist with a new head ({@link createSpecialist}) or a model of
   * `modelFactory`, trained with {@link trainSpecialist}; the dustbin's over-sampling correction is recorded.
   *
   * @param x the training inputs `[N, ...]` (not disposed)
   * @param labels their generalist class indices
   * @example
   * ```ts
   * const ensemble = await SpecialistEnsemble.train(generalist, xTrain, yTrain, {
   *   clusters: [[3, 5, 8], [4, 9]],
   *   training: { epochs: 2 },
   *   onProgress: (e) => console.log(e.phase, e.done, e.total),
   * });
   * ```
   */
  static async train(
    generalist: PredictModel,
    x: Tensor,
    labels: ArrayLike<number>,
    options: TrainEnsembleOptions,
  ): Promise<SpecialistEnsemble> {
    const trained = await trainSpecialists(generalist, x, labels, options);
    return new SpecialistEnsemble(generalist, trained.specialists, trained.options);
  }

  /**
   * The predicted class of each row: the arg-max of the combined distribution q (see {@link predictProba}).
   *
   * @example
   * ```ts
   * const labels = await ensemble.predict(xTest, { candidates: 2 }); // Int32Array, one class per row
   * ```
   */
  async predict(x: Tensor, options?: EnsemblePredictOptions): Promise<Int32Array> {
    const r = await this.predictDetailedImpl('predict', x, options);
    tf.dispose([r.generalist, r.active]);
    const labels = tf.argMax(r.probabilities, 1);
    r.probabilities.dispose();
    try {
      return Int32Array.from(await labels.data());
    } finally {
      labels.dispose();
    }
  }

  /**
   * The combined distributions q (Hinton et al. 2015, eq. 5) for a batch, `[N, numClasses]` (yours to dispose); see
   * {@link predictDetailed}.
   *
   * @example
   * ```ts
   * const q = await ensemble.predictProba(xTest, { candidates: 2, maxIterations: 300 });
   * ```
   */
  async predictProba(x: Tensor, options?: EnsemblePredictOptions): Promise<Tensor2D> {
    const r = await this.predictDetailedImpl('predictProba', x, options);
    tf.dispose([r.generalist, r.active]);
    return r.probabilities;
  }

  /**
   * The combined distributions with the generalist's and which specialists were active. Steps: (1) the
   * generalist's `candidates` most probable classes, (2) the active specialists, those whose subset meets them,
   * (3) each specialist's distribution with its dustbin correction, (4) q by {@link combineKL}. A row without an
   * active specialist gets exactly the generalist's distribution.
   *
   * @throws {@link InvalidArgumentError} when `candidates` exceeds the class count.
   * @example
   * ```ts
   * const { probabilities, generalist, active } = await ensemble.predictDetailed(xTest);
   * ```
   */
  async predictDetailed(x: Tensor, options?: EnsemblePredictOptions): Promise<EnsemblePrediction> {
    return this.predictDetailedImpl('predictDetailed', x, options);
  }

  private async predictDetailedImpl(
    method: string,
    x: Tensor,
    options?: EnsemblePredictOptions,
  ): Promise<EnsemblePrediction> {
    this.assertLive(method);
    const fn = `SpecialistEnsemble.${method}`;
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(
      fn,
      'options',
      opts,
      knownKeys<EnsemblePredictOptions>({
        candidates: true,
        batchSize: true,
        maxIterations: true,
        tolerance: true,
        learningRate: true,
        momentum: true,
        checkEvery: true,
        preconditioner: true,
      }),
    );
    checkTensor(fn, 'x', x);
    if (x.rank < 1 || x.shape[0] < 1) throw new ShapeMismatchError(fn, 'x', 'a non-empty batch', x.shape);
    checkEnsembleInput(fn, x, this.generalistModel, this.members);
    const n = opts.candidates ?? 1;
    checkInteger(fn, 'options.candidates', n, 1, this.numClasses);
    const batchSize = opts.batchSize ?? 256;
    checkInteger(fn, 'options.batchSize', batchSize, 1);
    const { candidates: _c, batchSize: _b, ...rest } = opts;
    const combineOpts = resolveCombineOptions(fn, rest);

    const rows = x.shape[0];
    const qs: Tensor2D[] = [];
    const pgs: Tensor2D[] = [];
    const acts: Tensor2D[] = [];
    let iterations = 0;
    let converged = true;
    const membership = this.membershipMatrix();
    try {
      for (let start = 0; start < rows; start += batchSize) {
        const size = Math.min(batchSize, rows - start);
        const parts = tf.tidy(() => {
          const xb = size === rows ? x : tf.slice(x, start, size);
          const pg = this.toProbabilities(fn, 'generalist', this.generalistModel, xb, this.generalistOutput);
          let active: Tensor2D;
          if (this.members.length === 0) {
            active = tf.zeros([size, 0]);
          } else {
            const top = tf.topk(pg, n).indices;
            // float32 one-hot: webgpu 4.22 cannot transpose int32 tensors (its shader fails to compile), which an int32 sum
            // over axis 1 needs; the failed command buffer also drops the generalist's probabilities.
            const chosen = tf.sum(tf.oneHot(top, this.numClasses, 1, 0, 'float32'), 1);
            active = tf.cast(tf.greater(tf.matMul(chosen, membership), 0), 'float32') as Tensor2D;
          }
          const specs = this.members.map((s, m) => {
            const p = this.toProbabilities(fn, `specialists[${m}].model`, s.model, xb, s.outputKind);
            if (p.shape[1] !== s.classes.length + 1) {
              throw new ShapeMismatchError(
                fn,
                `specialists[${m}].model`,
                `an output of shape [batch, ${s.classes.length + 1}]`,
                p.shape,
              );
            }
            if (s.dustbinLogitShift === 0) return p;
            const shift = tf.concat(
              [tf.zeros([1, s.classes.length]), tf.fill([1, 1], s.dustbinLogitShift)],
              1,
            );
            return tf.softmax(tf.add(tf.log(tf.maximum(p, 1e-12)), shift)) as Tensor2D;
          });
          return { pg, active, specs };
        });
        pgs.push(parts.pg);
        acts.push(parts.active);
        try {
          const r = await combineKL(
            parts.pg,
            parts.specs.map((p, m) => ({ probabilities: p, classes: this.members[m].classes })),
            parts.active,
            combineOpts,
          );
          qs.push(r.probabilities);
          iterations = Math.max(iterations, r.iterations);
          converged &&= r.converged;
        } finally {
          tf.dispose(parts.specs);
        }
      }
      const cat = (ts: Tensor2D[]) => (ts.length === 1 ? ts[0] : (tf.concat(ts, 0) as Tensor2D));
      const result = {
        probabilities: cat(qs),
        generalist: cat(pgs),
        active: cat(acts),
        iterations,
        converged,
      };
      if (qs.length > 1) tf.dispose([qs, pgs, acts]);
      return result;
    } catch (e) {
      tf.dispose([qs, pgs, acts]);
      throw e;
    } finally {
      membership.dispose();
    }
  }

  /** `[numClasses, specialists]`: 1 where class c is in specialist m's subset. */
  private membershipMatrix(): Tensor2D {
    const m = this.members.length;
    const v = new Float32Array(this.numClasses * Math.max(m, 1));
    this.members.forEach((s, j) => {
      for (const c of s.classes) v[c * m + j] = 1;
    });
    return tf.tensor2d(v.subarray(0, this.numClasses * m), [this.numClasses, m]);
  }

  private toProbabilities(
    fn: string,
    argument: string,
    model: PredictModel,
    x: Tensor,
    kind: OutputKind,
  ): Tensor2D {
    const y = predict2d(fn, argument, model, x);
    return (kind === 'logits' ? tf.softmax(y) : y) as Tensor2D;
  }

  /**
   * Saves the generalist and every specialist through tf.io handlers (browser-safe: pass URLs such as
   * `indexeddb://...` or `localstorage://...`, or your own IOHandlers), one model per name: `'generalist'`,
   * `'specialist-0'`, ... The ensemble's JSON manifest (class sets, dustbin corrections, clustering) rides in the
   * generalist's user-defined metadata, so loading needs only the same handlers. All models must be LayersModels.
   *
   * @example
   * ```ts
   * const store = memoryEnsembleStore();
   * await ensemble.save(store.handler);
   * const again = await SpecialistEnsemble.load(store.handler);
   * ```
   */
  async save(handlers: EnsembleHandlers): Promise<EnsembleManifest> {
    this.assertLive('save');
    return saveEnsemble('SpecialistEnsemble.save', handlers, {
      generalist: this.generalistModel,
      specialists: this.members,
      numClasses: this.numClasses,
      generalistOutput: this.generalistOutput,
      clustering: this.clustering,
    });
  }

  /**
   * Loads an ensemble saved by {@link save} through the same handlers. The loaded ensemble owns all its models.
   *
   * @example
   * ```ts
   * const ensemble = await SpecialistEnsemble.load((name) => `indexeddb://mnist-${name}`);
   * ```
   */
  static async load(handlers: EnsembleHandlers): Promise<SpecialistEnsemble> {
    const parts = await loadEnsemble('SpecialistEnsemble.load', handlers);
    try {
      return new SpecialistEnsemble(parts.generalist, parts.specialists, { ...parts.options, owns: 'all' });
    } catch (e) {
      parts.generalist.dispose();
      for (const sp of parts.specialists) (sp.model as tfl.LayersModel).dispose();
      throw e;
    }
  }

  /** Frees the specialists (and the generalist, when the ensemble owns it). Later calls throw {@link DisposedError}. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.members) disposeModel(s.model);
    if (this.owns === 'all') disposeModel(this.generalistModel);
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError('SpecialistEnsemble', method);
  }
}
