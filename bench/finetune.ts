/**
 * Bench suite `finetune`: transfer learning on a folder of PNGs with `finetuneFolder`, head only vs fine-tuning the
 * top stages vs training the same network from scratch, and what the feature cache saves per epoch.
 *
 * Source task: the zoo CNN (conv16-conv32-fc128) trained 2 epochs on MNIST digits 0-4 (the `mnist` package's 10,000
 * digits). Target task: digits 5-9, written as 28x28 PNGs into one folder per class (600 per class, 3,000 images, in full mode;
 * one seed: the machine is shared),
 * split 80/20 per class by `finetuneFolder`. Arms, each on the same split:
 * - head only: features of fc1 (128-d) extracted once, a softmax head trained on them (early stopping);
 * - unfreeze 1 / unfreeze 3: then fc1 / every stage fine-tuned end to end (copied layers at a tenth of the rate);
 * - scratch: the same architecture from a random initialisation, trained end to end on the training part.
 * Records: wall time of each arm (extra: validation accuracy, mean over seeds), and one head epoch on cached
 * features vs one end-to-end epoch through the network (the ratio is what caching buys per epoch).
 *
 * Runs on the wasm backend with the training kernels (registered by the runner).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { evaluateClassifier, type FinetuneResult, trainWithGroups, zeilerFergusCnn } from '../src/index.js';
import { finetuneFolder, loadMnistDigits, readImageFolder, writePng } from '../src/node.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, median } from './util.js';

function cnn(seed: number): tfl.LayersModel {
  return zeilerFergusCnn({ filters: [16, 32], hidden: [128], numClasses: 5, seed });
}

export const suite: BenchSuite = {
  id: 'finetune',
  title:
    'finetune on a PNG folder: head only vs unfreeze vs scratch; cached-feature epoch vs end-to-end epoch',
  async run(opts: BenchOptions): Promise<BenchRecord[]> {
    await tf.setBackend('wasm');
    const perClass = opts.quick ? 60 : 600;
    const seeds = [1];
    const digits = await loadMnistDigits();
    const per = 28 * 28;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-bench-finetune-'));
    try {
      // Source data (0-4) in memory; target data (5-9) as PNG files.
      const src: number[] = [];
      const counts = new Array(10).fill(0);
      for (let i = 0; i < digits.count; i++) {
        const d = digits.labels[i];
        if (counts[d] >= (opts.quick ? 200 : Number.POSITIVE_INFINITY)) continue;
        if (d < 5) src.push(i);
        else if (counts[d] < perClass) {
          const data = new Uint8ClampedArray(per * 4);
          for (let p = 0; p < per; p++) {
            const v = Math.round(255 * digits.pixels[i * per + p]);
            data[4 * p] = v;
            data[4 * p + 1] = v;
            data[4 * p + 2] = v;
            data[4 * p + 3] = 255;
          }
          await writePng(path.join(dir, 'target', String(d), `${String(counts[d]).padStart(4, '0')}.png`), {
            width: 28,
            height: 28,
            data,
          });
        }
        counts[d]++;
      }
      const xs = tf.tensor4d(
        Float32Array.from(src.flatMap((i) => Array.from(digits.pixels.subarray(i * per, (i + 1) * per)))),
        [src.length, 28, 28, 1],
      );
      const base = cnn(100);
      await trainWithGroups(
        base,
        { x: xs, labels: src.map((i) => digits.labels[i]) },
        { epochs: 2, batchSize: 64, seed: 100 },
      );
      xs.dispose();

      const records: BenchRecord[] = [];
      const arms: Record<string, { ms: number[]; acc: number[]; epochMs: number[] }> = {};
      const note = (arm: string, ms: number, acc: number, epochMs: number[]) => {
        arms[arm] ??= { ms: [], acc: [], epochMs: [] };
        arms[arm].ms.push(ms);
        arms[arm].acc.push(acc);
        arms[arm].epochMs.push(...epochMs);
      };
      const target = path.join(dir, 'target');
      let extractMs: number[] = [];
      let counted = { train: 0, val: 0 };
      for (const seed of seeds) {
        let split: FinetuneResult['split'];
        for (const unfreeze of [0, 1, 3]) {
          const t0 = performance.now();
          const run = await finetuneFolder(
            base,
            { images: target },
            { unfreeze, seed, epochs: 30, fineTuneEpochs: 5, batchSize: 32, learningRate: 3e-3 },
          );
          const ms = performance.now() - t0;
          const r = run.result;
          split = r.split;
          counted = r.metrics.counts;
          const stage = unfreeze === 0 ? 'head' : 'finetune';
          note(
            unfreeze === 0 ? 'head only' : `unfreeze ${unfreeze}`,
            ms,
            r.metrics.valAccuracy,
            r.history.filter((h) => h.stage === stage).map((h) => h.seconds * 1000),
          );
          if (unfreeze === 0) extractMs = [...extractMs, r.metrics.seconds.extract * 1000];
          r.model.dispose();
        }
        // Scratch: the same architecture, random init, trained end to end on the same training part.
        const t0 = performance.now();
        const all = await readImageFolder(target, { size: [28, 28], channels: 1 });
        const trainIdx = split?.trainIndices ?? [];
        const valIdx = split?.valIndices ?? [];
        const labels = all.labels ?? [];
        const xTrain = tf.gather(all.x, trainIdx);
        const xVal = tf.gather(all.x, valIdx);
        all.x.dispose();
        const net = cnn(seed);
        let best = 0;
        const epochMs: number[] = [];
        let te = performance.now();
        await trainWithGroups(
          net,
          { x: xTrain, labels: trainIdx.map((i) => labels[i]) },
          {
            epochs: 5,
            batchSize: 32,
            seed,
            onEpochEnd: async () => {
              best = Math.max(
                best,
                (await evaluateClassifier(net, { x: xVal, labels: valIdx.map((i) => labels[i]) })).accuracy,
              );
              epochMs.push(performance.now() - te);
              te = performance.now();
              return false;
            },
          },
        );
        note('scratch', performance.now() - t0, best, epochMs);
        tf.dispose([xTrain, xVal]);
        net.dispose();
      }
      base.dispose();
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      for (const [arm, a] of Object.entries(arms)) {
        records.push(
          makeRecord(
            `finetune ${arm}: whole run (${counted.train} train / ${counted.val} val PNGs)`,
            median(a.ms),
            {
              extra: {
                valAccuracy: Number(mean(a.acc).toFixed(4)),
                perSeed: a.acc.map((v) => v.toFixed(4)).join(' '),
                seeds: seeds.length,
              },
            },
          ),
        );
      }
      const endToEnd = makeRecord(
        `finetune end-to-end epoch, every stage unfrozen (${counted.train} images)`,
        median(arms['unfreeze 3'].epochMs),
        { unit: 'epoch' },
      );
      const cached = addRatios(
        makeRecord(
          `finetune head epoch on cached features (${counted.train} images)`,
          median(arms['head only'].epochMs),
          {
            unit: 'epoch',
            extra: { extractOnceMs: Math.round(median(extractMs)) },
          },
        ),
        endToEnd,
      );
      records.push(cached, endToEnd);
      return records;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
