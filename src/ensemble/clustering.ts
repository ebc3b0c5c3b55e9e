/**
 * Confusable-class clustering (Hinton, Vinyals & Dean 2015, section 5.3): classes that a generalist often predicts
 * together are found by clustering the columns of the covariance matrix of its predicted probabilities on held-out
 * data. A confusion-matrix variant clusters the columns of the symmetrised, row-normalised confusion matrix instead.
 *
 * Plain TypeScript over numbers: no tensor is allocated here, so everything is testable without tfjs.
 *
 * @module
 */
import { checkInteger, checkOneOf, checkOptions } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** A set of classes that one specialist covers, with how confusable they are. */
export interface ClassCluster {
  /** Class indices of the generalist, sorted ascending. */
  classes: number[];
  /**
   * Confusion score: the mean, over ordered pairs of distinct classes in the cluster, of their normalised
   * affinity (the correlation of predicted probabilities for `'covariance'`, the symmetrised confusion rate for
   * `'confusion'`). 0 for a single class. Higher means more confusable.
   */
  score: number;
}

/** What {@link clusterClasses} found: plain JSON-serialisable data. */
export interface ClassClustering {
  /** Which matrix was clustered. */
  method: ClusterMethod;
  /** Number of clusters (the given `k` or the one the search picked). */
  k: number;
  /**
   * The `numClasses x numClasses` matrix whose columns were clustered: the covariance or correlation matrix, or
   * for `'confusion'` the symmetrised confusion rates with the diagonal set to each class's total confusion and
   * unit-length columns.
   */
  matrix: number[][];
  /**
   * The affinity behind the confusion scores (for a heat-map): the correlation matrix of the predicted
   * probabilities, or the symmetrised confusion matrix (see `confusionAffinity`).
   */
  affinity: number[][];
  /** All `k` clusters, most confusable first (they partition the classes). */
  clusters: ClassCluster[];
  /** `assignment[c]` is the index in `clusters` of class `c`'s cluster. */
  assignment: number[];
  /** Mean silhouette of the partition over the matrix's columns (in [-1, 1]; singletons count 0). */
  silhouette: number;
  /** Within-cluster affinity above the baseline, summed over pairs (see `selectBy`). */
  withinAffinity: number;
  /** For a searched `k`: both criteria for every candidate `k`. */
  search?: {
    /** The candidate number of clusters. */
    k: number;
    /** Mean silhouette of that candidate's partition (in [-1, 1]). */
    silhouette: number;
    /** Within-cluster affinity above the baseline of that candidate's partition. */
    withinAffinity: number;
  }[];
}

/** `'covariance'` (the paper's choice) or `'confusion'` (the confusion-matrix alternative). */
export type ClusterMethod = 'covariance' | 'confusion';

/** Options of {@link clusterClasses}. */
export interface ClusterClassesOptions {
  /**
   * Number of clusters, or a range to search (the `k` whose K-means partition scores best by `selectBy` wins).
   * @default { min: 2, max: min(numClasses - 1, 10) }
   */
  k?:
    | number
    | {
        /** Smallest `k` tried (inclusive). */
        min: number;
        /** Largest `k` tried (inclusive). */
        max: number;
      };
  /**
   * How a searched `k` is chosen. `'affinity'`: the largest sum, over pairs of distinct classes in a common
   * cluster, of their affinity (correlation, or symmetrised confusion rate) minus a baseline, the mean off-diagonal
   * affinity when positive, else 0: grouping two classes pays only if they co-vary positively (correlation) or
   * are confused more than average (confusion), so a class nobody confuses stays alone. `'silhouette'`: the largest mean silhouette of the columns (which counts singletons as 0, so it tends to
   * merge unconfused classes into one cluster).
   * @default 'affinity'
   */
  selectBy?: 'affinity' | 'silhouette';
  /** Which matrix to cluster. `'confusion'` needs `labels`. @default 'covariance' */
  method?: ClusterMethod;
  /**
   * For `'covariance'`: cluster the covariance as is, or its correlation matrix (each column on the same scale,
   * so rare and frequent classes weigh alike).
   * @default 'correlation'
   */
  normalize?: 'none' | 'correlation';
  /** True labels of the held-out rows (needed for `'confusion'`). */
  labels?: ArrayLike<number>;
  /** Seed of the K-means initialisation. @default 0 */
  seed?: number;
  /** K-means restarts (k-means++ seeding each time); the lowest within-cluster sum of squares wins. @default 10 */
  restarts?: number;
  /** Maximum Lloyd iterations per restart. @default 100 */
  maxIterations?: number;
}

function checkProbs(fn: string, probs: ArrayLike<number>, numClasses: number): number {
  checkInteger(fn, 'numClasses', numClasses, 2);
  if (
    probs === null ||
    typeof probs !== 'object' ||
    typeof (probs as ArrayLike<number>).length !== 'number' ||
    probs.length === 0 ||
    probs.length % numClasses !== 0
  ) {
    throw new InvalidArgumentError(
      fn,
      'probabilities',
      `a non-empty flat row-major array whose length is a multiple of numClasses (${numClasses})`,
      probs,
    );
  }
  return probs.length / numClasses;
}

/**
 * The covariance matrix of predicted probabilities over held-out rows: `C[i][j] = mean_n (p_ni - mean_i)(p_nj -
 * mean_j)` (population covariance). Classes that are often predicted together co-vary positively.
 *
 * @param probabilities row-major `[rows, numClasses]` predicted probabilities (e.g. `await probs.data()`)
 * @example
 * ```ts
 * const p = await generalist.predict(xHeldOut).data();
 * const cov = predictionCovariance(p, 10); // 10 x 10
 * ```
 */
export function predictionCovariance(probabilities: ArrayLike<number>, numClasses: number): number[][] {
  const n = checkProbs('predictionCovariance', probabilities, numClasses);
  const k = numClasses;
  const mean = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let i = 0; i < k; i++) mean[i] += probabilities[r * k + i];
  for (let i = 0; i < k; i++) mean[i] /= n;
  const acc = new Float64Array(k * k);
  const d = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) d[i] = probabilities[r * k + i] - mean[i];
    for (let i = 0; i < k; i++) {
      const di = d[i];
      if (di === 0) continue;
      for (let j = i; j < k; j++) acc[i * k + j] += di * d[j];
    }
  }
  const out: number[][] = [];
  for (let i = 0; i < k; i++) out.push(new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = acc[i * k + j] / n;
      out[i][j] = v;
      out[j][i] = v;
    }
  }
  return out;
}

/**
 * Correlation matrix from a covariance matrix: `C[i][j] / sqrt(C[i][i] C[j][j])` (0 where a variance is 0, 1 on
 * the diagonal).
 *
 * @example
 * ```ts
 * const corr = covarianceToCorrelation(predictionCovariance(p, 10));
 * ```
 */
export function covarianceToCorrelation(cov: readonly (readonly number[])[]): number[][] {
  checkSquare('covarianceToCorrelation', 'cov', cov);
  const sd = cov.map((row, i) => Math.sqrt(Math.max(row[i], 0)));
  return cov.map((row, i) =>
    row.map((v, j) => (i === j ? 1 : sd[i] > 0 && sd[j] > 0 ? v / (sd[i] * sd[j]) : 0)),
  );
}

/**
 * The symmetrised, row-normalised confusion matrix: `M[i][j]` is the fraction of held-out rows of true class `i`
 * whose arg-max prediction is `j`, and the result is `(M + M^T) / 2`. Its diagonal holds per-class accuracy, its
 * off-diagonal how often two classes are mistaken for each other.
 *
 * @param probabilities row-major `[rows, numClasses]` predictions (probabilities or logits: only the arg-max is used)
 * @param labels true class of each row
 * @example
 * ```ts
 * const conf = confusionAffinity(await generalist.predict(x).data(), yHeldOut, 10);
 * ```
 */
export function confusionAffinity(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): number[][] {
  const n = checkProbs('confusionAffinity', probabilities, numClasses);
  checkLabels('confusionAffinity', labels, n, numClasses);
  const k = numClasses;
  const counts: number[][] = [];
  for (let i = 0; i < k; i++) counts.push(new Array<number>(k).fill(0));
  const perClass = new Array<number>(k).fill(0);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probabilities[r * k + j] > probabilities[r * k + best]) best = j;
    counts[labels[r]][best]++;
    perClass[labels[r]]++;
  }
  const m = counts.map((row, i) => row.map((c) => (perClass[i] > 0 ? c / perClass[i] : 0)));
  return m.map((row, i) => row.map((v, j) => (v + m[j][i]) / 2));
}

/**
 * The columns K-means clusters for the confusion method: the symmetrised confusion rates with each diagonal entry
 * replaced by its class's total confusion rate (so two classes confused only with each other get equal columns),
 * each column scaled to unit length (so rarely confused classes stay apart instead of collapsing near zero). A
 * class that is never confused keeps a unit column on its own axis.
 */
function confusionFeatures(affinity: number[][]): number[][] {
  const n = affinity.length;
  const m = affinity.map((row, i) => row.map((v, j) => (i === j ? 0 : v)));
  for (let i = 0; i < n; i++) m[i][i] = m[i].reduce((a, b) => a + b, 0);
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = 0; i < n; i++) norm += m[i][j] * m[i][j];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) m[i][j] = norm > 0 ? m[i][j] / norm : i === j ? 1 : 0;
  }
  return m;
}

function checkLabels(
  fn: string,
  labels: ArrayLike<number> | undefined,
  rows: number,
  numClasses: number,
): void {
  if (
    labels === undefined ||
    labels === null ||
    typeof labels !== 'object' ||
    typeof labels.length !== 'number' ||
    labels.length !== rows
  ) {
    throw new InvalidArgumentError(fn, 'labels', `an array of ${rows} class indices (one per row)`, labels);
  }
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new InvalidArgumentError(fn, `labels[${i}]`, `an integer in [0, ${numClasses - 1}]`, l);
    }
  }
}

function checkSquare(fn: string, argument: string, m: unknown): asserts m is number[][] {
  if (
    !Array.isArray(m) ||
    m.length === 0 ||
    !m.every((row) => Array.isArray(row) && row.length === m.length && row.every((v) => Number.isFinite(v)))
  ) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a non-empty square matrix of finite numbers (number[][])',
      m,
    );
  }
}

/** Result of `kMeansColumns`. */
export interface KMeansResult {
  /** Cluster index of each column. */
  assignment: number[];
  /** Within-cluster sum of squared distances. */
  inertia: number;
}

/**
 * Seeded K-means (k-means++ seeding, then Lloyd iterations; several restarts) on the COLUMNS of a matrix, as the
 * paper clusters the columns of the covariance matrix. The paper used an on-line K-means over 15,000 classes; at
 * the sizes a browser handles, batch Lloyd iterations give the same partitions deterministically.
 *
 * @example
 * ```ts
 * const { assignment } = kMeansColumns(corr, 3, { seed: 1 });
 * ```
 */
export function kMeansColumns(
  matrix: readonly (readonly number[])[],
  k: number,
  options: { seed?: number; restarts?: number; maxIterations?: number } = {},
): KMeansResult {
  const fn = 'kMeansColumns';
  checkSquareOrRect(fn, matrix);
  const cols = matrix[0].length;
  checkInteger(fn, 'k', k, 1, cols);
  const seed = options.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);
  const restarts = options.restarts ?? 10;
  checkInteger(fn, 'options.restarts', restarts, 1);
  const maxIterations = options.maxIterations ?? 100;
  checkInteger(fn, 'options.maxIterations', maxIterations, 1);
  const dim = matrix.length;
  const points: Float64Array[] = [];
  for (let c = 0; c < cols; c++) {
    const p = new Float64Array(dim);
    for (let r = 0; r < dim; r++) p[r] = matrix[r][c];
    points.push(p);
  }
  const rng = new Rng(seed);
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const res = lloyd(points, k, rng.fork(), maxIterations);
    if (best === undefined || res.inertia < best.inertia - 1e-12) best = res;
  }
  return best!;
}

function checkSquareOrRect(fn: string, m: unknown): asserts m is number[][] {
  if (
    !Array.isArray(m) ||
    m.length === 0 ||
    !Array.isArray(m[0]) ||
    m[0].length === 0 ||
    !m.every(
      (row) => Array.isArray(row) && row.length === m[0].length && row.every((v) => Number.isFinite(v)),
    )
  ) {
    throw new InvalidArgumentError(fn, 'matrix', 'a non-empty rectangular matrix of finite numbers', m);
  }
}

function dist2(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

function lloyd(points: Float64Array[], k: number, rng: Rng, maxIterations: number): KMeansResult {
  const n = points.length;
  const dim = points[0].length;
  // k-means++ seeding.
  const centres: Float64Array[] = [Float64Array.from(points[rng.int(n)])];
  const d2 = new Float64Array(n);
  while (centres.length < k) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      let m = Infinity;
      for (const c of centres) m = Math.min(m, dist2(points[i], c));
      d2[i] = m;
      total += m;
    }
    let pick = 0;
    if (total <= 0) {
      pick = rng.int(n);
    } else {
      let u = rng.next() * total;
      for (pick = 0; pick < n - 1; pick++) {
        u -= d2[pick];
        if (u < 0) break;
      }
    }
    centres.push(Float64Array.from(points[pick]));
  }
  const assignment = new Array<number>(n).fill(-1);
  for (let it = 0; it < maxIterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = dist2(points[i], centres[c]);
        if (d < bestD - 1e-15) {
          bestD = d;
          bestC = c;
        }
      }
      if (assignment[i] !== bestC) {
        assignment[i] = bestC;
        changed = true;
      }
    }
    // Re-seed empty clusters with the point farthest from its centre.
    for (let c = 0; c < k; c++) {
      if (assignment.includes(c)) continue;
      let far = 0;
      let farD = -1;
      for (let i = 0; i < n; i++) {
        const d = dist2(points[i], centres[assignment[i]]);
        const sizeOfOwn = assignment.filter((a) => a === assignment[i]).length;
        if (sizeOfOwn > 1 && d > farD) {
          farD = d;
          far = i;
        }
      }
      assignment[far] = c;
      changed = true;
    }
    for (let c = 0; c < k; c++) {
      const centre = new Float64Array(dim);
      let count = 0;
      for (let i = 0; i < n; i++) {
        if (assignment[i] !== c) continue;
        count++;
        for (let j = 0; j < dim; j++) centre[j] += points[i][j];
      }
      for (let j = 0; j < dim; j++) centre[j] /= count;
      centres[c] = centre;
    }
    if (!changed) break;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += dist2(points[i], centres[assignment[i]]);
  return { assignment, inertia };
}

/**
 * Mean silhouette of a partition of the matrix's columns (Euclidean distances); singletons count 0
 * (Rousseeuw 1987).
 *
 * @example
 * ```ts
 * columnSilhouette(corr, [0, 0, 1, 1]);
 * ```
 */
export function columnSilhouette(
  matrix: readonly (readonly number[])[],
  assignment: readonly number[],
): number {
  checkSquareOrRect('columnSilhouette', matrix);
  const n = matrix[0].length;
  if (!Array.isArray(assignment) || assignment.length !== n) {
    throw new InvalidArgumentError(
      'columnSilhouette',
      'assignment',
      `an array of ${n} cluster indices`,
      assignment,
    );
  }
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let r = 0; r < matrix.length; r++) {
      const d = matrix[r][a] - matrix[r][b];
      s += d * d;
    }
    return Math.sqrt(s);
  };
  const labels = [...new Set(assignment)];
  if (labels.length < 2) return 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const own = assignment[i];
    const sizeOwn = assignment.filter((a) => a === own).length;
    if (sizeOwn === 1) continue;
    let a = 0;
    const other = new Map<number, { sum: number; count: number }>();
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = dist(i, j);
      if (assignment[j] === own) a += d;
      else {
        const e = other.get(assignment[j]) ?? { sum: 0, count: 0 };
        e.sum += d;
        e.count++;
        other.set(assignment[j], e);
      }
    }
    a /= sizeOwn - 1;
    let b = Infinity;
    for (const e of other.values()) b = Math.min(b, e.sum / e.count);
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return total / n;
}

/** Sum over pairs of distinct classes in a common cluster of (affinity - max(0, mean off-diagonal affinity)). */
function withinAffinity(affinity: number[][], assignment: readonly number[]): number {
  const n = affinity.length;
  let mean = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) mean += affinity[i][j];
  const baseline = Math.max(0, mean / (n * (n - 1)));
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      if (i !== j && assignment[i] === assignment[j]) s += affinity[i][j] - baseline;
  }
  return s / 2;
}

/** Mean normalised off-diagonal affinity within a cluster (see {@link ClassCluster.score}). */
function clusterScore(affinity: number[][], classes: number[]): number {
  if (classes.length < 2) return 0;
  let s = 0;
  for (const i of classes) for (const j of classes) if (i !== j) s += affinity[i][j];
  return s / (classes.length * (classes.length - 1));
}

/**
 * Finds groups of confusable classes from a generalist's predictions on held-out data (Hinton et al. 2015, section
 * 5.3): K-means on the columns of the covariance (or correlation) matrix of the predicted probabilities, or, with
 * `method: 'confusion'`, of the symmetrised confusion matrix. `k` is given or searched (see `selectBy`).
 *
 * @param probabilities row-major `[rows, numClasses]` predicted probabilities on held-out data
 * @example
 * ```ts
 * const p = await generalist.predict(xHeldOut).data();
 * const found = clusterClasses(p, 10, { k: { min: 2, max: 6 }, seed: 1 });
 * const confusable = found.clusters.filter((c) => c.classes.length > 1);
 * ```
 */
export function clusterClasses(
  probabilities: ArrayLike<number>,
  numClasses: number,
  options?: ClusterClassesOptions,
): ClassClustering {
  const fn = 'clusterClasses';
  const opts = checkOptions(fn, 'options', options);
  const rows = checkProbs(fn, probabilities, numClasses);
  const method = opts.method ?? 'covariance';
  checkOneOf(fn, 'options.method', method, ['covariance', 'confusion'] as const);
  const normalize = opts.normalize ?? 'correlation';
  checkOneOf(fn, 'options.normalize', normalize, ['none', 'correlation'] as const);
  const kOpt = opts.k ?? { min: 2, max: Math.max(2, Math.min(numClasses - 1, 10)) };
  let ks: number[];
  if (typeof kOpt === 'number') {
    checkInteger(fn, 'options.k', kOpt, 1, numClasses);
    ks = [kOpt];
  } else {
    if (typeof kOpt !== 'object' || kOpt === null) {
      throw new InvalidArgumentError(fn, 'options.k', 'an integer or { min, max }', kOpt);
    }
    checkInteger(fn, 'options.k.min', kOpt.min, 2, numClasses);
    checkInteger(fn, 'options.k.max', kOpt.max, kOpt.min, numClasses);
    ks = [];
    for (let k = kOpt.min; k <= kOpt.max; k++) ks.push(k);
  }
  if (method === 'confusion') checkLabels(fn, opts.labels, rows, numClasses);
  const selectBy = opts.selectBy ?? 'affinity';
  checkOneOf(fn, 'options.selectBy', selectBy, ['affinity', 'silhouette'] as const);
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);

  let matrix: number[][];
  let affinity: number[][];
  if (method === 'covariance') {
    const cov = predictionCovariance(probabilities, numClasses);
    const corr = covarianceToCorrelation(cov);
    matrix = normalize === 'correlation' ? corr : cov;
    affinity = corr;
  } else {
    affinity = confusionAffinity(probabilities, opts.labels!, numClasses);
    matrix = confusionFeatures(affinity);
  }

  const search: { k: number; silhouette: number; withinAffinity: number }[] = [];
  let best: { k: number; assignment: number[]; silhouette: number; withinAffinity: number } | undefined;
  for (const k of ks) {
    const { assignment } = kMeansColumns(matrix, k, {
      seed,
      restarts: opts.restarts,
      maxIterations: opts.maxIterations,
    });
    const entry = {
      k,
      silhouette: columnSilhouette(matrix, assignment),
      withinAffinity: withinAffinity(affinity, assignment),
    };
    search.push(entry);
    const key = (e: { silhouette: number; withinAffinity: number }) =>
      selectBy === 'affinity' ? e.withinAffinity : e.silhouette;
    if (best === undefined || key(entry) > key(best) + 1e-12) best = { ...entry, assignment };
  }
  const chosen = best!;
  const groups: number[][] = [];
  for (let c = 0; c < chosen.k; c++) groups.push([]);
  chosen.assignment.forEach((a, cls) => {
    groups[a].push(cls);
  });
  const clusters = groups
    .map((classes) => ({ classes, score: clusterScore(affinity, classes) }))
    .sort((a, b) => b.score - a.score || b.classes.length - a.classes.length || a.classes[0] - b.classes[0]);
  const assignment = new Array<number>(numClasses).fill(0);
  clusters.forEach((c, i) => {
    for (const cls of c.classes) assignment[cls] = i;
  });
  return {
    method,
    k: chosen.k,
    matrix,
    affinity,
    clusters,
    assignment,
    silhouette: chosen.silhouette,
    withinAffinity: chosen.withinAffinity,
    ...(ks.length > 1 ? { search } : {}),
  };
}

/** Options of `validateClusters`. */
export interface ValidateClustersOptions {
  /** Whether a class may belong to several clusters (several specialists may cover it). @default true */
  allowOverlap?: boolean;
}

/**
 * Checks class sets for specialists against the generalist's class count and returns copies IN THE GIVEN ORDER: a
 * specialist's output column `j` stands for `classes[j]` everywhere in the library, so the order is never changed.
 * Throws an {@link InvalidArgumentError} for an empty set, a class outside `[0, numClasses)`, a repeated class, a
 * set that covers every class (its dustbin would be empty) or, when `allowOverlap` is false, two sets that share a
 * class.
 *
 * @example
 * ```ts
 * validateClusters('myFn', [[3, 5, 8], [4, 9]], 10, { allowOverlap: false });
 * ```
 */
export function validateClusters(
  fn: string,
  clusters: readonly (readonly number[])[],
  numClasses: number,
  options: ValidateClustersOptions = {},
): number[][] {
  checkInteger(fn, 'numClasses', numClasses, 2);
  if (!Array.isArray(clusters) || clusters.length === 0) {
    throw new InvalidArgumentError(fn, 'clusters', 'a non-empty array of class-index arrays', clusters);
  }
  const owner = new Map<number, number>();
  return clusters.map((c, m) => {
    if (!Array.isArray(c) || c.length === 0) {
      throw new InvalidArgumentError(fn, `clusters[${m}]`, 'a non-empty array of class indices', c);
    }
    const seen = new Set<number>();
    for (const cls of c) {
      if (!Number.isInteger(cls) || cls < 0 || cls >= numClasses) {
        throw new InvalidArgumentError(
          fn,
          `clusters[${m}]`,
          `class indices in [0, ${numClasses - 1}] (the generalist has ${numClasses} classes)`,
          c,
        );
      }
      if (seen.has(cls)) {
        throw new InvalidArgumentError(fn, `clusters[${m}]`, `distinct class indices (${cls} repeats)`, c);
      }
      seen.add(cls);
      if (options.allowOverlap === false && owner.has(cls)) {
        throw new InvalidArgumentError(
          fn,
          `clusters[${m}]`,
          `clusters that do not overlap (class ${cls} is also in clusters[${owner.get(cls)}])`,
          c,
        );
      }
      owner.set(cls, m);
    }
    if (c.length >= numClasses) {
      throw new InvalidArgumentError(
        fn,
        `clusters[${m}]`,
        `fewer than ${numClasses} classes (a specialist needs at least one class for its dustbin)`,
        c,
      );
    }
    return [...c];
  });
}
