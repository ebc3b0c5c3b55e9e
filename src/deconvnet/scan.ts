/**
 * What `Deconvnet.topK` and `Deconvnet.occlusion` need of a Deconvnet (internal): an interface, so that topk.ts and
 * occlusion.ts do not import deconvnet.ts (which imports them).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../model/layer-graph.js';
import type { LayerRef } from '../model/layers.js';
import type { ReceptiveField } from './geometry.js';
import type { ProjectionStrategy } from './rule-kit.js';

/** @internal A layer or graph node as topK and occlusion see it (see `Deconvnet.scanTarget`). */
export interface ScanTarget {
  /** Layer name (nested: `outer/inner`) or graph node name. */
  name: string;
  /** A reference `project`, `projectUnits` and `activations` resolve to it. */
  ref: string;
  /** Static output shape, batch first; `undefined` for a graph node. */
  outputShape: (number | null)[] | undefined;
  /** The layer-graph node (LayersModel only). */
  node?: GraphNode;
}

/** @internal The Deconvnet as topK and occlusion use it. */
export interface ScanHost {
  /** The default strategy. */
  readonly strategy: ProjectionStrategy;
  checkLive(method: string): void;
  checkImages(fn: string, images: unknown): asserts images is tf.Tensor4D;
  scanTarget(fn: string, layer: LayerRef, argument: string): ScanTarget;
  checkChannelList(fn: string, channels: number[] | 'all', count: number): number[];
  activations(images: tf.Tensor4D, layer: LayerRef): tf.Tensor;
  scanField(target: ScanTarget, h: number, w: number): ReceptiveField;
  projectUnits(
    images: tf.Tensor4D,
    units: { image: number; channel: number; y?: number; x?: number }[],
    options: { layer: LayerRef; strategy?: ProjectionStrategy },
  ): tf.Tensor4D;
  outputSpec(): { shape: (number | null)[] | undefined; probabilities: boolean };
  outputAndActivations(x: tf.Tensor4D, target?: ScanTarget): { output: tf.Tensor; activations?: tf.Tensor };
}
