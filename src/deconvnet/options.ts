/**
 * The options and result types of the Deconvnet's methods (see `Deconvnet`).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerRef } from '../model/layers.js';
import type { ReceptiveField } from './geometry.js';
import type { ProjectionStrategy } from './rule-kit.js';

/** What starts the backward pass at the selected activations. */
export type ProjectionSignal = 'activation' | 'unit';

/** Which activations of the selected channel are kept (all others of the layer are zeroed, Z&F section 2.1). */
export type ProjectionPosition =
  | 'max'
  | 'all'
  | {
      /** Row in the feature map. */
      y: number;
      /** Column in the feature map. */
      x: number;
    };

/** Options of {@link Deconvnet}. */
export interface DeconvnetOptions {
  /**
   * The backward rule at ReLUs used when a call does not say otherwise.
   * @default 'deconvnet'
   */
  strategy?: ProjectionStrategy;
}

/** Options of {@link Deconvnet.project}. */
export interface ProjectOptions {
  /** The layer whose activations are projected. */
  layer: LayerRef;
  /**
   * Channels (feature maps, or neurons of a Dense layer) to project, each in its own projection.
   * @default 'all'
   */
  channels?: number[] | 'all';
  /**
   * `'max'`: only the strongest activation of the channel in each image (the paper's top-activation figures);
   * `'all'`: the whole feature map; `{y, x}`: one given position. Ignored for layers without spatial axes.
   * @default 'max'
   */
  position?: ProjectionPosition;
  /**
   * `'activation'`: the kept activations themselves are sent back (Z&F); `'unit'`: ones at the kept positions, so
   * the `'saliency'` strategy gives the gradient of the sum of the kept activations.
   * @default 'activation'
   */
  signal?: ProjectionSignal;
  /** @default the Deconvnet's strategy */
  strategy?: ProjectionStrategy;
}

/** One unit to project with {@link Deconvnet.projectUnits}. */
export interface UnitRef {
  /** Index of the image in the batch. */
  image: number;
  /** Channel (or neuron) index. */
  channel: number;
  /** Row of the unit in the feature map; omit (with `x`) to keep the whole feature map. */
  y?: number;
  /** Column of the unit in the feature map. */
  x?: number;
}

/** Options of {@link Deconvnet.projectUnits}. */
export interface ProjectUnitsOptions {
  /** The layer of the units. */
  layer: LayerRef;
  /** @default 'activation' */
  signal?: ProjectionSignal;
  /** @default the Deconvnet's strategy */
  strategy?: ProjectionStrategy;
}

/** Facts about one layer of the model. */
export interface DeconvLayerInfo {
  /** Name (nested models: `outer/inner`). */
  name: string;
  /** `layer.getClassName()`. */
  className: string;
  /** Index in {@link Deconvnet.layerNames}. */
  index: number;
  /** Static output shape, batch first (`null` for the batch). */
  outputShape: (number | null)[];
  /** Channels (last axis) of the output. */
  channels: number;
  /** Receptive field of its units in input pixels. */
  receptiveField: ReceptiveField;
}

/** Tensors of one forward pass (inside a tidy scope). */
export interface ForwardState {
  values: Map<string, tf.Tensor>;
  saved: Map<number, tf.Tensor[]>;
}
