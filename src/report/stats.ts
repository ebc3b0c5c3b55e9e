/**
 * Statistics for the report's verdicts: means with 95% Student-t intervals over seeds, paired differences, seeded
 * percentile bootstrap intervals, and the verdict a claim gets from its interval. Pure TypeScript, no tensors.
 *
 * @module
 */
import { Rng } from '../index.js';

/** A mean (or other estimate) with a two-sided confidence interval. */
export interface Interval {
  /** The point estimate (the mean of the values). */
  estimate: number;
  /** Lower end of the interval. */
  lo: number;
  /** Upper end of the interval. */
  hi: number;
  /** Number of values (seeds, or pairs). */
  n: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

/** The verdict of a claim: its interval lies entirely on one side of the threshold, or straddles it. */
export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

function checkValues(fn: string, xs: readonly number[], min: number): void {
  if (!Array.isArray(xs) || xs.length < min || xs.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new RangeError(`\`${fn}\` needs at least ${min} finite numbers, got ${JSON.stringify(xs)}`);
  }
}

/** The arithmetic mean. */
export function mean(xs: readonly number[]): number {
  checkValues('mean', xs, 1);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The sample standard deviation (n - 1 in the denominator); 0 for a single value. */
export function sampleSd(xs: readonly number[]): number {
  checkValues('sampleSd', xs, 1);
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; relative error < 1e-13). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/**
 * The cumulative distribution function of Student's t with `df` degrees of freedom.
 *
 * @example
 * ```ts
 * studentTCdf(0, 5); // 0.5
 * ```
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`\`studentTCdf\` needs df > 0, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The quantile of Student's t: the `t` with `studentTCdf(t, df) === p` (bisection on the CDF to 1e-12).
 *
 * @example
 * ```ts
 * studentTQuantile(0.975, 2); // 4.302652...
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`\`studentTQuantile\` needs 0 < p < 1, got ${p}`);
  if (!(df > 0)) throw new RangeError(`\`studentTQuantile\` needs df > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * A two-sided Student-t confidence interval for the mean of `xs` (e.g. one value per seed):
 * mean ± t_{(1+level)/2, n-1} · sd / √n. Needs at least 2 values.
 *
 * @example
 * ```ts
 * tInterval([0.52, 0.55, 0.52]); // { estimate: 0.53, lo: 0.487..., hi: 0.573..., n: 3, level: 0.95 }
 * ```
 */
export function tInterval(xs: readonly number[], level = 0.95): Interval {
  checkValues('tInterval', xs, 2);
  if (!(level > 0 && level < 1)) throw new RangeError(`\`tInterval\` needs 0 < level < 1, got ${level}`);
  const n = xs.length;
  const m = mean(xs);
  const half = (studentTQuantile((1 + level) / 2, n - 1) * sampleSd(xs)) / Math.sqrt(n);
  return { estimate: m, lo: m - half, hi: m + half, n, level };
}

/**
 * The t interval of the paired differences `a[i] - b[i]` (the same seed in both arms): the right interval when
 * both arms share a seed's data order and initialisation, since seed-to-seed variation cancels.
 *
 * @example
 * ```ts
 * pairedInterval([0.87, 0.86, 0.88], [0.85, 0.85, 0.86]); // the interval of [0.02, 0.01, 0.02]
 * ```
 */
export function pairedInterval(a: readonly number[], b: readonly number[], level = 0.95): Interval {
  checkValues('pairedInterval', a, 2);
  checkValues('pairedInterval', b, 2);
  if (a.length !== b.length) {
    throw new RangeError(`\`pairedInterval\` needs arms of equal length, got ${a.length} and ${b.length}`);
  }
  return tInterval(
    a.map((x, i) => x - b[i]),
    level,
  );
}

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  /** Seed of the resampling (integer). */
  seed: number;
  /**
   * Number of resamples.
   * @default 2000
   */
  resamples?: number;
  /**
   * Confidence level.
   * @default 0.95
   */
  level?: number;
  /**
   * The statistic of a resample.
   * @default the mean
   */
  statistic?: (xs: readonly number[]) => number;
}

/**
 * A seeded percentile-bootstrap interval of a statistic (the mean by default): resample `xs` with replacement,
 * take the statistic's `(1 - level) / 2` and `(1 + level) / 2` quantiles. With few values (3 seeds) it is narrower
 * than the t interval; the report uses t intervals for verdicts and the bootstrap for per-item statistics.
 *
 * @example
 * ```ts
 * bootstrapInterval(perImageCorrect, { seed: 1 });
 * ```
 */
export function bootstrapInterval(xs: readonly number[], options: BootstrapOptions): Interval {
  checkValues('bootstrapInterval', xs, 1);
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const stat = options.statistic ?? mean;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`\`bootstrapInterval\` needs resamples >= 1, got ${resamples}`);
  }
  const rng = new Rng(options.seed);
  const n = xs.length;
  const values = new Float64Array(resamples);
  const sample = new Array<number>(n);
  // rng.int(n) inlined (the same draws: rejection above the largest multiple of n), and the default mean summed in
  // the same order as `mean`, without re-checking every resample: the same intervals, several times faster.
  const limit = 4294967296 - (4294967296 % n);
  const draw = (): number => {
    let x = rng.nextUint32();
    while (x >= limit) x = rng.nextUint32();
    return x % n;
  };
  const fastMean = (v: readonly number[]): number => {
    let a = 0;
    for (let i = 0; i < v.length; i++) a += v[i];
    return a / v.length;
  };
  const resampleStat = options.statistic ?? fastMean;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = xs[draw()];
    values[r] = resampleStat(sample);
  }
  values.sort();
  const q = (p: number) => values[Math.min(resamples - 1, Math.max(0, Math.floor(p * resamples)))];
  return { estimate: stat(xs), lo: q((1 - level) / 2), hi: q((1 + level) / 2), n, level };
}

/**
 * The verdict on a claim "the quantity is above `threshold`" (or below, with `direction: 'below'`): `'holds'` when
 * the whole interval is on the claimed side, `'does not hold'` when it is entirely on the other side, else
 * `'inconclusive'` (the interval contains the threshold).
 *
 * @example
 * ```ts
 * verdict({ estimate: 0.53, lo: 0.49, hi: 0.57, n: 3, level: 0.95 }, 0); // 'holds'
 * ```
 */
export function verdict(
  interval: Interval,
  threshold: number,
  direction: 'above' | 'below' = 'above',
): Verdict {
  const { lo, hi } = interval;
  if (direction === 'above')
    return lo > threshold ? 'holds' : hi < threshold ? 'does not hold' : 'inconclusive';
  return hi < threshold ? 'holds' : lo > threshold ? 'does not hold' : 'inconclusive';
}

/**
 * An interval as report text: `"53.0% [48.7, 57.3] (95% CI, n = 3)"` with `scale` 100 and `unit` '%'.
 *
 * @example
 * ```ts
 * formatInterval(tInterval([0.52, 0.55, 0.52]), { scale: 100, unit: '%' });
 * ```
 */
export function formatInterval(
  iv: Interval,
  options: { scale?: number; digits?: number; unit?: string; signed?: boolean } = {},
): string {
  const s = options.scale ?? 1;
  const d = options.digits ?? 1;
  const u = options.unit ?? '';
  const f = (v: number) => `${options.signed && v * s > 0 ? '+' : ''}${(v * s).toFixed(d)}`;
  return `${f(iv.estimate)}${u} [${f(iv.lo)}, ${f(iv.hi)}] (${Math.round(iv.level * 100)}% CI, n = ${iv.n})`;
}
