import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runTransferExperimentInWorkers } from '../../src/node/pool.js';
import { closeWorkerPool, limiter, poolKey, sharedPoolState } from '../../src/node/pool-entry.js';
import { backendName } from '../helpers.js';
import { blobs } from '../transfer/models.js';

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

  // One run of the whole life cycle (threads start once per test file: ~seconds under tsx), on cpu only.
  it.runIf(backendName() === 'cpu')(
    'stays warm across calls (same threads), survives a failed call, and closes',
    async () => {
      const train = blobs(8, 4, 1);
      const test = blobs(4, 4, 2);
      const data = { train, test, classesA: [0, 1], classesB: [2, 3] };
      const common = {
        seeds: [3, 4],
        ns: [1],
        kinds: ['BnB' as const],
        training: { epochs: 1, batchSize: 8 },
      };
      const before = tf.memory().numTensors;
      const first = await runTransferExperimentInWorkers(data, {
        ...common,
        modelFactory: factoryRef,
        workers: 2,
      });
      const state = sharedPoolState();
      expect(state).toMatchObject({ threads: 2, leases: 0 });
      expect(state?.key.startsWith('cpu|')).toBe(true);
      const ids = state?.threadIds ?? [];
      expect(ids.length).toBe(2);
      // A 1-worker call fits the warm 2-thread pool: no new thread, the same numbers.
      const second = await runTransferExperimentInWorkers(data, {
        ...common,
        modelFactory: factoryRef,
        workers: 1,
      });
      expect(sharedPoolState()?.threadIds).toEqual(ids);
      const strip = (r: typeof first) => r.runs.map(({ ms: _ms, ...rest }) => rest);
      expect(strip(second)).toEqual(strip(first));
      // A failing call rejects with the worker's error and leaves the pool usable.
      await expect(
        runTransferExperimentInWorkers(data, {
          ...common,
          modelFactory: { module: factoryRef.module, exportName: 'noSuchFactory' },
          workers: 2,
        }),
      ).rejects.toThrow(/noSuchFactory/);
      expect(sharedPoolState()?.leases).toBe(0);
      const third = await runTransferExperimentInWorkers(data, {
        ...common,
        modelFactory: factoryRef,
        workers: 2,
      });
      expect(strip(third)).toEqual(strip(first));
      expect(tf.memory().numTensors).toBe(before);
      await closeWorkerPool();
      expect(sharedPoolState()).toBeUndefined();
      tf.dispose([train.x, test.x]);
    },
  );
});
