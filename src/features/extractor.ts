/**
 * FeatureExtractor: generic features from the hidden layers of a trained CNN, as in DeCAF (Donahue et al. 2014:
 * "DeCAF_n", the activations of layer n of a network trained on ImageNet, weights frozen) and "CNN features
 * off-the-shelf" (Razavian et al. 2014: the first fully connected layer of OverFeat, L2-normalised, with crops and
 * flips). Several taps come out of one forward pass.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchesOf, isBatchSource } from '../core/batches.js';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  isTensor,
  knownKeys,
} from '../core/checks.js';
import {
  DisposedError,
  InvalidArgumentError,
  ShapeMismatchError,
  UnsupportedLayerError,
} from '../core/errors.js';
import { listGraphTaps, resolveGraphTap } from '../model/graph-model.js';
import {
  type ContainerLike,
  type GraphModelLike,
  isContainer,
  isGraphModel,
  type SymbolicTensor,
} from '../model/kinds.js';
import { evaluateTaps } from '../model/symbolic.js';
import {
  checkImageBatch,
  combineViews,
  elems,
  joinChunks,
  poolDim,
  type TapConfig,
} from './extractor-batch.js';
import type {
  ExtractAllOptions,
  ExtractorTap,
  FeatureExtractorOptions,
  ImageSource,
  TapOptions,
  TapSpec,
} from './extractor-options.js';
import { FeatureMatrix } from './matrix.js';
import { NORM_MODES, normalizeFeatures, POOL_MODES, poolFeatures, Standardizer } from './normalize.js';
import { listTaps, type ResolvedTap, resolveTap, type TapInfo, type TapRef } from './taps.js';
import {
  type AugmentOptions,
  augmentedViews,
  checkPreprocessing,
  fitToSize,
  type Preprocessing,
  preprocessImages,
  RESIZE_MODES,
  type ResizeMode,
  resolveAugment,
  viewSpecs,
} from './views.js';

const FN = 'FeatureExtractor';

/**
 * Reads the activations of chosen layers of a trained model as feature vectors.
 *
 * Taps are layer names (nested models as `'backbone/conv2'`), indices into the model's layers (negative from the
 * end: `-2` is the penultimate layer) or layer objects; {@link FeatureExtractor.listTaps} lists them with output shapes. All taps
 * come out of ONE forward pass: a `tfl.model` over the tapped symbolic tensors, or, when a tap lies inside a
 * nested model applied in the middle of the graph, an eager walk of the graph that enters that model. Each tap is
 * pooled (`flatten`, global `avg`, global `max`), optionally combined over augmented views, normalised (`l2`, or
 * `power`: sign(x)|x|^a then L2, Razavian et al. 2014) and standardised.
 *
 * @example
 * ```ts
 * const fx = new FeatureExtractor(cnn, { taps: ['conv2', -2], pool: 'avg', normalize: 'l2' });
 * const [conv2, fc] = fx.extract(images); // two Tensor2D, one forward pass
 * const all = await fx.extractAll(dataset, { memoryBudgetMB: 128, onProgress: console.log });
 * const m = all[1].toMatrix(); // or .toTensor(), or .data (Float32Array)
 * fx.dispose();
 * ```
 */
export class FeatureExtractor {
  private readonly model: ContainerLike | GraphModelLike;
  private readonly configs: TapConfig[];
  private readonly tapModel: tfl.LayersModel | undefined;
  private readonly tapOutputNames: string[];
  private readonly eagerPaths: ResolvedTap['steps'][] | undefined;
  private readonly graphNodes: string[] | undefined;
  private readonly inputShape: (number | null)[];
  private readonly size: [number, number] | undefined;
  private readonly resize: ResizeMode;
  private readonly preprocess: Preprocessing;
  private readonly augment: Required<AugmentOptions> | undefined;
  private readonly activationElems: number;
  private disposed = false;

  constructor(model: tfl.LayersModel | GraphModelLike, options: FeatureExtractorOptions) {
    const o = checkOptions(FN, 'options', options);
    checkOptionKeys(FN, 'options', o, [
      'taps',
      'pool',
      'normalize',
      'powerAlpha',
      'inputSize',
      'resize',
      'preprocess',
      'augment',
    ] satisfies (keyof FeatureExtractorOptions)[]);
    const graph = isGraphModel(model);
    if (!graph && !isContainer(model)) {
      throw new InvalidArgumentError(
        FN,
        'model',
        'a tfjs-layers LayersModel/Sequential or a tf.GraphModel',
        model,
      );
    }
    const specs: TapSpec[] = Array.isArray(o.taps)
      ? [...o.taps]
      : o.taps === undefined
        ? []
        : [o.taps as TapSpec];
    if (specs.length === 0) {
      throw new InvalidArgumentError(
        FN,
        'options.taps',
        'at least one tap (see FeatureExtractor.listTaps(model))',
        o.taps,
      );
    }
    const pool = o.pool ?? 'flatten';
    const normalize = o.normalize ?? 'none';
    const powerAlpha = o.powerAlpha ?? 0.5;
    checkOneOf(FN, 'options.pool', pool, POOL_MODES);
    checkOneOf(FN, 'options.normalize', normalize, NORM_MODES);
    checkPositive(FN, 'options.powerAlpha', powerAlpha);
    this.resize = o.resize ?? 'stretch';
    checkOneOf(FN, 'options.resize', this.resize, RESIZE_MODES);
    this.augment =
      o.augment === undefined || o.augment === false
        ? undefined
        : resolveAugment(FN, 'options.augment', o.augment);

    const inputs = graph ? (model as GraphModelLike).inputs : (model as ContainerLike).inputs;
    if (inputs.length !== 1) {
      throw new UnsupportedLayerError(
        FN,
        'inputs',
        `${inputs.length} inputs`,
        'Only single-input models can be tapped.',
      );
    }
    this.inputShape = [...((inputs[0].shape as (number | null)[] | undefined) ?? [])].map((d) =>
      d === -1 ? null : d,
    );
    if (o.inputSize !== undefined) {
      if (!Array.isArray(o.inputSize) || o.inputSize.length !== 2) {
        throw new InvalidArgumentError(FN, 'options.inputSize', 'a [height, width] pair', o.inputSize);
      }
      checkInteger(FN, 'options.inputSize[0]', o.inputSize[0], 1);
      checkInteger(FN, 'options.inputSize[1]', o.inputSize[1], 1);
      const [fh, fw] = [this.inputShape[1], this.inputShape[2]];
      if (
        this.inputShape.length === 4 &&
        ((typeof fh === 'number' && fh !== o.inputSize[0]) ||
          (typeof fw === 'number' && fw !== o.inputSize[1]))
      ) {
        // a model built for a fixed size takes no other: the tapped activations would not exist
        throw new ShapeMismatchError(
          FN,
          'options.inputSize',
          `the model's input size [${fh ?? '*'}, ${fw ?? '*'}] (it was built for that size)`,
          [o.inputSize[0], o.inputSize[1]],
        );
      }
      this.size = [o.inputSize[0], o.inputSize[1]];
    } else if (this.inputShape.length === 4 && this.inputShape[1] !== null && this.inputShape[2] !== null) {
      this.size = [this.inputShape[1] as number, this.inputShape[2] as number];
    }
    const channels = this.inputShape.length === 4 ? (this.inputShape[3] ?? undefined) : undefined;
    this.preprocess = checkPreprocessing(FN, 'options.preprocess', o.preprocess, channels);

    // Resolve every tap before building anything.
    const resolved: { ref: TapInfo; steps?: ResolvedTap['steps']; opts: TapOptions }[] = specs.map(
      (spec, i) => {
        const arg = `options.taps[${i}]`;
        const opts: TapOptions =
          typeof spec === 'object' &&
          spec !== null &&
          'layer' in (spec as object) &&
          typeof (spec as TapOptions).layer !== 'undefined' &&
          typeof (spec as Partial<tfl.layers.Layer>).getClassName !== 'function'
            ? (spec as TapOptions)
            : { layer: spec as TapRef };
        if (opts.pool !== undefined) checkOneOf(FN, `${arg}.pool`, opts.pool, POOL_MODES);
        if (opts.normalize !== undefined) checkOneOf(FN, `${arg}.normalize`, opts.normalize, NORM_MODES);
        if (opts.powerAlpha !== undefined) checkPositive(FN, `${arg}.powerAlpha`, opts.powerAlpha);
        if (opts.standardizer !== undefined && !(opts.standardizer instanceof Standardizer)) {
          throw new InvalidArgumentError(FN, `${arg}.standardizer`, 'a Standardizer', opts.standardizer);
        }
        if (graph)
          return { ref: resolveGraphTap(model as GraphModelLike, opts.layer, FN, `${arg}.layer`), opts };
        const r = resolveTap(
          model as ContainerLike,
          opts.layer,
          FN,
          spec === opts.layer ? arg : `${arg}.layer`,
        );
        return { ref: r.info, steps: r.steps, opts };
      },
    );

    this.model = model;
    const uniqueIds = new Map<string, number>();
    const nodeIds = new Map<object, number>();
    const idOf = (o: object): number => {
      if (!nodeIds.has(o)) nodeIds.set(o, nodeIds.size);
      return nodeIds.get(o) as number;
    };
    const keyOf = (r: (typeof resolved)[number]): string =>
      graph
        ? r.ref.name
        : (r.steps ?? [])
            .map((st) => (st.kind === 'read' ? `t${st.tensor.id}` : `n${idOf(st.node)}`))
            .join('/');
    this.configs = resolved.map((r) => {
      const key = keyOf(r);
      if (!uniqueIds.has(key)) uniqueIds.set(key, uniqueIds.size);
      const cfg: TapConfig = {
        name: r.ref.name,
        className: r.ref.className,
        outputShape: [...r.ref.outputShape],
        pool: r.opts.pool ?? pool,
        normalize: r.opts.normalize ?? normalize,
        powerAlpha: r.opts.powerAlpha ?? powerAlpha,
        standardizer: r.opts.standardizer,
        output: uniqueIds.get(key) as number,
      };
      const d = this.featureDim(cfg);
      if (cfg.standardizer !== undefined && d !== null && cfg.standardizer.dim !== d) {
        throw new ShapeMismatchError(
          FN,
          `options.taps[${resolved.indexOf(r)}].standardizer`,
          `a Standardizer of dimension ${d}`,
          [cfg.standardizer.dim],
        );
      }
      return cfg;
    });
    const firstOf = [...uniqueIds.values()].map(
      (u) => resolved[this.configs.findIndex((c) => c.output === u)],
    );

    if (graph) {
      this.graphNodes = firstOf.map((r) => r.ref.name);
      this.tapModel = undefined;
      this.tapOutputNames = [];
      this.eagerPaths = undefined;
      this.activationElems = elems(this.inputShape.length > 0 ? this.inputShape : [null, 1]) * 4;
    } else {
      const container = model as ContainerLike;
      this.graphNodes = undefined;
      const paths = firstOf.map((r) => r.steps as ResolvedTap['steps']);
      if (paths.every((p) => p.length === 1 && p[0].kind === 'read')) {
        // Every tap is a tensor of the top graph: one tfl.model over the tapped symbolic tensors.
        const outs = paths.map((p) => (p[0] as { tensor: SymbolicTensor }).tensor);
        this.tapModel = tfl.model({ inputs: container.inputs, outputs: outs });
        this.tapOutputNames = this.tapModel.outputs.map((t) => t.name);
        this.eagerPaths = undefined;
      } else {
        this.tapModel = undefined;
        this.tapOutputNames = [];
        this.eagerPaths = paths;
      }
      // tfjs frees each activation once its consumers ran: a pass holds about the input, a few of the largest
      // activations at once, and the tapped outputs (kept until the end).
      let largest = 0;
      for (const t of listTaps(container))
        if (t.outputShape.length > 0) largest = Math.max(largest, elems(t.outputShape));
      const tapped = this.configs.reduce(
        (a, c) => a + (c.outputShape.length > 0 ? elems(c.outputShape) : 0),
        0,
      );
      const total = elems(this.inputShape) + 3 * largest + tapped;
      this.activationElems = total;
    }
  }

  /**
   * Lists the taps of a model (every layer, nested models expanded, with output shapes); for a graph model, its nodes when the model carries its
   * topology.
   */
  static listTaps(model: tfl.LayersModel | GraphModelLike): TapInfo[] {
    if (isGraphModel(model)) return listGraphTaps(model);
    if (!isContainer(model))
      throw new InvalidArgumentError(
        'FeatureExtractor.listTaps',
        'model',
        'a LayersModel or GraphModel',
        model,
      );
    return listTaps(model);
  }

  /** Feature dimension of a tap after pooling and view combination (null when the layer's shape is unknown). */
  private featureDim(c: TapConfig): number | null {
    const d = poolDim(c.outputShape, c.pool);
    return d !== null && this.augment?.combine === 'concat' ? d * this.viewCount : d;
  }

  /** The resolved taps, in output order, with their feature dimensions. */
  get taps(): ExtractorTap[] {
    return this.configs.map((c) => ({
      name: c.name,
      className: c.className,
      outputShape: c.outputShape,
      dim: c.standardizer?.dim ?? this.featureDim(c),
      pool: c.pool,
      normalize: c.normalize,
      powerAlpha: c.powerAlpha,
      standardizer: c.standardizer,
    }));
  }

  /** Number of views per image (1 without augmentation, up to 10 with centre + corners + flips). */
  get viewCount(): number {
    return this.augment === undefined ? 1 : viewSpecs(this.augment).length;
  }

  /** The `[height, width]` images are brought to (undefined for models without a fixed image input). */
  get inputSize(): readonly [number, number] | undefined {
    return this.size;
  }

  /**
   * The batch size that keeps one forward pass (all views) within `memoryBudgetMB` of float32 activations. The
   * estimate per image is the input, three times the largest layer output (tfjs frees an activation once its
   * consumers ran, so only a few are alive at once) and the tapped outputs.
   */
  batchSizeFor(memoryBudgetMB: number, maxBatchSize = 256): number {
    checkPositive(`${FN}.batchSizeFor`, 'memoryBudgetMB', memoryBudgetMB);
    checkInteger(`${FN}.batchSizeFor`, 'maxBatchSize', maxBatchSize, 1);
    const perImage = 4 * this.viewCount * Math.max(1, this.activationElems);
    return Math.max(1, Math.min(maxBatchSize, Math.floor((memoryBudgetMB * 1024 * 1024) / perImage)));
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError(FN, method);
  }

  private checkBatch(method: string, argument: string, images: unknown): asserts images is tf.Tensor {
    checkImageBatch(FN, method, argument, images, {
      inputShape: this.inputShape,
      size: this.size,
      resize: this.resize,
      augment: this.augment,
    });
  }

  /** Runs the model once on a prepared batch; returns one activation tensor per unique tap. */
  private forward(x: tf.Tensor): tf.Tensor[] {
    if (this.graphNodes !== undefined) {
      const out = (this.model as GraphModelLike).execute(x, this.graphNodes);
      return Array.isArray(out) ? out : [out];
    }
    if (this.tapModel !== undefined) {
      const out = this.tapModel.execute(x, this.tapOutputNames);
      return Array.isArray(out) ? out : [out];
    }
    return evaluateTaps(this.model as ContainerLike, [x], this.eagerPaths as ResolvedTap['steps'][]);
  }

  /**
   * Features of one batch: one `[N, D]` tensor per tap (the caller owns them), from a single forward pass over
   * all taps (and all augmented views). `images` is never disposed.
   *
   * @throws {@link ShapeMismatchError} for a batch of the wrong rank, channels or size; {@link DisposedError}
   * after `dispose()`.
   */
  extract(images: tf.Tensor): tf.Tensor2D[] {
    this.assertLive('extract');
    this.checkBatch('extract', 'images', images);
    return tf.tidy(() => {
      const n = images.shape[0];
      let x: tf.Tensor = images;
      let views = 1;
      if (this.inputShape.length === 4 && this.size !== undefined) {
        if (this.augment !== undefined) {
          x = augmentedViews(images as tf.Tensor4D, this.size, this.augment, this.resize);
          views = this.viewCount;
        } else {
          x = fitToSize(images as tf.Tensor4D, this.size, this.resize);
        }
      }
      if (this.inputShape.length === 4) x = preprocessImages(x as tf.Tensor4D, this.preprocess);
      else x = tf.cast(x, 'float32');
      const acts = this.forward(x);
      return this.configs.map((c) => {
        let f: tf.Tensor2D = poolFeatures(acts[c.output], c.pool);
        if (views > 1) f = combineViews(f, views, n, this.augment?.combine ?? 'mean');
        if (c.normalize !== 'none') f = normalizeFeatures(f, c.normalize, c.powerAlpha);
        if (c.standardizer !== undefined) f = c.standardizer.transform(f);
        return f;
      });
    });
  }

  /**
   * Features of one batch with all taps side by side: `[N, sum of D]` (tap order).
   */
  extractConcat(images: tf.Tensor): tf.Tensor2D {
    this.assertLive('extractConcat');
    this.checkBatch('extractConcat', 'images', images);
    return tf.tidy(() => {
      const parts = this.extract(images);
      return parts.length === 1 ? parts[0] : (tf.concat(parts, 1) as tf.Tensor2D);
    });
  }

  /**
   * Extracts features over a whole data set in batches sized to a memory budget, with progress; returns one
   * {@link FeatureMatrix} per tap (convert with `.toTensor()` or `.toMatrix()`, or use `.data`).
   *
   * Sources: a `[N, H, W, C]` tensor (sliced), an array of images `[H, W, C]` and/or batches, an (async) iterable of
   * batches, or a generator function called with the batch size this call chose. Batches larger than the batch
   * size are split. Memory stays flat: each batch's features are read back (`await data()`) before the next.
   *
   * @throws {@link InvalidArgumentError} for an empty data set; {@link ShapeMismatchError} for a bad batch.
   */
  async extractAll(source: ImageSource, options: ExtractAllOptions = {}): Promise<FeatureMatrix[]> {
    this.assertLive('extractAll');
    const o = checkOptions(`${FN}.extractAll`, 'options', options);
    checkOptionKeys(
      `${FN}.extractAll`,
      'options',
      o,
      knownKeys<ExtractAllOptions>({
        batchSize: true,
        memoryBudgetMB: true,
        maxBatchSize: true,
        onProgress: true,
        total: true,
        keepBatches: true,
      }),
    );
    const budget = o.memoryBudgetMB ?? 64;
    checkPositive(`${FN}.extractAll`, 'options.memoryBudgetMB', budget);
    const maxBatch = o.maxBatchSize ?? 256;
    checkInteger(`${FN}.extractAll`, 'options.maxBatchSize', maxBatch, 1);
    if (o.batchSize !== undefined) checkInteger(`${FN}.extractAll`, 'options.batchSize', o.batchSize, 1);
    if (o.total !== undefined) checkInteger(`${FN}.extractAll`, 'options.total', o.total, 0);
    const batchSize = o.batchSize ?? this.batchSizeFor(budget, maxBatch);
    const isSourceOk = isBatchSource(source);
    if (!isSourceOk) {
      throw new InvalidArgumentError(
        `${FN}.extractAll`,
        'source',
        'a tensor, an array of images, an (async) iterable of batches or a batch generator',
        source,
      );
    }
    if (isTensor(source)) this.checkBatch('extractAll', 'source', source);
    let total = o.total ?? 0;
    if (isTensor(source)) total = source.shape[0];
    else if (Array.isArray(source))
      total = (source as tf.Tensor[]).reduce(
        (s, t) => s + (isTensor(t) && t.rank === 3 ? 1 : isTensor(t) ? t.shape[0] : 0),
        0,
      );

    const chunks: Float32Array[][] = this.configs.map(() => []);
    const dims: number[] = this.configs.map(() => 0);
    let done = 0;
    const consume = async (batch: tf.Tensor, argument: string): Promise<void> => {
      this.checkBatch('extractAll', argument, batch);
      for (let start = 0; start < batch.shape[0]; start += batchSize) {
        const size = Math.min(batchSize, batch.shape[0] - start);
        const part = size === batch.shape[0] ? batch : tf.slice(batch, start, size);
        let feats: tf.Tensor2D[] = [];
        try {
          feats = this.extract(part);
          for (let k = 0; k < feats.length; k++) {
            const v = await feats[k].data();
            dims[k] = feats[k].shape[1];
            chunks[k].push(v instanceof Float32Array ? v : Float32Array.from(v));
          }
        } finally {
          tf.dispose(feats);
          if (part !== batch) part.dispose();
        }
        done += size;
        o.onProgress?.({ phase: 'extract', done, total: Math.max(total, done) });
      }
    };

    const batches = batchesOf(source, {
      batchSize,
      keepBatches: o.keepBatches ?? false,
      fn: `${FN}.extractAll`,
    });
    for await (const { batch, owned, argument } of batches) {
      try {
        await consume(batch, argument);
      } finally {
        if (owned && !batch.isDisposed) batch.dispose();
      }
    }
    if (done === 0) {
      throw new InvalidArgumentError(`${FN}.extractAll`, 'source', 'a non-empty data set', '0 images');
    }
    return this.configs.map(
      (c, k) => new FeatureMatrix(done, dims[k], joinChunks(chunks[k], done, dims[k]), c.name),
    );
  }

  /**
   * Fits a {@link Standardizer} per tap on the features of `source` (extracted without standardisation) and uses
   * them from now on; returns them (save them with `toJSON()` to standardise later features the same way).
   */
  async fitStandardizers(source: ImageSource, options: ExtractAllOptions = {}): Promise<Standardizer[]> {
    this.assertLive('fitStandardizers');
    const saved = this.configs.map((c) => c.standardizer);
    for (const c of this.configs) c.standardizer = undefined;
    let feats: FeatureMatrix[];
    try {
      feats = await this.extractAll(source, options);
    } catch (e) {
      this.configs.forEach((c, k) => {
        c.standardizer = saved[k];
      });
      throw e;
    }
    const fitted = await Promise.all(feats.map((f) => Standardizer.fit(f)));
    this.configs.forEach((c, k) => {
      c.standardizer = fitted[k];
    });
    return fitted;
  }

  /** Sets (or clears, with `undefined`) the standardisation of the tap at `index`. */
  setStandardizer(index: number, standardizer: Standardizer | undefined): void {
    this.assertLive('setStandardizer');
    checkInteger(`${FN}.setStandardizer`, 'index', index, 0, this.configs.length - 1);
    if (standardizer !== undefined && !(standardizer instanceof Standardizer)) {
      throw new InvalidArgumentError(
        `${FN}.setStandardizer`,
        'standardizer',
        'a Standardizer or undefined',
        standardizer,
      );
    }
    const d = this.featureDim(this.configs[index]);
    if (standardizer !== undefined && d !== null && standardizer.dim !== d) {
      throw new ShapeMismatchError(
        `${FN}.setStandardizer`,
        'standardizer',
        `a Standardizer of dimension ${d}`,
        [standardizer.dim],
      );
    }
    this.configs[index].standardizer = standardizer;
  }

  /** Releases the extractor. The model (and its weights) stay the caller's; later calls throw DisposedError. */
  dispose(): void {
    this.disposed = true;
  }

  /** Whether {@link FeatureExtractor.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }
}
