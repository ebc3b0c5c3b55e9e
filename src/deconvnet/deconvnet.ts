/**
 * The Deconvnet of Zeiler & Fergus (2013) over a tfjs-layers model, with guided backpropagation and gradient
 * saliency as strategies of the same backward machinery.
 *
 * The public class only (~420 lines: option checks, dispatch to the LayersModel or GraphModel path, and the thin
 * internal hooks topK / occlusion use); the pass machinery is in `passes.ts`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOneOf, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { DisposedError, ShapeMismatchError } from '../core/index.js';
import { type ContainerLike, type GraphModelLike, isGraphModel } from '../model/kinds.js';
import { ancestors, buildGraph, type GraphNode, type LayerGraph } from '../model/layer-graph.js';
import type { LayerRef } from '../model/layers.js';
import { modelOutputShape } from '../model/output-kind.js';
import { globalField, type ReceptiveField } from './geometry.js';
import { GraphProjector, projectGraphChannels, projectGraphUnits } from './graph-projection.js';
import { type OcclusionOptions, type OcclusionResult, occlusionImpl } from './occlusion.js';
import type {
  DeconvLayerInfo,
  DeconvnetOptions,
  ForwardState,
  ProjectOptions,
  ProjectUnitsOptions,
  UnitRef,
} from './options.js';
import {
  backwardPass,
  checkChannelList,
  checkGraphImages,
  checkPosition,
  checkUnits,
  forwardPass,
  nodeIndexOf,
  projectChannels,
  projectUnitSignals,
  receptiveFields,
} from './passes.js';
import { checkLayerSupported, PROJECTION_STRATEGIES, type ProjectionStrategy } from './rules.js';
import type { ScanTarget } from './scan.js';

export type {
  DeconvLayerInfo,
  DeconvnetOptions,
  ForwardState,
  ProjectionPosition,
  ProjectionSignal,
  ProjectOptions,
  ProjectUnitsOptions,
  UnitRef,
} from './options.js';
export { initialSignal } from './signal.js';

import { type ImageSource, type TopKOptions, type TopKResult, topKImpl } from './topk.js';

/**
 * Zeiler & Fergus (2013) deconvnet over a tfjs-layers model (Sequential or functional; nested models are flattened).
 *
 * A projection runs the model forward once, keeps the selected activations of one layer and zeroes the rest, then
 * maps that signal back to pixels layer by layer: unpooling with the recorded switches, the strategy's rule at each
 * ReLU, transposed filters for convolutions (section 2.1, fig. 1). Many channels of many images are projected in one
 * batched backward pass. Rules are looked up by layer class (see `registerDeconvRule`); an unsupported layer fails
 * with `UnsupportedLayerError` when the Deconvnet is built.
 *
 * The Deconvnet does not own the model: `dispose()` only ends the Deconvnet's own use.
 *
 * @example
 * ```ts
 * const dn = new Deconvnet(model);
 * const proj = dn.project(images, { layer: 'conv2', channels: [0, 1, 2] }); // [N, 3, H, W, C]
 * const guided = dn.project(images, { layer: 'conv2', channels: [0], strategy: 'guided' });
 * ```
 */
export class Deconvnet {
  /** The flattened layer graph. */
  readonly graph: LayerGraph;
  /** The default strategy. */
  readonly strategy: ProjectionStrategy;
  private readonly fields: Map<string, ReceptiveField>;
  private readonly model: ContainerLike;
  private readonly gm: GraphProjector | undefined;
  private disposed = false;

  /**
   * @param model a tfjs-layers model, or a GraphModel (tfjs-converter): then layers are node names; `project`,
   * `projectUnits`, `activations`, `topK` and `occlusion` work (saliency through any op; deconvnet/guided through
   * the ops of `GRAPH_PROJECTION_OPS`). A GraphModel carries no layer geometry the Deconvnet reads, so `topK` crops
   * nothing there (each unit's box is the whole image) and `receptiveField` throws a `GraphModelNotSupportedError`.
   */
  constructor(model: tfl.LayersModel | GraphModelLike, options?: DeconvnetOptions) {
    const opts = checkOptions('Deconvnet', 'options', options);
    checkOptionKeys('Deconvnet', 'options', opts, knownKeys<DeconvnetOptions>({ strategy: true }));
    const strategy = opts.strategy ?? 'deconvnet';
    checkOneOf('Deconvnet', 'options.strategy', strategy, PROJECTION_STRATEGIES);
    this.strategy = strategy;
    if (isGraphModel(model)) {
      this.gm = new GraphProjector(model);
      const inputShape = this.gm.inputShape;
      this.graph = {
        input: model.inputs[0].name,
        inputShape,
        output: '',
        nodes: [],
        aliases: new Map(),
        containerOutputs: new Map(),
      };
      this.model = model as unknown as ContainerLike;
      this.fields = new Map();
      if (inputShape.length !== 4) {
        throw new ShapeMismatchError(
          'Deconvnet',
          'model',
          'a model whose input is an NHWC image batch [batch, height, width, channels]',
          `input shape [${inputShape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
        );
      }
      return;
    }
    this.gm = undefined;
    this.graph = buildGraph('Deconvnet', model);
    this.model = model as unknown as ContainerLike;
    const shape = this.graph.inputShape;
    if (shape.length !== 4) {
      throw new ShapeMismatchError(
        'Deconvnet',
        'model',
        'a model whose input is an NHWC image batch [batch, height, width, channels]',
        `input shape [${shape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
      );
    }
    for (const n of this.graph.nodes) checkLayerSupported('Deconvnet', n.layer);
    this.fields = this.computeFields();
  }

  /** Names of the layers in topological order (nested models' layers as `outer/inner`; a GraphModel's nodes). */
  get layerNames(): string[] {
    if (this.gm !== undefined) return this.gm.nodes.map((n) => n.name);
    return this.graph.nodes.map((n) => n.name);
  }

  /**
   * Facts about a layer: class, output shape, channels and receptive field.
   *
   * @example
   * ```ts
   * dn.layerInfo('conv1').receptiveField.size; // [5, 5]
   * ```
   */
  layerInfo(layer: LayerRef): DeconvLayerInfo {
    this.checkLive('layerInfo');
    if (this.gm !== undefined) {
      const r = this.gm.resolve('Deconvnet.layerInfo', layer, 'layer');
      const [, h, w] = this.gm.inputShape;
      return {
        name: r.name,
        className: r.op,
        index: r.index,
        outputShape: [],
        channels: 0,
        receptiveField: globalField(h ?? 0, w ?? 0),
      };
    }
    const index = this.nodeIndex('Deconvnet.layerInfo', layer);
    const node = this.graph.nodes[index];
    return {
      name: node.name,
      className: node.layer.getClassName(),
      index,
      outputShape: [...node.outputShape],
      channels: node.outputShape[node.outputShape.length - 1] ?? 0,
      receptiveField: this.fields.get(node.output)!,
    };
  }

  /**
   * The activations of `layer` for a batch of images (forward only up to that layer).
   *
   * @example
   * ```ts
   * const a = dn.activations(images, 'conv1'); // [N, h, w, channels]
   * ```
   */
  activations(images: tf.Tensor4D, layer: LayerRef): tf.Tensor {
    this.checkLive('activations');
    const gm: GraphProjector | undefined = this.gm;
    if (gm !== undefined) {
      const r = gm.resolve('Deconvnet.activations', layer, 'layer');
      gm.checkImages('Deconvnet.activations', images);
      return gm.activations(images, r.name);
    }
    const index = this.nodeIndex('Deconvnet.activations', layer);
    this.checkImages('Deconvnet.activations', images);
    return tf.tidy(() => {
      const fwd = this.forward(images, ancestors(this.graph, index), false);
      return fwd.values.get(this.graph.nodes[index].output)!;
    });
  }

  /**
   * Projects channels of `layer` to pixel space, batched over images and channels (one forward pass over the
   * images, one backward pass over `N * channels` signals). Z&F section 2.1: all other activations of the layer are
   * set to zero and the kept ones are passed back through the deconvnet.
   *
   * @returns `[N, channels, H, W, C]`: projection of channel `channels[k]` of image `n` at `[n, k]`.
   * @example
   * ```ts
   * const p = dn.project(images, { layer: 'conv2', channels: 'all', position: 'max' });
   * ```
   */
  project(images: tf.Tensor4D, options: ProjectOptions): tf.Tensor5D {
    this.checkLive('project');
    const fn = 'Deconvnet.project';
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, [
      'layer',
      'channels',
      'position',
      'signal',
      'strategy',
    ] satisfies (keyof ProjectOptions)[]);
    if (this.gm !== undefined) return projectGraphChannels(this.gm, images, opts, this.strategy);
    const index = this.nodeIndex(fn, opts.layer, 'options.layer');
    this.checkImages(fn, images);
    const node = this.graph.nodes[index];
    const channels = this.checkChannels(fn, node, opts.channels ?? 'all');
    const position = opts.position ?? 'max';
    const signalKind = opts.signal ?? 'activation';
    checkOneOf(fn, 'options.signal', signalKind, ['activation', 'unit'] as const);
    const strategy = opts.strategy ?? this.strategy;
    checkOneOf(fn, 'options.strategy', strategy, PROJECTION_STRATEGIES);
    checkPosition(fn, node, position);
    return projectChannels(this.graph, index, images, channels, position, signalKind, strategy);
  }

  /**
   * Projects individual units (image, channel, position), each in its own projection, in one batched pass: the
   * forward pass runs on the images the units refer to, the backward pass on one signal per unit.
   *
   * @returns `[units.length, H, W, C]`
   * @example
   * ```ts
   * const p = dn.projectUnits(images, [{ image: 0, channel: 3, y: 4, x: 5 }], { layer: 'conv2' });
   * ```
   */
  projectUnits(images: tf.Tensor4D, units: UnitRef[], options: ProjectUnitsOptions): tf.Tensor4D {
    this.checkLive('projectUnits');
    const fn = 'Deconvnet.projectUnits';
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(
      fn,
      'options',
      opts,
      knownKeys<ProjectUnitsOptions>({ layer: true, signal: true, strategy: true }),
    );
    if (this.gm !== undefined) return projectGraphUnits(this.gm, images, units, opts, this.strategy);
    const index = this.nodeIndex(fn, opts.layer, 'options.layer');
    this.checkImages(fn, images);
    const node = this.graph.nodes[index];
    checkUnits(fn, node, images, units);
    const signalKind = opts.signal ?? 'activation';
    checkOneOf(fn, 'options.signal', signalKind, ['activation', 'unit'] as const);
    const strategy = opts.strategy ?? this.strategy;
    checkOneOf(fn, 'options.strategy', strategy, PROJECTION_STRATEGIES);

    return projectUnitSignals(this.graph, index, images, units, signalKind, strategy);
  }

  /**
   * The receptive field of `layer`'s units in input pixels, from the layer geometry (kernel, stride, padding).
   *
   * @example
   * ```ts
   * dn.receptiveField('pool1'); // {kind: 'local', size: [6, 6], jump: [2, 2], start: [0, 0]}
   * ```
   */
  receptiveField(layer: LayerRef): ReceptiveField {
    if (this.gm !== undefined) throw this.gm.unsupported('Deconvnet.receptiveField', 'a receptive field');
    return this.layerInfo(layer).receptiveField;
  }

  /**
   * Scans a data set and keeps, per channel of `layer`, the k strongest activations (one per image, bounded memory:
   * only the images of the current top-k are kept), then projects each and crops projection and image patch to the
   * unit's receptive field: the paper's fig. 2.
   *
   * @example
   * ```ts
   * const top = await dn.topK(images, { layer: 'conv2', k: 9 });
   * top.projections.shape; // [channels, 9, rfH, rfW, C]
   * tf.dispose([top.projections, top.patches]);
   * ```
   */
  topK(data: ImageSource, options: TopKOptions): Promise<TopKResult> {
    return topKImpl(this, data, options);
  }

  /**
   * Occlusion sensitivity (Z&F section 4.2): maps of the correct class's probability, the predicted class and
   * (with `layer`) the strongest feature map's activity as a square occluder slides over each image.
   *
   * @example
   * ```ts
   * const occ = await dn.occlusion(images, { labels: [3, 7], size: 8, stride: 2, layer: 'conv2' });
   * occ.probability.shape; // [2, rows, cols]
   * ```
   */
  occlusion(images: tf.Tensor4D, options: OcclusionOptions): Promise<OcclusionResult> {
    return occlusionImpl(this, images, options);
  }

  /** Ends the Deconvnet's use (it holds no tensors; the model is the caller's). Later calls throw DisposedError. */
  dispose(): void {
    this.disposed = true;
  }

  /** Whether {@link Deconvnet.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  // ----------------------------------------------------------------------------------------------------------
  // internals shared with topK / occlusion

  /** @internal */
  checkLive(method: string): void {
    if (this.disposed) throw new DisposedError('Deconvnet', method);
  }

  /**
   * @internal A layer (or graph node) as topK and occlusion use it: its name, a reference the public methods
   * resolve to it, and its static output shape (`undefined` for a graph node: known once computed).
   */
  scanTarget(fn: string, layer: LayerRef, argument: string): ScanTarget {
    if (this.gm !== undefined) {
      const r = this.gm.resolve(fn, layer, argument);
      return { name: r.name, ref: r.name, outputShape: undefined };
    }
    const node = this.graph.nodes[this.nodeIndex(fn, layer, argument)];
    return { name: node.name, ref: node.name, outputShape: [...node.outputShape], node };
  }

  /**
   * @internal The model's output and, with `target`, its activations, from one forward pass (call inside tidy).
   */
  outputAndActivations(x: tf.Tensor4D, target?: ScanTarget): { output: tf.Tensor; activations?: tf.Tensor } {
    if (this.gm !== undefined) return this.gm.outputAndActivations(x, target?.name);
    const order = Array.from({ length: this.graph.nodes.length }, (_, i) => i);
    const fwd = this.forward(x, order, false);
    const output = fwd.values.get(this.graph.output)!;
    if (target?.node === undefined) return { output };
    return { output, activations: fwd.values.get(target.node.output)! };
  }

  /**
   * @internal The static output shape (`undefined` where a GraphModel's signature has none) and whether the output
   * is probabilities (a LayersModel ending in softmax; a GraphModel whose output op is `Softmax`).
   */
  outputSpec(): { shape: (number | null)[] | undefined; probabilities: boolean } {
    if (this.gm !== undefined) {
      return { shape: modelOutputShape(this.gm.model), probabilities: this.gm.outputIsProbabilities };
    }
    const nodes = this.graph.nodes;
    const last = nodes[nodes.length - 1].layer;
    const act = (last as unknown as { activation?: { getClassName(): string } }).activation;
    const probabilities = last.getClassName() === 'Softmax' || act?.getClassName?.() === 'softmax';
    return { shape: [...nodes[nodes.length - 1].outputShape], probabilities };
  }

  /**
   * @internal The receptive field topK crops to: the layer geometry's on a LayersModel; the whole `h x w` image on
   * a GraphModel (its GraphDef carries no layer geometry the Deconvnet reads).
   */
  scanField(target: ScanTarget, h: number, w: number): ReceptiveField {
    if (target.node === undefined) return globalField(h, w);
    return this.fields.get(target.node.output)!;
  }

  /** @internal Checks channel indices against a channel count (the static one, or the activations' once known). */
  checkChannelList(fn: string, channels: number[] | 'all', count: number): number[] {
    return checkChannelList(fn, channels, count);
  }

  /**
   * @internal Resolves a layer reference (the one meaning of `src/model`: name or nested path, index into
   * `model.layers`, layer object) to a node index; a nested model stands for the node that computes its output.
   */
  nodeIndex(fn: string, layer: LayerRef, argument = 'layer'): number {
    return nodeIndexOf(this.graph, this.model, fn, layer, argument);
  }

  /** @internal */
  checkImages(fn: string, images: unknown): asserts images is tf.Tensor4D {
    checkGraphImages(this.graph, fn, images);
  }

  /** @internal */
  checkChannels(fn: string, node: GraphNode, channels: number[] | 'all'): number[] {
    return this.checkChannelList(fn, channels, node.outputShape[node.outputShape.length - 1] ?? 0);
  }

  /**
   * @internal Runs the nodes `order` forward (call inside a tidy scope); `record`: keep what the backward pass needs
   * (switches, pre-activations).
   */
  forward(x: tf.Tensor, order: number[], record = true): ForwardState {
    return forwardPass(this.graph, x, order, record);
  }

  /** @internal Maps `signal` (at node `target`'s output, batch N*repeat) back to the input (call inside tidy). */
  backward(
    fwd: ForwardState,
    order: number[],
    target: number,
    signal: tf.Tensor,
    repeat: number,
    strategy: ProjectionStrategy,
  ): tf.Tensor {
    return backwardPass(this.graph, fwd, order, target, signal, repeat, strategy);
  }

  private computeFields(): Map<string, ReceptiveField> {
    return receptiveFields(this.graph);
  }
}
