/**
 * The parallel phase of `runReport({ workers: N })`: the sections to compute, longest first, as tasks of a tinypool
 * of N worker threads (src/report/runner-worker.ts), each with its own tfjs engine. Each worker writes its section's
 * cached JSON; the main thread draws the progress, prints the log lines, arbitrates `ctx.shared` (one creator per key
 * at a time across workers) and renders afterwards. The pool is always destroyed, also when a section or a worker
 * fails.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import Tinypool from 'tinypool';
import type { TrainingKernelName } from '../index.js';
import { workerEntryFor } from '../node/pool-entry.js';
import { writeJsonAtomic } from './cache.js';
import type { ProgressSink } from './progress.js';
import type { GrantMessage, SectionTask, SectionTaskResult, WorkerMessage } from './runner-worker.js';
import { liveTensorsNote } from './shared.js';
import type { ReportMode, ReportSection } from './types.js';

/**
 * CPU seconds of each section's `run` in a fresh quick run on wasm with one worker on an idle machine (2026-11-30,
 * fifth session; transfer and specialists estimated from their new recipes' training work, patches after the Slice
 * kernel): the scheduling order when neither the section nor an earlier run gives a time.
 */
export const MEASURED_SECONDS: Readonly<Record<string, Partial<Record<ReportMode, number>>>> = {
  foundation: { quick: 12 },
  deconvnet: { quick: 42 },
  features: { quick: 33 },
  transfer: { quick: 75 },
  patches: { quick: 22 },
  'distill-mnist': { quick: 83 },
  specialists: { quick: 50 },
};

/** The CPU seconds per mode and section remembered in `<cache root>/timings.json`. */
export type Timings = Partial<Record<ReportMode, Record<string, number>>>;

/** Reads `<cache root>/timings.json` (empty when absent or unreadable). */
export async function readTimings(cacheRoot: string): Promise<Timings> {
  const file = path.join(cacheRoot, 'timings.json');
  if (!existsSync(file)) return {};
  try {
    const t = JSON.parse(await readFile(file, 'utf8')) as { version?: number; timings?: Timings };
    return t.version === 1 && t.timings !== null && typeof t.timings === 'object' ? t.timings : {};
  } catch {
    return {};
  }
}

/** Adds this run's CPU seconds to `<cache root>/timings.json` (atomically). */
export async function writeTimings(
  cacheRoot: string,
  mode: ReportMode,
  measured: Record<string, number>,
): Promise<void> {
  if (Object.keys(measured).length === 0) return;
  const timings = await readTimings(cacheRoot);
  timings[mode] = { ...timings[mode], ...measured };
  await mkdir(cacheRoot, { recursive: true });
  await writeJsonAtomic(path.join(cacheRoot, 'timings.json'), { version: 1, timings });
}

/**
 * The estimated CPU seconds of a section's `run`: its own `estimatedSeconds`, else the last measured time, else
 * {@link MEASURED_SECONDS}, else 30 (for ordering only).
 */
export function estimateSeconds(section: ReportSection, mode: ReportMode, timings: Timings): number {
  return (
    section.estimatedSeconds?.[mode] ??
    timings[mode]?.[section.id] ??
    MEASURED_SECONDS[section.id]?.[mode] ??
    MEASURED_SECONDS[section.id]?.quick ??
    30
  );
}

/**
 * Longest first (the classic list-scheduling rule: each free worker takes the longest section left), ties in report
 * order.
 */
export function longestFirst<T extends { estimate: number; index: number }>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => b.estimate - a.estimate || a.index - b.index);
}

/** One section to compute in the pool. */
export interface PoolJob {
  section: ReportSection;
  /** Its place in the report (ties of the estimate keep this order). */
  index: number;
  /** Estimated CPU seconds. */
  estimate: number;
  /** Where its worker writes the cached result. */
  cacheFile: string;
}

/** Options of {@link runSectionsInWorkers}. */
export interface PoolRunOptions {
  workers: number;
  mode: ReportMode;
  seed: number;
  cacheDir: string;
  backend: 'wasm' | 'cpu';
  kernels: TrainingKernelName[];
  /** The module the workers import the sections from (absent: the report's registry). */
  sectionsModule?: string;
  sink: ProgressSink;
}

type KeyState =
  | { state: 'held'; holder: number; waiters: { job: number; port: MessagePort; request: number }[] }
  | { state: 'done'; fromCache?: boolean };

/**
 * Arbitrates `ctx.shared` across workers: the first job to ask for a key creates it; others wait until it is
 * created, then create their own copy (loading what the first stored on disk); a failed creation passes the key to
 * the next waiter.
 */
class SharedLocks {
  private readonly keys = new Map<string, KeyState>();

  acquire(job: number, port: MessagePort, key: string, request: number): void {
    const s = this.keys.get(key);
    if (s === undefined) {
      this.keys.set(key, { state: 'held', holder: job, waiters: [] });
      grant(port, { type: 'grant', request, create: true });
    } else if (s.state === 'held') {
      s.waiters.push({ job, port, request });
    } else {
      grant(port, { type: 'grant', request, create: false, fromCache: s.fromCache });
    }
  }

  release(job: number, key: string, ok: boolean, fromCache?: boolean): void {
    const s = this.keys.get(key);
    if (s?.state !== 'held' || s.holder !== job) return;
    if (ok) {
      this.keys.set(key, { state: 'done', fromCache });
      for (const w of s.waiters)
        grant(w.port, { type: 'grant', request: w.request, create: false, fromCache });
      return;
    }
    const next = s.waiters.shift();
    if (next === undefined) {
      this.keys.delete(key);
      return;
    }
    this.keys.set(key, { state: 'held', holder: next.job, waiters: s.waiters });
    grant(next.port, { type: 'grant', request: next.request, create: true });
  }

  /** A job ended: keys it still held are released as failed; its waits are dropped. */
  ended(job: number): void {
    for (const [key, s] of [...this.keys]) {
      if (s.state !== 'held') continue;
      s.waiters = s.waiters.filter((w) => w.job !== job);
      if (s.holder === job) this.release(job, key, false);
    }
  }
}

function grant(port: MessagePort, m: GrantMessage): void {
  try {
    port.postMessage(m);
  } catch {
    // the asking task has ended: nothing waits for the answer
  }
}

/**
 * Computes `jobs` in a pool of `options.workers` worker threads, longest estimate first, and returns each job's
 * result by section id. A section's error (or its worker's crash) is its result, never a rejection; the pool is
 * destroyed before this returns.
 */
export async function runSectionsInWorkers(
  jobs: readonly PoolJob[],
  options: PoolRunOptions,
): Promise<Map<string, SectionTaskResult>> {
  const { sink } = options;
  const results = new Map<string, SectionTaskResult>();
  if (jobs.length === 0) return results;
  const threads = Math.min(options.workers, jobs.length);
  const pool = new Tinypool({
    filename: workerEntryFor(import.meta.url, './report-worker.js', './runner-worker.ts'),
    minThreads: threads,
    maxThreads: threads,
    isolateWorkers: false,
  });
  const locks = new SharedLocks();
  const ordered = longestFirst(jobs);
  sink.log(
    `  ${threads} worker threads, longest first: ${ordered.map((j) => `${j.section.id} (~${Math.round(j.estimate)} s)`).join(', ')}`,
  );
  // tinypool does not notice a worker thread that exits (process.exit in a section, a fatal error): its task would
  // wait forever. Each task tells which thread runs it; an exit fails that task, and when no thread is left every
  // unfinished task.
  type Finish = (r: SectionTaskResult) => void;
  const running = new Map<number, Finish>();
  const unfinished = new Set<Finish>();
  const dead = new Map<number, number>();
  const exited = (code: number): SectionTaskResult => {
    const message = `its worker thread exited (code ${code})`;
    return { ok: false, error: `worker thread failed: ${message}`, message };
  };
  let alive = 0;
  let closing = false;
  const workerThreads = pool.threads as unknown as {
    threadId: number;
    on(e: 'exit', f: (code: number) => void): void;
    terminate(): Promise<unknown>;
  }[];
  for (const t of workerThreads) {
    alive++;
    t.on('exit', (code) => {
      alive--;
      if (closing) return;
      dead.set(t.threadId, code);
      // The task's 'start' message may arrive after this event: then it fails on arrival.
      running.get(t.threadId)?.(exited(code));
      if (alive === 0) {
        const none = 'no worker thread left (each exited)';
        for (const f of unfinished) f({ ok: false, error: `worker thread failed: ${none}`, message: none });
      }
    });
  }
  try {
    await Promise.all(
      ordered.map(async (job) => {
        const { id } = job.section;
        const { port1, port2 } = new MessageChannel();
        let finish: Finish = () => {};
        const ended = new Promise<SectionTaskResult>((resolve) => {
          finish = resolve;
        });
        unfinished.add(finish);
        let thread: number | undefined;
        port1.on('message', (m: WorkerMessage) => {
          if (m.type === 'start') {
            thread = m.threadId;
            running.set(thread, finish);
            const code = dead.get(thread);
            if (code !== undefined) finish(exited(code));
            sink.log(`▶ ${id}: ${job.section.title}`);
          } else if (m.type === 'progress') sink.update(id, m.event);
          else if (m.type === 'log') sink.log(`  ${id}: ${m.message}`);
          else if (m.type === 'acquire') locks.acquire(job.index, port1, m.key, m.request);
          else if (m.type === 'release') locks.release(job.index, m.key, m.ok, m.fromCache);
        });
        const task: SectionTask = {
          id,
          sectionsModule: options.sectionsModule,
          mode: options.mode,
          seed: options.seed,
          cacheDir: options.cacheDir,
          cacheFile: job.cacheFile,
          backend: options.backend,
          kernels: options.kernels,
          port: port2,
        };
        pool.run(task, { transferList: [port2] }).then(
          (r) => finish(r as SectionTaskResult),
          (e) => {
            const message = e instanceof Error ? e.message : String(e);
            finish({ ok: false, error: `worker thread failed: ${message}`, message });
          },
        );
        const r = await ended;
        unfinished.delete(finish);
        if (thread !== undefined && running.get(thread) === finish) running.delete(thread);
        port1.close();
        locks.ended(job.index);
        results.set(id, r);
        if (r.ok) {
          sink.log(
            `✔ ${id} in ${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(1)} s CPU in its worker (worker's ${liveTensorsNote(r, r.held, r.baseline)})`,
          );
        } else {
          sink.log(`✖ ${id} failed: ${r.message}`);
        }
      }),
    );
  } finally {
    closing = true;
    if (dead.size === 0) await pool.destroy();
    else {
      // tinypool's destroy() waits for an 'exit' event of every thread, which an exited thread never sends again:
      // end the live threads directly.
      await Promise.all(workerThreads.filter((t) => !dead.has(t.threadId)).map((t) => t.terminate()));
    }
  }
  return results;
}
