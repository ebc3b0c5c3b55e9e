/**
 * Seeded K-means on the columns of an affinity matrix and the silhouette of an assignment: the clustering step of
 * Hinton et al. (2015, section 5.3). Plain TypeScript.
 *
 * @module
 */
import { checkInteger } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

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

export function checkSquareOrRect(fn: string, m: unknown): asserts m is number[][] {
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

export function dist2(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

export function lloyd(points: Float64Array[], k: number, rng: Rng, maxIterations: number): KMeansResult {
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
