/**
 * The ONE model reader of transferkit: tfjs-layers models (Sequential, functional, nested) and tfjs-converter
 * GraphModels, one meaning of a layer reference for every primitive (see {@link LayerRef}), the output kind of a
 * classifier, and the valid transfer cuts of a model.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export { type CutInfo, listCuts } from './cuts.js';
export { GraphModelNotSupportedError, InvalidCutError } from './errors.js';
export type { GraphModelLike, ModelKind } from './kinds.js';
export { type LayerInfo, type LayerRef, listLayers } from './layers.js';
export { type OutputKind, outputKind } from './output-kind.js';
