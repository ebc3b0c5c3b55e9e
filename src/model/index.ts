/**
 * The ONE model reader of transferkit: tfjs-layers models (Sequential, functional, nested) and tfjs-converter
 * GraphModels, one meaning of a layer reference for every primitive (see {@link LayerRef}), the output kind of a
 * classifier, and the valid transfer cuts of a model.
 *
 * @module
 */
export { type CutInfo, listCuts } from './cuts.js';
export { GraphModelNotSupportedError, InvalidCutError } from './errors.js';
export { GRAPH_PROJECTION_OPS } from './graph-gradients.js';
export { type GraphModelLike, isGraphModel, isLayersModel, type ModelKind, modelKind } from './kinds.js';
export { type LayerInfo, type LayerRef, listLayers } from './layers.js';
export { type OutputKind, outputKind } from './output-kind.js';
