/**
 * The queue's worker: takes shard jobs (feature extraction) and transfer jobs (one network of a TransferExperiment
 * grid) from the queue, keeps each model, data set and trained base network in memory between jobs, reports
 * progress, and fails bad input at once (no retries) naming what was wrong.
 *
 * @module
 */
import type { Job, Worker } from 'bullmq';
import { InvalidArgumentError, type ShardSpec, TransferkitError } from '../index.js';
import type { LoadedModel } from '../node.js';
import {
  CONNECT_TIMEOUT_MS,
  connectionOptions,
  DEFAULT_QUEUE,
  loadBull,
  pingRedis,
  type QueueTarget,
} from './connection.js';
import { type ExtractionJobData, runExtractionJob, type ShardJobResult } from './extraction.js';
import type { TransferJobData, TransferJobResult } from './transfer-grid-spec.js';
import { TransferJobCache } from './transfer-jobs.js';

/** Options of {@link runWorker}. */
export interface RunWorkerOptions extends QueueTarget {
  /**
   * Jobs run at once in this process (they share one tfjs engine; >1 overlaps file reading; keep 1 for transfer
   * jobs, which are compute-bound).
   * @default 1
   */
  concurrency?: number;
  /** How long a job's lock lasts without renewal, ms: a dead worker's job is retried after about this. @default 30000 */
  lockDuration?: number;
  /** How often stalled jobs (lock expired) are looked for, ms. @default 30000 */
  stalledInterval?: number;
  /** Times a job may stall (its worker died) before it fails. @default 2 */
  maxStalledCount?: number;
  /** Trained base networks a worker keeps for transfer jobs. @default 4 */
  maxBases?: number;
  /** Called on each job event of this worker (for logs). */
  onEvent?: (event: WorkerEvent) => void;
}

/** An event of a worker: a job started, finished or failed. */
export interface WorkerEvent {
  /** What happened. */
  type: 'started' | 'completed' | 'failed';
  /** The job id. */
  jobId: string;
  /** The job's shard (extraction jobs). */
  shard?: ShardSpec;
  /** The job's network (transfer jobs). */
  network?: TransferJobData['run'];
  /** The result, for `completed`. */
  result?: ShardJobResult | TransferJobResult;
  /** Why, for `failed`. */
  reason?: string;
}

/** A running worker. */
export interface QueueWorker {
  /** Waits for the jobs in progress, then stops and releases the models. */
  close(): Promise<void>;
  /** Jobs this worker finished. */
  readonly completed: number;
  /** Models loaded so far (each once per worker). */
  readonly modelsLoaded: number;
  /** Base networks this worker trained for transfer jobs (each seed's base once while it stays in memory). */
  readonly basesTrained: number;
}

type AnyJobData = ExtractionJobData | TransferJobData;

/**
 * Starts a worker that takes jobs from the queue. Shard jobs: loads each model once (per worker), extracts the
 * shard, writes it atomically with its manifest, reports progress (`job.updateProgress({ done, total })`), returns a
 * {@link ShardJobResult}. Transfer jobs: trains and evaluates one network of a grid (see {@link TransferJobCache}),
 * returns a {@link TransferJobResult}. Bad input (an unreadable image, a bad spec) fails the job at once, naming the
 * file, without retries and without writing anything.
 *
 * @throws {@link QueueConnectionError} when Redis does not answer
 * @example
 * ```ts
 * import { runWorker } from 'transferkit/queue';
 * const worker = await runWorker({ connection: 'redis://127.0.0.1:6379', concurrency: 1 });
 * process.on('SIGTERM', () => worker.close());
 * ```
 */
export async function runWorker(options: RunWorkerOptions): Promise<QueueWorker> {
  const fn = 'runWorker';
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(fn, 'options', 'an options object', options);
  }
  const opts = connectionOptions(fn, options.connection);
  const concurrency = options.concurrency ?? 1;
  for (const [k, v, min] of [
    ['concurrency', concurrency, 1],
    ['lockDuration', options.lockDuration ?? 30000, 100],
    ['stalledInterval', options.stalledInterval ?? 30000, 100],
    ['maxStalledCount', options.maxStalledCount ?? 2, 0],
    ['maxBases', options.maxBases ?? 4, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new InvalidArgumentError(fn, `options.${k}`, `an integer >= ${min}`, v);
    }
  }
  await pingRedis(options.connection, options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  const bull = await loadBull();
  const models = new Map<string, Promise<LoadedModel>>();
  const transfers = new TransferJobCache(options.maxBases ?? 4);
  let completed = 0;
  let basesTrained = 0;
  const describe = (d: AnyJobData | undefined) =>
    d?.kind === 'extract' ? { shard: d.shard } : d?.kind === 'transfer' ? { network: d.run } : {};
  const processor = async (
    job: Job<AnyJobData, ShardJobResult | TransferJobResult>,
  ): Promise<ShardJobResult | TransferJobResult> => {
    const d = job.data;
    if (d?.kind !== 'extract' && d?.kind !== 'transfer') {
      throw new bull.UnrecoverableError(
        `unknown job kind ${JSON.stringify((d as { kind?: unknown })?.kind)}`,
      );
    }
    options.onEvent?.({ type: 'started', jobId: String(job.id), ...describe(d) });
    try {
      let result: ShardJobResult | TransferJobResult;
      if (d.kind === 'extract') result = await runExtractionJob(job as Job<ExtractionJobData>, models);
      else {
        result = await transfers.run(d);
        if (result.trainedBase) basesTrained++;
      }
      completed++;
      return result;
    } catch (e) {
      // Bad input does not get better on a retry: fail the job now, visibly.
      if (e instanceof TransferkitError) throw new bull.UnrecoverableError(e.message);
      throw e;
    }
  };
  const worker: Worker = new bull.Worker(options.queue ?? DEFAULT_QUEUE, processor, {
    connection: { ...opts, maxRetriesPerRequest: null },
    concurrency,
    lockDuration: options.lockDuration ?? 30000,
    stalledInterval: options.stalledInterval ?? 30000,
    maxStalledCount: options.maxStalledCount ?? 2,
  });
  worker.on('error', () => {});
  worker.on('completed', (job, result: ShardJobResult | TransferJobResult) => {
    options.onEvent?.({ type: 'completed', jobId: String(job.id), ...describe(job.data), result });
  });
  worker.on('failed', (job, err) => {
    options.onEvent?.({
      type: 'failed',
      jobId: String(job?.id),
      ...describe(job?.data),
      reason: err.message,
    });
  });
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      for (const p of models.values()) {
        try {
          (await p).model.dispose();
        } catch {
          // a model that failed to load has nothing to release
        }
      }
      models.clear();
      transfers.clear();
    },
    get completed() {
      return completed;
    },
    get modelsLoaded() {
      return models.size;
    },
    get basesTrained() {
      return basesTrained;
    },
  };
}
