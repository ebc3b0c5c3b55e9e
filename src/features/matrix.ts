/**
 * {@link FeatureMatrix}: extracted features as a plain row-major Float32Array matrix, convertible to a tensor or an
 * ml-matrix `Matrix`. This is the currency between the extractor, the classifiers and the feature files.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { checkInteger, checkTensor } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';

/**
 * A `rows x cols` matrix of features (one row per example), row-major in a Float32Array. Owns no tensor.
 *
 * @example
 * ```ts
 * const fm = new FeatureMatrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6]), 'fc1');
 * const t = fm.toTensor(); // tf.Tensor2D [2, 3], yours to dispose
 * const m = fm.toMatrix(); // ml-matrix Matrix
 * ```
 */
export class FeatureMatrix {
  /** Number of examples. */
  readonly rows: number;
  /** Feature dimension. */
  readonly cols: number;
  /** Values, row-major: element (i, j) is `data[i * cols + j]`. */
  readonly data: Float32Array;
  /** Name of the tap the features came from (free text for features built by hand). */
  readonly name: string;

  constructor(rows: number, cols: number, data: Float32Array, name = 'features') {
    checkInteger('FeatureMatrix', 'rows', rows, 0);
    checkInteger('FeatureMatrix', 'cols', cols, 1);
    if (!(data instanceof Float32Array) || data.length !== rows * cols) {
      throw new InvalidArgumentError(
        'FeatureMatrix',
        'data',
        `a Float32Array of length rows * cols = ${rows * cols}`,
        data,
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data;
    this.name = name;
  }

  /** Reads a rank-2 tensor into a FeatureMatrix (asynchronously; the tensor is not disposed). */
  static async fromTensor(t: tf.Tensor, name = 'features'): Promise<FeatureMatrix> {
    checkTensor('FeatureMatrix.fromTensor', 't', t, { rank: 2 });
    const v = await t.data();
    const data = v instanceof Float32Array ? v.slice() : Float32Array.from(v as ArrayLike<number>);
    return new FeatureMatrix(t.shape[0] as number, t.shape[1] as number, data, name);
  }

  /** Builds a FeatureMatrix from an ml-matrix `Matrix` or an array of equal-length rows. */
  static fromRows(rows: Matrix | ArrayLike<ArrayLike<number>>, name = 'features'): FeatureMatrix {
    const arr = Matrix.isMatrix(rows)
      ? (rows as Matrix).to2DArray()
      : Array.from(rows as ArrayLike<ArrayLike<number>>);
    if (arr.length === 0)
      throw new InvalidArgumentError('FeatureMatrix.fromRows', 'rows', 'at least one row', arr);
    const cols = arr[0].length;
    const data = new Float32Array(arr.length * cols);
    arr.forEach((r, i) => {
      if (r.length !== cols) {
        throw new ShapeMismatchError('FeatureMatrix.fromRows', `rows[${i}]`, `a row of length ${cols}`, [
          r.length,
        ]);
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = r[j];
    });
    return new FeatureMatrix(arr.length, cols, data, name);
  }

  /** A new `[rows, cols]` float32 tensor (the caller owns it). */
  toTensor(): tf.Tensor2D {
    return tf.tensor2d(this.data, [this.rows, this.cols], 'float32');
  }

  /** A new ml-matrix `Matrix` (float64 copy). */
  toMatrix(): Matrix {
    return Matrix.from1DArray(this.rows, this.cols, this.data);
  }

  /** The rows as plain arrays (what ml-svm and most JS libraries take). */
  toArrays(): number[][] {
    const out: number[][] = new Array(this.rows);
    for (let i = 0; i < this.rows; i++)
      out[i] = Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols));
    return out;
  }

  /** Row `i` as a view (no copy). */
  row(i: number): Float32Array {
    checkInteger('FeatureMatrix.row', 'i', i, 0, this.rows - 1);
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  /** A new matrix with the rows at `indices`, in that order. */
  select(indices: ArrayLike<number>): FeatureMatrix {
    const out = new Float32Array(indices.length * this.cols);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= this.rows) {
        throw new InvalidArgumentError(
          'FeatureMatrix.select',
          `indices[${k}]`,
          `an integer in [0, ${this.rows - 1}]`,
          i,
        );
      }
      out.set(this.data.subarray(i * this.cols, (i + 1) * this.cols), k * this.cols);
    }
    return new FeatureMatrix(indices.length, this.cols, out, this.name);
  }

  /** Side-by-side concatenation of matrices with the same number of rows (e.g. several taps). */
  static concatColumns(parts: readonly FeatureMatrix[], name?: string): FeatureMatrix {
    if (parts.length === 0)
      throw new InvalidArgumentError('FeatureMatrix.concatColumns', 'parts', 'a non-empty array', parts);
    const rows = parts[0].rows;
    for (const [k, p] of parts.entries()) {
      if (p.rows !== rows) {
        throw new ShapeMismatchError('FeatureMatrix.concatColumns', `parts[${k}]`, `${rows} rows`, [
          p.rows,
          p.cols,
        ]);
      }
    }
    const cols = parts.reduce((s, p) => s + p.cols, 0);
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      let off = i * cols;
      for (const p of parts) {
        out.set(p.data.subarray(i * p.cols, (i + 1) * p.cols), off);
        off += p.cols;
      }
    }
    return new FeatureMatrix(rows, cols, out, name ?? parts.map((p) => p.name).join('+'));
  }
}

/**
 * Anything the classifiers accept as features: a FeatureMatrix, a rank-2 tensor, an ml-matrix or plain rows.
 *
 * @example
 * ```ts
 * const x: FeatureInput = [[0.1, 0.2], [0.3, 0.4]]; // or a FeatureMatrix, a Tensor2D, an ml-matrix Matrix
 * ```
 */
export type FeatureInput = FeatureMatrix | tf.Tensor2D | Matrix | ArrayLike<ArrayLike<number>>;
