/**
 * LayerTransfer: a target model made from a base model's first n layers (deep copies of their weights) and
 * re-initialised upper layers, with a new head or Oquab et al.'s adaptation block; freezing with an explicit
 * BatchNormalization policy; fine-tuning with discriminative learning rates.
 *
 * Yosinski et al. (2014), Sec. 2: "the first n layers are copied from baseA and frozen. The remaining higher layers
 * are randomly initialized and trained on dataset B" (AnB); with the copied layers fine-tuned instead (AnB+).
 * Oquab et al. (2014), Sec. 3: the output layer is replaced by an adaptation layer FCa -> FCb trained on the target.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type EvaluateOptions, type Evaluation, evaluateClassifier } from '../classify/evaluate.js';
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  knownKeys,
} from '../core/checks.js';
import {
  DisposedError,
  InvalidArgumentError,
  ShapeMismatchError,
  TransferkitError,
  UnsupportedLayerError,
} from '../core/errors.js';
import type { LabeledData } from '../core/types.js';
import { checkCut } from '../model/cuts.js';
import { graphModelError } from '../model/graph-model-error.js';
import { isGraphModel } from '../model/kinds.js';
import {
  checkSameWeightShapes,
  type LayerSelector,
  type ModelStructure,
  modelStructure,
  resolveStages,
} from '../model/structure.js';
import { applyBatchNormPolicy, type BatchNormPolicy, isBatchNorm } from './batchnorm.js';
import {
  type ContainerConfig,
  cloneConfig,
  findEntry,
  insertAdaptation,
  seedInitializers,
  setInputShape,
  visitLeafEntries,
  zeroInitializers,
} from './config.js';
import type { ParameterGroup } from './grouped-optimizer.js';
import { type GroupTrainHistory, type GroupTrainOptions, trainWithGroups } from './train.js';

/**
 * What replaces the base's last layer (its head):
 * - `{ kind: 'keep' }`: the head stays (copied when `copy` covers it, re-initialised otherwise);
 * - `{ kind: 'replace', numClasses }`: a re-initialised head of `numClasses` units (same activation and initializer);
 * - `{ kind: 'adaptation', numClasses, hiddenUnits?, dropout? }`: Oquab et al.'s adaptation block in its place:
 *   FCa (`hiddenUnits`, ReLU) -> Dropout(`dropout`) -> FCb (`numClasses`, the old head's activation).
 */
export type HeadSpec =
  | {
      /** Keep the base's head. */
      readonly kind: 'keep';
    }
  | {
      /** Replace the head with a re-initialised one. */
      readonly kind: 'replace';
      /** Units of the new head (the target task's class count). */
      readonly numClasses: number;
    }
  | {
      /** Replace the head with an adaptation block. */
      readonly kind: 'adaptation';
      /** Units of FCb (the target task's class count). */
      readonly numClasses: number;
      /** Units of FCa. @default 2048 (Oquab et al.) */
      readonly hiddenUnits?: number;
      /** Dropout rate between FCa and FCb. @default 0.5 */
      readonly dropout?: number;
    };

/** Options of {@link LayerTransfer}. */
export interface LayerTransferOptions {
  /**
   * Which layers to copy: a number of stages n (a stage is a weight-bearing layer with the weightless and
   * normalisation layers after it; see `modelStructure`), or up to a layer given by name or index.
   * @default every stage before the head (every stage when the head is kept)
   */
  copy?: LayerSelector;
  /**
   * The head of the target model.
   * @default { kind: 'keep' }
   */
  head?: HeadSpec;
  /**
   * Seed of the re-initialised layers' initializers (each layer's seed is derived from it and the layer's path).
   * @default 0
   */
  seed?: number;
  /**
   * Input shape of the target model without the batch dimension (e.g. larger images for a convolutional body).
   * @default the base's input shape
   */
  inputShape?: readonly number[];
  /**
   * How frozen BatchNormalization layers behave in training (see {@link BatchNormPolicy}).
   * @default 'inference'
   */
  batchNorm?: BatchNormPolicy;
}

/** Options of {@link LayerTransfer.fineTune}: a {@link GroupTrainOptions} whose groups are the copied and new layers. */
export interface FineTuneOptions extends Omit<GroupTrainOptions, 'groups'> {
  /**
   * Learning rate of the copied layers that are not frozen (discriminative fine-tuning: often 10x lower than
   * `learningRate`, which the new layers use).
   * @default the same as `learningRate` (Yosinski et al.'s AnB+)
   */
  copiedLearningRate?: number;
}

const FN = 'LayerTransfer';

function checkBase(base: unknown): asserts base is tfl.LayersModel {
  const m = base as tfl.LayersModel;
  if (isGraphModel(base)) throw graphModelError(FN, 'base');
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.getConfig !== 'function' ||
    !Array.isArray(m.layers) ||
    !Array.isArray(m.inputs)
  ) {
    throw new InvalidArgumentError(FN, 'base', 'a tfjs-layers LayersModel (Sequential or functional)', base);
  }
  for (const w of m.weights) {
    try {
      w.read();
    } catch {
      throw new InvalidArgumentError(FN, 'base', 'a model whose weights are not disposed', base);
    }
  }
}

function checkHead(head: unknown): HeadSpec {
  if (head === undefined) return { kind: 'keep' };
  if (typeof head !== 'object' || head === null) {
    throw new InvalidArgumentError(
      FN,
      'options.head',
      "{ kind: 'keep' | 'replace' | 'adaptation', ... }",
      head,
    );
  }
  const h = head as HeadSpec;
  checkOneOf(FN, 'options.head.kind', h.kind, ['keep', 'replace', 'adaptation'] as const);
  if (h.kind !== 'keep') checkInteger(FN, 'options.head.numClasses', h.numClasses, 1);
  if (h.kind === 'adaptation') {
    if (h.hiddenUnits !== undefined) checkInteger(FN, 'options.head.hiddenUnits', h.hiddenUnits, 1);
    if (h.dropout !== undefined) checkInRange(FN, 'options.head.dropout', h.dropout, 0, 1, { hi: true });
  }
  return h;
}

/** Builds a model from an edited configuration; on failure disposes the variables it created and rethrows. */
function buildFromConfig(
  config: ContainerConfig,
  sequential: boolean,
  shapeChanged: boolean,
): tfl.LayersModel {
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return sequential
      ? (tfl.Sequential.fromConfig(tfl.Sequential as never, config as never) as tfl.LayersModel)
      : (tfl.LayersModel.fromConfig(tfl.LayersModel as never, config as never) as tfl.LayersModel);
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables))
      if (!before.has(name)) v.dispose();
    if (e instanceof TransferkitError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    if (shapeChanged) {
      throw new ShapeMismatchError(
        FN,
        'options.inputShape',
        'an input shape every layer of the base accepts',
        msg,
      );
    }
    throw new UnsupportedLayerError(
      FN,
      config.name ?? 'model',
      'LayersModel',
      `tfjs could not rebuild the model from its configuration (${msg}). Custom layer classes must be registered with tf.serialization.registerClass.`,
    );
  }
}

/**
 * Gives a copied layer back the initializers its base declares (it was built with zeros, since its weights are
 * overwritten at once), so that the target's configuration still declares them.
 */
function restoreInitializers(base: tfl.layers.Layer, target: tfl.layers.Layer): void {
  const b = base as unknown as Record<string, unknown>;
  const t = target as unknown as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (key.endsWith('Initializer') && b[key] !== undefined) t[key] = b[key];
  }
}

/** The known keys of {@link FineTuneOptions}. */
const FINE_TUNE_OPTION_KEYS = knownKeys<FineTuneOptions>({
  copiedLearningRate: true,
  onProgress: true,
  epochs: true,
  batchSize: true,
  learningRate: true,
  optimizer: true,
  seed: true,
  outputKind: true,
  onEpochEnd: true,
  transformBatch: true,
  readEvery: true,
});

/**
 * A target model built from a base model: the first n stages copied (new variables holding the base's values), the
 * rest re-initialised with their declared initializers (seeded), with the head kept, replaced or adapted.
 * The object owns the target model: `dispose()` frees it.
 *
 * @example
 * ```ts
 * // AnB with n = 2 (Yosinski et al. 2014): copy the first two stages of baseA, freeze them, train the rest on B.
 * const t = new LayerTransfer(baseA, { copy: 2, head: { kind: 'replace', numClasses: 5 }, seed: 1 });
 * t.freeze();
 * await t.fineTune({ x: imagesB, labels: labelsB }, { epochs: 2, learningRate: 1e-3 });
 * const { accuracy } = await t.evaluate({ x: testB, labels: testLabelsB });
 * t.dispose();
 * ```
 */
export class LayerTransfer {
  /** The target model (owned by this object). */
  readonly model: tfl.LayersModel;
  /** Number of stages copied from the base (n). */
  readonly copiedStages: number;
  /** Number of stages of the target model. */
  readonly stages: number;
  /** Paths (`'nested/layer'`) of the layers whose weights were copied. */
  readonly copiedLayers: readonly string[];
  /** Paths of the weight-bearing layers that were re-initialised or are new (head, adaptation block). */
  readonly newLayers: readonly string[];
  /** The BatchNormalization policy of frozen BN layers. */
  readonly batchNorm: BatchNormPolicy;
  private readonly structure: ModelStructure;
  private frozen = 0;
  private disposed = false;

  /**
   * Builds the target model from `base` (which is left untouched and may be disposed afterwards).
   *
   * @param base a built tfjs-layers model (Sequential or functional, nested models allowed)
   * @param options see {@link LayerTransferOptions}
   * @throws {@link InvalidArgumentError} for n out of range or an unknown layer name;
   * {@link ShapeMismatchError} when `inputShape` makes a copied layer's weights differ from the base's;
   * {@link UnsupportedLayerError} when the head to replace is not a Dense layer
   */
  constructor(base: tfl.LayersModel, options?: LayerTransferOptions) {
    const { model, copied, copiedLayers, batchNorm } = LayerTransfer.build(base, options);
    this.model = model;
    this.structure = modelStructure(model);
    this.stages = this.structure.stages;
    this.copiedStages = copied;
    this.copiedLayers = copiedLayers;
    this.newLayers = this.structure.leaves
      .filter((l) => l.hasWeights && !copiedLayers.includes(l.key))
      .map((l) => l.key);
    this.batchNorm = batchNorm;
  }

  /** The target model, checked and built (the constructor's work; the base is left untouched). */
  private static build(
    base: tfl.LayersModel,
    options: LayerTransferOptions | undefined,
  ): { model: tfl.LayersModel; copied: number; copiedLayers: string[]; batchNorm: BatchNormPolicy } {
    checkBase(base);
    const opts = checkOptions(FN, 'options', options);
    checkOptionKeys(FN, 'options', opts, [
      'copy',
      'head',
      'seed',
      'inputShape',
      'batchNorm',
    ] satisfies (keyof LayerTransferOptions)[]);
    const head = checkHead(opts.head);
    const seed = opts.seed ?? 0;
    checkInteger(FN, 'options.seed', seed);
    const batchNorm = opts.batchNorm ?? 'inference';
    checkOneOf(FN, 'options.batchNorm', batchNorm, ['inference', 'batch-stats'] as const);
    if (opts.inputShape !== undefined) {
      if (!Array.isArray(opts.inputShape) || opts.inputShape.length === 0) {
        throw new InvalidArgumentError(
          FN,
          'options.inputShape',
          'a non-empty array of positive integers',
          opts.inputShape,
        );
      }
      opts.inputShape.forEach((d, i) => {
        checkInteger(FN, `options.inputShape[${i}]`, d, 1);
      });
    }

    const structure = modelStructure(base);
    let headLeaf: (typeof structure.leaves)[number] | undefined;
    if (head.kind !== 'keep') {
      if (base.outputs.length !== 1) {
        throw new InvalidArgumentError(
          FN,
          'base',
          'a model with one output when the head is replaced',
          base.outputs.length,
        );
      }
      const weighted = structure.leaves.filter((l) => l.hasWeights);
      headLeaf = weighted[weighted.length - 1];
      if (headLeaf === undefined || headLeaf.className !== 'Dense') {
        throw new UnsupportedLayerError(
          FN,
          headLeaf?.key ?? base.name,
          headLeaf?.className ?? 'none',
          "The head to replace must be the model's last weight-bearing layer and a Dense layer; use head: { kind: 'keep' }.",
        );
      }
    }
    const max = head.kind === 'keep' ? structure.stages : structure.stages - 1;
    const n = resolveStages(FN, 'options.copy', structure, base, opts.copy ?? max, max);
    checkCut(FN, 'options.copy', base, structure, n);

    const config = cloneConfig(base.getConfig()) as unknown as ContainerConfig;
    // Seeds follow each layer's position (not its name: auto-generated names change from one model to the next).
    // Layers about to be overwritten by the copy start from zeros: drawing random weights for them is wasted work.
    const copiedKeys = new Set(structure.leaves.filter((l) => l.stage < n && l.hasWeights).map((l) => l.key));
    let position = 0;
    visitLeafEntries(config, (entry, path) => {
      if (entry.className !== 'InputLayer') seedInitializers(entry, seed, `layer${position++}`);
      if (copiedKeys.has(path.join('/'))) zeroInitializers(entry);
      entry.config.trainable = true;
    });
    if (head.kind === 'replace' && headLeaf !== undefined) {
      const at = findEntry(config, headLeaf.path);
      if (at !== undefined) at.entry.config.units = head.numClasses;
    } else if (head.kind === 'adaptation' && headLeaf !== undefined) {
      insertAdaptation(
        FN,
        config,
        headLeaf.path,
        { numClasses: head.numClasses, hiddenUnits: head.hiddenUnits ?? 2048, dropout: head.dropout ?? 0.5 },
        seed,
      );
    }
    if (opts.inputShape !== undefined) setInputShape(FN, config, opts.inputShape);

    const target = buildFromConfig(
      config,
      base.getClassName() === 'Sequential',
      opts.inputShape !== undefined,
    );
    try {
      const targetLeaves = new Map(modelStructure(target).leaves.map((l) => [l.key, l]));
      if (opts.inputShape !== undefined) {
        // an input too small for the base shrinks some activation to nothing (e.g. a 0 x 0 map before a Flatten,
        // leaving a head that predicts only its biases): reject it
        for (const leaf of targetLeaves.values()) {
          const shape = leaf.layer.outputShape as unknown;
          const shapes = (Array.isArray(shape) && Array.isArray(shape[0]) ? shape : [shape]) as (
            | number
            | null
          )[][];
          if (shapes.some((s) => Array.isArray(s) && s.some((d) => d !== null && d <= 0))) {
            throw new ShapeMismatchError(
              FN,
              'options.inputShape',
              `an input shape that leaves every activation non-empty (layer \`${leaf.key}\` outputs [${shapes[0]?.map((d) => d ?? '*').join(', ')}])`,
              [...opts.inputShape],
            );
          }
        }
      }
      const copied: string[] = [];
      for (const leaf of structure.leaves) {
        if (leaf.stage >= n || !leaf.hasWeights) continue;
        const t = targetLeaves.get(leaf.key);
        if (t === undefined) {
          throw new UnsupportedLayerError(
            FN,
            leaf.key,
            leaf.className,
            'The layer is missing from the rebuilt model.',
          );
        }
        checkSameWeightShapes(FN, leaf.key, leaf.layer, t.layer);
        // setWeights assigns the base's values to the target's own variables: new variables whose (immutable)
        // buffers start out shared and part as soon as either side is updated.
        t.layer.setWeights(leaf.layer.getWeights());
        restoreInitializers(leaf.layer, t.layer);
        copied.push(leaf.key);
      }
      for (const l of targetLeaves.values())
        if (isBatchNorm(l.layer)) applyBatchNormPolicy(l.layer, batchNorm);
      return { model: target, copied: n, copiedLayers: copied, batchNorm };
    } catch (e) {
      target.dispose();
      throw e;
    }
  }

  private check(method: string): void {
    if (this.disposed) throw new DisposedError('LayerTransfer', method);
  }

  /** Number of stages currently frozen. */
  get frozenStages(): number {
    return this.frozen;
  }

  /**
   * Freezes the first stages of the target model (and unfreezes the others): their weights get `trainable = false`,
   * so `fit()`, {@link LayerTransfer.fineTune} and tfjs optimizers leave them alone, and their BatchNormalization
   * layers follow {@link LayerTransfer.batchNorm}. If you train with `model.fit()`, compile after unfreezing
   * (tfjs collects the trainable weights at compile time); freezing takes effect without recompiling.
   *
   * @param upTo a number of stages or a layer by name/index (inclusive)
   * @default upTo the copied stages
   * @returns the paths of the frozen layers
   * @example
   * ```ts
   * t.freeze(); // the copied stages (AnB)
   * t.freeze({ name: 'conv2' }); // everything up to and including conv2's stage
   * ```
   */
  freeze(upTo?: LayerSelector): string[] {
    this.check('freeze');
    const n = resolveStages(
      'LayerTransfer.freeze',
      'upTo',
      this.structure,
      this.model,
      upTo ?? this.copiedStages,
      this.stages,
    );
    const frozen: string[] = [];
    for (const leaf of this.structure.leaves) {
      const freeze = leaf.stage < n;
      leaf.layer.trainable = !freeze;
      if (freeze) frozen.push(leaf.key);
    }
    this.frozen = n;
    return frozen;
  }

  /** Makes every layer trainable again (recompile before `model.fit()`). */
  unfreeze(): void {
    this.check('unfreeze');
    for (const leaf of this.structure.leaves) leaf.layer.trainable = true;
    this.frozen = 0;
  }

  /**
   * The trainable variables in two groups for discriminative learning rates: `'copied'` (the copied stages that
   * are not frozen) and `'new'` (the rest). Empty groups are left out.
   *
   * @example
   * ```ts
   * const groups = t.parameterGroups({ copied: 1e-4, new: 1e-3 });
   * ```
   */
  parameterGroups(rates: { copied: number; new: number }): ParameterGroup[] {
    this.check('parameterGroups');
    checkPositive('LayerTransfer.parameterGroups', 'rates.copied', rates?.copied);
    checkPositive('LayerTransfer.parameterGroups', 'rates.new', rates?.new);
    const copied: tf.Variable[] = [];
    const fresh: tf.Variable[] = [];
    for (const leaf of this.structure.leaves) {
      for (const w of leaf.layer.trainableWeights) {
        const v = w.read() as tf.Variable;
        if (!v.trainable) continue;
        (leaf.stage < this.copiedStages ? copied : fresh).push(v);
      }
    }
    const groups: ParameterGroup[] = [];
    if (copied.length > 0) groups.push({ name: 'copied', variables: copied, learningRate: rates.copied });
    if (fresh.length > 0) groups.push({ name: 'new', variables: fresh, learningRate: rates.new });
    return groups;
  }

  /**
   * Trains the target model on a labelled data set: frozen stages stay fixed, unfrozen copied stages train at
   * `copiedLearningRate`, new layers at `learningRate` (one optimizer per group, see {@link GroupedOptimizer}).
   *
   * @example
   * ```ts
   * await t.fineTune(dataB, { epochs: 1, learningRate: 1e-3, copiedLearningRate: 1e-4, seed: 7 });
   * ```
   */
  async fineTune(data: LabeledData, options?: FineTuneOptions): Promise<GroupTrainHistory> {
    this.check('fineTune');
    const opts = checkOptions('LayerTransfer.fineTune', 'options', options);
    checkOptionKeys('LayerTransfer.fineTune', 'options', opts, FINE_TUNE_OPTION_KEYS);
    const lr = opts.learningRate ?? 1e-3;
    checkPositive('LayerTransfer.fineTune', 'options.learningRate', lr);
    const copiedLr = opts.copiedLearningRate ?? lr;
    checkPositive('LayerTransfer.fineTune', 'options.copiedLearningRate', copiedLr);
    const { copiedLearningRate: _copied, ...training } = opts;
    return trainWithGroups(this.model, data, {
      ...training,
      groups: this.parameterGroups({ copied: copiedLr, new: lr }),
    });
  }

  /**
   * The target model on labeled data, with {@link evaluateClassifier}: accuracy, errors, loss, per-class errors.
   *
   * @example
   * ```ts
   * const { accuracy } = await t.evaluate({ x: testImages, labels: testLabels });
   * ```
   */
  evaluate(data: LabeledData, options?: EvaluateOptions): Promise<Evaluation> {
    this.check('evaluate');
    return evaluateClassifier(this.model, data, options);
  }

  /** Frees the target model's variables. Further calls throw {@link DisposedError}. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
  }
}
