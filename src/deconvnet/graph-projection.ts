/**
 * The Deconvnet on a GraphModel (tfjs-converter): projections by node name through `tf.grad` of
 * `model.execute(x, node)`, with the deconvnet / guided rectifier rules as temporary overrides of the `Relu` and
 * `Relu6` gradients (see `src/model/graph-gradients.ts`). Saliency is the plain gradient.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkImageBatch, checkInteger, checkOneOf } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { GraphModelNotSupportedError } from '../model/errors.js';
import {
  checkGraphProjection,
  type GraphNodeDef,
  graphNodeDefs,
  withRectifierGradients,
} from '../model/graph-gradients.js';
import { resolveGraphTap } from '../model/graph-model.js';
import type { GraphModelLike } from '../model/kinds.js';
import { outputKind } from '../model/output-kind.js';
import type { ProjectOptions, ProjectUnitsOptions, UnitRef } from './options.js';
import { PROJECTION_STRATEGIES, type ProjectionStrategy, tileForward } from './rule-kit.js';
import { initialSignal } from './signal.js';

/** Position rule, as in `ProjectOptions.position`. */
type Position = 'max' | 'all' | { y: number; x: number };

/** A GraphModel as the Deconvnet uses it (inner). */
export class GraphProjector {
  readonly nodes: GraphNodeDef[];
  readonly inputShape: (number | null)[];
  constructor(readonly model: GraphModelLike) {
    const nodes = graphNodeDefs(model);
    if (nodes === undefined) {
      throw new InvalidArgumentError(
        'Deconvnet',
        'model',
        'a GraphModel that carries its GraphDef (`artifacts.modelTopology.node`, as loadGraphModel gives it)',
        'a graph model without topology',
      );
    }
    this.nodes = nodes;
    if (model.inputs.length !== 1) {
      throw new InvalidArgumentError(
        'Deconvnet',
        'model',
        'a graph model with one input',
        model.inputs.length,
      );
    }
    this.inputShape = [...(model.inputs[0].shape ?? [])].map((d) => (d === -1 ? null : d));
  }

  /** Node name (without `:0`) and op of a reference: a node name or an index into the node list. */
  resolve(fn: string, ref: unknown, argument: string): { name: string; op: string; index: number } {
    const info = resolveGraphTap(this.model, ref, fn, argument);
    return { name: info.name.replace(/:\d+$/, ''), op: info.className, index: info.index };
  }

  unsupported(fn: string, what: string): GraphModelNotSupportedError {
    return new GraphModelNotSupportedError(
      fn,
      'model',
      `${what} needs the layer geometry (kernels, strides, pooling switches) of a LayersModel, which a GraphModel does not expose`,
      "Deconvnet.project on the GraphModel (strategies 'saliency', 'guided', 'deconvnet' by node name), or the same method on a LayersModel",
    );
  }

  checkImages(fn: string, images: unknown): void {
    checkImageBatch(fn, 'images', images);
    const shape = (images as tf.Tensor4D).shape;
    const ok = this.inputShape.every((d, i) => i === 0 || d === null || d === shape[i]);
    if (!ok || shape[0] === 0) {
      throw new ShapeMismatchError(
        fn,
        'images',
        `a non-empty batch of shape [*, ${this.inputShape
          .slice(1)
          .map((d) => (d === null ? '*' : d))
          .join(', ')}] (the model's input)`,
        shape,
      );
    }
  }

  activations(images: tf.Tensor4D, node: string): tf.Tensor {
    return tf.tidy(() => this.model.execute(images, node) as tf.Tensor);
  }

  /** Name of the graph's (first) output node, when the model lists it. */
  get outputName(): string | undefined {
    return (this.model as { outputs?: readonly { name?: string }[] }).outputs?.[0]?.name;
  }

  /** Whether the graph's output is probabilities (its output node is a `Softmax` op). */
  get outputIsProbabilities(): boolean {
    return outputKind(this.model) === 'probabilities';
  }

  /**
   * The model's output and, with `node`, that node's activations, from one forward pass where the model names its
   * output node (call inside a tidy scope).
   */
  outputAndActivations(x: tf.Tensor4D, node?: string): { output: tf.Tensor; activations?: tf.Tensor } {
    if (node === undefined) return { output: this.model.execute(x) as tf.Tensor };
    const out = this.outputName;
    if (out === undefined) {
      return {
        output: this.model.execute(x) as tf.Tensor,
        activations: this.model.execute(x, node) as tf.Tensor,
      };
    }
    const [output, activations] = this.model.execute(x, [out, node]) as tf.Tensor[];
    return { output, activations };
  }

  /**
   * `[U, H, W, C]`: the strategy's backward pass of single units of `node` (image, channel, optional position), one
   * per unit, in one batched `tf.grad` over the images the units refer to. Units are checked against the node's
   * activations (their shape is known only once computed; the tensors are freed when a check throws).
   */
  projectUnits(
    fn: string,
    images: tf.Tensor4D,
    node: string,
    units: readonly { image: number; channel: number; y?: number; x?: number }[],
    strategy: ProjectionStrategy,
    signalKind: 'activation' | 'unit',
  ): tf.Tensor4D {
    if (strategy !== 'saliency') checkGraphProjection(fn, this.nodes, node);
    return tf.tidy(() => {
      const idx = tf.tensor1d(
        units.map((u) => u.image),
        'int32',
      );
      const x = tf.gather(images, idx) as tf.Tensor4D;
      const a = this.model.execute(x, node) as tf.Tensor;
      const spatial = a.rank === 4;
      const c = a.shape[a.rank - 1];
      const oh = spatial ? (a.shape[1] as number) : 1;
      const ow = spatial ? (a.shape[2] as number) : 1;
      units.forEach((u, i) => {
        checkInteger(fn, `units[${i}].channel`, u.channel, 0, c - 1);
        if (u.y !== undefined || u.x !== undefined) {
          if (!spatial) {
            throw new InvalidArgumentError(fn, `units[${i}]`, 'no y/x for a node without spatial axes', u);
          }
          checkInteger(fn, `units[${i}].y`, u.y, 0, oh - 1);
          checkInteger(fn, `units[${i}].x`, u.x, 0, ow - 1);
        }
      });
      const u = units.length;
      const pos = new Float32Array(u * oh * ow);
      units.forEach((unit, i) => {
        if (unit.y === undefined) pos.fill(1, i * oh * ow, (i + 1) * oh * ow);
        else pos[i * oh * ow + unit.y * ow + (unit.x as number)] = 1;
      });
      const chan = tf.oneHot(
        tf.tensor1d(
          units.map((un) => un.channel),
          'int32',
        ),
        c,
      );
      const mask = spatial
        ? tf.mul(tf.reshape(chan, [u, 1, 1, c]), tf.tensor4d(pos, [u, oh, ow, 1]))
        : tf.reshape(chan, [u, ...new Array<number>(a.rank - 2).fill(1), c]);
      const s =
        signalKind === 'activation' ? tf.mul(a, mask) : tf.broadcastTo(tf.cast(mask, 'float32'), a.shape);
      return withRectifierGradients(strategy, () =>
        tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(this.model.execute(xi, node) as tf.Tensor, s)))(x),
      ) as tf.Tensor4D;
    });
  }

  /**
   * `[N, K, H, W, C]`: for each image and channel, the strategy's backward pass of the kept activations of `node`
   * (`signal(a)` builds `[N*K, ...]` from the activations), one batched `tf.grad` over `N*K` tiled images.
   */
  project(
    fn: string,
    images: tf.Tensor4D,
    node: string,
    channels: number[] | 'all',
    strategy: ProjectionStrategy,
    position: Position,
    signal: (a: tf.Tensor, channels: number[]) => tf.Tensor,
  ): tf.Tensor5D {
    if (strategy !== 'saliency') checkGraphProjection(fn, this.nodes, node);
    return tf.tidy(() => {
      const a = this.model.execute(images, node) as tf.Tensor;
      const c = a.shape[a.rank - 1];
      const chans = channels === 'all' ? Array.from({ length: c }, (_, i) => i) : channels;
      chans.forEach((ch, i) => {
        checkInteger(fn, `options.channels[${i}]`, ch, 0, c - 1);
      });
      if (typeof position === 'object' && a.rank === 4) {
        checkInteger(fn, 'options.position.y', position.y, 0, (a.shape[1] as number) - 1);
        checkInteger(fn, 'options.position.x', position.x, 0, (a.shape[2] as number) - 1);
      } else if (typeof position === 'object') {
        throw new InvalidArgumentError(
          fn,
          'options.position',
          "'max' or 'all' for a node without spatial axes",
          position,
        );
      }
      const k = chans.length;
      const s = signal(a, chans);
      const x = tileForward(images, k);
      const [n, h, w, ch] = images.shape;
      const g = withRectifierGradients(strategy, () =>
        tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(this.model.execute(xi, node) as tf.Tensor, s)))(x),
      );
      return tf.reshape(g, [n, k, h, w, ch]) as tf.Tensor5D;
    });
  }
}

/** `Deconvnet.project` on a GraphModel: checks the options against the graph, then projects through `tf.grad`. */
export function projectGraphChannels(
  gm: GraphProjector,
  images: tf.Tensor4D,
  opts: ProjectOptions,
  defaultStrategy: ProjectionStrategy,
): tf.Tensor5D {
  const fn = 'Deconvnet.project';
  const node = gm.resolve(fn, opts.layer, 'options.layer');
  const g: GraphProjector = gm;
  g.checkImages(fn, images);
  const channels = opts.channels ?? 'all';
  if (channels !== 'all') {
    if (!Array.isArray(channels) || channels.length === 0) {
      throw new InvalidArgumentError(
        fn,
        'options.channels',
        `'all' or a non-empty array of channel indices`,
        channels,
      );
    }
    channels.forEach((ch, i) => {
      checkInteger(fn, `options.channels[${i}]`, ch, 0);
    });
  }
  const position = opts.position ?? 'max';
  if (typeof position !== 'object' || position === null) {
    checkOneOf(fn, 'options.position', position, ['max', 'all'] as const);
  }
  const signalKind = opts.signal ?? 'activation';
  checkOneOf(fn, 'options.signal', signalKind, ['activation', 'unit'] as const);
  const strategy = opts.strategy ?? defaultStrategy;
  checkOneOf(fn, 'options.strategy', strategy, PROJECTION_STRATEGIES);
  return gm.project(fn, images, node.name, channels, strategy, position, (a, chans) =>
    initialSignal(a, chans, position, signalKind),
  );
}

/** `Deconvnet.projectUnits` on a GraphModel: checks the units against the graph, then projects each. */
export function projectGraphUnits(
  gm: GraphProjector,
  images: tf.Tensor4D,
  units: UnitRef[],
  opts: ProjectUnitsOptions,
  defaultStrategy: ProjectionStrategy,
): tf.Tensor4D {
  const fn = 'Deconvnet.projectUnits';
  const node = gm.resolve(fn, opts.layer, 'options.layer');
  gm.checkImages(fn, images);
  if (!Array.isArray(units) || units.length === 0) {
    throw new InvalidArgumentError(fn, 'units', 'a non-empty array of {image, channel, y?, x?}', units);
  }
  units.forEach((u, i) => {
    checkInteger(fn, `units[${i}].image`, u?.image, 0, images.shape[0] - 1);
    checkInteger(fn, `units[${i}].channel`, u.channel, 0);
    if ((u.y === undefined) !== (u.x === undefined)) {
      throw new InvalidArgumentError(fn, `units[${i}]`, 'both y and x, or neither', u);
    }
  });
  const signalKind = opts.signal ?? 'activation';
  checkOneOf(fn, 'options.signal', signalKind, ['activation', 'unit'] as const);
  const strategy = opts.strategy ?? defaultStrategy;
  checkOneOf(fn, 'options.strategy', strategy, PROJECTION_STRATEGIES);
  return gm.projectUnits(fn, images, node.name, units, strategy, signalKind);
}
