/**
 * Transfer learning on the user's own images in one call: features once, a new head, optional end-to-end
 * fine-tuning of the top stages (Keras's transfer-learning guide, fastai's `fine_tune`).
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type { ResolvedAugment } from './augment.js';
export { finetune } from './finetune.js';
export type { SummaryImage } from './summary.js';
export type {
  FeatureCache,
  FinetuneAugment,
  FinetuneData,
  FinetuneEpoch,
  FinetuneMetrics,
  FinetuneOptions,
  FinetuneResult,
  FinetuneValPredictions,
  ImageSet,
  ImageTensorSet,
} from './types.js';
