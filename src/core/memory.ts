/**
 * Tensor ownership helpers. The rule (ARCHITECTURE.md): public functions return new tensors the caller owns,
 * never dispose their inputs, and free everything else inside the call, even when they throw.
 *
 * @module
 */

import type { Tensor, TensorContainer } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Wraps a synchronous tensor function the way tfjs-core's `op()` does: the body runs inside `tf.tidy`, so every
 * intermediate is freed when it returns or throws, and only the returned tensors survive. Argument checks go
 * before any tensor is allocated, in the body itself.
 *
 * @example
 * ```ts
 * export const squaredNorm = scoped('squaredNorm', (x: tf.Tensor) => tf.sum(tf.square(x)));
 * ```
 */
export function scoped<A extends unknown[], R extends TensorContainer>(
  name: string,
  body: (...args: A) => R,
): (...args: A) => R {
  const wrapped = (...args: A): R => tf.tidy(name, () => body(...args));
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped;
}

/**
 * Runs async tensor work with a tracker: every tensor passed to `track` is disposed when the work ends, by
 * returning or throwing; `release()` frees what was tracked so far earlier (between the stages of long work).
 * Tensors that are returned must not be tracked. The one ownership helper of async code: no hand-made lists.
 *
 * @example
 * ```ts
 * const mean = await withTracked(async (track) => {
 *   const s = track(tf.sum(x));
 *   return (await s.data())[0] / x.size;
 * });
 * ```
 */
export async function withTracked<T>(
  body: (track: <X extends Tensor | Tensor[]>(t: X) => X, release: () => void) => Promise<T>,
): Promise<T> {
  const tracked: Tensor[] = [];
  const track = <X extends Tensor | Tensor[]>(t: X): X => {
    if (Array.isArray(t)) tracked.push(...t);
    else tracked.push(t);
    return t;
  };
  const release = (): void => {
    for (const t of tracked.splice(0)) if (!t.isDisposed) t.dispose();
  };
  try {
    return await body(track, release);
  } finally {
    release();
  }
}

/** Disposes every tensor found in a (nested) container, skipping those already disposed. */
export function disposeAll(...containers: (TensorContainer | undefined | null)[]): void {
  for (const c of containers) {
    if (c === undefined || c === null) continue;
    tf.dispose(c);
  }
}

/** Reads a tensor's values asynchronously (never `dataSync`) and disposes the tensor. */
export async function readAndDispose<T extends Tensor>(
  t: T,
): Promise<Float32Array | Int32Array | Uint8Array> {
  try {
    return (await t.data()) as Float32Array | Int32Array | Uint8Array;
  } finally {
    t.dispose();
  }
}

/** Reads a tensor's values as a Float32Array asynchronously and disposes the tensor. */
export async function readFloat32AndDispose(t: Tensor): Promise<Float32Array> {
  const v = await readAndDispose(t);
  return v instanceof Float32Array ? v : Float32Array.from(v);
}
