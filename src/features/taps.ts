/**
 * Taps: the layers of a model whose activations become features. Discovery (`listTaps`, public as `FeatureExtractor.listTaps`) and resolution of a
 * tap, with the one layer-reference meaning of `src/model` (name or nested path, index into `model.layers`,
 * negative from the end, layer object).
 *
 * @module
 */
import { InvalidArgumentError, UnsupportedLayerError } from '../core/errors.js';
import type { ContainerLike, Layer } from '../model/kinds.js';
import { type LayerInfo, type LayerRef, listLayers, resolveLayer } from '../model/layers.js';
import { type TapStep, tapSteps } from '../model/symbolic.js';

/**
 * A tap: a {@link LayerRef} (layer name or `'backbone/conv2'` path, index into `model.layers` with negative indices
 * from the end, `-1` the output layer, or the layer object); a node name for a graph model.
 *
 * @example
 * ```ts
 * const taps: TapRef[] = ['conv2', 'backbone/block_3', -2, model.getLayer('fc1')];
 * ```
 */
export type TapRef = LayerRef;

/**
 * A tappable layer, as listed by `FeatureExtractor.listTaps` (the same record as `listLayers`).
 *
 * @example
 * ```ts
 * const t: TapInfo = FeatureExtractor.listTaps(model)[0]; // { name: 'conv1', className: 'Conv2D', outputShape: [null, 26, 26, 16], ... }
 * ```
 */
export type TapInfo = LayerInfo;

/** A tap resolved against a model: its info, the layer and how to reach it in one forward pass. */
export interface ResolvedTap {
  readonly info: TapInfo;
  readonly layer: Layer;
  /** Steps from the top model's graph to the tapped tensor (`read` only for a tap of the top graph). */
  readonly steps: TapStep[];
}

/**
 * Lists every layer of a tfjs-layers model that can be tapped, nested models expanded (their layers follow them,
 * named `'<model>/<layer>'`), with output shapes, so that nobody has to guess a layer name.
 *
 * @example
 * ```ts
 * for (const t of listTaps(model)) console.log(t.name, t.className, t.outputShape);
 * // conv1 Conv2D [null, 26, 26, 8] ...
 * ```
 */
export function listTaps(model: unknown): TapInfo[] {
  try {
    return listLayers(model);
  } catch (e) {
    if (e instanceof InvalidArgumentError) {
      throw new InvalidArgumentError('listTaps', 'model', 'a tfjs-layers LayersModel or Sequential', model);
    }
    throw e;
  }
}

/**
 * Resolves one tap against a model. Throws an {@link InvalidArgumentError} naming the close layer names for an
 * unknown name, the valid range for an index past either end, and for a layer of another model.
 *
 * @example
 * ```ts
 * const tap = resolveTap(model, -2, 'FeatureExtractor', 'options.taps[0]');
 * console.log(tap.info.name, tap.info.outputShape);
 * ```
 */
export function resolveTap(model: ContainerLike, ref: TapRef, fn: string, argument: string): ResolvedTap {
  const entry = resolveLayer(model, ref, fn, argument, 'FeatureExtractor.listTaps(model)');
  const steps = tapSteps(model, entry.chain, entry.layer);
  if (steps === undefined) {
    throw new InvalidArgumentError(
      fn,
      argument,
      "a layer that feeds the model's output (this one is not connected to it)",
      entry.info.name,
    );
  }
  const last = steps[steps.length - 1];
  if (last.kind === 'read' && last.tensor.sourceLayer === entry.layer) {
    const node = (entry.layer as unknown as { inboundNodes: { outputTensors: unknown[] }[] }).inboundNodes;
    if (node.some((n) => n.outputTensors.length > 1)) {
      throw new UnsupportedLayerError(
        fn,
        entry.info.name,
        entry.info.className,
        'Layers with several outputs cannot be tapped; tap the layers that consume them.',
      );
    }
  }
  return { info: entry.info, layer: entry.layer, steps };
}
