/**
 * Confusable-class clustering (Hinton, Vinyals & Dean 2015, section 5.3): classes that a generalist often predicts
 * together are found by clustering the columns of the covariance matrix of its predicted probabilities on held-out
 * data. A confusion-matrix variant clusters the columns of the symmetrised, row-normalised confusion matrix instead.
 *
 * Plain TypeScript over numbers: no tensor is allocated here, so everything is testable without tfjs.
 *
 * @module
 */
import { checkInteger, checkOneOf, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import {
  checkLabels,
  checkProbs,
  confusionAffinity,
  confusionFeatures,
  covarianceToCorrelation,
  predictionCovariance,
} from './affinity.js';
import { columnSilhouette, kMeansColumns } from './kmeans.js';

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

/** The known keys of {@link ClusterClassesOptions}. */
const CLUSTER_CLASSES_OPTION_KEYS = knownKeys<ClusterClassesOptions>({
  k: true,
  selectBy: true,
  method: true,
  normalize: true,
  labels: true,
  seed: true,
  restarts: true,
  maxIterations: true,
});

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
  checkOptionKeys(fn, 'options', opts, CLUSTER_CLASSES_OPTION_KEYS);
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
