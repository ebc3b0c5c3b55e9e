/**
 * The shared ground: typed errors, the seeded `Rng`, and the types a consumer implements to plug in a model.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export {
  DisposedError,
  InvalidArgumentError,
  isTransferkitError,
  MissingDependencyError,
  ShapeMismatchError,
  TransferkitError,
  UnsupportedLayerError,
} from './errors.js';
export { Rng } from './rng.js';
export type {
  Classifier,
  ImageBatch,
  LabeledData,
  PixelBox,
  PredictModel,
  ProgressCallback,
  ProgressEvent,
} from './types.js';
