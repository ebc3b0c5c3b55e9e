import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, SpecialistEnsemble } from '../../src/index.js';
import { writePng } from '../../src/node/png.js';
import { defaultWorkers, runTransferExperimentInWorkers } from '../../src/node/pool.js';
import { trainSpecialistsInWorkers } from '../../src/node/pool-ensemble.js';
import { closeWorkerPool } from '../../src/node/pool-entry.js';
import { extractFeaturesInWorkers } from '../../src/node/pool-extract.js';
import { saveLayersModelTo } from '../../src/node/pretrained.js';
import { extractFeatures, saveFeatures } from '../../src/node.js';
import { TransferExperiment, type TransferResults } from '../../src/transfer/index.js';
import { zeilerFergusCnn } from '../../src/zoo/index.js';
import { backendName } from '../helpers.js';
import { blobs } from '../transfer/models.js';
import { makeMlp } from './pool-factory.js';

afterAll(closeWorkerPool);

const factoryRef = {
  module: fileURLToPath(new URL('./pool-factory.ts', import.meta.url)),
  exportName: 'makeMlp',
};

describe('runTransferExperimentInWorkers', () => {
  it('gives the sequential run’s numbers bit for bit, seed by seed, with 2 workers', async () => {
    const train = blobs(12, 4, 1);
    const test = blobs(6, 4, 2);
    const data = { train, test, classesA: [0, 1], classesB: [2, 3] };
    const common = { seeds: [3, 4], training: { epochs: 1, batchSize: 12, learningRate: 0.05 } };
    const before = tf.memory().numTensors;
    const seq = await new TransferExperiment(data, { ...common, modelFactory: makeMlp }).run();
    const seen: number[] = [];
    const par = await runTransferExperimentInWorkers(data, {
      ...common,
      modelFactory: factoryRef,
      workers: 2,
      onProgress: (e) => seen.push(e.done),
    });
    expect(tf.memory().numTensors).toBe(before);
    const strip = (r: typeof seq) => r.runs.map(({ ms: _ms, ...rest }) => rest);
    expect(strip(par)).toEqual(strip(seq));
    expect(par.runs.length).toBe(2 * (2 + 4 * 2)); // baseA, baseB and 4 treatments at n = 1, 2, per seed
    expect({ ...par, runs: [] }).toEqual({ ...seq, runs: [] });
    expect(seen.sort()).toEqual([1, 2]);
    tf.dispose([train.x, test.x]);
  });

  // The new paths (zoo factory, resume, specialists) once, on cpu: the first test covers both backends.
  it.runIf(backendName() === 'cpu')(
    'a zoo CNN factory, resumed from seed 1, onRun per new run: the sequential numbers',
    async () => {
      // 8x8 grey images of 4 classes: a seeded pattern per class plus noise.
      const images = (n: number, seed: number) => {
        const labels = Array.from({ length: n }, (_, i) => i % 4);
        const x = tf.tidy(() =>
          tf.add(
            tf.gather(tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 11), tf.tensor1d(labels, 'int32')),
            tf.randomNormal([n, 8, 8, 1], 0, 0.2, 'float32', seed),
          ),
        );
        return { x, labels };
      };
      const train = images(16, 1);
      const test = images(8, 2);
      const data = { train, test, classesA: [0, 1], classesB: [2, 3] };
      const arch = {
        inputShape: [8, 8, 1] as [number, number, number],
        filters: [2],
        kernelSizes: [3],
        hidden: [4],
      };
      const common = { seeds: [1, 2], ns: [1, 2], training: { epochs: 1, batchSize: 8, learningRate: 0.05 } };
      const seq = await new TransferExperiment(data, {
        ...common,
        modelFactory: (k, seed) => zeilerFergusCnn({ ...arch, numClasses: k, seed }),
      }).run();
      const resume = { ...seq, runs: seq.runs.filter((r) => r.seed === 1) };
      const onRun: number[] = [];
      let last: TransferResults | undefined;
      const par = await runTransferExperimentInWorkers(data, {
        ...common,
        modelFactory: { zoo: 'zeilerFergusCnn', options: arch },
        resume,
        workers: 2,
        onRun: (run, so) => {
          onRun.push(run.seed);
          last = so;
        },
      });
      const strip = (r: TransferResults) => r.runs.map(({ ms: _ms, ...rest }) => rest);
      expect(strip(par)).toEqual(strip(seq));
      expect(onRun).toEqual(Array(10).fill(2)); // seed 2's networks only: seed 1's came from resume
      expect(strip(last as TransferResults)).toEqual(strip(seq));
      tf.dispose([train.x, test.x]);
    },
  );

  it('rejects bad options before any worker starts', async () => {
    const train = blobs(2, 4, 1);
    const data = { train, test: train, classesA: [0, 1], classesB: [2, 3] };
    await expect(
      runTransferExperimentInWorkers(data, { modelFactory: factoryRef, workers: 0 }),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(runTransferExperimentInWorkers(data, { modelFactory: { module: '' } })).rejects.toThrow(
      /modelFactory.*runTransferExperimentInWorkers/,
    );
    expect(defaultWorkers()).toBeGreaterThanOrEqual(1);
    train.x.dispose();
  });

  it.runIf(backendName() === 'cpu')(
    'trains SpecialistEnsemble specialists in 2 workers: the sequential weights bit for bit',
    async () => {
      const { x, labels } = blobs(20, 5, 3);
      const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
      const generalist = tfl.sequential({
        layers: [
          tfl.layers.dense({ units: 8, inputShape: [4], activation: 'relu', kernelInitializer: init(1) }),
          tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(2) }),
        ],
      });
      const options = {
        clusters: [
          [1, 2],
          [0, 3],
          [2, 4],
        ],
        sampling: { seed: 4 },
        training: { epochs: 2, batchSize: 16 },
      };
      const before = tf.memory().numTensors;
      const seq = await SpecialistEnsemble.train(generalist, x, labels, options);
      const done: number[] = [];
      const par = await trainSpecialistsInWorkers(generalist, x, labels, {
        ...options,
        workers: 2,
        onProgress: (e) => done.push(e.done),
      });
      const weights = async (e: SpecialistEnsemble) =>
        Promise.all(
          e.specialists.map(async (s) =>
            Promise.all(
              (s.model as tfl.LayersModel).getWeights().map(async (w) => Array.from(await w.data())),
            ),
          ),
        );
      expect(await weights(par)).toEqual(await weights(seq));
      expect(
        par.specialists.map(({ classes, outputKind, dustbinLogitShift }) => ({
          classes,
          outputKind,
          dustbinLogitShift,
        })),
      ).toEqual(
        seq.specialists.map(({ classes, outputKind, dustbinLogitShift }) => ({
          classes,
          outputKind,
          dustbinLogitShift,
        })),
      );
      const [p, q] = [await par.predictProba(x), await seq.predictProba(x)];
      expect(Array.from(await p.data())).toEqual(Array.from(await q.data()));
      tf.dispose([p, q]);
      expect(done.sort()).toEqual([1, 2, 3]);
      seq.dispose();
      par.dispose();
      expect(tf.memory().numTensors).toBe(before);
      await expect(trainSpecialistsInWorkers(generalist, x, labels, { clusters: [[0, 9]] })).rejects.toThrow(
        InvalidArgumentError,
      );
      generalist.dispose();
      x.dispose();
    },
  );

  it.runIf(backendName() === 'cpu')(
    'extracts shards in 2 workers: the single-process file, byte for byte',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-pool-extract-'));
      try {
        const model = tfl.sequential({
          layers: [
            tfl.layers.conv2d({
              inputShape: [6, 6, 3],
              filters: 3,
              kernelSize: 3,
              activation: 'relu',
              name: 'conv',
              kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
            }),
            tfl.layers.flatten({ name: 'flat' }),
          ],
        });
        await saveLayersModelTo(model, path.join(dir, 'model'));
        for (let i = 0; i < 10; i++) {
          const data = new Uint8ClampedArray(6 * 6 * 4).map((_, k) =>
            k % 4 === 3 ? 255 : (k * (i + 3) * 7) % 256,
          );
          await writePng(path.join(dir, 'img', `c${i % 2}`, `${i}.png`), { width: 6, height: 6, data });
        }
        const spec = {
          model: path.join(dir, 'model', 'model.json'),
          images: path.join(dir, 'img'),
          taps: ['conv'],
          pool: 'avg' as const,
        };
        const single = await extractFeatures(spec, { loaded: { model } });
        await saveFeatures(path.join(dir, 'single.tkf'), single.matrices, {
          labels: single.labels,
          meta: single.meta,
        });
        model.dispose();
        const done: number[] = [];
        await extractFeaturesInWorkers(spec, {
          out: path.join(dir, 'par.tkf'),
          workers: 2,
          shards: 3,
          onProgress: (e) => done.push(e.done),
        });
        expect(
          Buffer.compare(
            await readFile(path.join(dir, 'par.tkf')),
            await readFile(path.join(dir, 'single.tkf')),
          ),
        ).toBe(0);
        expect(Math.max(...done)).toBe(10);
        await expect(
          extractFeaturesInWorkers(spec, { out: path.join(dir, 'x.tkf'), shards: 11 }),
        ).rejects.toThrow(/options\.shards/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
