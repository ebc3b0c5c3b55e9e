/**
 * Deconvnet (Zeiler & Fergus 2013): projections of activations to pixels, guided backprop and saliency on the same
 * machinery, top-k activations with receptive-field patches, occlusion sensitivity, rendering.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
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
export type { FieldBox, ReceptiveField } from './geometry.js';
export { unitBox } from './geometry.js';
export type { OcclusionOptions, OcclusionResult } from './occlusion.js';
export { type TopKFigureOptions, topKFigure } from './render.js';
export {
  type ActivationLike,
  type DeconvBackwardArgs,
  type DeconvForwardResult,
  type DeconvRule,
  gradientRule,
  type LayerGeometry,
  type ProjectionStrategy,
  registerDeconvRule,
} from './rules.js';
export type { TopKOptions, TopKResult, TopKUnit } from './topk.js';
