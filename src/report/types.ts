/**
 * The contract between the report runner (`npm start`, `transferkit report`) and each paper's section.
 * Node-only: sections may train models, read MNIST and write files.
 *
 * A section's `run` does the heavy work and returns JSON-serialisable results, which the runner caches on disk
 * (so re-rendering does not retrain); `render` turns those results into an HTML fragment with inline SVG/PNG.
 *
 * @module
 */
import type { ProgressCallback } from '../index.js';

/** How much work a report run does. `quick` must finish all sections within ~6 minutes on an idle 2-core machine. */
export type ReportMode = 'quick' | 'full';

/** What every section receives from the runner. */
export interface ReportContext {
  /** `quick` (default) or `full`. */
  readonly mode: ReportMode;
  /** The run's base seed; sections derive their own seeds from it. */
  readonly seed: number;
  /** The active tfjs backend name (e.g. `'wasm'`). */
  readonly backend: string;
  /** Folder for cached results and models of this run (created by the runner). */
  readonly cacheDir: string;
  /** A progress callback that draws a bar on the terminal for the phase named in the event. */
  readonly progress: ProgressCallback;
  /** Logs a line above the progress bars. */
  log(message: string): void;
  /**
   * Memoises a value shared between sections in one process (e.g. the loaded MNIST split, or a reference CNN
   * trained once and used by several sections). `create` runs at most once per key in a process.
   *
   * With `--workers N` every worker thread has its own engine, so each worker that needs the value creates its own
   * copy, but never two at once: the first worker to ask creates it while any other that asks for the same key waits
   * until that creation has finished, then runs `create` itself. A `create` that stores its result on disk (as the
   * reference CNN does, in `cacheDir`) therefore trains once per run and is loaded by the other workers. A value
   * with a boolean `fromCache` field gets the first creator's flag (it was made in this run, not by an earlier one).
   */
  shared<T>(key: string, create: () => Promise<T>): Promise<T>;
}

/** One section of the report: one paper (or the foundation). */
export interface ReportSection<R = unknown> {
  /** Stable id used by `--only` and for the cache file name, e.g. `'deconvnet'`. */
  readonly id: string;
  /** Heading shown in the report. */
  readonly title: string;
  /**
   * Version of the section's results: bump it when `run` changes what it computes, so that results cached by an
   * older version are computed again instead of re-rendered.
   * @default 1
   */
  readonly version?: number;
  /**
   * The modes whose default run computes the section. In another mode it is computed only when named in `--only`
   * (else its cached result is re-rendered, or it is listed as skipped with the reason).
   * @default ['quick', 'full']
   */
  readonly modes?: readonly ReportMode[];
  /**
   * Roughly how many CPU seconds `run` takes per mode on an idle machine. With `--workers N` the runner starts the
   * longest sections first; without an estimate it uses the section's last measured CPU time (remembered in the
   * cache root's `timings.json`), else the runner's own table of measured times, else 30 s.
   * @default undefined
   */
  readonly estimatedSeconds?: Partial<Record<ReportMode, number>>;
  /** Does the experiment; returns JSON-serialisable results. */
  run(ctx: ReportContext): Promise<R>;
  /** Renders cached results as an HTML fragment (no `<html>`/`<body>`; inline SVG or data: URIs only). */
  render(result: R, ctx: Pick<ReportContext, 'mode' | 'seed' | 'backend'>): string;
  /**
   * Optional: the section's headline figures, shown in the "At a glance" table at the top of the report and
   * printed by the CLI at the end of a run. One or two lines per section.
   */
  headlines?(result: R): Headline[];
}

/** One line of the report's "At a glance" table: the paper's figure beside ours. */
export interface Headline {
  /** What is measured, e.g. "AnB+ vs baseB, mean over n". */
  claim: string;
  /** The paper's figure, as printed. */
  paper: string;
  /** Ours, with the scale (e.g. "+0.8% (3 seeds)"). */
  ours: string;
}
