/**
 * Timing and reporting helpers shared by every benchmark suite: a median-of-samples timer with warm-up and a
 * time budget, records with ratios against baselines measured in the same run, and the table printer.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchRecord } from './types.js';

/** How {@link timeMedian} samples. */
export interface TimeOptions {
  /** Untimed runs first (kernel set-up, XNNPACK operator creation, lazy variables). @default 1 */
  warmUp?: number;
  /** Timed runs wanted. @default 5 */
  samples?: number;
  /** Stop sampling once this many ms were spent on timed runs (at least one sample is always taken). @default 20000 */
  budgetMs?: number;
  /** A different function for the warm-up runs (e.g. the same step on a smaller batch). */
  warmUpFn?: () => unknown | Promise<unknown>;
}

/** The result of {@link timeMedian}. */
export interface Timing {
  /** Median wall time of one run, in ms. */
  medianMs: number;
  /** Every timed run, in ms, in order. */
  samplesMs: number[];
}

/**
 * Times `fn` (awaited, so asynchronous reads of tensor data are included) and returns the median of the samples.
 *
 * @example
 * ```ts
 * const t = await timeMedian(() => model.trainOnBatch(xs, ys), { samples: 5 });
 * ```
 */
export async function timeMedian(
  fn: () => unknown | Promise<unknown>,
  opts: TimeOptions = {},
): Promise<Timing> {
  const warmUp = opts.warmUp ?? 1;
  const samples = opts.samples ?? 5;
  const budget = opts.budgetMs ?? 20_000;
  for (let i = 0; i < warmUp; i++) await (opts.warmUpFn ?? fn)();
  const samplesMs: number[] = [];
  let spent = 0;
  while (samplesMs.length < samples && (samplesMs.length === 0 || spent < budget)) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    samplesMs.push(dt);
    spent += dt;
  }
  return { medianMs: median(samplesMs), samplesMs };
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Builds a record. `perOp` is how many units one timed run covers (e.g. the batch size for unit `'image'`), so
 * `opsPerSec` is units per second and records measured on different batch sizes compare fairly.
 */
export function makeRecord(
  name: string,
  medianMs: number,
  opts: { unit?: string; perOp?: number; extra?: Record<string, number | string> } = {},
): BenchRecord {
  const perOp = opts.perOp ?? 1;
  const rec: BenchRecord = { name, medianMs, opsPerSec: (1000 * perOp) / medianMs };
  if (opts.unit !== undefined) rec.unit = opts.unit;
  if (opts.extra !== undefined) rec.extra = opts.extra;
  return rec;
}

/** A record for something that cannot run (e.g. a kernel missing on a backend): no time, the reason in `extra`. */
export function failedRecord(name: string, error: unknown, unit?: string): BenchRecord {
  const msg = error instanceof Error ? error.message : String(error);
  const rec: BenchRecord = { name, medianMs: Number.NaN, opsPerSec: 0, extra: { error: msg.slice(0, 160) } };
  if (unit !== undefined) rec.unit = unit;
  return rec;
}

/**
 * Adds to `rec` its speed-up over each baseline (baseline time per unit / this time per unit, from `opsPerSec`,
 * so a different batch size in the two runs is accounted for). Baselines that failed are skipped.
 */
export function addRatios(rec: BenchRecord, ...baselines: (BenchRecord | undefined)[]): BenchRecord {
  if (!Number.isFinite(rec.medianMs)) return rec;
  for (const b of baselines) {
    if (b === undefined || b === rec || !Number.isFinite(b.medianMs) || b.opsPerSec <= 0) continue;
    if (rec.ratios === undefined) rec.ratios = [];
    rec.ratios.push({ baseline: b.name, speedup: rec.opsPerSec / b.opsPerSec });
  }
  return rec;
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'fails';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(ms >= 10 ? 1 : 2)} ms`;
}

function fmtRate(r: BenchRecord): string {
  if (!Number.isFinite(r.medianMs)) return '-';
  const v = r.opsPerSec;
  const s = v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return `${s} ${r.unit ?? 'it'}/s`;
}

/** Prints records as an aligned table: name, median, rate, ratios, extras. */
export function formatTable(records: readonly BenchRecord[]): string {
  const rows = records.map((r) => [
    r.name,
    fmtMs(r.medianMs),
    fmtRate(r),
    (r.ratios ?? [])
      .map((x) => `${x.speedup >= 10 ? x.speedup.toFixed(0) : x.speedup.toFixed(2)}x vs ${x.baseline}`)
      .join('; '),
    Object.entries(r.extra ?? {})
      .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`)
      .join(' '),
  ]);
  const head = ['benchmark', 'median', 'rate', 'speed-up', 'notes'];
  const widths = head.map((h, i) =>
    Math.min(i === 0 ? 58 : 60, Math.max(h.length, ...rows.map((r) => r[i].length))),
  );
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * What /proc/cpuinfo says about the first CPU (Linux): vendor, family, model and whether it has AVX-512. The model
 * name alone can mislead (a virtual machine may show a generic name); family/model identify the part.
 */
function cpuInfo(): Record<string, string> {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const first = text.split('\n\n')[0] ?? '';
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(first)?.[1]?.trim() ?? '?';
    const flags = field('flags').split(' ');
    return {
      cpuVendor: field('vendor_id'),
      cpuFamily: field('cpu family'),
      cpuModel: field('model'),
      avx512: flags.includes('avx512f') ? 'yes' : 'no',
    };
  } catch {
    return {};
  }
}

/** The machine the run happened on, for the JSON output and docs/benchmarks.md. */
export function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    ...cpuInfo(),
    loadAverage: +os.loadavg()[0].toFixed(2),
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}
