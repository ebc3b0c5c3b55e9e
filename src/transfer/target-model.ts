/**
 * The target model of a `LayerTransfer`: its options (what to copy, the head, seed, input shape, BatchNorm
 * policy), their checks, and the build: a clone of the base's configuration with seeded initializers, the head kept,
 * replaced or adapted (Oquab et al. 2014's FCa -> FCb), rebuilt by tfjs, the first n stages' weights copied
 * (Yosinski et al. 2014). The class (freezing, parameter groups, fine-tuning) is in `layer-transfer.ts`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInRange, checkInteger, checkOneOf, checkOptionKeys, checkOptions } from '../core/checks.js';
import {
  InvalidArgumentError,
  ShapeMismatchError,
  TransferkitError,
  UnsupportedLayerError,
} from '../core/errors.js';
import { checkCut } from '../model/cuts.js';
import { graphModelError } from '../model/graph-model-error.js';
import { isGraphModel } from '../model/kinds.js';
import {
  checkSameWeightShapes,
  type LayerSelector,
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

/** Options of `new LayerTransfer(base, options)`. */
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

/** What {@link buildTarget} returns: the target model (the caller owns it) and what was copied. */
export interface TargetModel {
  /** The target model. */
  readonly model: tfl.LayersModel;
  /** Number of stages copied from the base. */
  readonly copied: number;
  /** Paths of the layers whose weights were copied. */
  readonly copiedLayers: string[];
  /** The BatchNormalization policy of frozen BN layers. */
  readonly batchNorm: BatchNormPolicy;
}

/**
 * The target model of `new LayerTransfer(base, options)`, checked and built (the base is left untouched): options
 * checked before anything is built, the base's configuration cloned with seeded initializers (copied layers start from
 * zeros), the head kept, replaced or adapted, the model rebuilt, the first n stages' weights copied into new
 * variables, and the BatchNormalization policy applied. On failure nothing is left allocated.
 */
export function buildTarget(base: tfl.LayersModel, options: LayerTransferOptions | undefined): TargetModel {
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

  const target = buildFromConfig(config, base.getClassName() === 'Sequential', opts.inputShape !== undefined);
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
    for (const l of targetLeaves.values()) if (isBatchNorm(l.layer)) applyBatchNormPolicy(l.layer, batchNorm);
    return { model: target, copied: n, copiedLayers: copied, batchNorm };
  } catch (e) {
    target.dispose();
    throw e;
  }
}
