/**
 * A TransferExperiment grid (Yosinski et al. 2014) as queue jobs, described by plain JSON (`TransferGridSpec`, in
 * `transfer-grid-spec.ts`: where the data is, which model factory, the grid): {@link enqueueTransferGrid} adds one
 * job per network (baseA, baseB, and every treatment x n x seed) that earlier results do not hold;
 * {@link followTransferGrid} gathers the jobs' results into the resumable `TransferResults` JSON of a sequential
 * `TransferExperiment.run()`, saved after every finished network.
 *
 * @module
 */
import { checkInteger } from '../core/checks.js';
import type { TransferResults, TransferRun } from '../index.js';
import { InvalidArgumentError } from '../index.js';
import { writeFileAtomic } from '../node/shards.js';
import { openQueue, type QueueTarget } from './connection.js';
import { type RunSummary, watchRun } from './status.js';

import {
  checkTransferGrid,
  planTransferGrid,
  type TransferGridSpec,
  type TransferJobResult,
  type TransferJobRun,
  transferGridId,
  transferResultsOf,
  transferRunKey,
} from './transfer-grid-spec.js';

/** Options of {@link enqueueTransferGrid}. */
export interface EnqueueTransferGridOptions extends QueueTarget {
  /** The grid (relative paths are made absolute here: workers must see the same files). */
  grid: TransferGridSpec;
  /** Results of an earlier run of the same grid (sequential or queued): the networks it holds are not enqueued. @default undefined */
  resume?: TransferResults;
  /** Run id: jobs are `<runId>-<network>`, so enqueueing the same grid twice adds nothing. @default a hash of the grid */
  runId?: string;
  /** Tries per job (a killed worker's stalled job counts as one). @default 3 */
  attempts?: number;
}

/** Result of {@link enqueueTransferGrid}. */
export interface EnqueuedTransferGrid {
  /** The run id. */
  runId: string;
  /** The queue name. */
  queue: string;
  /** The grid as enqueued (absolute paths). */
  grid: TransferGridSpec;
  /** The networks enqueued, in the sequential order. */
  runs: TransferJobRun[];
  /** Their job ids, in the same order. */
  jobIds: string[];
  /** The results the grid started from (`resume`, or none). */
  resume?: TransferResults;
}

function checkResume(fn: string, grid: TransferGridSpec, r: TransferResults | undefined): void {
  if (r === undefined) return;
  const same = (p: readonly number[], q: readonly number[]) =>
    Array.isArray(p) && p.length === q.length && p.every((v, i) => v === q[i]);
  if (
    r?.version !== 1 ||
    !Array.isArray(r.runs) ||
    !same(r.classesA, grid.classesA) ||
    !same(r.classesB, grid.classesB)
  ) {
    throw new InvalidArgumentError(
      fn,
      'options.resume',
      'results (version 1) of an experiment with the same classesA and classesB',
      r,
    );
  }
}

/**
 * Enqueues a TransferExperiment grid as one job per network, in the order a sequential run trains them (each
 * seed's bases first). Networks that `resume` holds are skipped. Idempotent: the job ids derive from the run id
 * and the network, and BullMQ ignores a job whose id exists.
 *
 * @throws {@link QueueConnectionError} when Redis does not answer; {@link index!InvalidArgumentError |
 * InvalidArgumentError} for a bad grid or resume
 * @example
 * ```ts
 * import { enqueueTransferGrid, followTransferGrid } from 'transferkit/queue';
 * const run = await enqueueTransferGrid({ connection: 'redis://127.0.0.1:6379', grid });
 * const { results } = await followTransferGrid({ connection: 'redis://127.0.0.1:6379', run, out: 'transfer.json' });
 * ```
 */
export async function enqueueTransferGrid(
  options: EnqueueTransferGridOptions,
): Promise<EnqueuedTransferGrid> {
  const fn = 'enqueueTransferGrid';
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(fn, 'options', 'an options object', options);
  }
  const grid = checkTransferGrid(fn, options.grid);
  checkResume(fn, grid, options.resume);
  const attempts = options.attempts ?? 3;
  checkInteger(fn, 'options.attempts', attempts, 1);
  const runId = options.runId ?? transferGridId(grid);
  if (!/^[\w.-]+$/.test(runId)) {
    throw new InvalidArgumentError(fn, 'options.runId', 'letters, digits, _ . -', runId);
  }
  const have = new Set((options.resume?.runs ?? []).map((r) => transferRunKey(r)));
  const runs = planTransferGrid(grid).filter((r) => !have.has(transferRunKey(r)));
  const jobIds = runs.map((r) => `${runId}-${transferRunKey(r)}`);
  if (runs.length > 0) {
    const { queue } = await openQueue(fn, options);
    try {
      await queue.addBulk(
        runs.map((run, i) => ({
          name: 'transfer',
          data: { kind: 'transfer', runId, grid, run },
          opts: { jobId: jobIds[i], attempts, backoff: { type: 'exponential', delay: 500 } },
        })),
      );
    } finally {
      await queue.close();
    }
  }
  return { runId, queue: options.queue ?? 'transferkit', grid, runs, jobIds, resume: options.resume };
}

/** Options of {@link followTransferGrid}. */
export interface FollowTransferGridOptions extends QueueTarget {
  /** The enqueued grid (from {@link enqueueTransferGrid}). */
  run: EnqueuedTransferGrid;
  /** JSON file the results are saved to (atomically) after every finished network. @default not saved */
  out?: string;
  /** Progress: networks finished of the networks enqueued. */
  onProgress?: (p: { finished: number; jobs: number }) => void;
  /** Give up waiting after this long, ms (the jobs go on). @default Infinity */
  timeoutMs?: number;
}

/** What {@link followTransferGrid} returns. */
export interface FollowedTransferGrid {
  /** The grid's results so far, as `TransferExperiment.run()` returns them (resumable). */
  results: TransferResults;
  /** The jobs' summary (completed, failed with reasons, every job's result). */
  summary: RunSummary<TransferJobResult>;
}

/**
 * Follows an enqueued grid until every job finished and returns its results as `TransferExperiment.run()` would
 * (the resumed runs and the jobs' runs, in the sequential order), saving them to `out` after each network: an
 * interrupted follower loses nothing, and the file resumes the grid (`enqueueTransferGrid({ resume })`).
 *
 * @throws {@link QueueConnectionError} when Redis does not answer
 * @example
 * ```ts
 * const { results, summary } = await followTransferGrid({ connection, run, out: 'transfer.json' });
 * summarizeTransfer(results);
 * ```
 */
export async function followTransferGrid(options: FollowTransferGridOptions): Promise<FollowedTransferGrid> {
  const { run } = options;
  const runs: TransferRun[] = [...(run.resume?.runs ?? [])];
  let stages = run.resume?.stages ?? 0;
  const save = async () => {
    if (options.out !== undefined) {
      await writeFileAtomic(options.out, JSON.stringify(transferResultsOf(run.grid, stages, runs), null, 1));
    }
  };
  if (run.jobIds.length === 0) {
    await save();
    return {
      results: transferResultsOf(run.grid, stages, runs),
      summary: { jobs: 0, completed: 0, failed: [], results: [], finishedAll: true },
    };
  }
  const summary = await watchRun<TransferJobResult>({
    connection: options.connection,
    queue: options.queue ?? run.queue,
    connectTimeoutMs: options.connectTimeoutMs,
    jobIds: run.jobIds,
    timeoutMs: options.timeoutMs,
    onProgress: (p) => options.onProgress?.({ finished: p.finished, jobs: p.jobs }),
    onResult: async (_id, r) => {
      runs.push(r.run);
      stages = r.stages;
      await save();
    },
  });
  return { results: transferResultsOf(run.grid, stages, runs), summary };
}
