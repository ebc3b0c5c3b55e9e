/**
 * What a model's `predict` returns, read in one place for every primitive (Distiller teachers, the ensemble's
 * generalist and specialists).
 *
 * @module
 */
import { graphOutputOp } from './graph-model.js';
import { type ContainerLike, isContainer, isGraphModel, type Layer } from './kinds.js';

/** `'probabilities'` (rows sum to 1) or `'logits'` (pre-softmax scores). */
export type OutputKind = 'probabilities' | 'logits';

/** The layer that computes a model's (first) output, entering nested models. */
export function outputLayer(model: ContainerLike): Layer {
  let layer = model.outputs[0].sourceLayer as Layer;
  for (let i = 0; i < 64 && isContainer(layer); i++) layer = layer.outputs[0].sourceLayer as Layer;
  return layer;
}

function endsInSoftmax(layer: Layer): boolean {
  if (layer.getClassName() === 'Softmax') return true;
  const cfg = typeof layer.getConfig === 'function' ? (layer.getConfig() as { activation?: unknown }) : {};
  return cfg.activation === 'softmax';
}

/**
 * What a model returns: its own `outputKind` if it declares one (see `Classifier`); for a tfjs-layers model,
 * `'probabilities'` when its output layer (the layer computing its output, looking inside a nested model that
 * computes it) is a `Softmax` layer or has a softmax activation; for a GraphModel, `'probabilities'` when its output node is a `Softmax` op; else `'logits'`.
 *
 * @example
 * ```ts
 * outputKind(tfl.sequential({ layers: [tfl.layers.dense({ units: 10, inputShape: [4], activation: 'softmax' })] }));
 * // 'probabilities'
 * ```
 */
export function outputKind(model: unknown): 'probabilities' | 'logits' {
  const declared = (model as { outputKind?: unknown } | null)?.outputKind;
  if (declared === 'logits' || declared === 'probabilities') return declared;
  if (isContainer(model)) {
    if (model.outputs.length === 0) return 'logits';
    return endsInSoftmax(outputLayer(model)) ? 'probabilities' : 'logits';
  }
  if (isGraphModel(model)) return graphOutputOp(model) === 'Softmax' ? 'probabilities' : 'logits';
  return 'logits';
}

/**
 * The static shape of a model's (first) output, batch as `null`: from a tfjs-layers model's symbolic output or a
 * GraphModel's output signature (`-1` read as `null`); `undefined` for other models.
 */
export function modelOutputShape(model: unknown): (number | null)[] | undefined {
  if (isContainer(model)) return model.outputs.length > 0 ? [...model.outputs[0].shape] : undefined;
  if (isGraphModel(model)) {
    const outs = (model as { outputs?: readonly { shape?: readonly (number | null)[] }[] }).outputs;
    const shape = outs?.[0]?.shape;
    return shape === undefined ? undefined : shape.map((d) => (d === -1 ? null : d));
  }
  return undefined;
}
