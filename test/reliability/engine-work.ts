/**
 * Counts the work the tfjs engine does during a call: kernels run (every op goes through `engine.runKernel`) and
 * tensors made from data (`engine.makeTensor`: tf.tensor, tf.zeros...). A bad-input call that validates first
 * does neither; one that allocates and then throws does, even if it disposes what it made (so `numTensors` alone
 * would not see it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** What a call did in the engine, and how it ended. */
export interface EngineWork {
  kernels: string[];
  madeTensors: number;
  newTensors: number;
  newBytes: number;
  error: unknown;
  threw: boolean;
}

/** Runs `fn` (sync or async) with the engine instrumented; never throws (the error is returned). */
export async function engineWork(fn: () => unknown): Promise<EngineWork> {
  const engine = tf.engine() as unknown as {
    runKernel: (name: string, ...rest: unknown[]) => unknown;
    makeTensor: (...args: unknown[]) => unknown;
  };
  const runKernel = engine.runKernel;
  const makeTensor = engine.makeTensor;
  const kernels: string[] = [];
  let madeTensors = 0;
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
    kernels.push(name);
    return runKernel.call(this, name, ...rest);
  };
  engine.makeTensor = function (this: unknown, ...args: unknown[]) {
    madeTensors++;
    return makeTensor.apply(this, args);
  };
  const before = tf.memory();
  let error: unknown;
  let threw = false;
  try {
    const out = await fn();
    tf.dispose(out as tf.TensorContainer);
  } catch (e) {
    error = e;
    threw = true;
  } finally {
    engine.runKernel = runKernel;
    engine.makeTensor = makeTensor;
  }
  const after = tf.memory();
  return {
    kernels,
    madeTensors,
    newTensors: after.numTensors - before.numTensors,
    newBytes: after.numBytes - before.numBytes,
    error,
    threw,
  };
}

/**
 * Asserts that `fn` throws an error of `errorClass` (message matching `message`) before the engine ran any kernel
 * or made any tensor, and left tf.memory() as it found it.
 */
export async function expectThrowsBeforeAllocating(
  fn: () => unknown,
  errorClass: new (...args: any[]) => Error,
  message?: RegExp,
): Promise<void> {
  const w = await engineWork(fn);
  expect(w.error, 'expected an error').toBeInstanceOf(errorClass);
  if (message) expect((w.error as Error).message).toMatch(message);
  expect(w.kernels, 'kernels run before the error').toEqual([]);
  expect(w.madeTensors, 'tensors made before the error').toBe(0);
  expect(w.newTensors, 'tensors left after the error').toBe(0);
  expect(w.newBytes, 'bytes left after the error').toBe(0);
}
