/**
 * Sharded feature extraction as queue jobs: one extraction becomes `count` shard jobs; any number of workers, on
 * any machines that see the same files, take them; each shard is written atomically with its manifest and a re-run
 * writes the same bytes (idempotent), so `mergeFeatures` gives the single-process file.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Job } from 'bullmq';
import { InvalidArgumentError, type ShardSpec } from '../index.js';
import { canonicalJson, listInputs, loadModelArg } from '../internal.js';
import { type ExtractionSpec, extractFeatures, type LoadedModel, saveFeatureShard } from '../node.js';
import { openQueue, type QueueTarget } from './connection.js';

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
  if (spec.idx !== undefined) out.idx = abs(spec.idx);
  if (spec.idxLabels !== undefined) out.idxLabels = abs(spec.idxLabels);
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

/**
 * Runs one shard job in a worker: the model from `models` (loaded once per worker), progress through the job,
 * the shard written atomically with its manifest.
 */
export async function runExtractionJob(
  job: Job<ExtractionJobData>,
  models: Map<string, Promise<LoadedModel>>,
): Promise<ShardJobResult> {
  const t0 = Date.now();
  const d = job.data;
  let loaded = models.get(d.spec.model);
  if (loaded === undefined) {
    loaded = loadModelArg(d.spec.model);
    models.set(d.spec.model, loaded);
    loaded.catch(() => models.delete(d.spec.model));
  }
  let last = 0;
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
  return { shard: d.shard, rows: r.end - r.start, sha256: m.sha256, ms: Date.now() - t0, pid: process.pid };
}
