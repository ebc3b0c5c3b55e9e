/**
 * Following a run and the queue: {@link watchRun} (progress, completion, failures of a run's jobs, from the queue's
 * events) and {@link queueStatus} (job counts and the latest failures).
 *
 * @module
 */
import type { QueueEvents } from 'bullmq';
import { InvalidArgumentError } from '../index.js';
import { connectionOptions, openQueue, type QueueTarget } from './connection.js';
import type { ShardJobResult } from './extraction.js';

/** Progress of a run, as {@link watchRun} reports it. */
export interface RunProgress {
  /** Jobs finished (completed or failed). */
  finished: number;
  /** Jobs of the run. */
  jobs: number;
  /** Images done over the run's jobs (from the jobs' progress events; for transfer jobs, networks). */
  done: number;
  /** Images of the run (for transfer jobs, networks). */
  total: number;
}

/** Final summary of a run, from {@link watchRun}. */
export interface RunSummary<R = ShardJobResult> {
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
  /** Results of the completed jobs, in the order of `jobIds`. */
  results: R[];
  /** Whether every job finished before the timeout. */
  finishedAll: boolean;
}

/** Options of {@link watchRun}. */
export interface WatchRunOptions<R = ShardJobResult> extends QueueTarget {
  /** The run's job ids (from `enqueueExtraction` or `enqueueTransferGrid`). */
  jobIds: string[];
  /** Progress, from the queue's events. */
  onProgress?: (p: RunProgress) => void;
  /** Called once per completed job with its result, as soon as it is seen (e.g. to save results so far). */
  onResult?: (jobId: string, result: R) => void | Promise<void>;
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
export async function watchRun<R = ShardJobResult>(options: WatchRunOptions<R>): Promise<RunSummary<R>> {
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
  const results = new Map<string, R>();
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
          const r = job.returnvalue as R;
          results.set(id, r);
          const rows = (r as { rows?: unknown })?.rows;
          const n = typeof rows === 'number' ? rows : 1;
          progress.set(id, { done: n, total: n });
          await options.onResult?.(id, r);
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
    results: options.jobIds.filter((id) => results.has(id)).map((id) => results.get(id) as R),
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
