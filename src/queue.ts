/**
 * `transferkit/queue`: feature extraction and TransferExperiment grids on a real job queue (BullMQ on Redis). Needs
 * the optional peers `bullmq` and `ioredis` (a missing one is a `MissingDependencyError`). Enqueue an extraction as
 * shard jobs ({@link enqueueExtraction}) or a grid as one job per network ({@link enqueueTransferGrid}), start
 * workers anywhere ({@link runWorker}, or `transferkit worker`), follow the run ({@link watchRun},
 * {@link followTransferGrid}) and merge the shards with `mergeFeatures` from `transferkit/node`. See
 * docs/scale-out.md.
 *
 * @packageDocumentation
 */
export { DEFAULT_QUEUE, pingRedis, QueueConnectionError, type QueueTarget } from './queue/connection.js';
export {
  type EnqueuedRun,
  type EnqueueExtractionOptions,
  type ExtractionJobData,
  enqueueExtraction,
  type ShardJobResult,
} from './queue/extraction.js';
export {
  type QueueStatus,
  queueStatus,
  type RunProgress,
  type RunSummary,
  type WatchRunOptions,
  watchRun,
} from './queue/status.js';
export {
  type EnqueuedTransferGrid,
  type EnqueueTransferGridOptions,
  enqueueTransferGrid,
  type FollowedTransferGrid,
  type FollowTransferGridOptions,
  followTransferGrid,
  type TransferDataSpec,
  type TransferGridSpec,
  type TransferGridTraining,
  type TransferJobData,
  type TransferJobResult,
  type TransferJobRun,
  type TransferModelSpec,
  transferResultsOf,
} from './queue/transfer-grid.js';
export { TransferJobCache } from './queue/transfer-jobs.js';
export { type QueueWorker, type RunWorkerOptions, runWorker, type WorkerEvent } from './queue/worker.js';
