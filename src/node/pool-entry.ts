/**
 * The thread pool behind transferkit's worker runs (tinypool): the worker entry (the built .js, or the .ts source
 * through tsx under vitest/tsx), and labelled data as plain arrays for the thread boundary.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import Tinypool from 'tinypool';
import { InvalidArgumentError, type LabeledData } from '../index.js';
import type { PlainLabeledData } from './pool-worker.js';

/**
 * The worker entries made so far, by the module that asked: the built .js, or, when the caller runs as TypeScript
 * source (tsx, vitest), a small ES module in the temp folder that registers tsx in the worker thread and re-exports
 * the .ts worker (worker threads do not inherit the parent's loader hooks).
 */
const entries = new Map<string, string>();

function workerEntry(): string {
  return workerEntryFor(import.meta.url, './pool-worker.js', './pool-worker.ts');
}

/**
 * The file a tinypool worker thread loads: `built` (relative to `here`, the caller's `import.meta.url`) when the
 * caller is built JavaScript; `source` (a .ts next to the caller) through a tsx-registering shim otherwise.
 */
export function workerEntryFor(here: string, built: string, source: string): string {
  const key = `${here}\u0000${built}\u0000${source}`;
  let file = entries.get(key);
  if (file === undefined) {
    file = makeWorkerEntry(here, built, source);
    entries.set(key, file);
  }
  return file;
}

function makeWorkerEntry(here: string, built: string, source: string): string {
  if (!here.endsWith('.ts')) return fileURLToPath(new URL(built, here));
  // tsx's ES-module API (require.resolve finds its CommonJS twin next to it).
  const tsxApi = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const worker = new URL(source, here).href;
  const name = path.basename(source).replace(/\.ts$/, '');
  const file = path.join(os.tmpdir(), `transferkit-${name}-${process.pid}.mjs`);
  writeFileSync(
    file,
    `const { register } = await import(${JSON.stringify(tsxApi)});\nregister();\n` +
      `const m = await import(${JSON.stringify(worker)});\nexport default m.default;\n`,
  );
  return file;
}

/** Labelled data as plain arrays (what crosses the thread boundary). */
export async function plain(fn: string, name: string, d: LabeledData): Promise<PlainLabeledData> {
  if (d === null || typeof d !== 'object' || !(d.x instanceof tf.Tensor)) {
    throw new InvalidArgumentError(fn, name, '{ x: Tensor, labels }', d);
  }
  const labels =
    d.labels instanceof tf.Tensor ? Int32Array.from(await d.labels.data()) : Int32Array.from(d.labels);
  return { x: Float32Array.from(await d.x.data()), shape: [...d.x.shape], labels };
}

/**
 * How long the shared pool stays open after its last lease ended (ms). A worker thread's first task pays for its
 * start-up: the thread, the library's import, the wasm backend, and ~2 s of CPU that V8 spends optimising the
 * library's JavaScript in the background (measured: 2.4 s of TurboFan compile per thread over a TransferExperiment
 * grid of 40 networks), which on a 2-core machine competes with the other worker. A second call within this time
 * finds its threads warm. Idle threads do not keep the process alive (tinypool unrefs them), nor does this timer.
 */
export const KEEP_WARM_MS = 15_000;

/** The pool shared by the calls that run tasks in worker threads, while it is warm. */
interface SharedPool {
  pool: Tinypool;
  threads: number;
  /** What its threads were set up for (backend and training kernels): a task for another set-up needs new ones. */
  key: string;
  leases: number;
  timer?: NodeJS.Timeout;
}

let shared: SharedPool | undefined;

function newPool(threads: number): Tinypool {
  // minThreads = maxThreads: tinypool would otherwise end a thread above minThreads as soon as it is idle (its
  // idleTimeout defaults to 0), i.e. between two tasks of the same lease, and start a cold one for the next.
  return new Tinypool({
    filename: workerEntry(),
    minThreads: threads,
    maxThreads: threads,
    isolateWorkers: false,
  });
}

/** Runs async jobs at most `n` at a time, in the order they were submitted. */
export function limiter(n: number): { run<T>(job: () => Promise<T>): Promise<T> } {
  const waiting: (() => void)[] = [];
  let running = 0;
  return {
    async run(job) {
      if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        return await job();
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
  };
}

/** The set-up a worker thread is made for: its backend and the training kernels registered on it. */
export function poolKey(backend: string, kernels: readonly string[]): string {
  return `${backend}|${[...kernels].sort().join(',')}`;
}

/** The right to run tasks on the shared pool (or a private one): at most `threads` of them at a time. */
export interface PoolLease {
  /**
   * Runs one task in a worker thread; waits while `threads` tasks of this lease are running. When a task fails,
   * the lease's other tasks are aborted (running ones stop, queued ones never start).
   */
  run(task: unknown): Promise<unknown>;
  /** Ends the lease: the shared pool stays warm for {@link KEEP_WARM_MS}; a private one is destroyed. */
  release(): Promise<void>;
}

/**
 * Leases `threads` worker threads for tasks set up as `key` (backend and kernels). The shared pool is reused when it
 * has that set-up and at least `threads` threads (a 1-worker call runs on a warm 2-thread pool, one task at a time);
 * when it is idle but does not fit, it is replaced; when another call is using it, this call gets a private pool.
 */
export function leasePool(threads: number, key: string): PoolLease {
  let entry: SharedPool;
  let own = false;
  if (shared !== undefined && shared.key === key && shared.threads >= threads) {
    entry = shared;
  } else if (shared !== undefined && shared.leases > 0) {
    entry = { pool: newPool(threads), threads, key, leases: 0 };
    own = true;
  } else {
    if (shared !== undefined) void closeShared(shared);
    entry = { pool: newPool(threads), threads, key, leases: 0 };
    shared = entry;
  }
  entry.leases++;
  clearTimeout(entry.timer);
  entry.timer = undefined;
  const abort = new AbortController();
  const slots = limiter(threads);
  let released = false;
  return {
    run: (task) =>
      slots.run(async () => {
        abort.signal.throwIfAborted();
        try {
          return await entry.pool.run(task, { signal: abort.signal });
        } catch (e) {
          // The first failure ends the lease's other tasks: the running ones stop (tinypool replaces their threads),
          // the queued ones start, see the abort and throw (the call has been answered with the first failure).
          if (!abort.signal.aborted) abort.abort(new Error('transferkit: another task of this call failed'));
          throw e;
        }
      }),
    async release() {
      if (released) return;
      released = true;
      entry.leases--;
      if (own) {
        await entry.pool.destroy();
        return;
      }
      if (entry.leases === 0) {
        entry.timer = setTimeout(() => {
          if (shared === entry && entry.leases === 0) void closeShared(entry);
        }, KEEP_WARM_MS).unref();
      }
    },
  };
}

async function closeShared(entry: SharedPool): Promise<void> {
  clearTimeout(entry.timer);
  if (shared === entry) shared = undefined;
  await entry.pool.destroy();
}

/** The shared pool's state, for the tests: its thread count, set-up, leases and the ids of its threads. */
export function sharedPoolState():
  | { threads: number; key: string; leases: number; threadIds: number[] }
  | undefined {
  if (shared === undefined) return undefined;
  const { threads, key, leases, pool } = shared;
  return { threads, key, leases, threadIds: pool.threads.map((t) => t?.threadId ?? -1) };
}

/**
 * Ends the worker threads that `runTransferExperimentInWorkers`, `trainSpecialistsInWorkers` and
 * `extractFeaturesInWorkers` keep warm after a call (for 15 s, so that the next call skips their start-up), now
 * rather than when that time is up; resolves when they have ended. A pool that a call is still using is left alone
 * (it closes 15 s after that call). Idle threads never keep the process alive; call this to free their memory (each
 * holds its own tfjs engine and wasm heap) or to time a cold start.
 *
 * @example
 * ```ts
 * const results = await runTransferExperimentInWorkers(data, { modelFactory, seeds: [1, 2, 3, 4] });
 * await closeWorkerPool();
 * ```
 */
export async function closeWorkerPool(): Promise<void> {
  if (shared !== undefined && shared.leases === 0) await closeShared(shared);
}
