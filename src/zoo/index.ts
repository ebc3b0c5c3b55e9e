/**
 * Models of the papers and modern architectures, seeded: the Zeiler & Fergus CNN, Hinton's MLPs, MobileNets,
 * EfficientNet-B0, ResNet-18, an Inception net, and the training loop for them.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type { ArchitectureOptions } from './architectures.js';
export {
  efficientNetB0,
  inceptionNet,
  mobileNetV1,
  mobileNetV2,
  mobileNetV3Small,
  resNet18,
} from './architectures.js';
export type { ZeilerFergusCnnOptions } from './cnn.js';
export { zeilerFergusCnn } from './cnn.js';
export type { HintonMlpOptions, HintonPreset, HintonPresetConfig } from './mlp.js';
export { hintonMlp } from './mlp.js';
export type {
  ClassifierTargets,
  EpochRecord,
  TrainClassifierOptions,
  TrainHistory,
  ValidationData,
} from './train.js';
export { trainClassifier } from './train.js';
