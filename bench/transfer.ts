/**
 * Bench suite `transfer`: what LayerTransfer costs against what it saves.
 *
 * - For three CNN sizes and one MLP: building the target model (copy all stages but the head, re-initialise and
 *   replace the head), `freeze()`, and one training epoch of the same model (1,024 images, batch 32, Adam) as the
 *   baseline; the copy should be negligible against the epoch.
 * - The wall time of a whole TransferExperiment (baseA, baseB, AnB/BnB/AnB+/BnB+ for every n) on MNIST digits 0-4
 *   vs 5-9 at the report's quick settings (full mode) or a smaller one (quick mode).
 *
 * Runs on the wasm backend with the training kernels (registered by the runner).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  hintonMlp,
  LayerTransfer,
  TransferExperiment,
  trainWithGroups,
  zeilerFergusCnn,
} from '../src/index.js';
import { loadMnist } from '../src/node.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, timeMedian } from './util.js';

interface Subject {
  name: string;
  make: () => tfl.LayersModel;
  input: number[];
}

const SUBJECTS: Subject[] = [
  {
    name: 'CNN small (conv8-conv16-fc64)',
    make: () => zeilerFergusCnn({ filters: [8, 16], hidden: [64], numClasses: 10, seed: 1 }),
    input: [28, 28, 1],
  },
  {
    name: 'CNN reference (conv16-conv32-fc128)',
    make: () => zeilerFergusCnn({ filters: [16, 32], hidden: [128], numClasses: 10, seed: 1 }),
    input: [28, 28, 1],
  },
  {
    name: 'CNN large (conv32-conv64-fc512)',
    make: () => zeilerFergusCnn({ filters: [32, 64], hidden: [512], numClasses: 10, seed: 1 }),
    input: [28, 28, 1],
  },
  { name: 'MLP 784-1200-1200-10', make: () => hintonMlp({ preset: 'teacher', seed: 1 }), input: [28, 28, 1] },
];

export const suite: BenchSuite = {
  id: 'transfer',
  title: 'LayerTransfer copy/freeze cost vs one training epoch; TransferExperiment wall time',
  async run(opts: BenchOptions): Promise<BenchRecord[]> {
    await tf.setBackend('wasm');
    const records: BenchRecord[] = [];
    const samples = opts.quick ? 3 : 7;
    const epochImages = opts.quick ? 256 : 1024;
    const subjects = opts.quick ? SUBJECTS.slice(0, 2) : SUBJECTS;
    for (const s of subjects) {
      const base = s.make();
      const params = base.countParams();
      const x = tf.randomUniform([epochImages, ...s.input], 0, 1, 'float32', 2);
      const labels = Array.from({ length: epochImages }, (_, i) => i % 10);
      try {
        const epoch = await timeMedian(
          () => trainWithGroups(base, { x, labels }, { epochs: 1, batchSize: 32, seed: 1 }),
          { samples: opts.quick ? 1 : 3, warmUp: 1 },
        );
        const epochRec = makeRecord(
          `${s.name}: one epoch (${epochImages} images, batch 32)`,
          epoch.medianMs,
          {
            extra: { params },
          },
        );
        const copy = await timeMedian(
          () => {
            const t = new LayerTransfer(base, { head: { kind: 'replace', numClasses: 5 }, seed: 3 });
            t.dispose();
          },
          { samples, warmUp: 1 },
        );
        const copyRec = addRatios(
          makeRecord(`${s.name}: new LayerTransfer (copy n = stages - 1, new head)`, copy.medianMs, {
            extra: { params },
          }),
          epochRec,
        );
        const t = new LayerTransfer(base, { head: { kind: 'replace', numClasses: 5 }, seed: 3 });
        const freeze = await timeMedian(
          () => {
            t.freeze();
            t.unfreeze();
          },
          { samples, warmUp: 1 },
        );
        t.dispose();
        const freezeRec = addRatios(
          makeRecord(`${s.name}: freeze() + unfreeze()`, freeze.medianMs, { extra: { params } }),
          epochRec,
        );
        records.push(copyRec, freezeRec, epochRec);
      } finally {
        x.dispose();
        base.dispose();
      }
    }

    // The experiment at the report's quick settings (full bench) or a smaller one (quick bench).
    const perClass = opts.quick ? 120 : 400;
    const seeds = opts.quick ? [1] : [1, 2, 3];
    const mnist = await loadMnist({ seed: 0, testFraction: 0.25, limitPerClass: perClass });
    try {
      let runs = 0;
      const t0 = performance.now();
      const exp = new TransferExperiment(
        {
          train: { x: mnist.train.x, labels: mnist.train.labels },
          test: { x: mnist.test.x, labels: mnist.test.labels },
          classesA: [0, 1, 2, 3, 4],
          classesB: [5, 6, 7, 8, 9],
        },
        {
          modelFactory: (k, seed) =>
            zeilerFergusCnn({ filters: [8, 16], kernelSizes: [5, 3], hidden: [64], numClasses: k, seed }),
          seeds,
          training: { epochs: 1, batchSize: 32, learningRate: 0.01 },
          onRun: () => {
            runs++;
          },
        },
      );
      await exp.run();
      const ms = performance.now() - t0;
      records.push(
        makeRecord(
          `TransferExperiment, MNIST 0-4 vs 5-9 (${perClass} digits/class, ${seeds.length} seed(s), 1 epoch)`,
          ms,
          { unit: 'network', perOp: runs, extra: { networks: runs, seconds: ms / 1000 } },
        ),
      );
    } finally {
      mnist.dispose();
    }
    return records;
  },
};
