/**
 * `transferkit/queue`: sharded feature extraction on a real job queue (BullMQ on Redis). Needs the optional peers
 * `bullmq` and `ioredis` (a missing one is a `MissingDependencyError`). Enqueue an extraction as shard jobs
 * ({@link enqueueExtraction}), start workers anywhere ({@link runWorker}, or `transferkit worker`), follow the run
 * ({@link watchRun}) and merge the shards with `mergeFeatures` from `transferkit/node`. See docs/scale-out.md.
 *
 * @packageDocumentation
 */
export * from './queue/queue.js';
