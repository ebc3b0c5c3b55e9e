/**
 * The layer structure LayerTransfer works on: a model's leaf layers (nested models flattened, in the model's
 * topological order) grouped into *stages*. A stage is one weight-bearing layer (convolution, dense, ...) together
 * with the weightless layers after it (activation, pooling, dropout, flatten) and the normalisation layers after it
 * (a BatchNormalization belongs to the convolution it normalises). Stages are what Yosinski et al. (2014) count as
 * "the first n layers".
 *
 * @module
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { type ContainerLike, isContainer, type Layer } from './kinds.js';
import { type LayerRef, resolveLayer } from './layers.js';

/**
 * Layer classes that are grouped with the weight-bearing layer before them rather than counted as a stage.
 *
 * @example
 * ```ts
 * NORMALIZATION_CLASSES.includes(layer.getClassName()); // true for a BatchNormalization layer
 * ```
 */
export const NORMALIZATION_CLASSES: readonly string[] = ['BatchNormalization', 'LayerNormalization'];

/** One leaf layer of a (possibly nested) model. */
export interface LeafLayer {
  /** Names from the outer model down to this layer, e.g. `['block1', 'conv']` for a layer of a nested model. */
  readonly path: readonly string[];
  /** `path.join('/')`. */
  readonly key: string;
  /** The layer itself. */
  readonly layer: Layer;
  /** Its class name, e.g. `'Conv2D'`. */
  readonly className: string;
  /** Does it own weights (trainable or not)? */
  readonly hasWeights: boolean;
  /**
   * Index of the stage it belongs to; -1 for weightless layers before the first weight-bearing layer (an input
   * rescaling, for instance).
   */
  readonly stage: number;
}

/** The flattened leaf layers of a model and its number of stages. */
export interface ModelStructure {
  /** The leaf layers (nested models flattened), in model order. */
  readonly leaves: readonly LeafLayer[];
  /** Number of stages (weight-bearing layers that are not normalisation layers). */
  readonly stages: number;
  /** The top-level layers, each with the leaves it spans (a nested model spans several). */
  readonly top: readonly {
    /** The top-level layer (possibly a nested model). */
    layer: Layer;
    /** The leaves it spans (itself for a plain layer). */
    leaves: readonly LeafLayer[];
  }[];
}

/**
 * Flattens a model's layers (recursing into nested models) and assigns each leaf its stage.
 *
 * @example
 * ```ts
 * const { leaves, stages } = modelStructure(model);
 * leaves.filter((l) => l.stage === 0).map((l) => l.key); // ['conv1', 'bn1', 'relu1', 'pool1']
 * ```
 */
export function modelStructure(model: tfl.LayersModel): ModelStructure {
  const raw: { path: string[]; layer: Layer }[] = [];
  const top: { layer: Layer; from: number; to: number }[] = [];
  const walk = (container: { layers: Layer[] }, prefix: string[], isTop: boolean): void => {
    for (const layer of container.layers) {
      const from = raw.length;
      if (isContainer(layer)) walk(layer, [...prefix, layer.name], false);
      else if (layer.getClassName() !== 'InputLayer') raw.push({ path: [...prefix, layer.name], layer });
      if (isTop && raw.length > from) top.push({ layer, from, to: raw.length });
    }
  };
  walk(model, [], true);

  const weightStage: boolean[] = raw.map(
    (r) => r.layer.weights.length > 0 && !NORMALIZATION_CLASSES.includes(r.layer.getClassName()),
  );
  const firstWeight = weightStage.indexOf(true);
  let stage = -1;
  const leaves: LeafLayer[] = raw.map((r, i) => {
    const hasWeights = r.layer.weights.length > 0;
    if (weightStage[i]) stage++;
    // Normalisation layers before the first weight-bearing layer join stage 0 (they have weights to copy).
    const s = stage < 0 && hasWeights && firstWeight >= 0 ? 0 : stage;
    return {
      path: r.path,
      key: r.path.join('/'),
      layer: r.layer,
      className: r.layer.getClassName(),
      hasWeights,
      stage: s,
    };
  });
  return {
    leaves,
    stages: stage + 1,
    top: top.map((t) => ({ layer: t.layer, leaves: leaves.slice(t.from, t.to) })),
  };
}

/**
 * Selects "the first n stages" of a model: a count of stages, or the stage of a layer (included) given by a
 * {@link LayerRef} with the meaning every primitive shares (see `listLayers`): `{ layer: 'backbone/conv2' }`,
 * `{ layer: -2 }`, `{ layer: model.getLayer('fc1') }`. `{ name }` and `{ index }` are the same as `{ layer }` with
 * a string and a number.
 */
export type LayerSelector =
  | number
  | {
      /** A layer reference: name or `'nested/leaf'` path, index into `model.layers`, or the layer object. */
      readonly layer: LayerRef;
    }
  | {
      /** A leaf layer's name, a `'nested/leaf'` path or a nested model's name. */
      readonly name: string;
    }
  | {
      /** Index into `model.layers` (negative counts from the end). */
      readonly index: number;
    };

/**
 * The number of stages up to and including a layer: its stage + 1; for a nested model, the stage of its last leaf;
 * 0 for a layer before any weight (an InputLayer).
 */
export function stagesThrough(structure: ModelStructure, layer: Layer, path: string): number {
  const leaf = structure.leaves.find((l) => l.layer === layer);
  if (leaf !== undefined) return Math.max(0, leaf.stage + 1);
  const inside = structure.leaves.filter((l) => l.key.startsWith(`${path}/`));
  if (inside.length > 0) return Math.max(0, inside[inside.length - 1].stage + 1);
  const top = structure.top.find((t) => t.layer === layer);
  return top === undefined || top.leaves.length === 0 ? 0 : top.leaves[top.leaves.length - 1].stage + 1;
}

/**
 * Resolves a {@link LayerSelector} to a number of stages `n` in `[0, max]`.
 *
 * @throws {@link InvalidArgumentError} for a count out of range, an unknown name (with the closest names) or an
 * index out of range.
 */
export function resolveStages(
  fn: string,
  argument: string,
  structure: ModelStructure,
  model: tfl.LayersModel,
  selector: unknown,
  max: number,
): number {
  if (typeof selector === 'number') {
    if (!Number.isInteger(selector) || selector < 0 || selector > max) {
      throw new InvalidArgumentError(
        fn,
        argument,
        `an integer number of stages in [0, ${max}] (the model has ${structure.stages} weight-bearing stages${
          max < structure.stages ? '; the last one is the head, which is replaced' : ''
        })`,
        selector,
      );
    }
    return selector;
  }
  let ref: unknown;
  let arg = argument;
  if (typeof selector === 'object' && selector !== null && 'layer' in selector) {
    ref = (selector as { layer: unknown }).layer;
    arg = `${argument}.layer`;
  } else if (typeof selector === 'object' && selector !== null && 'name' in selector) {
    ref = (selector as { name: unknown }).name;
    arg = `${argument}.name`;
    if (typeof ref !== 'string') throw new InvalidArgumentError(fn, arg, 'a layer name', ref);
  } else if (typeof selector === 'object' && selector !== null && 'index' in selector) {
    ref = (selector as { index: unknown }).index;
    arg = `${argument}.index`;
    if (typeof ref !== 'number') throw new InvalidArgumentError(fn, arg, 'an integer index', ref);
  } else {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a number of stages, { layer: name | index | Layer }, { name: string } or { index: number }',
      selector,
    );
  }
  const entry = resolveLayer(model as unknown as ContainerLike, ref, fn, arg);
  const n = stagesThrough(structure, entry.layer, entry.info.name);
  if (n > max) {
    throw new InvalidArgumentError(
      fn,
      argument,
      `a layer within the first ${max} stages (the head, stage ${max + 1}, is replaced and cannot be copied)`,
      selector,
    );
  }
  return n;
}

/** Throws a {@link ShapeMismatchError} naming the layer when two weight lists do not have the same shapes. */
export function checkSameWeightShapes(fn: string, key: string, base: Layer, target: Layer): void {
  const bw = base.weights;
  const tw = target.weights;
  const describe = (l: Layer): string =>
    l.weights.map((w) => `${w.originalName}[${w.shape.join(',')}]`).join(' ');
  const same = bw.length === tw.length && bw.every((w, i) => w.shape.join(',') === tw[i].shape.join(','));
  if (!same) {
    throw new ShapeMismatchError(
      fn,
      `layer '${key}'`,
      `the base's weight shapes ${describe(base)} (an input shape compatible with the copied layers)`,
      describe(target),
    );
  }
}
