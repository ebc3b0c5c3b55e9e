/**
 * Sharded feature extraction on a job queue: BullMQ on Redis (optional peers `bullmq` and `ioredis`). One
 * extraction becomes `count` shard jobs; any number of workers, on any machines that see the same files, take them;
 * a worker that dies mid-job loses its lock and the job is handed to another (at-least-once); each shard is written
 * atomically and a re-run writes the same bytes (idempotent), so `mergeFeatures` gives the single-process file.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { InvalidArgumentError, MissingDependencyError, type ShardSpec, TransferkitError } from '../index.js';
import { canonicalJson, listInputs, loadModelArg } from '../internal.js';
import { type ExtractionSpec, extractFeatures, type LoadedModel, saveFeatureShard } from '../node.js';

/** The default queue name. */
export const DEFAULT_QUEUE = 'transferkit';

/**
 * Redis could not be reached (refused, timed out, bad address). Raised before any job is read or written.
 *
 * @example
 * ```ts
 * try { await runWorker({ connection: 'redis://127.0.0.1:6379' }); }
 * catch (e) { if (e instanceof QueueConnectionError) console.error('no Redis at', e.url); }
 * ```
 */
export class QueueConnectionError extends TransferkitError {
  /** The Redis URL that could not be reached. */
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`Cannot reach Redis at ${url}: ${reason}.`, 'QUEUE_UNREACHABLE');
    this.url = url;
  }
}

type Bull = typeof import('bullmq');
type IORedis = { Redis: typeof import('ioredis').Redis };

async function loadBull(): Promise<Bull> {
  try {
    return await import('bullmq');
  } catch {
    throw new MissingDependencyError('bullmq', 'for transferkit/queue (with ioredis)');
  }
}

async function loadIORedis(): Promise<IORedis> {
  try {
    const m = await import('ioredis');
    return { Redis: m.Redis };
  } catch {
    throw new MissingDependencyError('ioredis', 'for transferkit/queue (with bullmq)');
  }
}

/** ioredis connection options from a `redis://[user:password@]host:port[/db]` URL. */
function connectionOptions(fn: string, url: string) {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(fn, 'connection', "a Redis URL 'redis://host:port'", url);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InvalidArgumentError(fn, 'connection', "a Redis URL 'redis://host:port'", url);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Checks that Redis answers at `url` within `timeoutMs` (one connection, no retries, then closed).
 *
 * @throws {@link QueueConnectionError} naming the URL when it does not; {@link index!InvalidArgumentError |
 * InvalidArgumentError} for a malformed URL; {@link index!MissingDependencyError | MissingDependencyError} without
 * `ioredis`
 * @example
 * ```ts
 * await pingRedis('redis://127.0.0.1:6379');
 * ```
 */
export async function pingRedis(url: string, timeoutMs = 3000): Promise<void> {
  const opts = connectionOptions('pingRedis', url);
  const { Redis } = await loadIORedis();
  const r = new Redis({
    ...opts,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    throw new QueueConnectionError(url, e instanceof Error ? e.message || e.name : String(e));
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}

/** Where the queue lives: a Redis URL and a queue name. */
export interface QueueTarget {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. */
  connection: string;
  /** Queue name (BullMQ key prefix `bull:<queue>`). @default 'transferkit' */
  queue?: string;
  /** How long to wait for Redis to answer before failing with {@link QueueConnectionError}, ms. @default 3000 */
  connectTimeoutMs?: number;
}

async function openQueue(fn: string, target: QueueTarget): Promise<{ bull: Bull; queue: Queue }> {
  const opts = connectionOptions(fn, target.connection);
  await pingRedis(target.connection, target.connectTimeoutMs ?? 3000);
  const bull = await loadBull();
  const queue = new bull.Queue(target.queue ?? DEFAULT_QUEUE, { connection: opts });
  queue.on('error', () => {});
  return { bull, queue };
}

/** The data of one shard job. */
export interface ExtractionJobData {
  /** Job kind. */
  kind: 'extract';
  /** The run the job belongs to. */
  runId: string;
  /** The extraction (paths absolute). */
  spec: ExtractionSpec;
  /** The job's shard. */
  shard: ShardSpec;
  /** Folder the shard is written into (absolute). */
  outDir: string;
}

/** What a finished shard job returns (its `returnvalue`). */
export interface ShardJobResult {
  /** The shard. */
  shard: ShardSpec;
  /** Rows extracted. */
  rows: number;
  /** SHA-256 of the shard file written. */
  sha256: string;
  /** Wall time of the job, ms. */
  ms: number;
  /** Process id of the worker that ran it. */
  pid: number;
}

/** Options of {@link enqueueExtraction}. */
export interface EnqueueExtractionOptions extends QueueTarget {
  /** The extraction (relative paths are made absolute here: workers must see the same files). */
  spec: ExtractionSpec;
  /** Number of shard jobs (at most the number of images). */
  shards: number;
  /** Folder the workers write the shards into (merge it with `mergeFeatures`). */
  outDir: string;
  /** Run id: jobs are `<runId>-<shard>`, so enqueueing the same run twice adds nothing. @default a hash of spec, shards and outDir */
  runId?: string;
  /** Tries per job (a killed worker's stalled job counts as one). @default 3 */
  attempts?: number;
}

/** Result of {@link enqueueExtraction}. */
export interface EnqueuedRun {
  /** The run id. */
  runId: string;
  /** The ids of its jobs, in shard order. */
  jobIds: string[];
  /** The queue name. */
  queue: string;
  /** The spec as enqueued (absolute paths). */
  spec: ExtractionSpec;
  /** Folder of the shards (absolute). */
  outDir: string;
}

function absoluteSpec(spec: ExtractionSpec): ExtractionSpec {
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(p));
  const out: ExtractionSpec = { ...spec };
  if (!spec.model.startsWith('pretrained:')) out.model = path.resolve(spec.model);
  if (spec.images !== undefined) out.images = abs(spec.images);
  if (spec.list !== undefined) out.list = abs(spec.list);
  return out;
}

/**
 * Enqueues an extraction as `shards` jobs (one per shard). Lists the inputs first, so an empty folder or too many
 * shards fails here, not in the workers. Idempotent: the job ids derive from the run id, and BullMQ ignores a job
 * whose id exists.
 *
 * @throws {@link QueueConnectionError} when Redis does not answer; {@link index!InvalidArgumentError |
 * InvalidArgumentError} for a bad spec or shard count
 * @example
 * ```ts
 * import { enqueueExtraction } from 'transferkit/queue';
 * const run = await enqueueExtraction({ connection: 'redis://127.0.0.1:6379', spec, shards: 16, outDir: 'shards' });
 * ```
 */
export async function enqueueExtraction(options: EnqueueExtractionOptions): Promise<EnqueuedRun> {
  const fn = 'enqueueExtraction';
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(fn, 'options', 'an options object', options);
  }
  const spec = absoluteSpec(options.spec);
  const inputs = await listInputs(spec);
  const count = options.shards;
  if (!Number.isInteger(count) || count < 1 || count > inputs.files.length) {
    throw new InvalidArgumentError(fn, 'options.shards', `an integer in [1, ${inputs.files.length}]`, count);
  }
  if (typeof options.outDir !== 'string' || options.outDir.length === 0) {
    throw new InvalidArgumentError(fn, 'options.outDir', 'a folder path', options.outDir);
  }
  const attempts = options.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidArgumentError(fn, 'options.attempts', 'an integer >= 1', attempts);
  }
  const outDir = path.resolve(options.outDir);
  const runId =
    options.runId ??
    createHash('sha256').update(canonicalJson({ spec, count, outDir })).digest('hex').slice(0, 16);
  if (!/^[\w.-]+$/.test(runId)) {
    throw new InvalidArgumentError(fn, 'options.runId', 'letters, digits, _ . -', runId);
  }
  const { queue } = await openQueue(fn, options);
  try {
    const jobIds = Array.from({ length: count }, (_, i) => `${runId}-${String(i).padStart(5, '0')}`);
    await queue.addBulk(
      jobIds.map((jobId, index) => ({
        name: 'extract',
        data: { kind: 'extract', runId, spec, shard: { index, count }, outDir } satisfies ExtractionJobData,
        opts: { jobId, attempts, backoff: { type: 'exponential', delay: 500 } },
      })),
    );
    return { runId, jobIds, queue: queue.name, spec, outDir };
  } finally {
    await queue.close();
  }
}

/** Options of {@link runWorker}. */
export interface RunWorkerOptions extends QueueTarget {
  /** Jobs run at once in this process (they share one tfjs engine; >1 overlaps file reading). @default 1 */
  concurrency?: number;
  /** How long a job's lock lasts without renewal, ms: a dead worker's job is retried after about this. @default 30000 */
  lockDuration?: number;
  /** How often stalled jobs (lock expired) are looked for, ms. @default 30000 */
  stalledInterval?: number;
  /** Times a job may stall (its worker died) before it fails. @default 2 */
  maxStalledCount?: number;
  /** Called on each job event of this worker (for logs). */
  onEvent?: (event: WorkerEvent) => void;
}

/** An event of a worker: a job started, finished or failed. */
export interface WorkerEvent {
  /** What happened. */
  type: 'started' | 'completed' | 'failed';
  /** The job id. */
  jobId: string;
  /** The job's shard. */
  shard?: ShardSpec;
  /** The result, for `completed`. */
  result?: ShardJobResult;
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
}

/**
 * Starts a worker that takes shard jobs from the queue: loads each model once (per worker), extracts the shard,
 * writes it atomically with its manifest, reports progress (`job.updateProgress({ done, total })`), returns a
 * {@link ShardJobResult}. Bad input (an unreadable image, a bad spec) fails the job at once, naming the file,
 * without retries and without writing the shard.
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
  ] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new InvalidArgumentError(fn, `options.${k}`, `an integer >= ${min}`, v);
    }
  }
  await pingRedis(options.connection, options.connectTimeoutMs ?? 3000);
  const bull = await loadBull();
  const models = new Map<string, Promise<LoadedModel>>();
  let completed = 0;
  const processor = async (job: Job<ExtractionJobData, ShardJobResult>): Promise<ShardJobResult> => {
    const t0 = Date.now();
    const d = job.data;
    if (d?.kind !== 'extract') {
      throw new bull.UnrecoverableError(`unknown job kind ${JSON.stringify(d?.kind)}`);
    }
    options.onEvent?.({ type: 'started', jobId: String(job.id), shard: d.shard });
    let loaded = models.get(d.spec.model);
    if (loaded === undefined) {
      loaded = loadModelArg(d.spec.model);
      models.set(d.spec.model, loaded);
      loaded.catch(() => models.delete(d.spec.model));
    }
    let last = 0;
    try {
      const r = await extractFeatures(d.spec, {
        shard: d.shard,
        loaded: await loaded,
        onProgress: (e) => {
          const now = Date.now();
          if (now - last < 250 && e.done < e.total) return;
          last = now;
          void job.updateProgress({ done: e.done, total: e.total }).catch(() => {});
        },
      });
      const m = await saveFeatureShard(d.outDir, d.shard, r.matrices, r);
      completed++;
      return {
        shard: d.shard,
        rows: r.end - r.start,
        sha256: m.sha256,
        ms: Date.now() - t0,
        pid: process.pid,
      };
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
  worker.on('completed', (job, result: ShardJobResult) => {
    options.onEvent?.({ type: 'completed', jobId: String(job.id), shard: job.data.shard, result });
  });
  worker.on('failed', (job, err) => {
    options.onEvent?.({
      type: 'failed',
      jobId: String(job?.id),
      shard: job?.data.shard,
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
    },
    get completed() {
      return completed;
    },
    get modelsLoaded() {
      return models.size;
    },
  };
}

/** Progress of a run, as {@link watchRun} reports it. */
export interface RunProgress {
  /** Jobs finished (completed or failed). */
  finished: number;
  /** Jobs of the run. */
  jobs: number;
  /** Images done over the run's jobs (from the jobs' progress events). */
  done: number;
  /** Images of the run. */
  total: number;
}

/** Final summary of a run, from {@link watchRun}. */
export interface RunSummary {
  /** Jobs of the run. */
  jobs: number;
  /** Jobs completed. */
  completed: number;
  /** Jobs failed for good, with the reason (e.g. the unreadable file). */
  failed: {
    /** The job id. */
    jobId: string;
    /** Why it failed (the last error's message). */
    reason: string;
  }[];
  /** Results of the completed jobs, in shard order. */
  results: ShardJobResult[];
  /** Whether every job finished before the timeout. */
  finishedAll: boolean;
}

/** Options of {@link watchRun}. */
export interface WatchRunOptions extends QueueTarget {
  /** The run's job ids (from {@link enqueueExtraction}). */
  jobIds: string[];
  /** Progress, from the queue's events. */
  onProgress?: (p: RunProgress) => void;
  /** Give up waiting after this long, ms (the jobs go on). @default Infinity */
  timeoutMs?: number;
}

/**
 * Follows a run through the queue's events (progress, completed, failed) until every job has completed or failed
 * for good, then returns the summary. Only reads the queue.
 *
 * @throws {@link QueueConnectionError} when Redis does not answer
 * @example
 * ```ts
 * const summary = await watchRun({ connection, jobIds: run.jobIds, onProgress: (p) => console.log(p.done, p.total) });
 * ```
 */
export async function watchRun(options: WatchRunOptions): Promise<RunSummary> {
  const fn = 'watchRun';
  if (!Array.isArray(options?.jobIds) || options.jobIds.length === 0) {
    throw new InvalidArgumentError(fn, 'options.jobIds', 'a non-empty array of job ids', options?.jobIds);
  }
  const { bull, queue } = await openQueue(fn, options);
  const events: QueueEvents = new bull.QueueEvents(queue.name, {
    connection: connectionOptions(fn, options.connection),
  });
  events.on('error', () => {});
  const ids = new Set(options.jobIds);
  const progress = new Map<string, { done: number; total: number }>();
  const state = new Map<string, 'completed' | 'failed'>();
  let wake: () => void = () => {};
  const report = () => {
    let done = 0;
    let total = 0;
    for (const p of progress.values()) {
      done += p.done;
      total += p.total;
    }
    options.onProgress?.({ finished: state.size, jobs: ids.size, done, total });
  };
  events.on('progress', ({ jobId, data }) => {
    if (!ids.has(jobId) || typeof data !== 'object' || data === null) return;
    progress.set(jobId, data as { done: number; total: number });
    report();
  });
  events.on('completed', ({ jobId }) => ids.has(jobId) && wake());
  events.on('failed', ({ jobId }) => ids.has(jobId) && wake());
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  const results = new Map<string, ShardJobResult>();
  const failed: { jobId: string; reason: string }[] = [];
  try {
    await events.waitUntilReady();
    while (state.size < ids.size && Date.now() < deadline) {
      for (const id of ids) {
        if (state.has(id)) continue;
        // State first, then the job: a job read before it finished has no return value yet.
        const s = await queue.getJobState(id);
        if (s !== 'completed' && s !== 'failed') continue;
        const job = await queue.getJob(id);
        if (job === undefined) continue;
        if (s === 'completed') {
          state.set(id, 'completed');
          const r = job.returnvalue as ShardJobResult;
          results.set(id, r);
          progress.set(id, { done: r.rows, total: r.rows });
          report();
        } else {
          state.set(id, 'failed');
          failed.push({ jobId: id, reason: job.failedReason });
          report();
        }
      }
      if (state.size < ids.size) {
        // Woken by a completed/failed event, or poll again after a second (events are not replayed).
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  } finally {
    await events.close();
    await queue.close();
  }
  return {
    jobs: ids.size,
    completed: results.size,
    failed,
    results: options.jobIds.filter((id) => results.has(id)).map((id) => results.get(id) as ShardJobResult),
    finishedAll: state.size === ids.size,
  };
}

/** What {@link queueStatus} returns. */
export interface QueueStatus {
  /** The queue name. */
  queue: string;
  /** Jobs per state. */
  counts: {
    /** Jobs waiting for a worker. */
    waiting: number;
    /** Jobs a worker holds now. */
    active: number;
    /** Jobs waiting out a retry back-off. */
    delayed: number;
    /** Jobs completed. */
    completed: number;
    /** Jobs failed for good. */
    failed: number;
  };
  /** The most recent failed jobs with their reasons. */
  failed: {
    /** The job id. */
    jobId: string;
    /** Why it failed. */
    reason: string;
    /** Tries made. */
    attempts: number;
  }[];
}

/**
 * The queue's job counts and its latest failures.
 *
 * @throws {@link QueueConnectionError} when Redis does not answer
 * @example
 * ```ts
 * const { counts } = await queueStatus({ connection: 'redis://127.0.0.1:6379' });
 * ```
 */
export async function queueStatus(target: QueueTarget): Promise<QueueStatus> {
  const { queue } = await openQueue('queueStatus', target);
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    const failed = await queue.getFailed(0, 19);
    return {
      queue: queue.name,
      counts: {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      },
      failed: failed.map((j) => ({ jobId: String(j.id), reason: j.failedReason, attempts: j.attemptsMade })),
    };
  } finally {
    await queue.close();
  }
}
