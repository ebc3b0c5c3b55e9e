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
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../index.js';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  escapeXml,
  knownKeys,
} from '../internal.js';
import { type ProgressSink, terminalProgress } from './progress.js';
import { sections as registry } from './sections/index.js';
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
}

/** The JSON file the runner caches per section. */
export interface CachedResult<R = unknown> {
  format: 'transferkit-report-cache';
  version: 1;
  id: string;
  mode: ReportMode;
  seed: number;
  backend: string;
  createdAt: string;
  seconds: number;
  /** CPU seconds (user + system) of the process during `run` (absent in caches of older versions). */
  cpuSeconds?: number;
  /** The section's `version` when the result was computed. */
  sectionVersion: number;
  result: R;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Resolves `out` into the HTML file path and its folder. */
export function reportPaths(out = 'report'): { file: string; dir: string } {
  const file = out.toLowerCase().endsWith('.html') ? out : path.join(out, 'index.html');
  return { file, dir: path.dirname(file) };
}

async function readCache(
  file: string,
  id: string,
  sectionVersion: number,
): Promise<CachedResult | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as CachedResult;
    const ok =
      c.format === 'transferkit-report-cache' &&
      c.version === 1 &&
      c.id === id &&
      (c.sectionVersion ?? 1) === sectionVersion;
    return ok ? c : undefined;
  } catch {
    return undefined;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error
    ? `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`
    : String(e);
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
});

/**
 * Runs the report: each selected section's `run` (or its cached result), then its `render`, into one HTML file.
 * A failing section does not stop the others: its error is shown in its place and its outcome is `'failed'`.
 * Values shared between sections through `ctx.shared` are disposed at the end when they have a `dispose()`.
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
  const { file, dir } = reportPaths(opts.out);
  const cacheRoot = opts.cacheDir ?? path.join(dir, 'cache');
  const cacheDir = path.join(cacheRoot, `${mode}-seed${seed}`);
  const sink = opts.progress ?? terminalProgress();
  const start = performance.now();
  if (opts.fresh) await rm(cacheDir, { recursive: true, force: true });
  await mkdir(cacheDir, { recursive: true });

  const memo = new Map<string, Promise<unknown>>();
  const shared = <T>(key: string, create: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = create();
      memo.set(key, p);
      // A failed creation is not memoised: the next section may try again.
      p.catch(() => memo.delete(key));
    }
    return p;
  };

  const rendered: RenderedSection[] = [];
  const outcomes: SectionOutcome[] = [];
  try {
    for (const section of selected) {
      const cacheFile = path.join(cacheDir, `${section.id}.json`);
      const sectionVersion = section.version ?? 1;
      let cached = opts.fresh ? undefined : await readCache(cacheFile, section.id, sectionVersion);
      let status: RenderedSection['status'] = cached ? 'cached' : 'ran';
      let error: string | undefined;
      let reason: string | undefined;
      // A section outside this mode runs only when named in `only`.
      const inMode = (section.modes ?? ['quick', 'full']).includes(mode) || opts.only?.includes(section.id);
      if (!cached && opts.rerender) status = 'skipped';
      else if (!cached && !inMode) {
        status = 'skipped';
        reason = `${(section.modes ?? []).join(' / ')} mode only (run with --${section.modes?.[0] ?? 'full'}, or name it in --only)`;
        sink.log(`- ${section.id}: skipped (${reason})`);
      }
      if (!cached && status !== 'skipped') {
        sink.log(`▶ ${section.id}: ${section.title}`);
        const ctx: ReportContext = {
          mode,
          seed,
          backend: tf.getBackend(),
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
          cached = {
            format: 'transferkit-report-cache',
            version: 1,
            id: section.id,
            mode,
            seed,
            backend: tf.getBackend(),
            createdAt: new Date().toISOString(),
            seconds,
            cpuSeconds,
            sectionVersion,
            result,
          };
          await writeFile(cacheFile, JSON.stringify(cached));
          // Live tensors after the section (shared models included): a growing count points at a leak.
          const mem = tf.memory();
          sink.log(
            `✔ ${section.id} in ${seconds.toFixed(1)} s, ${cpuSeconds.toFixed(1)} s CPU (live tensors ${mem.numTensors}, ${(mem.numBytes / 2 ** 20).toFixed(1)} MB)`,
          );
        } catch (e) {
          status = 'failed';
          error = errorText(e);
          sink.log(`✖ ${section.id} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
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
  return { file, cacheDir, sections: outcomes, seconds };
}
