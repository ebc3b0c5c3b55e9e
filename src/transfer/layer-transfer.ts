/**
 * LayerTransfer: a target model made from a base model's first n layers (deep copies of their weights) and
 * re-initialised upper layers, with a new head or Oquab et al.'s adaptation block (built in `target-model.ts`);
 * freezing with an explicit BatchNormalization policy; fine-tuning with discriminative learning rates.
 *
 * Yosinski et al. (2014), Sec. 2: "the first n layers are copied from baseA and frozen. The remaining higher layers
 * are randomly initialized and trained on dataset B" (AnB); with the copied layers fine-tuned instead (AnB+).
 * Oquab et al. (2014), Sec. 3: the output layer is replaced by an adaptation layer FCa -> FCb trained on the target.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type EvaluateOptions, type Evaluation, evaluateClassifier } from '../classify/evaluate.js';
import { checkOptionKeys, checkOptions, checkPositive, knownKeys } from '../core/checks.js';
import {
  DisposedError,
  InvalidArgumentError,
  ShapeMismatchError,
  UnsupportedLayerError,
} from '../core/errors.js';
import type { LabeledData } from '../core/types.js';
import {
  type LayerSelector,
  type ModelStructure,
  modelStructure,
  resolveStages,
} from '../model/structure.js';
import type { BatchNormPolicy } from './batchnorm.js';
import type { ParameterGroup } from './grouped-optimizer.js';
import { buildTarget, type LayerTransferOptions } from './target-model.js';
import { type GroupTrainHistory, type GroupTrainOptions, trainWithGroups } from './train.js';

/** Options of {@link LayerTransfer.fineTune}: a {@link GroupTrainOptions} whose groups are the copied and new layers. */
export interface FineTuneOptions extends Omit<GroupTrainOptions, 'groups'> {
  /**
   * Learning rate of the copied layers that are not frozen (discriminative fine-tuning: often 10x lower than
   * `learningRate`, which the new layers use).
   * @default the same as `learningRate` (Yosinski et al.'s AnB+)
   */
  copiedLearningRate?: number;
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
    const { model, copied, copiedLayers, batchNorm } = buildTarget(base, options);
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
