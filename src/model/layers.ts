/**
 * The ONE meaning of a layer reference, shared by every primitive (FeatureExtractor taps, Deconvnet layers,
 * LayerTransfer cuts, the ensemble's head):
 *
 * - a **name**: the layer's path through nested models, `'conv2'` or `'backbone/conv2'`; a bare layer name also
 *   matches a layer inside a nested model when it is unambiguous;
 * - an **index**: `model.layers[index]`, the model's top-level layers exactly as tfjs `model.getLayer(undefined,
 *   index)` and Keras `get_layer(index=...)` count them (a functional model's `InputLayer` is index 0, a
 *   `Sequential` has none); negative indices count from the end, `-1` is the output layer. A nested model given by
 *   index stands for its output;
 * - a **layer object** of the model (nested ones included);
 * - for a GraphModel, a **node name** (`'MobilenetV2/Conv/Relu6'`, with or without `:0`), see `graph-model.ts`.
 *
 * An unknown name fails with the closest names of the model.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { closeNames, quoteNames } from '../core/names.js';
import { type ContainerLike, isContainer, type Layer } from './kinds.js';

/**
 * A reference to a layer: a name or nested path (`'backbone/conv2'`), an index into `model.layers` (negative from
 * the end) or the layer object.
 *
 * @example
 * ```ts
 * const refs: LayerRef[] = ['conv2', 'backbone/block_3', -2, model.getLayer('fc1')];
 * ```
 */
export type LayerRef = string | number | Layer;

/**
 * One layer of a model as the reader lists it (nested models expanded: their layers follow them).
 *
 * @example
 * ```ts
 * const info: LayerInfo = listLayers(model)[0]; // { name: 'conv1', className: 'Conv2D', outputShape: [null, 26, 26, 16], ... }
 * ```
 */
export interface LayerInfo {
  /** Unique name: the layer name, prefixed by the nested models it lies in (`'backbone/conv2'`). */
  readonly name: string;
  /** The layer's class, e.g. `'Conv2D'` (for a graph node, its op). */
  readonly className: string;
  /** Output shape with the batch dimension as `null`, e.g. `[null, 12, 12, 32]` (`[]` when unknown). */
  readonly outputShape: readonly (number | null)[];
  /** Index of the layer in its (sub)model's `layers` (for top-level layers, what a numeric reference means). */
  readonly index: number;
  /** 0 for a layer of the model itself, 1 inside a nested model, and so on. */
  readonly depth: number;
  /** Number of weights (parameters) of the layer. */
  readonly params: number;
}

/** A listed layer with the layer object and the nested models above it (inner use). */
export interface LayerEntry {
  /** What is listed publicly. */
  readonly info: LayerInfo;
  /** The layer. */
  readonly layer: Layer;
  /** The nested models between the top model and this layer, outermost first. */
  readonly chain: readonly ContainerLike[];
}

/** The static output shape of a layer (the first one for a layer applied several times). */
export function layerOutputShape(layer: Layer): (number | null)[] {
  try {
    const s = layer.outputShape;
    if (Array.isArray(s[0]) || s[0] === undefined) {
      const first = (s as unknown as (number | null)[][])[0];
      return first ? [...first] : [];
    }
    return [...(s as (number | null)[])];
  } catch {
    // A nested model applied several times has one shape per node; they agree in practice: take its output.
    if (isContainer(layer)) return [...layer.outputs[0].shape];
    return [];
  }
}

function paramCount(layer: Layer): number {
  try {
    return layer.countParams();
  } catch {
    return 0;
  }
}

function walk(
  model: ContainerLike,
  prefix: string,
  chain: ContainerLike[],
  depth: number,
  out: LayerEntry[],
): void {
  model.layers.forEach((layer, index) => {
    const name = `${prefix}${layer.name}`;
    out.push({
      info: {
        name,
        className: layer.getClassName(),
        outputShape: layerOutputShape(layer),
        index,
        depth,
        params: paramCount(layer),
      },
      layer,
      chain,
    });
    if (isContainer(layer)) walk(layer, `${name}/`, [...chain, layer], depth + 1, out);
  });
}

/** Every layer of a tfjs-layers model, nested models expanded (inner use: with the layer objects). */
export function layerEntries(model: ContainerLike): LayerEntry[] {
  const out: LayerEntry[] = [];
  walk(model, '', [], 0, out);
  return out;
}

/**
 * Lists every layer of a tfjs-layers model, nested models expanded (their layers follow them, named
 * `'<model>/<layer>'`), with output shapes: the names every primitive accepts as a layer reference.
 *
 * @example
 * ```ts
 * for (const l of listLayers(model)) console.log(l.name, l.className, l.outputShape);
 * ```
 */
export function listLayers(model: unknown): LayerInfo[] {
  if (!isContainer(model)) {
    throw new InvalidArgumentError('listLayers', 'model', 'a tfjs-layers LayersModel or Sequential', model);
  }
  return layerEntries(model).map((e) => e.info);
}

/** The error for an unknown layer name: the closest names of the model. */
export function unknownLayerName(
  fn: string,
  argument: string,
  ref: string,
  names: readonly string[],
  lister = 'listLayers(model)',
): InvalidArgumentError {
  return new InvalidArgumentError(
    fn,
    argument,
    `the name of a layer of the model (closest: ${quoteNames(closeNames(ref, names))}; ${lister} lists all ${names.length})`,
    ref,
  );
}

/**
 * Resolves a {@link LayerRef} against a tfjs-layers model, with the one meaning described in this module. Checks
 * only: allocates nothing.
 *
 * @throws {@link InvalidArgumentError} naming the closest layer names for an unknown name, the valid range for an
 * index past either end, and for a layer object of another model.
 */
export function resolveLayer(
  model: ContainerLike,
  ref: unknown,
  fn: string,
  argument: string,
  lister?: string,
): LayerEntry {
  const all = layerEntries(model);
  if (typeof ref === 'number') {
    const n = model.layers.length;
    if (!Number.isInteger(ref) || ref < -n || ref >= n) {
      throw new InvalidArgumentError(
        fn,
        argument,
        `an integer in [${-n}, ${n - 1}] (an index into model.layers: the model has ${n} top-level layers; -1 is the output layer)`,
        ref,
      );
    }
    const layer = model.layers[ref < 0 ? n + ref : ref];
    return all.find((e) => e.layer === layer && e.info.depth === 0) as LayerEntry;
  }
  if (typeof ref === 'string') {
    const exact = all.find((e) => e.info.name === ref);
    if (exact !== undefined) return exact;
    const byLayerName = all.filter((e) => e.layer.name === ref);
    if (byLayerName.length > 1) {
      throw new InvalidArgumentError(
        fn,
        argument,
        `an unambiguous layer name (give the full path: ${quoteNames(byLayerName.map((e) => e.info.name))})`,
        ref,
      );
    }
    if (byLayerName.length === 1) return byLayerName[0];
    throw unknownLayerName(
      fn,
      argument,
      ref,
      all.map((e) => e.info.name),
      lister,
    );
  }
  if (typeof ref === 'object' && ref !== null && typeof (ref as Layer).getClassName === 'function') {
    const found = all.find((e) => e.layer === ref);
    if (found !== undefined) return found;
    throw new InvalidArgumentError(
      fn,
      argument,
      'a layer of this model (the layer object belongs to another model)',
      `layer '${(ref as Layer).name}'`,
    );
  }
  throw new InvalidArgumentError(fn, argument, 'a layer name, an integer index or a layer object', ref);
}
