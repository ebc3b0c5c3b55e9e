/**
 * The pass machinery of the Deconvnet over a tfjs-layers model's flattened {@link LayerGraph}: the forward
 * pass that records what the rules need (switches, pre-activations), the backward pass that maps a signal to pixels
 * layer by layer with each layer's rule, the batched projections of channels and of single units built on them, the
 * receptive fields from the layer geometry, and the checks of layer references, images and channels. Functions of a
 * graph only: the public class (`deconvnet.ts`) checks options and dispatches to them (or to the GraphModel path).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkImageBatch, checkInteger, checkOneOf } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { checkFloatInput } from '../core/input-shape.js';
import type { ContainerLike } from '../model/kinds.js';
import { ancestors, type GraphNode, type LayerGraph } from '../model/layer-graph.js';
import { type LayerRef, resolveLayer } from '../model/layers.js';
import { composeField, globalField, mergeFields, pixelField, type ReceptiveField } from './geometry.js';
import type { ForwardState, ProjectionPosition, ProjectionSignal, UnitRef } from './options.js';
import { makeBackwardArgs, type ProjectionStrategy, ruleFor } from './rules.js';
import { initialSignal } from './signal.js';

/**
 * Runs the nodes `order` of `graph` forward on `x` (call inside a tidy scope); `record`: keep what the backward pass
 * needs (switches, pre-activations).
 */
export function forwardPass(graph: LayerGraph, x: tf.Tensor, order: number[], record = true): ForwardState {
  const values = new Map<string, tf.Tensor>([[graph.input, x]]);
  const saved = new Map<number, tf.Tensor[]>();
  for (const i of order) {
    const node = graph.nodes[i];
    const rule = ruleFor('Deconvnet', node.layer);
    const inputs = node.inputs.map((k) => values.get(k)!);
    let output: tf.Tensor;
    if (rule.forward) {
      const r = rule.forward(node.layer, inputs, record);
      output = r.output;
      saved.set(i, r.saved ?? []);
    } else {
      output = node.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
      saved.set(i, []);
    }
    values.set(node.output, output);
  }
  return { values, saved };
}

/**
 * Maps `signal` (at node `target`'s output, batch `N * repeat`) back to the input through the rules of the nodes
 * `order`, in reverse (call inside tidy).
 */
export function backwardPass(
  graph: LayerGraph,
  fwd: ForwardState,
  order: number[],
  target: number,
  signal: tf.Tensor,
  repeat: number,
  strategy: ProjectionStrategy,
): tf.Tensor {
  const signals = new Map<string, tf.Tensor>([[graph.nodes[target].output, signal]]);
  for (let j = order.length - 1; j >= 0; j--) {
    const i = order[j];
    const node = graph.nodes[i];
    const g = signals.get(node.output);
    if (g === undefined) continue;
    signals.delete(node.output);
    const rule = ruleFor('Deconvnet', node.layer);
    const inputs = node.inputs.map((k) => fwd.values.get(k)!);
    // each layer's backward in its own scope, and the signal it consumed freed at once: the peak memory is a
    // few layers' signals, not all of them (N * channels images of every feature map), so all the channels
    // of a projection fit in one backward pass
    const back = tf.tidy(() =>
      rule.backward(
        makeBackwardArgs({
          layer: node.layer,
          inputs,
          output: fwd.values.get(node.output)!,
          saved: fwd.saved.get(i) ?? [],
          signal: g,
          repeat,
          strategy,
        }),
      ),
    );
    const raw = Array.isArray(back) ? back : [back];
    // every signal its own tensor (a rule may pass its signal through, or send one tensor to two inputs): a
    // clone shares the data, so freeing one reference never frees another's
    const list = raw.map((t, m) => (t === g || raw.indexOf(t) !== m || inputs.includes(t) ? tf.clone(t) : t));
    g.dispose();
    node.inputs.forEach((k, m) => {
      const prev = signals.get(k);
      if (prev === undefined) {
        signals.set(k, list[m]);
      } else {
        signals.set(k, tf.add(prev, list[m]));
        prev.dispose();
        list[m].dispose();
      }
    });
  }
  const out = signals.get(graph.input);
  if (out !== undefined) return out;
  const [, h, w, c] = fwd.values.get(graph.input)!.shape;
  return tf.zeros([signal.shape[0], h, w, c]);
}

/** The receptive field of every node output in input pixels, from the layer geometry of each rule. */
export function receptiveFields(graph: LayerGraph): Map<string, ReceptiveField> {
  const [, h, w] = graph.inputShape;
  const size: [number, number] = [h ?? 0, w ?? 0];
  const fields = new Map<string, ReceptiveField>([[graph.input, pixelField()]]);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((k) => fields.get(k) ?? globalField(size[0], size[1]));
    const merged = mergeFields(ins, size);
    const rule = ruleFor('Deconvnet', node.layer);
    const geometry = rule.geometry
      ? rule.geometry(node.layer, node.inputShapes[0])
      : { kind: 'global' as const };
    const f = composeField(merged, geometry, size);
    fields.set(node.output, f.kind === 'global' ? globalField(size[0], size[1]) : f);
  }
  return fields;
}

/**
 * Projects `channels` of node `index` for every image: one forward pass, one backward pass over `N * channels`
 * signals (Z&F section 2.1). Returns `[N, channels, H, W, C]`.
 */
export function projectChannels(
  graph: LayerGraph,
  index: number,
  images: tf.Tensor4D,
  channels: number[],
  position: ProjectionPosition,
  signalKind: ProjectionSignal,
  strategy: ProjectionStrategy,
): tf.Tensor5D {
  const node = graph.nodes[index];
  const [n, h, w, c] = images.shape;
  const k = channels.length;
  return tf.tidy(() => {
    const anc = ancestors(graph, index);
    const fwd = forwardPass(graph, images, anc);
    const a = fwd.values.get(node.output)!;
    const signal = initialSignal(a, channels, position, signalKind);
    const proj = backwardPass(graph, fwd, anc, index, signal, k, strategy);
    return tf.reshape(proj, [n, k, h, w, c]) as tf.Tensor5D;
  });
}

/**
 * Projects single units (checked by the caller) of node `index`, each in its own projection, in one batched pass.
 * Returns `[units.length, H, W, C]`.
 */
export function projectUnitSignals(
  graph: LayerGraph,
  index: number,
  images: tf.Tensor4D,
  units: UnitRef[],
  signalKind: ProjectionSignal,
  strategy: ProjectionStrategy,
): tf.Tensor4D {
  const node = graph.nodes[index];
  const spatial = node.outputShape.length === 4;
  const channels = node.outputShape[node.outputShape.length - 1] ?? 0;
  const oh = spatial ? (node.outputShape[1] ?? 1) : 1;
  const ow = spatial ? (node.outputShape[2] ?? 1) : 1;
  const u = units.length;
  const pos = new Float32Array(u * oh * ow);
  units.forEach((unit, i) => {
    if (unit.y === undefined) pos.fill(1, i * oh * ow, (i + 1) * oh * ow);
    else pos[i * oh * ow + unit.y * ow + unit.x!] = 1;
  });
  return tf.tidy(() => {
    const x = tf.gather(
      images,
      tf.tensor1d(
        units.map((un) => un.image),
        'int32',
      ),
    ) as tf.Tensor4D;
    const anc = ancestors(graph, index);
    const fwd = forwardPass(graph, x, anc);
    const a = fwd.values.get(node.output)!;
    const chan = tf.oneHot(
      tf.tensor1d(
        units.map((un) => un.channel),
        'int32',
      ),
      channels,
    );
    let mask: tf.Tensor;
    if (spatial) {
      mask = tf.mul(tf.reshape(chan, [u, 1, 1, channels]), tf.tensor4d(pos, [u, oh, ow, 1]));
    } else {
      mask = chan;
    }
    const signal = signalKind === 'activation' ? tf.mul(a, mask) : tf.cast(mask, 'float32');
    return backwardPass(graph, fwd, anc, index, signal, 1, strategy) as tf.Tensor4D;
  });
}

/**
 * Resolves a layer reference (the one meaning of `src/model`: name or nested path, index into `model.layers`, layer
 * object) to a node index of `graph`; a nested model stands for the node that computes its output.
 */
export function nodeIndexOf(
  graph: LayerGraph,
  model: ContainerLike,
  fn: string,
  layer: LayerRef,
  argument = 'layer',
): number {
  const entry = resolveLayer(model, layer, fn, argument);
  const nodes = graph.nodes;
  const container = graph.containerOutputs.get(entry.layer);
  const found =
    container !== undefined
      ? nodes.findIndex((n) => n.output === container)
      : nodes.findIndex((n) => n.layer === entry.layer);
  if (found >= 0) return found;
  throw new InvalidArgumentError(
    fn,
    argument,
    entry.info.className === 'InputLayer'
      ? 'a layer after the input (the InputLayer computes nothing to project)'
      : "a layer that feeds the model's output (this one is not connected to it)",
    entry.info.name,
  );
}

/** Checks an NHWC float image batch against the graph's input shape (non-empty). */
export function checkGraphImages(
  graph: LayerGraph,
  fn: string,
  images: unknown,
): asserts images is tf.Tensor4D {
  checkImageBatch(fn, 'images', images);
  checkFloatInput(fn, 'images', images);
  const expected = graph.inputShape;
  const ok = expected.every((d, i) => i === 0 || d === null || d === images.shape[i]);
  if (!ok || images.shape[0] === 0) {
    throw new ShapeMismatchError(
      fn,
      'images',
      `a non-empty batch of shape [*, ${expected
        .slice(1)
        .map((d) => (d === null ? '*' : d))
        .join(', ')}] (the model's input)`,
      images.shape,
    );
  }
}

/** Checks channel indices against a channel count (the static one, or the activations' once known). */
export function checkChannelList(fn: string, channels: number[] | 'all', count: number): number[] {
  if (channels === 'all') return Array.from({ length: count }, (_, i) => i);
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new InvalidArgumentError(
      fn,
      'options.channels',
      `'all' or a non-empty array of channel indices`,
      channels,
    );
  }
  channels.forEach((ch, i) => {
    checkInteger(fn, `options.channels[${i}]`, ch, 0, count - 1);
  });
  return channels;
}

/** Checks a projection position against node `node`'s output: `'max'`, `'all'` or an in-range `{ y, x }`. */
export function checkPosition(fn: string, node: GraphNode, position: ProjectionPosition): void {
  const spatial = node.outputShape.length === 4;
  if (typeof position === 'object' && position !== null) {
    if (!spatial) {
      throw new InvalidArgumentError(
        fn,
        'options.position',
        "'max' or 'all' for a layer without spatial axes",
        position,
      );
    }
    checkInteger(fn, 'options.position.y', position.y, 0, (node.outputShape[1] ?? 1) - 1);
    checkInteger(fn, 'options.position.x', position.x, 0, (node.outputShape[2] ?? 1) - 1);
  } else {
    checkOneOf(fn, 'options.position', position, ['max', 'all'] as const);
  }
}

/** Checks units (image, channel, optional y/x) against the images and node `node`'s output. */
export function checkUnits(fn: string, node: GraphNode, images: tf.Tensor4D, units: UnitRef[]): void {
  const spatial = node.outputShape.length === 4;
  if (!Array.isArray(units) || units.length === 0) {
    throw new InvalidArgumentError(fn, 'units', 'a non-empty array of {image, channel, y?, x?}', units);
  }
  const channels = node.outputShape[node.outputShape.length - 1] ?? 0;
  const oh = spatial ? (node.outputShape[1] ?? 1) : 1;
  const ow = spatial ? (node.outputShape[2] ?? 1) : 1;
  units.forEach((u, i) => {
    checkInteger(fn, `units[${i}].image`, u?.image, 0, images.shape[0] - 1);
    checkInteger(fn, `units[${i}].channel`, u.channel, 0, channels - 1);
    if (u.y !== undefined || u.x !== undefined) {
      if (!spatial) {
        throw new InvalidArgumentError(fn, `units[${i}]`, 'no y/x for a layer without spatial axes', u);
      }
      checkInteger(fn, `units[${i}].y`, u.y, 0, oh - 1);
      checkInteger(fn, `units[${i}].x`, u.x, 0, ow - 1);
    }
  });
}
