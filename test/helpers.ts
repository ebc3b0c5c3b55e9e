/** Test helpers shared by every suite. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** The backend this vitest project runs on (`'cpu'` or `'wasm'`). */
export function backendName(): string {
  return tf.getBackend();
}

/**
 * Asserts that `fn` leaves `tf.memory().numTensors` as it found it, apart from the tensors it returns (which are
 * disposed here). Runs `fn` once to warm up (kernels, lazily created variables), then measures a second run.
 */
export async function expectNoLeak<T>(
  fn: () => T | Promise<T>,
  opts: { warmUp?: boolean } = {},
): Promise<void> {
  if (opts.warmUp ?? true) tf.dispose((await fn()) as tf.TensorContainer);
  const before = tf.memory().numTensors;
  const out = await fn();
  tf.dispose(out as tf.TensorContainer);
  expect(tf.memory().numTensors, 'tensors left after the call').toBe(before);
}

/**
 * Asserts that `fn` throws (or rejects with) an error of class `errorClass` whose message matches `message`,
 * and that the failed call leaked no tensor.
 */
export async function expectThrowsNoLeak(
  fn: () => unknown,
  errorClass: new (...args: any[]) => Error,
  message?: RegExp | string,
): Promise<void> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(errorClass);
  if (message !== undefined) expect((caught as Error).message).toMatch(message);
  expect(tf.memory().numTensors, 'tensors left after the failed call').toBe(before);
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise; prints the worst element. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 0,
): void {
  expect(actual.length, 'length').toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - rtol * Math.abs(expected[i]);
    if (!(err <= atol) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (|diff| ${Math.abs(actual[worst] - expected[worst])} > atol ${atol} + rtol ${rtol})`,
    );
  }
}

/** Reads a tensor's values (test code may read synchronously, library code may not). */
export async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}
