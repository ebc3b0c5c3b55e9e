import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type ProgressEvent } from '../../src/index.js';
import {
  randomClassSplit,
  selectClasses,
  summarizeTransfer,
  TransferExperiment,
  type TransferResults,
  transferTable,
} from '../../src/transfer/index.js';
import { expectThrowsNoLeak } from '../helpers.js';
import { blobs } from './models.js';

const factory = (classes: number, seed: number) =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 8,
        inputShape: [4],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: 8,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
      tfl.layers.dense({
        units: classes,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
      }),
    ],
  });

describe('selectClasses / randomClassSplit', () => {
  it('selects the examples of some classes and relabels them by position', async () => {
    const x = tf.tensor2d([[0], [1], [2], [3], [4], [5]]);
    const s = await selectClasses({ x, labels: [3, 1, 4, 1, 5, 9] }, [1, 5]);
    expect(Array.from(await s.x.data())).toEqual([1, 3, 4]);
    expect(Array.from(s.labels)).toEqual([0, 0, 1]);
    s.x.dispose();
    x.dispose();
    const split = randomClassSplit(10, 3);
    expect([...split.a, ...split.b].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(split.a).toHaveLength(5);
    expect(randomClassSplit(10, 3)).toEqual(split);
  });
});

describe('TransferExperiment', () => {
  it('runs baseA, baseB and AnB, BnB, AnB+, BnB+ for every n and seed; resumes; summarises', async () => {
    const train = blobs(20, 6, 1);
    const test = blobs(10, 6, 1);
    const data = { train, test, classesA: [0, 1, 2], classesB: [3, 4, 5] };
    const options = {
      modelFactory: factory,
      seeds: [1, 2],
      training: { epochs: 2, batchSize: 20, learningRate: 0.08 },
    };
    const before = tf.memory().numTensors;
    const events: ProgressEvent[] = [];
    const full = await new TransferExperiment(data, {
      ...options,
      onProgress: (e) => {
        if (e.phase === 'transfer') events.push(e);
      },
    }).run();
    expect(tf.memory().numTensors).toBe(before);
    expect(full.stages).toBe(3);
    expect(full.ns).toEqual([1, 2]);
    expect(full.runs).toHaveLength(2 * (2 + 2 * 4));
    for (const r of full.runs) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
    }
    // Blobs are easy: a trained base net does better than chance (1/3).
    expect(full.runs.find((r) => r.kind === 'baseB')!.accuracy).toBeGreaterThan(0.5);
    expect(events.map((e) => e.done)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(events.every((e) => e.total === 20)).toBe(true);

    // Resume from the first 7 runs (JSON round trip): only the 13 missing ones are run, with the same results.
    const partial: TransferResults = JSON.parse(JSON.stringify({ ...full, runs: full.runs.slice(0, 7) }));
    const ran: string[] = [];
    const resumed = await new TransferExperiment(data, {
      ...options,
      resume: partial,
      onRun: (run) => {
        ran.push(`${run.kind}|${run.n}|${run.seed}`);
      },
    }).run();
    expect(ran).toHaveLength(13);
    const key = (r: { kind: string; n: number; seed: number }) => `${r.kind}|${r.n}|${r.seed}`;
    expect(resumed.runs.map(key).sort()).toEqual(full.runs.map(key).sort());
    // Seeded shuffling and initialisation: the resumed runs reproduce the accuracies.
    for (const r of resumed.runs)
      expect(r.accuracy).toBeCloseTo(full.runs.find((f) => key(f) === key(r))!.accuracy, 5);

    const s = summarizeTransfer(full);
    const anb1 = full.runs.filter((r) => r.kind === 'AnB' && r.n === 1).map((r) => r.accuracy);
    const mean = (anb1[0] + anb1[1]) / 2;
    expect(s.series.AnB[0].n).toBe(1);
    expect(s.series.AnB[0].mean).toBeCloseTo(mean, 12);
    expect(s.series.AnB[0].std).toBeCloseTo(Math.abs(anb1[0] - anb1[1]) / Math.SQRT2, 12);
    expect(s.baseB.count).toBe(2);
    const table = transferTable(s);
    expect(table.header).toEqual(['n', 'BnB', 'BnB+', 'AnB', 'AnB+']);
    expect(table.rows.map((r) => r[0])).toEqual(['baseB', '1', '2']);
    expect(table.rows[1][3]).toBe(`${(100 * mean).toFixed(1)} ± ${(100 * s.series.AnB[0].std).toFixed(1)}`);
    tf.dispose([train.x, test.x]);
  });

  it('rejects overlapping groups, n out of range and mismatched resume data, leaking nothing', async () => {
    const train = blobs(4, 4, 1);
    const data = { train, test: train, classesA: [0, 1], classesB: [2, 3] };
    await expectThrowsNoLeak(
      () => new TransferExperiment({ ...data, classesB: [1, 2] }, { modelFactory: factory }),
      InvalidArgumentError,
      /disjoint.*\[1\]/,
    );
    await expectThrowsNoLeak(
      () => new TransferExperiment(data, { modelFactory: factory, ns: [3] }).run(),
      InvalidArgumentError,
      /options\.ns\[0\].*\[1, 2\].*Received: 3/,
    );
    const bad = { version: 1, classesA: [0, 2], classesB: [1, 3], runs: [] } as unknown as TransferResults;
    await expectThrowsNoLeak(
      () => new TransferExperiment(data, { modelFactory: factory, resume: bad }),
      InvalidArgumentError,
      /resume/,
    );
    train.x.dispose();
  });
});
