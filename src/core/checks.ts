/**
 * Argument checks. Each one throws an {@link InvalidArgumentError} (or {@link ShapeMismatchError}) that names the
 * function, the argument, what was expected and what was received; none of them allocates a tensor, so public
 * functions call them first.
 *
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';
import { closeNames, editDistance } from './names.js';

/** Is `v` a live tfjs tensor (duck-typed so that two copies of tfjs-core in one bundle still agree)? */
export function isTensor(v: unknown): v is Tensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as Tensor).shape) &&
    typeof (v as Tensor).dtype === 'string' &&
    typeof (v as Tensor).dataId === 'object'
  );
}

/** Throws unless `v` is a finite number. */
export function checkNumber(fn: string, argument: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidArgumentError(fn, argument, 'a finite number', v);
  }
}

/** Throws unless `v` is a finite number strictly greater than `min` (default 0). */
export function checkPositive(fn: string, argument: string, v: unknown, min = 0): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= min) {
    throw new InvalidArgumentError(fn, argument, `a finite number > ${min}`, v);
  }
}

/** Throws unless `lo <= v <= hi` (both inclusive unless `open` says otherwise). */
export function checkInRange(
  fn: string,
  argument: string,
  v: unknown,
  lo: number,
  hi: number,
  open: { lo?: boolean; hi?: boolean } = {},
): asserts v is number {
  const okLo = typeof v === 'number' && (open.lo ? v > lo : v >= lo);
  const okHi = typeof v === 'number' && (open.hi ? v < hi : v <= hi);
  if (typeof v !== 'number' || !Number.isFinite(v) || !okLo || !okHi) {
    const l = open.lo ? '(' : '[';
    const r = open.hi ? ')' : ']';
    throw new InvalidArgumentError(fn, argument, `a number in ${l}${lo}, ${hi}${r}`, v);
  }
}

/** Throws unless `v` is an integer with `min <= v` (and `v <= max` when given). */
export function checkInteger(
  fn: string,
  argument: string,
  v: unknown,
  min = -Infinity,
  max = Infinity,
): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    let range = '';
    if (Number.isFinite(min) && Number.isFinite(max)) range = ` in [${min}, ${max}]`;
    else if (Number.isFinite(min)) range = ` >= ${min}`;
    else if (Number.isFinite(max)) range = ` <= ${max}`;
    throw new InvalidArgumentError(fn, argument, `an integer${range}`, v);
  }
}

/** Throws unless `v` is one of `allowed`. */
export function checkOneOf<T extends string | number | boolean>(
  fn: string,
  argument: string,
  v: unknown,
  allowed: readonly T[],
): asserts v is T {
  if (!allowed.includes(v as T)) {
    throw new InvalidArgumentError(
      fn,
      argument,
      `one of {${allowed.map((a) => JSON.stringify(a)).join(', ')}}`,
      v,
    );
  }
}

/** Throws unless `v` is a non-empty array. */
export function checkNonEmptyArray<T = unknown>(fn: string, argument: string, v: unknown): asserts v is T[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new InvalidArgumentError(fn, argument, 'a non-empty array', v);
  }
}

/**
 * Throws unless `v` is a live tensor; optionally of the given rank(s) and dtype(s).
 *
 * @example
 * ```ts
 * checkTensor('distillationLoss', 'studentLogits', logits, { rank: 2 });
 * ```
 */
export function checkTensor(
  fn: string,
  argument: string,
  v: unknown,
  opts: { rank?: number | readonly number[]; dtype?: string | readonly string[] } = {},
): asserts v is Tensor {
  if (!isTensor(v)) {
    throw new InvalidArgumentError(fn, argument, 'a tf.Tensor', v);
  }
  if (v.isDisposed) {
    throw new InvalidArgumentError(fn, argument, 'a tensor that is not disposed', v);
  }
  if (opts.rank !== undefined) {
    const ranks = typeof opts.rank === 'number' ? [opts.rank] : opts.rank;
    if (!ranks.includes(v.rank)) {
      throw new ShapeMismatchError(
        fn,
        argument,
        `a tensor of rank ${ranks.join(' or ')}`,
        `rank ${v.rank}, shape [${v.shape.join(', ')}]`,
      );
    }
  }
  if (opts.dtype !== undefined) {
    const dtypes = typeof opts.dtype === 'string' ? [opts.dtype] : opts.dtype;
    if (!dtypes.includes(v.dtype)) {
      throw new InvalidArgumentError(fn, argument, `a tensor of dtype ${dtypes.join(' or ')}`, v);
    }
  }
}

/**
 * Throws unless `shape` matches `expected`, where `null` in `expected` matches any size.
 *
 * @example
 * ```ts
 * checkShape('predict', 'images', x.shape, [null, 28, 28, 1]);
 * ```
 */
export function checkShape(
  fn: string,
  argument: string,
  shape: readonly number[],
  expected: readonly (number | null)[],
): void {
  const ok = shape.length === expected.length && expected.every((e, i) => e === null || e === shape[i]);
  if (!ok) {
    throw new ShapeMismatchError(
      fn,
      argument,
      `shape [${expected.map((e) => (e === null ? '*' : e)).join(', ')}]`,
      [...shape],
    );
  }
}

/** Throws unless the NHWC image batch `x` is rank 4 (and has `channels` channels when given). */
export function checkImageBatch(
  fn: string,
  argument: string,
  x: unknown,
  channels?: number,
): asserts x is Tensor {
  checkTensor(fn, argument, x, { rank: 4 });
  if (channels !== undefined && x.shape[3] !== channels) {
    throw new ShapeMismatchError(fn, argument, `an NHWC image batch with ${channels} channel(s)`, x.shape);
  }
}

/** Throws unless `v` is a plain object (or undefined, when `optional`). Returns `{}` for undefined. */
export function checkOptions<T extends object>(fn: string, argument: string, v: T | undefined): T {
  if (v === undefined) return {} as T;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InvalidArgumentError(fn, argument, 'an options object', v);
  }
  return v;
}

/**
 * The known keys of an options interface `T`, listed once as `{ key: true, ... }`: the compiler rejects a missing key
 * and an unknown one, so a new option cannot be forgotten by {@link checkOptionKeys}.
 *
 * @example
 * ```ts
 * const POOL_KEYS = knownKeys<{ size?: number; stride?: number }>({ size: true, stride: true }); // ['size', 'stride']
 * ```
 */
export function knownKeys<T extends object>(
  keys: { readonly [K in keyof Required<T>]: true },
): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * Throws unless every own key of the options object `options` is one of `known`; the error names the unknown key
 * and suggests the closest known key by edit distance. `undefined` and non-objects pass (other checks reject them).
 *
 * @example
 * ```ts
 * checkOptionKeys('FeatureExtractor', 'options', { taps: 'fc1', pol: 'avg' }, ['taps', 'pool', 'normalize']);
 * // Invalid `options.pol` passed to `FeatureExtractor`. Expected a known option (did you mean `pool`?) ...
 * ```
 */
export function checkOptionKeys(
  fn: string,
  argument: string,
  options: unknown,
  known: readonly string[],
): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const [close] = closeNames(key, known, 1);
    const hint =
      close !== undefined &&
      editDistance(key.toLowerCase(), close.toLowerCase()) <= Math.max(2, key.length / 2)
        ? ` (did you mean \`${close}\`?)`
        : '';
    throw new InvalidArgumentError(
      fn,
      `${argument}.${key}`,
      `a known option${hint}; known options: ${known.map((k) => `\`${k}\``).join(', ')}`,
      (options as Record<string, unknown>)[key],
    );
  }
}

/**
 * Reads class indices (a rank-1 tensor, without allocating one) and throws unless each is an integer in
 * `[0, numClasses - 1]`, naming the first that is not. Async because it reads the tensor with `await data()`.
 *
 * @example
 * ```ts
 * await checkClassIndices('trainClassifier', 'y', labels, 10);
 * ```
 */
export async function checkClassIndices(
  fn: string,
  argument: string,
  labels: Tensor,
  numClasses: number,
): Promise<void> {
  const values = await labels.data();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new InvalidArgumentError(fn, `${argument}[${i}]`, `a class index in [0, ${numClasses - 1}]`, v);
    }
  }
}
