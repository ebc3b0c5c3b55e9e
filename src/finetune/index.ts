/**
 * Transfer learning on the user's own images in one call: features once, a new head, optional end-to-end
 * fine-tuning of the top stages (Keras's transfer-learning guide, fastai's `fine_tune`).
 *
 * @module
 */
export { augmentImages, type ResolvedAugment, resolveFinetuneAugment } from './augment.js';
export { finetune, imageInputShape } from './finetune.js';
export { confusionSvg, finetuneSummaryHtml, type SummaryImage } from './summary.js';
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
