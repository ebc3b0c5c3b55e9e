/**
 * The summary of a transferability experiment's results (Yosinski et al. 2014, Figure 2): mean and standard
 * deviation over seeds per treatment and number of copied stages, and the same as a table of strings.
 *
 * @module
 */
import {
  TRANSFER_KINDS,
  type TransferKind,
  type TransferResults,
  type TransferRunKind,
} from './experiment-types.js';

/** Mean, sample standard deviation and count of some accuracies. */
export interface AccuracyStats {
  /** Mean accuracy, as a fraction in [0, 1] (`NaN` when `count` is 0). */
  mean: number;
  /** Sample standard deviation (n - 1 denominator; 0 for a single value, `NaN` when `count` is 0). */
  std: number;
  /** Number of accuracies (runs, one per seed). */
  count: number;
}

/** One point of a treatment's curve. */
export interface TransferPoint extends AccuracyStats {
  /** Stages copied from the base network. */
  n: number;
}

/** The experiment's table: per treatment, accuracy vs n; and the two base networks. */
export interface TransferSummary {
  /** Test accuracy of base network A (on task A) over seeds. */
  baseA: AccuracyStats;
  /** Test accuracy of base network B (on task B) over seeds. */
  baseB: AccuracyStats;
  /** Per treatment, one point per number of copied stages `n`, ascending in `n`. */
  series: Record<TransferKind, TransferPoint[]>;
}

function stats(values: number[]): AccuracyStats {
  const count = values.length;
  if (count === 0) return { mean: Number.NaN, std: Number.NaN, count };
  const mean = values.reduce((s, v) => s + v, 0) / count;
  const variance = count > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (count - 1) : 0;
  return { mean, std: Math.sqrt(variance), count };
}

/**
 * Means and standard deviations over seeds, per treatment and n: the data of the paper's Figure 2.
 *
 * @example
 * ```ts
 * const s = summarizeTransfer(results);
 * s.series['AnB+'].map((p) => p.mean - s.baseB.mean); // gain of transfer + fine-tuning over baseB, per n
 * ```
 */
export function summarizeTransfer(results: TransferResults): TransferSummary {
  const of = (kind: TransferRunKind, n: number): number[] =>
    results.runs.filter((r) => r.kind === kind && r.n === n).map((r) => r.accuracy);
  const series = {} as Record<TransferKind, TransferPoint[]>;
  for (const kind of TRANSFER_KINDS) {
    const ns = [...new Set(results.runs.filter((r) => r.kind === kind).map((r) => r.n))].sort(
      (p, q) => p - q,
    );
    series[kind] = ns.map((n) => ({ n, ...stats(of(kind, n)) }));
  }
  return { baseA: stats(of('baseA', 0)), baseB: stats(of('baseB', 0)), series };
}

/**
 * The summary as a table (header + rows of strings, accuracies in percent with their standard deviation).
 *
 * @example
 * ```ts
 * const { header, rows } = transferTable(summarizeTransfer(results));
 * // header: ['n', 'BnB', 'BnB+', 'AnB', 'AnB+']; rows[0]: ['1', '97.1 ± 0.3', ...]
 * ```
 */
export function transferTable(summary: TransferSummary): {
  /** Column titles: `'n'` then the four treatments. */
  header: string[];
  /** A `'baseB'` row, then one row per `n` (cells `'mean ± std'` in percent, empty where no run). */
  rows: string[][];
} {
  const ns = [...new Set(TRANSFER_KINDS.flatMap((k) => summary.series[k].map((p) => p.n)))].sort(
    (p, q) => p - q,
  );
  const cell = (s: AccuracyStats | undefined): string =>
    s === undefined || s.count === 0 ? '' : `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;
  const rows = [
    ['baseB', cell(summary.baseB), '', '', ''],
    ...ns.map((n) => [
      String(n),
      ...TRANSFER_KINDS.map((k) => cell(summary.series[k].find((p) => p.n === n))),
    ]),
  ];
  return { header: ['n', ...TRANSFER_KINDS], rows };
}
