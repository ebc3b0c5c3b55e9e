import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runTransferExperimentInWorkers } from '../../src/node/pool.js';
import { closeWorkerPool, limiter, poolKey, sharedPoolState } from '../../src/node/pool-entry.js';
import { backendName } from '../helpers.js';
import { blobs } from '../transfer/models.js';
import { clearFailedMarker } from './pool-factory.js';

const factoryRef = {
  module: fileURLToPath(new URL('./pool-factory.ts', import.meta.url)),
  exportName: 'makeMlp',
};

afterAll(closeWorkerPool);

describe('limiter', () => {
  it('runs at most n jobs at a time, starting them in submission order', async () => {
    const slots = limiter(2);
    const started: number[] = [];
    const finish: (() => void)[] = [];
    let running = 0;
    let peak = 0;
    const jobs = [0, 1, 2, 3, 4].map((i) =>
      slots.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => finish.push(resolve));
        running--;
        return i * 10;
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toEqual([0, 1]);
    // End them out of order: the next queued job takes the freed slot.
    finish[1]();
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toEqual([0, 1, 2]);
    while (started.length < 5 || running > 0) {
      for (const f of finish.splice(0)) f();
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(await Promise.all(jobs)).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
  });

  it('frees the slot of a job that throws', async () => {
    const slots = limiter(1);
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.run(async () => 7)).toBe(7);
  });
});

describe('the shared worker pool', () => {
  it('keys the set-up by backend and kernels, in any order', () => {
    expect(poolKey('wasm', ['Slice', 'Sum'])).toBe(poolKey('wasm', ['Sum', 'Slice']));
    expect(poolKey('wasm', ['Sum'])).not.toBe(poolKey('cpu', ['Sum']));
  });

  // One run of the whole life cycle (threads start once per pool: ~seconds under tsx), on cpu only.
  it.runIf(backendName() === 'cpu')(
    'stays warm across calls (same threads), serves one call at a time, survives failed calls, and closes',
    async () => {
      const train = blobs(8, 4, 1);
      const test = blobs(4, 4, 2);
      const data = { train, test, classesA: [0, 1], classesB: [2, 3] };
      const call = (workers: number, exportName = factoryRef.exportName) =>
        runTransferExperimentInWorkers(data, {
          seeds: [3, 4],
          ns: [1],
          kinds: ['BnB' as const],
          training: { epochs: 1, batchSize: 8 },
          modelFactory: { module: factoryRef.module, exportName },
          workers,
        });
      const strip = (r: Awaited<ReturnType<typeof call>>) => r.runs.map(({ ms: _ms, ...rest }) => rest);
      const before = tf.memory().numTensors;
      clearFailedMarker();
      try {
        const first = await call(2);
        const state = sharedPoolState();
        expect(state).toMatchObject({ threads: 2, leased: false });
        expect(state?.key.startsWith('cpu|')).toBe(true);
        const ids = state?.threadIds ?? [];
        expect(ids.length).toBe(2);
        // A 1-worker call fits the warm 2-thread pool: no new thread, the same numbers.
        expect(strip(await call(1))).toEqual(strip(first));
        expect(sharedPoolState()?.threadIds).toEqual(ids);

        // A call whose tasks all fail rejects with the worker's error and leaves no lease behind.
        await expect(call(2, 'noSuchFactory')).rejects.toThrow(/noSuchFactory/);
        expect(sharedPoolState()?.leased ?? false).toBe(false);

        // One task fails while the other still runs: the call rejects with that failure (not with the ending of the
        // other's thread), and the pool the running task held is gone.
        await expect(call(2, 'failsOnSeed3')).rejects.toThrow('factory refuses seed 3');
        expect(sharedPoolState()).toBeUndefined();

        // Two calls at once: one takes the (new) shared pool, the other a private one; both get the same numbers.
        const [a, b] = await Promise.all([call(2), call(1)]);
        expect(strip(a)).toEqual(strip(first));
        expect(strip(b)).toEqual(strip(first));
        expect(sharedPoolState()).toMatchObject({ threads: 2, leased: false });
        expect(tf.memory().numTensors).toBe(before);

        await closeWorkerPool();
        expect(sharedPoolState()).toBeUndefined();
      } finally {
        clearFailedMarker();
        tf.dispose([train.x, test.x]);
      }
    },
  );
});
