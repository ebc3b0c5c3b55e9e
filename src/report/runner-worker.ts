/**
 * The worker side of `runReport({ workers: N })`: each tinypool worker thread has its own tfjs engine with the
 * main thread's backend and training kernels, runs one report section per task, writes the section's cached JSON
 * (atomically) and returns how long it took. Progress, log lines and the cross-worker lock of `ctx.shared` travel
 * over a MessagePort given with each task. Loaded from dist/report-worker.js (built) or this .ts through tsx.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type MessagePort, threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { ProgressEvent, TrainingKernelName } from '../index.js';
import { initBackend } from '../node/backend.js';
import { cachedResult, errorText, writeJsonAtomic } from './cache.js';
import { sections as registry } from './sections/index.js';
import { type HeldTensors, tensorsHeldBy } from './shared.js';
import type { ReportContext, ReportMode, ReportSection } from './types.js';

/** One task: run section `id` and write its cache file. */
export interface SectionTask {
  /** The section's id. */
  id: string;
  /** A module whose `sections` export holds the section (absent: the report's registry). */
  sectionsModule?: string;
  mode: ReportMode;
  seed: number;
  /** The run's cache folder of this mode and seed (`ctx.cacheDir`). */
  cacheDir: string;
  /** Where to write the section's {@link CachedResult}. */
  cacheFile: string;
  /** The main thread's backend and the training kernels registered on it. */
  backend: 'wasm' | 'cpu';
  kernels: TrainingKernelName[];
  /** Progress, logs and the `ctx.shared` lock (see {@link WorkerMessage}). */
  port: MessagePort;
}

/** What a task returns (errors of the section are returned, not thrown, so the pool stays usable). */
export type SectionTaskResult =
  | {
      ok: true;
      seconds: number;
      cpuSeconds: number;
      /** The worker's live tensors after the section (`tf.memory()`). */
      numTensors: number;
      numBytes: number;
      /** What of it the worker's `ctx.shared` values hold, kept for its next sections (freed with the thread). */
      held: HeldTensors;
      /** Live tensors of the worker before its first section (backend set-up). */
      baseline: number;
    }
  | { ok: false; error: string; message: string };

/** Messages from a worker to the main thread. */
export type WorkerMessage =
  | { type: 'start'; threadId: number }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'log'; message: string }
  | { type: 'acquire'; key: string; request: number }
  | { type: 'release'; key: string; ok: boolean; fromCache?: boolean };

/** The main thread's answer to `acquire`: create the value first (`create`), or after the first creator finished. */
export interface GrantMessage {
  type: 'grant';
  request: number;
  /** True: nobody created it yet, this worker does; false: another worker created it (now finished). */
  create: boolean;
  /** The first creator's `fromCache` flag, when its value had one. */
  fromCache?: boolean;
}

let ready: Promise<string> | undefined;
/** Live tensors once the backend is up, before the worker's first section. */
let baseline: number | undefined;
const memo = new Map<string, Promise<unknown>>();
/** The memoised values that were created, by key (to count what they hold). */
const values = new Map<string, unknown>();
let requests = 0;

/** CPU seconds (user + system) of the calling thread (Linux /proc/thread-self; else the whole process). */
export function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (USER_HZ 100 on Linux)
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

async function findSection(task: SectionTask): Promise<ReportSection> {
  let list: readonly ReportSection[] = registry;
  if (task.sectionsModule !== undefined) {
    const url = task.sectionsModule.startsWith('file:')
      ? task.sectionsModule
      : pathToFileURL(task.sectionsModule).href;
    list = ((await import(url)) as { sections: ReportSection[] }).sections;
  }
  const s = list.find((x) => x.id === task.id);
  if (s === undefined) throw new Error(`report worker: no section '${task.id}' in the sections module`);
  return s;
}

/** `ctx.shared` of a worker: memoised in this thread, created by one worker at a time across the pool. */
function sharedIn(port: MessagePort) {
  const ask = (key: string) =>
    new Promise<GrantMessage>((resolve) => {
      const request = ++requests;
      const onMessage = (m: GrantMessage) => {
        if (m.type !== 'grant' || m.request !== request) return;
        port.off('message', onMessage);
        resolve(m);
      };
      port.on('message', onMessage);
      port.postMessage({ type: 'acquire', key, request } satisfies WorkerMessage);
    });
  return <T>(key: string, create: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = (async () => {
        const grant = await ask(key);
        try {
          const value = await create();
          const flag = (value as { fromCache?: unknown } | null)?.fromCache;
          if (!grant.create && typeof flag === 'boolean' && grant.fromCache !== undefined) {
            // Loaded from what the first creator stored in this run: report the creator's flag.
            (value as { fromCache: boolean }).fromCache = grant.fromCache;
          }
          if (grant.create) {
            port.postMessage({
              type: 'release',
              key,
              ok: true,
              fromCache: typeof flag === 'boolean' ? flag : undefined,
            } satisfies WorkerMessage);
          }
          return value;
        } catch (e) {
          if (grant.create) port.postMessage({ type: 'release', key, ok: false } satisfies WorkerMessage);
          throw e;
        }
      })();
      memo.set(key, p);
      // A failed creation is not memoised: the next section may try again.
      p.then(
        (v) => values.set(key, v),
        () => memo.delete(key),
      );
    }
    return p;
  };
}

/** Runs one section in this worker's engine and writes its cache file. */
export default async function runSectionTask(task: SectionTask): Promise<SectionTaskResult> {
  const { port } = task;
  try {
    // Which thread runs the task: the main thread fails the task if this thread exits.
    port.postMessage({ type: 'start', threadId } satisfies WorkerMessage);
    ready ??= initBackend(task.backend, { trainingKernels: task.kernels });
    await ready;
    baseline ??= tf.memory().numTensors;
    const section = await findSection(task);
    const ctx: ReportContext = {
      mode: task.mode,
      seed: task.seed,
      backend: tf.getBackend(),
      cacheDir: task.cacheDir,
      // Braces: postMessage returns true, and a progress callback that returns true stops trainClassifier's loop.
      progress: (event) => {
        port.postMessage({ type: 'progress', event } satisfies WorkerMessage);
      },
      log: (message) => {
        port.postMessage({ type: 'log', message } satisfies WorkerMessage);
      },
      shared: sharedIn(port),
    };
    const t0 = performance.now();
    const cpu0 = threadCpuSeconds();
    const result = await section.run(ctx);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = threadCpuSeconds() - cpu0;
    const cached = cachedResult(
      section,
      { mode: task.mode, seed: task.seed, backend: tf.getBackend(), seconds, cpuSeconds },
      result,
    );
    await writeJsonAtomic(task.cacheFile, cached);
    const mem = tf.memory();
    return {
      ok: true,
      seconds,
      cpuSeconds,
      numTensors: mem.numTensors,
      numBytes: mem.numBytes,
      held: tensorsHeldBy(values),
      baseline,
    };
  } catch (e) {
    return { ok: false, error: errorText(e), message: e instanceof Error ? e.message : String(e) };
  } finally {
    port.close();
  }
}
