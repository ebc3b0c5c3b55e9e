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

/** A pool of worker threads, used by one call at a time. */
interface SharedPool {
  pool: Tinypool;
  threads: number;
  /** What its threads were set up for (backend and training kernels): a task for another set-up needs new ones. */
  key: string;
  /** Whether a call holds it (a pool serves one call at a time). */
  leased: boolean;
  timer?: NodeJS.Timeout;
  /** Set once it is being destroyed. */
  closing?: Promise<void>;
}

/** The pool kept warm between calls. */
let shared: SharedPool | undefined;

function newPool(threads: number, key: string): SharedPool {
  // minThreads = maxThreads: tinypool would otherwise end a thread above minThreads as soon as it is idle (its
  // idleTimeout defaults to 0), i.e. between two tasks of the same lease, and start a cold one for the next.
  const pool = new Tinypool({
    filename: workerEntry(),
    minThreads: threads,
    maxThreads: threads,
    isolateWorkers: false,
  });
  return { pool, threads, key, leased: false };
}

/** Destroys a pool (once); {@link closeWorkerPool} waits for every pool being destroyed. */
function closePool(entry: SharedPool): Promise<void> {
  clearTimeout(entry.timer);
  if (shared === entry) shared = undefined;
  if (entry.closing === undefined) {
    const closing = entry.pool.destroy().finally(() => destroying.delete(closing));
    destroying.add(closing);
    entry.closing = closing;
  }
  return entry.closing;
}

const destroying = new Set<Promise<void>>();

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
   * Runs one task in a worker thread; waits while `threads` tasks of this lease are running. When a task fails, the
   * lease's other tasks are ended (running ones lose their threads, queued ones never start) and every task of the
   * lease rejects with that first failure.
   */
  run(task: unknown): Promise<unknown>;
  /** Ends the lease: the shared pool stays warm for {@link KEEP_WARM_MS}; a private one is destroyed. */
  release(): Promise<void>;
}

/**
 * Leases `threads` worker threads for tasks set up as `key` (backend and kernels). The shared pool is reused when it
 * is idle, has that set-up and at least `threads` threads (a 1-worker call runs on a warm 2-thread pool, one task at
 * a time); when it is idle but does not fit, it is replaced; when another call holds it, this call gets a private
 * pool.
 *
 * A failing task ends its call's other running tasks by destroying the pool they run on: the call is answered at once
 * and the next call starts fresh threads. (Not tinypool's per-task abort, which ends a task's thread but lets a
 * message that thread sends while it is being terminated hand a queued task to it, a task that then fails with
 * "Terminating worker thread"; one pool per call keeps every task of another call off a destroyed pool.)
 */
export function leasePool(threads: number, key: string): PoolLease {
  let entry: SharedPool;
  if (shared?.leased) {
    entry = newPool(threads, key);
  } else if (shared !== undefined && shared.key === key && shared.threads >= threads) {
    entry = shared;
  } else {
    if (shared !== undefined) void closePool(shared);
    entry = newPool(threads, key);
    shared = entry;
  }
  entry.leased = true;
  clearTimeout(entry.timer);
  entry.timer = undefined;
  const slots = limiter(threads);
  let running = 0;
  let failure: { error: unknown } | undefined;
  let released = false;
  return {
    run: (task) =>
      slots.run(async () => {
        if (failure !== undefined) throw failure.error;
        running++;
        try {
          return await entry.pool.run(task);
        } catch (e) {
          if (failure === undefined) {
            failure = { error: e };
            // Other tasks of this call are running: end them with their threads (they reject with tinypool's
            // "Terminating worker thread", which the call never reports: each task rethrows the first failure).
            if (running > 1) void closePool(entry);
          }
          throw failure.error;
        } finally {
          running--;
        }
      }),
    async release() {
      if (released) return;
      released = true;
      entry.leased = false;
      // A private pool, or the shared one a failure destroyed: gone with the call.
      if (entry !== shared) {
        await closePool(entry);
        return;
      }
      entry.timer = setTimeout(() => {
        if (shared === entry && !entry.leased) void closePool(entry);
      }, KEEP_WARM_MS).unref();
    },
  };
}

/** The shared pool's state, for the tests: its thread count, set-up, whether a call holds it, its threads' ids. */
export function sharedPoolState():
  | { threads: number; key: string; leased: boolean; threadIds: number[] }
  | undefined {
  if (shared === undefined) return undefined;
  const { threads, key, leased, pool } = shared;
  return { threads, key, leased, threadIds: pool.threads.map((t) => t?.threadId ?? -1) };
}

/**
 * Ends the worker threads that `runTransferExperimentInWorkers`, `trainSpecialistsInWorkers` and
 * `extractFeaturesInWorkers` keep warm after a call (for 15 s, so that the next call skips their start-up), now
 * rather than when that time is up; resolves when they have ended (and so have the threads of pools already being
 * closed). A pool that a call is still using is left alone (it closes 15 s after that call). Idle threads never keep the process alive; call this to free their memory (each
 * holds its own tfjs engine and wasm heap) or to time a cold start.
 *
 * @example
 * ```ts
 * const results = await runTransferExperimentInWorkers(data, { modelFactory, seeds: [1, 2, 3, 4] });
 * await closeWorkerPool();
 * ```
 */
export async function closeWorkerPool(): Promise<void> {
  if (shared !== undefined && !shared.leased) void closePool(shared);
  await Promise.all(destroying);
}
