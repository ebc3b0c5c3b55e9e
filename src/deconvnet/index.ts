/**
 * Deconvnet (Zeiler & Fergus 2013): projections of activations to pixels, guided backprop and saliency on the same
 * machinery, top-k activations with receptive-field patches, occlusion sensitivity, rendering.
 *
 * @module
 */

export type { Layer } from '../model/kinds.js';
export type { GraphNode, LayerGraph } from '../model/layer-graph.js';
export {
  type DeconvLayerInfo,
  Deconvnet,
  type DeconvnetOptions,
  type ProjectionPosition,
  type ProjectionSignal,
  type ProjectOptions,
  type ProjectUnitsOptions,
  type UnitRef,
} from './deconvnet.js';
export { type FieldBox, type ReceptiveField, unitBox } from './geometry.js';
export { type OcclusionOptions, type OcclusionResult, occluderPositions } from './occlusion.js';
export { mapsToArrays, type TopKFigureOptions, topKFigure } from './render.js';
export {
  type ActivationLike,
  type DeconvBackwardArgs,
  type DeconvForwardResult,
  type DeconvRule,
  getDeconvRule,
  gradientRule,
  type LayerGeometry,
  PROJECTION_STRATEGIES,
  type ProjectionStrategy,
  registerDeconvRule,
  registeredDeconvLayers,
} from './rules.js';
export type { TopKOptions, TopKResult, TopKUnit } from './topk.js';
