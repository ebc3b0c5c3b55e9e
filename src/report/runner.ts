/**
 * The report runner (`npm start`, `transferkit report`): runs each registered section (or re-renders it from its
 * cached JSON results), and writes one self-contained HTML file.
 *
 * Cache layout: `<cacheDir>/<mode>-seed<seed>/<section id>.json` (results) and anything sections store in that
 * folder (`ctx.cacheDir`, e.g. trained models). A cached result is reused unless `fresh` is set or the section's
 * `version` changed; with `rerender` nothing is computed at all.
 *
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// trainingKernelsRegistered from the entry: in the built CLI, internal.js is bundled (a second copy of the registry).
import { InvalidArgumentError, trainingKernelsRegistered } from '../index.js';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  escapeXml,
  knownKeys,
} from '../internal.js';
import { type CachedResult, cachedResult, errorText, readCache, writeJsonAtomic } from './cache.js';
import { type ProgressSink, terminalProgress } from './progress.js';
import {
  estimateSeconds,
  type PoolJob,
  readTimings,
  runSectionsInWorkers,
  writeTimings,
} from './runner-pool.js';
import { sections as registry } from './sections/index.js';
import { liveTensorsNote, tensorsHeldBy } from './shared.js';
import { type RenderedSection, renderReportHtml } from './template.js';
import type { Headline, ReportContext, ReportMode, ReportSection } from './types.js';

/** Options of {@link runReport}. */
export interface RunReportOptions {
  /**
   * `quick` (a few minutes on 2 cores) or `full` (larger runs).
   * @default 'quick'
   */
  mode?: ReportMode;
  /**
   * Base seed of the run.
   * @default 0
   */
  seed?: number;
  /**
   * Ids of the sections to include (all when omitted).
   * @default every registered section
   */
  only?: readonly string[];
  /**
   * Output: a folder (the report is `<out>/index.html`) or a path ending in `.html`.
   * @default 'report'
   */
  out?: string;
  /**
   * Folder of the JSON result cache.
   * @default '<out folder>/cache'
   */
  cacheDir?: string;
  /**
   * Only re-render cached results; compute nothing (sections without a cache are marked as skipped).
   * @default false
   */
  rerender?: boolean;
  /**
   * Delete this mode+seed's cache first, so every section (and shared models) is computed again.
   * @default false
   */
  fresh?: boolean;
  /**
   * The sections to choose from.
   * @default the registry of src/report/sections/index.ts
   */
  sections?: readonly ReportSection<any>[];
  /**
   * Where progress and log lines go.
   * @default progress bars on stderr
   */
  progress?: ProgressSink;
  /** The command line shown in the page footer. */
  command?: string;
  /**
   * Worker threads for the sections to compute. 1 runs them one after the other in this thread (sharing values
   * through `ctx.shared` in memory). N > 1 runs them as tasks of a pool of N worker threads, each with its own tfjs
   * engine on this thread's backend (`wasm` or `cpu`) and training kernels, longest section first (see
   * {@link ReportSection.estimatedSeconds}); each worker writes its section's cached JSON and this thread renders
   * the report from the cache, so the results are those of a `workers: 1` run. On another backend the sections run
   * in this thread.
   * @default 1
   */
  workers?: number;
  /**
   * With `workers` > 1 and custom `sections`: the ES module (absolute path or file URL) whose `sections` export
   * holds them, for the worker threads to import (functions cannot cross threads).
   * @default the report's own registry (src/report/sections/index.ts)
   */
  sectionsModule?: string;
}

/** What happened to one section. */
export interface SectionOutcome {
  id: string;
  title: string;
  status: RenderedSection['status'];
  /** Seconds of `run` (now, or when the cached result was made). */
  seconds?: number;
  /**
   * CPU seconds (user + system) of the process during `run`: on a machine shared with other work, a better estimate
   * of the section's time on an idle machine than the wall clock.
   */
  cpuSeconds?: number;
  /** The error message when `status` is `'failed'`. */
  error?: string;
  /** Why the section was skipped (e.g. it belongs to the other mode). */
  reason?: string;
  /** The section's headline figures, when it has any. */
  headlines?: Headline[];
}

/** The result of {@link runReport}. */
export interface ReportRun {
  /** Path of the HTML file written. */
  file: string;
  /** The cache folder of this mode and seed. */
  cacheDir: string;
  /** One outcome per selected section, in report order. */
  sections: SectionOutcome[];
  /** Wall-clock seconds of the whole run. */
  seconds: number;
  /** CPU seconds (user + system) the process used during the run, every thread (the workers') included. */
  cpuSeconds: number;
  /** The worker threads the sections ran in (1: this thread). */
  workers: number;
}

export type { CachedResult } from './cache.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Resolves `out` into the HTML file path and its folder. */
export function reportPaths(out = 'report'): { file: string; dir: string } {
  const file = out.toLowerCase().endsWith('.html') ? out : path.join(out, 'index.html');
  return { file, dir: path.dirname(file) };
}

/** The known keys of {@link RunReportOptions}. */
const RUN_REPORT_OPTION_KEYS = knownKeys<RunReportOptions>({
  mode: true,
  seed: true,
  only: true,
  out: true,
  cacheDir: true,
  rerender: true,
  fresh: true,
  sections: true,
  progress: true,
  command: true,
  workers: true,
  sectionsModule: true,
});

/**
 * Runs the report: each selected section's `run` (or its cached result), then its `render`, into one HTML file.
 * A failing section does not stop the others: its error is shown in its place and its outcome is `'failed'`.
 * Values shared between sections through `ctx.shared` are disposed at the end when they have a `dispose()`.
 * With `workers` > 1 the sections to compute run in worker threads, longest first, and their results are the same
 * as with `workers: 1` (see {@link RunReportOptions.workers}).
 *
 * @throws {@link InvalidArgumentError} for bad options or an unknown id in `only` (before anything runs)
 * @example
 * ```ts
 * const run = await runReport({ mode: 'quick', seed: 0, out: 'report' });
 * console.log(run.file, run.sections.map((s) => `${s.id}: ${s.status}`));
 * ```
 */
export async function runReport(options: RunReportOptions = {}): Promise<ReportRun> {
  const fn = 'runReport';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, RUN_REPORT_OPTION_KEYS);
  const mode = opts.mode ?? 'quick';
  checkOneOf(fn, 'options.mode', mode, ['quick', 'full'] as const);
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed, 0);
  const all = opts.sections ?? registry;
  const seen = new Set<string>();
  for (const s of all) {
    if (!ID.test(s.id) || seen.has(s.id)) {
      throw new InvalidArgumentError(
        fn,
        'options.sections',
        'sections with unique ids of [A-Za-z0-9_-]',
        s.id,
      );
    }
    seen.add(s.id);
  }
  let selected = [...all];
  if (opts.only !== undefined) {
    if (!Array.isArray(opts.only) || opts.only.length === 0) {
      throw new InvalidArgumentError(fn, 'options.only', 'a non-empty list of section ids', opts.only);
    }
    for (const id of opts.only) {
      if (!seen.has(id)) {
        throw new InvalidArgumentError(fn, 'options.only', `section ids among {${[...seen].join(', ')}}`, id);
      }
    }
    selected = all.filter((s) => opts.only?.includes(s.id));
  }
  const workers = opts.workers ?? 1;
  checkInteger(fn, 'options.workers', workers, 1);
  if (
    opts.sectionsModule !== undefined &&
    (typeof opts.sectionsModule !== 'string' || opts.sectionsModule === '')
  ) {
    throw new InvalidArgumentError(
      fn,
      'options.sectionsModule',
      'a module path or file URL',
      opts.sectionsModule,
    );
  }
  if (workers > 1 && opts.sections !== undefined && opts.sectionsModule === undefined) {
    throw new InvalidArgumentError(
      fn,
      'options.sectionsModule',
      'the module exporting options.sections as `sections` (worker threads import them) when options.workers > 1',
      undefined,
    );
  }
  const { file, dir } = reportPaths(opts.out);
  const cacheRoot = opts.cacheDir ?? path.join(dir, 'cache');
  const cacheDir = path.join(cacheRoot, `${mode}-seed${seed}`);
  const sink = opts.progress ?? terminalProgress();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  if (opts.fresh) await rm(cacheDir, { recursive: true, force: true });
  await mkdir(cacheDir, { recursive: true });

  const memo = new Map<string, Promise<unknown>>();
  // The created values by key, to tell the tensors they hold from a section's leak; and what was live before.
  const values = new Map<string, unknown>();
  const baseline = tf.memory().numTensors;
  const shared = <T>(key: string, create: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = create();
      memo.set(key, p);
      // A failed creation is not memoised: the next section may try again.
      p.then(
        (v) => values.set(key, v),
        () => memo.delete(key),
      );
    }
    return p;
  };

  interface Slot {
    section: ReportSection;
    cacheFile: string;
    cached?: CachedResult;
    status: RenderedSection['status'];
    error?: string;
    reason?: string;
  }
  // Phase 1: what is cached, what is skipped, what must be computed.
  const slots: Slot[] = [];
  for (const section of selected) {
    const cacheFile = path.join(cacheDir, `${section.id}.json`);
    const sectionVersion = section.version ?? 1;
    const cached = opts.fresh ? undefined : await readCache(cacheFile, section.id, sectionVersion);
    const slot: Slot = { section, cacheFile, cached, status: cached ? 'cached' : 'ran' };
    // A section outside this mode runs only when named in `only`.
    const inMode = (section.modes ?? ['quick', 'full']).includes(mode) || opts.only?.includes(section.id);
    if (!cached && opts.rerender) slot.status = 'skipped';
    else if (!cached && !inMode) {
      slot.status = 'skipped';
      slot.reason = `${(section.modes ?? []).join(' / ')} mode only (run with --${section.modes?.[0] ?? 'full'}, or name it in --only)`;
      sink.log(`- ${section.id}: skipped (${slot.reason})`);
    }
    slots.push(slot);
  }
  const todo = slots.filter((s) => !s.cached && s.status !== 'skipped');
  const backend = tf.getBackend();
  const parallel = workers > 1 && todo.length > 1 && (backend === 'wasm' || backend === 'cpu');
  if (workers > 1 && todo.length > 1 && !parallel) {
    sink.log(`  backend ${backend}: sections run in this thread (worker threads need wasm or cpu)`);
  }
  const measured: Record<string, number> = {};

  const rendered: RenderedSection[] = [];
  const outcomes: SectionOutcome[] = [];
  try {
    // Phase 2: compute, in worker threads or one after the other in this thread.
    if (parallel) {
      const timings = await readTimings(cacheRoot);
      const jobs: PoolJob[] = todo.map((s) => ({
        section: s.section,
        index: slots.indexOf(s),
        estimate: estimateSeconds(s.section, mode, timings),
        cacheFile: s.cacheFile,
      }));
      const results = await runSectionsInWorkers(jobs, {
        workers,
        mode,
        seed,
        cacheDir,
        backend: backend as 'wasm' | 'cpu',
        kernels: trainingKernelsRegistered(backend),
        sectionsModule: opts.sectionsModule,
        sink,
      });
      for (const s of todo) {
        const r = results.get(s.section.id);
        if (r?.ok) {
          s.cached = await readCache(s.cacheFile, s.section.id, s.section.version ?? 1);
          if (s.cached === undefined) {
            s.status = 'failed';
            s.error = `the worker wrote no readable cache file ${s.cacheFile}`;
          } else measured[s.section.id] = r.cpuSeconds;
        } else {
          s.status = 'failed';
          s.error = r?.error ?? 'the worker returned nothing';
        }
      }
    } else {
      for (const s of todo) {
        const { section } = s;
        sink.log(`▶ ${section.id}: ${section.title}`);
        const ctx: ReportContext = {
          mode,
          seed,
          backend,
          cacheDir,
          progress: (e) => sink.update(section.id, e),
          log: (m) => sink.log(`  ${section.id}: ${m}`),
          shared,
        };
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        try {
          const result = await section.run(ctx);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const cpuSeconds = (cpu.user + cpu.system) / 1e6;
          s.cached = cachedResult(
            section,
            { mode, seed, backend: tf.getBackend(), seconds, cpuSeconds },
            result,
          );
          await writeJsonAtomic(s.cacheFile, s.cached);
          measured[section.id] = cpuSeconds;
          // Live tensors after the section, those the shared values hold told apart from a leak.
          sink.log(
            `✔ ${section.id} in ${seconds.toFixed(1)} s, ${cpuSeconds.toFixed(1)} s CPU (${liveTensorsNote(tf.memory(), tensorsHeldBy(values), baseline)})`,
          );
        } catch (e) {
          s.status = 'failed';
          s.error = errorText(e);
          sink.log(`✖ ${section.id} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    await writeTimings(cacheRoot, mode, measured).catch(() => undefined);
    // Phase 3: render every section in report order.
    for (const s of slots) {
      const { section, cached } = s;
      let { status, error } = s;
      const { reason } = s;
      let html = '';
      let headlines: Headline[] | undefined;
      if (status === 'failed') {
        html = `<pre class="error">${escapeXml(error ?? '')}</pre>`;
      } else if (cached) {
        try {
          html = section.render(cached.result, { mode, seed, backend: cached.backend });
          headlines = section.headlines?.(cached.result);
        } catch (e) {
          status = 'failed';
          error = `render: ${errorText(e)}`;
          html = `<pre class="error">${escapeXml(error)}</pre>`;
        }
      }
      rendered.push({
        id: section.id,
        title: section.title,
        html,
        status,
        reason,
        seconds: cached?.seconds,
        backend: cached?.backend,
        headlines,
      });
      const outcome: SectionOutcome = { id: section.id, title: section.title, status };
      if (cached) outcome.seconds = cached.seconds;
      if (cached?.cpuSeconds !== undefined) outcome.cpuSeconds = cached.cpuSeconds;
      if (error !== undefined) outcome.error = error;
      if (reason !== undefined) outcome.reason = reason;
      if (headlines !== undefined && status !== 'failed') outcome.headlines = headlines;
      outcomes.push(outcome);
    }
  } finally {
    for (const p of memo.values()) {
      try {
        const v = (await p) as { dispose?: () => void } | undefined;
        if (v && typeof v.dispose === 'function') v.dispose();
      } catch {
        // a failed shared value has nothing to dispose
      }
    }
    sink.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  const html = renderReportHtml(rendered, {
    mode,
    seed,
    backend: tf.getBackend(),
    date: new Date().toISOString().replace('T', ' ').slice(0, 19) + ' UTC',
    node: process.version,
    totalSeconds: seconds,
    command: opts.command,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(file, html);
  const cpu = process.cpuUsage(cpuStart);
  return {
    file,
    cacheDir,
    sections: outcomes,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    workers: parallel ? Math.min(workers, todo.length) : 1,
  };
}
