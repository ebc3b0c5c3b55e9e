/**
 * The contract between the benchmark runner (`npm run bench`, bench/index.ts) and each suite (bench/<name>.ts,
 * listed in bench/suites.ts). A suite measures its subject AND a baseline in the same run and reports ratios.
 */

/** A ratio of this record's median time to a baseline's, both measured in the same run. */
export interface BenchRatio {
  /** Name of the baseline record (e.g. `'cpu as shipped: CNN train step'`). */
  baseline: string;
  /** baseline median / this median: > 1 means this is faster. */
  speedup: number;
}

/** One measured thing. */
export interface BenchRecord {
  /** Unique within the run, e.g. `'wasm + kernels: CNN train step (batch 64)'`. */
  name: string;
  /** Median wall time of one iteration, in milliseconds. */
  medianMs: number;
  /** 1000 / medianMs, or units per second when `unit` says so. */
  opsPerSec: number;
  /** What one op is (default `'iteration'`), e.g. `'image'`. */
  unit?: string;
  /** Ratios against baselines measured in the same run. */
  ratios?: BenchRatio[];
  /** Extra absolute figures for context, e.g. `{ gflops: 19.7, samples: 5 }`. */
  extra?: Record<string, number | string>;
}

/** Options every suite receives. */
export interface BenchOptions {
  /** Fewer iterations and smaller sizes (for a smoke run). */
  quick: boolean;
}

/** A benchmark suite. */
export interface BenchSuite {
  /** Short id, e.g. `'kernels'`, used by `npm run bench -- --only kernels`. */
  id: string;
  /** What the suite measures, in one line. */
  title: string;
  run(opts: BenchOptions): Promise<BenchRecord[]>;
}
