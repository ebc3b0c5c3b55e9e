/**
 * CPU time and load for the scale-out suites (`pool`, `queue`): on a shared machine a 2-worker run cannot show a
 * 2-core speed-up, so each run also records the CPU time its workers used and the load average, and the suites
 * derive the speed-up an idle machine would give from CPU time (labelled as an estimate).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU seconds (user + system) this process used so far: every thread, worker threads included. */
export function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds (user + system) another process used so far, from /proc (Linux); NaN where unreadable. */
export function pidCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14, 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** The 1-minute load average and the core count, for the record. */
export function loadNow(): { load1: number; cores: number } {
  return { load1: +os.loadavg()[0].toFixed(2), cores: os.cpus().length };
}

/** Figures of one configuration (1 or 2 workers) over the rounds: medians. */
export interface ScaleFigures {
  /** Median wall time, ms. */
  wallMs: number;
  /** Median CPU time of the workers, s. */
  cpuS: number;
  /** Median CPU time of the busiest worker, s (the critical path on an idle machine). */
  maxWorkerCpuS: number;
  /** Median 1-minute load average at the start of the runs. */
  load1: number;
}

/**
 * The speed-up figures of 2 workers over 1: measured (wall), the cores the 2-worker run got (CPU / wall), and the
 * idle-machine estimate: 1 worker's CPU time over the busiest worker's CPU time in the 2-worker run (each worker on
 * a core of its own, nothing else running; ignores memory-bandwidth and start-up effects).
 */
export function scaleSummary(one: ScaleFigures, two: ScaleFigures) {
  return {
    measured: one.wallMs / two.wallMs,
    coresUsed1: one.cpuS / (one.wallMs / 1000),
    coresUsed2: two.cpuS / (two.wallMs / 1000),
    idleEstimate: one.cpuS / two.maxWorkerCpuS,
    cpuOverhead: two.cpuS / one.cpuS,
  };
}

/** The summary as the lines the suites print. */
export function scaleLines(title: string, one: ScaleFigures, two: ScaleFigures): string {
  const s = scaleSummary(one, two);
  const { cores } = loadNow();
  return [
    `${title}: 2 workers vs 1 (medians, rounds interleaved; ${cores} cores, 1-min load ${one.load1} / ${two.load1} at the runs' starts)`,
    `  measured wall-clock speed-up: ${s.measured.toFixed(2)}x  (${(one.wallMs / 1000).toFixed(1)} s -> ${(two.wallMs / 1000).toFixed(1)} s)`,
    `  CPU time of the workers: 1 worker ${one.cpuS.toFixed(1)} s, 2 workers ${two.cpuS.toFixed(1)} s (busiest ${two.maxWorkerCpuS.toFixed(1)} s); cores used: ${s.coresUsed1.toFixed(2)} vs ${s.coresUsed2.toFixed(2)}`,
    `  ESTIMATE for an idle ${cores}-core machine: ${s.idleEstimate.toFixed(2)}x  (= CPU time of 1 worker / CPU time of the busiest of 2; not measured)`,
  ].join('\n');
}
