/**
 * 'transferkit/node' as the docs' blocks see it when they RUN in the test: the real module, except that
 * `initBackend()` with no name (auto) keeps the backend of the vitest project instead of switching to the fastest
 * installed one. A block that names a backend gets that backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend as realInitBackend } from '../../src/node.js';

export * from '../../src/node.js';

/** {@link realInitBackend}, with 'auto' meaning the test's current backend. */
export async function initBackend(...args: Parameters<typeof realInitBackend>): Promise<string> {
  const [name, options] = args;
  return realInitBackend(name === undefined || name === 'auto' ? tf.getBackend() : name, options);
}
