/**
 * Data helpers: the synthetic multi-object scenes of the patches demo and a seeded stratified split.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type { DigitSet, Scene, SceneObject, SceneOptions } from './scenes.js';
export { generateScenes, scenesToTensor } from './scenes.js';
export type { IndexSplit, StratifiedSplitOptions } from './split.js';
export { stratifiedSplit } from './split.js';
