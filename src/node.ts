/**
 * `transferkit/node`: Node-only helpers (backend set-up, data sets, PNG and IDX files, image folders, model and
 * feature files, fine-tuning on a folder, worker pools). The library itself is imported from `transferkit`; this
 * entry adds what needs `node:` modules. Like the main entry it exports what a user calls; the helpers the CLI and
 * report share stay in their files (see `src/internal.ts`).
 *
 * @packageDocumentation
 */
export type { InitBackendOptions, NodeBackendName } from './node/backend.js';
export { initBackend } from './node/backend.js';
export type {
  DataCacheOptions,
  ImageBytes,
  ImagePart,
  ImageSplit,
  LoadFashionMnistOptions,
  LoadFullMnistOptions,
  MnistFiles,
} from './node/datasets.js';
export { loadFashionMnist, loadFullMnist } from './node/datasets.js';
export type { ExtractFeaturesOptions, ExtractionResult } from './node/extraction.js';
export { extractFeatures } from './node/extraction.js';
export type { ExtractionInputs, ExtractionSpec, LoadedModel } from './node/extraction-inputs.js';
export type { ScannedRows } from './node/fashion-json.js';
export { loadFeatures, saveFeatures } from './node/features-io.js';
export type { FinetuneFolderOptions, FinetuneFolderResult, FinetuneFolders } from './node/finetune.js';
export { finetuneFolder } from './node/finetune.js';
export type { Caller } from './node/finetune-files.js';
export type { FilePrediction, LoadedFinetuned } from './node/finetune-model.js';
export { loadFinetuned, predictFiles, saveFinetuned } from './node/finetune-model.js';
export type { IdxArray, IdxData, IdxProblem, IdxType, ReadIdxOptions } from './node/idx.js';
export { encodeIdx, IdxFormatError, readIdx } from './node/idx.js';
export type { ImageFolder, ImageFolderListing, ReadImageFolderOptions } from './node/images.js';
export { readImageFiles, readImageFolder } from './node/images.js';
export type { LoadMnistOptions, MnistBatch, MnistDigits, MnistPart, MnistSplit } from './node/mnist.js';
export { loadMnist } from './node/mnist.js';
export { readPng, writePng } from './node/png.js';
export type { ModelFactoryRef, ParallelTransferOptions } from './node/pool.js';
export { runTransferExperimentInWorkers } from './node/pool.js';
export type { ParallelSpecialistOptions } from './node/pool-ensemble.js';
export { trainSpecialistsInWorkers } from './node/pool-ensemble.js';
export { closeWorkerPool } from './node/pool-entry.js';
export type { ParallelExtractOptions } from './node/pool-extract.js';
export { extractFeaturesInWorkers } from './node/pool-extract.js';
export type { PretrainedInfo, PretrainedName } from './node/pretrained.js';
export {
  loadLayersModelFrom,
  loadPretrained,
  PRETRAINED_MODELS,
  pretrainedIOHandler,
  saveLayersModelTo,
} from './node/pretrained.js';
export type { FeatureShardInfo, MergeResult } from './node/shards.js';
export { mergeFeatures, saveFeatureShard } from './node/shards.js';
