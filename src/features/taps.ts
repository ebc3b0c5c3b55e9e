/**
 * Taps: the layers of a model whose activations become features. Discovery ({@link listTaps}) and resolution of a
 * tap given by name, by index (negative from the end) or by layer object, nested models included.
 *
 * @module
 */
import { InvalidArgumentError, UnsupportedLayerError } from '../core/errors.js';
import { closeNames } from '../core/names.js';
import { type ContainerLike, isContainer, type Layer, type TapStep, tapSteps } from './graph.js';

export { closeNames, editDistance } from '../core/names.js';

/** A tap: a layer name (`'conv2'`, or a path through nested models `'backbone/conv2'`), an index into the model's
 * top-level layers (negative counts from the end, `-1` is the output layer) or the layer object itself.
 *
 * @example
 * ```ts
 * const taps: TapRef[] = ['conv2', 'backbone/block_3', -2, model.getLayer('fc1')];
 * ```
 */
export type TapRef = string | number | Layer;

/**
 * A tappable layer, as listed by {@link listTaps}.
 *
 * @example
 * ```ts
 * const t: TapInfo = listTaps(model)[0]; // { name: 'conv1', className: 'Conv2D', outputShape: [null, 26, 26, 16], ... }
 * ```
 */
export interface TapInfo {
  /** Unique name of the tap: the layer name, prefixed by the nested models it lies in (`'backbone/conv2'`). */
  readonly name: string;
  /** The layer's class, e.g. `'Conv2D'`. */
  readonly className: string;
  /** Output shape with the batch dimension as `null`, e.g. `[null, 12, 12, 32]`. */
  readonly outputShape: readonly (number | null)[];
  /** Index of the layer in its (sub)model's `layers` (for top-level layers, what a numeric tap refers to). */
  readonly index: number;
  /** 0 for a layer of the model itself, 1 inside a nested model, and so on. */
  readonly depth: number;
  /** Number of weights (parameters) of the layer. */
  readonly params: number;
}

/** A tap resolved against a model: its info, the layer and how to reach it in one forward pass. */
export interface ResolvedTap {
  readonly info: TapInfo;
  readonly layer: Layer;
  /** Steps from the top model's graph to the tapped tensor (`read` only for a tap of the top graph). */
  readonly steps: TapStep[];
}

function shapeOf(layer: Layer): (number | null)[] {
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

interface Entry {
  info: TapInfo;
  layer: Layer;
  chain: ContainerLike[];
}

function walk(
  model: ContainerLike,
  prefix: string,
  chain: ContainerLike[],
  depth: number,
  out: Entry[],
): void {
  model.layers.forEach((layer, index) => {
    const name = `${prefix}${layer.name}`;
    out.push({
      info: {
        name,
        className: layer.getClassName(),
        outputShape: shapeOf(layer),
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

function entries(model: ContainerLike): Entry[] {
  const out: Entry[] = [];
  walk(model, '', [], 0, out);
  return out;
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
  if (!isContainer(model)) {
    throw new InvalidArgumentError('listTaps', 'model', 'a tfjs-layers LayersModel or Sequential', model);
  }
  return entries(model).map((e) => e.info);
}

function unknownName(fn: string, argument: string, ref: string, all: Entry[]): InvalidArgumentError {
  const names = all.map((e) => e.info.name);
  const close = closeNames(ref, names);
  return new InvalidArgumentError(
    fn,
    argument,
    `the name of a layer of the model (closest: ${close.map((c) => `'${c}'`).join(', ')}; listTaps(model) lists all ${names.length})`,
    ref,
  );
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
  const all = entries(model);
  let found: Entry | undefined;
  if (typeof ref === 'number') {
    const n = model.layers.length;
    if (!Number.isInteger(ref) || ref < -n || ref >= n) {
      throw new InvalidArgumentError(
        fn,
        argument,
        `an integer in [${-n}, ${n - 1}] (the model has ${n} top-level layers; -1 is the output layer, nothing comes after it)`,
        ref,
      );
    }
    const layer = model.layers[ref < 0 ? n + ref : ref];
    found = all.find((e) => e.layer === layer && e.info.depth === 0);
  } else if (typeof ref === 'string') {
    found = all.find((e) => e.info.name === ref);
    if (found === undefined) {
      const byLayerName = all.filter((e) => e.layer.name === ref);
      if (byLayerName.length > 1) {
        throw new InvalidArgumentError(
          fn,
          argument,
          `an unambiguous layer name (give the full path: ${byLayerName.map((e) => `'${e.info.name}'`).join(', ')})`,
          ref,
        );
      }
      found = byLayerName[0];
    }
    if (found === undefined) throw unknownName(fn, argument, ref, all);
  } else if (typeof ref === 'object' && ref !== null && typeof (ref as Layer).getClassName === 'function') {
    found = all.find((e) => e.layer === ref);
    if (found === undefined) {
      throw new InvalidArgumentError(
        fn,
        argument,
        'a layer of this model (the layer object belongs to another model)',
        `layer '${(ref as Layer).name}'`,
      );
    }
  } else {
    throw new InvalidArgumentError(fn, argument, 'a layer name, an integer index or a layer object', ref);
  }
  const entry = found as Entry;
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
