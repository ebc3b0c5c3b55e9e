/**
 * What kind of model an object is: the ONE place that tells a tfjs-layers model (and a model nested in one) from a
 * tfjs-converter GraphModel. Everything is duck-typed, so two copies of tfjs-layers agree and transferkit never
 * imports tfjs-converter.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** A tfjs-layers layer. */
export type Layer = tfl.layers.Layer;
/** A symbolic tensor of a tfjs-layers graph. */
export type SymbolicTensor = tfl.SymbolicTensor;

/** A model-like layer: a `LayersModel`/`Sequential`, at the top or nested in another model as a layer. */
export interface ContainerLike extends Layer {
  /** Its layers (an InputLayer first for functional models). */
  readonly layers: Layer[];
  /** Its symbolic inputs. */
  readonly inputs: SymbolicTensor[];
  /** Its symbolic outputs. */
  readonly outputs: SymbolicTensor[];
}

/**
 * Is this a tfjs-layers model (a `LayersModel` or `Sequential`, top-level or nested as a layer of another model)?
 *
 * @example
 * ```ts
 * isContainer(tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] })); // true
 * ```
 */
export function isContainer(layer: unknown): layer is ContainerLike {
  const l = layer as ContainerLike;
  return (
    typeof l === 'object' &&
    l !== null &&
    Array.isArray(l.layers) &&
    Array.isArray(l.inputs) &&
    Array.isArray(l.outputs) &&
    typeof l.getClassName === 'function'
  );
}

/**
 * Is `v` a tfjs-layers `LayersModel` that can be saved and read weights from (a top-level model)?
 *
 * @example
 * ```ts
 * isLayersModel(model); // true for a Sequential or a functional tfl.model
 * ```
 */
export function isLayersModel(v: unknown): v is tfl.LayersModel {
  return (
    isContainer(v) &&
    typeof (v as unknown as tfl.LayersModel).getWeights === 'function' &&
    typeof (v as unknown as tfl.LayersModel).save === 'function'
  );
}

/**
 * The part of `tf.GraphModel` (from `@tensorflow/tfjs-converter`) transferkit uses. A real `GraphModel` satisfies
 * it; so does any object of yours that evaluates named nodes of a graph. When the object also holds
 * `artifacts.modelTopology` (the GraphDef, as a loaded `GraphModel` does), node names are checked and listed.
 *
 * @example
 * ```ts
 * import { loadGraphModel } from '@tensorflow/tfjs-converter';
 * const gm: GraphModelLike = await loadGraphModel(url);
 * const fx = new FeatureExtractor(gm, { taps: ['MobilenetV2/Logits/AvgPool'] });
 * ```
 */
export interface GraphModelLike {
  /** The graph's inputs (one, an image batch). `-1` or `null` marks a free dimension. */
  readonly inputs: readonly {
    /** The input node's name. */
    name: string;
    /** The input's shape, when known. */
    shape?: readonly (number | null)[];
  }[];
  /** Evaluates the named nodes (`'name'` or `'name:0'`) for the input, in one pass. */
  execute(
    inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap,
    outputs?: string | string[],
  ): tf.Tensor | tf.Tensor[];
}

/**
 * The GraphDef JSON of a graph model (`artifacts.modelTopology`: a field tfjs-converter's `GraphModel` keeps private
 * in its types but holds at run time), or `undefined`. Its `node` array lists the graph's nodes.
 */
export function graphTopology(model: GraphModelLike): unknown {
  return (model as { artifacts?: { modelTopology?: unknown } }).artifacts?.modelTopology;
}

/**
 * Is this a graph model (an `execute` method, inputs, and no `layers`)?
 *
 * @example
 * ```ts
 * isGraphModel(await loadGraphModel(url)); // true
 * ```
 */
export function isGraphModel(m: unknown): m is GraphModelLike {
  const g = m as GraphModelLike & { layers?: unknown };
  return (
    typeof g === 'object' &&
    g !== null &&
    typeof g.execute === 'function' &&
    Array.isArray(g.inputs) &&
    !Array.isArray(g.layers)
  );
}

/** The kind of a model as the reader sees it. */
export type ModelKind = 'layers' | 'graph' | 'other';

/**
 * `'layers'` for a tfjs-layers model, `'graph'` for a GraphModel, `'other'` for anything else.
 *
 * @example
 * ```ts
 * modelKind(model); // 'layers'
 * ```
 */
export function modelKind(m: unknown): ModelKind {
  if (isContainer(m)) return 'layers';
  if (isGraphModel(m)) return 'graph';
  return 'other';
}
