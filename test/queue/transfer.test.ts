/**
 * A TransferExperiment grid on transferkit/queue against a real redis-server: one job per network, two workers (in
 * this process, so that a treatment job often lands on the worker that does not hold its base and must retrain it),
 * resumed from a partial results file; the merged results equal the sequential `TransferExperiment.run()` run for
 * run (`ms` aside). cpu project only, like the other queue tests.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { enqueueCommand } from '../../src/cli/queue.js';
import {
  InvalidArgumentError,
  TransferExperiment,
  type TransferResults,
  zeilerFergusCnn,
} from '../../src/index.js';
import { loadMnist } from '../../src/node.js';
import { planTransferGrid } from '../../src/queue/transfer-grid.js';
import {
  enqueueTransferGrid,
  followTransferGrid,
  runWorker,
  type TransferGridSpec,
} from '../../src/queue.js';
import { backendName } from '../helpers.js';
import { hasRedisServer, startRedis, type TestRedis } from './redis.js';

/** Redis answers slowly on a loaded machine: a generous connect timeout (the fail-fast case is tested in queue.test.ts). */
const SLOW = 15_000;
const runHere = backendName() === 'cpu' && (hasRedisServer() || process.env.CI === 'true');

const arch = {
  inputShape: [28, 28, 1] as [number, number, number],
  filters: [2, 3],
  kernelSizes: [5, 3],
  hidden: [6],
};
const grid: TransferGridSpec = {
  data: { source: 'mnist', seed: 3, testFraction: 0.25, limitPerClass: 8 },
  model: { zoo: 'zeilerFergusCnn', options: arch },
  classesA: [0, 1, 2],
  classesB: [5, 6, 7],
  ns: [1, 3],
  seeds: [1, 2],
  training: { epochs: 1, batchSize: 8, learningRate: 0.02, optimizer: 'adam' },
};
const strip = (r: TransferResults) => ({ ...r, runs: r.runs.map(({ ms: _ms, ...rest }) => rest) });

describe.runIf(runHere)('a TransferExperiment grid on transferkit/queue (real redis-server)', () => {
  let redis: TestRedis;
  let dir = '';
  let sequential: TransferResults;

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tk-grid-'));
    // The sequential reference, on the data the jobs load (the same seeded stratified split of the digits).
    const mnist = await loadMnist({ seed: 3, testFraction: 0.25, limitPerClass: 8 });
    try {
      sequential = await new TransferExperiment(
        {
          train: { x: mnist.train.x, labels: mnist.train.labels },
          test: { x: mnist.test.x, labels: mnist.test.labels },
          classesA: grid.classesA,
          classesB: grid.classesB,
        },
        {
          modelFactory: (numClasses, seed) => zeilerFergusCnn({ ...arch, numClasses, seed }),
          ns: grid.ns,
          seeds: grid.seeds,
          training: grid.training,
        },
      ).run();
    } finally {
      mnist.dispose();
    }
  });

  afterAll(async () => {
    await redis?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('one job per network, 2 workers, resumed from seed 1: the sequential numbers, run for run', async () => {
    expect(planTransferGrid(grid)).toHaveLength(2 * (2 + 2 * 4));
    // Seed 1's networks come from an earlier (sequential) run: only seed 2's 10 networks are enqueued.
    const resume = { ...sequential, runs: sequential.runs.filter((r) => r.seed === 1) };
    const before = tf.memory().numTensors;
    const workers = [
      await runWorker({ connection: redis.url, queue: 'grid', connectTimeoutMs: SLOW }),
      await runWorker({ connection: redis.url, queue: 'grid', connectTimeoutMs: SLOW }),
    ];
    const out = path.join(dir, 'grid.json');
    try {
      const run = await enqueueTransferGrid({
        connection: redis.url,
        queue: 'grid',
        grid,
        resume,
        connectTimeoutMs: SLOW,
      });
      expect(run.runs.map((r) => r.seed)).toEqual(Array(10).fill(2));
      const again = await enqueueTransferGrid({
        connection: redis.url,
        queue: 'grid',
        grid,
        resume,
        connectTimeoutMs: SLOW,
      });
      expect(again.jobIds).toEqual(run.jobIds); // same ids: nothing added twice
      const seen: number[] = [];
      const { results, summary } = await followTransferGrid({
        connection: redis.url,
        connectTimeoutMs: SLOW,
        run,
        out,
        timeoutMs: 120_000,
        onProgress: (p) => seen.push(p.finished),
      });
      expect(summary.failed).toEqual([]);
      expect(summary.completed).toBe(10);
      expect(strip(results)).toEqual(strip(sequential));
      expect(strip(JSON.parse(await readFile(out, 'utf8')) as TransferResults)).toEqual(strip(sequential));
      expect(seen.at(-1)).toBe(10);
      // Both workers took jobs; each seed's base was trained at most once per worker.
      expect(workers.map((w) => w.completed).sort()).not.toContain(0);
      expect(workers.reduce((s, w) => s + w.basesTrained, 0)).toBeLessThanOrEqual(4);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    await new Promise((r) => setTimeout(r, 50)); // disposals queued on settled promises
    expect(tf.memory().numTensors).toBe(before);
  });

  it('CLI: enqueue transfer --wait resumes from its --out file; bad grids fail before anything is enqueued', async () => {
    const out = path.join(dir, 'cli.json');
    // The file holds everything but seed 2's AnB+ networks: the CLI enqueues just those 2.
    await writeFile(
      out,
      JSON.stringify({
        ...sequential,
        runs: sequential.runs.filter((r) => !(r.seed === 2 && r.kind === 'AnB+')),
      }),
    );
    const worker = await runWorker({ connection: redis.url, queue: 'cli', connectTimeoutMs: SLOW });
    const lines: string[] = [];
    const spyOut = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      lines.push(String(s));
      return true;
    });
    const spyErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await enqueueCommand().parseAsync(
        [
          'transfer',
          '--redis',
          redis.url,
          '--queue',
          'cli',
          '--data-seed',
          '3',
          '--per-class',
          '8',
          '--arch',
          JSON.stringify(arch),
          '--classes-a',
          '0,1,2',
          '--classes-b',
          '5,6,7',
          '--ns',
          '1,3',
          '--seeds',
          '1,2',
          '--batch-size',
          '8',
          '--learning-rate',
          '0.02',
          '--out',
          out,
          '--wait',
        ],
        { from: 'user' },
      );
    } finally {
      spyOut.mockRestore();
      spyErr.mockRestore();
      await worker.close();
    }
    const text = lines.join('');
    expect(text).toMatch(/2 networks on queue cli \(18 already in/);
    expect(text).toMatch(/2\/2 jobs completed, 0 failed; 20 networks/);
    expect(strip(JSON.parse(await readFile(out, 'utf8')) as TransferResults)).toEqual(strip(sequential));

    const bad = path.join(dir, 'never.json');
    await expect(
      enqueueTransferGrid({ connection: redis.url, grid: { ...grid, classesB: [2, 5] } }),
    ).rejects.toThrow(/classesB.*enqueueTransferGrid/);
    await expect(
      enqueueTransferGrid({ connection: redis.url, grid: { ...grid, data: { source: 'idx', seed: 0 } } }),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(
      enqueueTransferGrid({ connection: redis.url, grid, resume: { ...sequential, classesA: [0, 1] } }),
    ).rejects.toThrow(/options\.resume/);
    expect(existsSync(bad)).toBe(false);
  });
});
