/**
 * The thread pool behind transferkit's worker runs (tinypool): the worker entry (the built .js, or the .ts source
 * through tsx under vitest/tsx), and labelled data as plain arrays for the thread boundary.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import Tinypool from 'tinypool';
import { InvalidArgumentError, type LabeledData } from '../index.js';
import type { PlainLabeledData } from './pool-worker.js';

/**
 * The worker entries made so far, by the module that asked: the built .js, or, when the caller runs as TypeScript
 * source (tsx, vitest), a small ES module in the temp folder that registers tsx in the worker thread and re-exports
 * the .ts worker (worker threads do not inherit the parent's loader hooks).
 */
const entries = new Map<string, string>();

function workerEntry(): string {
  return workerEntryFor(import.meta.url, './pool-worker.js', './pool-worker.ts');
}

/**
 * The file a tinypool worker thread loads: `built` (relative to `here`, the caller's `import.meta.url`) when the
 * caller is built JavaScript; `source` (a .ts next to the caller) through a tsx-registering shim otherwise.
 */
export function workerEntryFor(here: string, built: string, source: string): string {
  const key = `${here}\u0000${built}\u0000${source}`;
  let file = entries.get(key);
  if (file === undefined) {
    file = makeWorkerEntry(here, built, source);
    entries.set(key, file);
  }
  return file;
}

function makeWorkerEntry(here: string, built: string, source: string): string {
  if (!here.endsWith('.ts')) return fileURLToPath(new URL(built, here));
  // tsx's ES-module API (require.resolve finds its CommonJS twin next to it).
  const tsxApi = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const worker = new URL(source, here).href;
  const name = path.basename(source).replace(/\.ts$/, '');
  const file = path.join(os.tmpdir(), `transferkit-${name}-${process.pid}.mjs`);
  writeFileSync(
    file,
    `const { register } = await import(${JSON.stringify(tsxApi)});\nregister();\n` +
      `const m = await import(${JSON.stringify(worker)});\nexport default m.default;\n`,
  );
  return file;
}

/** Labelled data as plain arrays (what crosses the thread boundary). */
export async function plain(fn: string, name: string, d: LabeledData): Promise<PlainLabeledData> {
  if (d === null || typeof d !== 'object' || !(d.x instanceof tf.Tensor)) {
    throw new InvalidArgumentError(fn, name, '{ x: Tensor, labels }', d);
  }
  const labels =
    d.labels instanceof tf.Tensor ? Int32Array.from(await d.labels.data()) : Int32Array.from(d.labels);
  return { x: Float32Array.from(await d.x.data()), shape: [...d.x.shape], labels };
}

/** A pool of `threads` worker threads running pool-worker's tasks; the caller destroys it. */
export function openPool(threads: number): Tinypool {
  return new Tinypool({ filename: workerEntry(), minThreads: 1, maxThreads: threads, isolateWorkers: false });
}
