/**
 * `transferkit/node`: Node-only helpers (backend set-up, PNG files, MNIST loading, model files). The library
 * itself is imported from `transferkit`; this entry adds what needs `node:` modules.
 *
 * @packageDocumentation
 */
export { describeValue } from './index.js';
export * from './node/backend.js';
export * from './node/datasets.js';
export * from './node/extraction.js';
export * from './node/features-io.js';
export * from './node/finetune.js';
export * from './node/idx.js';
export {
  type ImageFolder,
  type ImageFolderListing,
  listImageFolder,
  type ReadImageFolderOptions,
  readImageFiles,
  readImageFolder,
} from './node/images.js';
export * from './node/mnist.js';
export { packageRoot } from './node/optional.js';
export * from './node/png.js';
export * from './node/pool.js';
export * from './node/pool-ensemble.js';
export * from './node/pool-extract.js';
export * from './node/pretrained.js';
export * from './node/shards.js';
