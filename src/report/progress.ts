/**
 * Terminal progress for the report: one cli-progress bar per running phase (drawn on a TTY), a one-line summary
 * when a phase completes, and plain log lines when the output is not a terminal.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../index.js';

/** Where the runner sends progress and log lines. */
export interface ProgressSink {
  /** A section's progress event. */
  update(section: string, event: ProgressEvent): void;
  /** A line of text above the bars. */
  log(message: string): void;
  /** Removes all bars (end of run). */
  stop(): void;
}

function formatMetrics(m: Record<string, number> | undefined): string {
  if (!m) return '';
  return Object.entries(m)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join('  ');
}

/** A sink that prints nothing (tests, `--quiet`). */
export function silentProgress(): ProgressSink {
  return { update() {}, log() {}, stop() {} };
}

/** Options of {@link terminalProgress}. */
export interface TerminalProgressOptions {
  /**
   * Where to write.
   * @default process.stderr
   */
  stream?: NodeJS.WriteStream;
  /**
   * Draw bars (only on a TTY); `false` prints one line per completed phase only.
   * @default true
   */
  bars?: boolean;
}

/**
 * Progress bars on stderr when it is a TTY; otherwise (or with `bars: false`) one line per completed phase.
 *
 * @example
 * ```ts
 * const sink = terminalProgress();
 * sink.update('foundation', { phase: 'train', done: 3, total: 10 });
 * sink.stop();
 * ```
 */
export function terminalProgress(options: TerminalProgressOptions = {}): ProgressSink {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && options.bars !== false;
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          stream,
          format: ' {section} {phase} [{bar}] {value}/{total} {eta_formatted} {metrics}',
          barsize: 28,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 8,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  const started = new Map<string, { t: number; done: number }>();
  const log = (message: string) => {
    if (multi) multi.log(`${message}\n`);
    else stream.write(`${message}\n`);
  };
  return {
    update(section, e) {
      const key = `${section}\u0000${e.phase}`;
      if (!started.has(key)) started.set(key, { t: performance.now(), done: e.done });
      const payload = { section, phase: e.phase, metrics: formatMetrics(e.metrics) };
      if (multi) {
        let bar = bars.get(key);
        if (bar === undefined) {
          bar = multi.create(e.total, e.done, payload);
          bars.set(key, bar);
        }
        bar.setTotal(e.total);
        bar.update(e.done, payload);
      }
      if (e.total > 0 && e.done >= e.total) {
        // The phase's first event arrives after `first.done` units were already done (e.g. per-epoch events
        // come at the end of epoch 1): extrapolate the elapsed time to the whole phase.
        const first = started.get(key);
        const secs =
          first !== undefined && first.done < e.total
            ? ` in ${(((performance.now() - first.t) / 1000) * (e.total / (e.total - first.done))).toFixed(1)} s`
            : '';
        const bar = bars.get(key);
        if (multi && bar) {
          multi.remove(bar);
          bars.delete(key);
        }
        started.delete(key);
        log(`  ${section} ${e.phase}: ${e.done}/${e.total}${secs}  ${payload.metrics}`);
      }
    },
    log,
    stop() {
      multi?.stop();
      bars.clear();
    },
  };
}
