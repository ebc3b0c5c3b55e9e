/**
 * Chooses the distill-mnist recipe on a DEVELOPMENT split carved from the official MNIST training digits (rows
 * 50,000-59,999 of the training file, which neither the quick teacher (rows 0-19,999) nor the students (rows 0-n)
 * see). The official 10,000 test digits are never read here.
 *
 *   npx tsx scripts/distill-mnist-dev.ts <grid> [out.jsonl] [seeds]
 *
 * Grids: g1, jit, little, tt, ttj, tj, n6000, n10000, e60, w512, e20, little40, lr2e30, lr2e20, held, lr4soft,
 * lr4hard, little30 (the order they were run in this session: see docs/report.md). Teachers are cached in
 * /tmp/dm-dev. Each line of the output is one arm of one configuration: its dev errors of 10,000, wall and CPU
 * seconds; scripts/distill-mnist-dev-results.jsonl holds this session's lines (seed 200).
 *
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Distiller, evaluateClassifier, hintonMlp, Rng, trainClassifier, zeilerFergusCnn } from '../src/index.js';
import { initBackend } from '../src/node.js';
import { type ImageSplit, loadFullMnist } from '../src/node/datasets.js';
import { imagesOf, labelsOf } from '../src/report/data.js';

const CHUNK = 5000;
const DEV_FROM = 50000;
const DEV_N = 10000;

async function devErrors(model: tfl.LayersModel, data: ImageSplit): Promise<number> {
  let errors = 0;
  for (let s = 0; s < DEV_N; s += CHUNK) {
    const rows = Array.from({ length: Math.min(CHUNK, DEV_N - s) }, (_, i) => DEV_FROM + s + i);
    const x = imagesOf(data.train, rows);
    const y = labelsOf(data.train, rows);
    try {
      errors += (await evaluateClassifier(model, { x, labels: y }, { outputKind: 'logits' })).errors;
    } finally {
      tf.dispose([x, y]);
    }
  }
  return errors;
}

async function teacher(
  data: ImageSplit,
  n: number,
  epochs: number,
  jitter: number,
  from = 0,
): Promise<tfl.LayersModel> {
  const file = `/tmp/dm-dev/teacher-${n}-${epochs}${jitter ? `-j${jitter}` : ''}${from ? `-from${from}` : ''}.json`;
  const model = zeilerFergusCnn({ seed: 0 });
  if (existsSync(file)) {
    const arrays = JSON.parse(readFileSync(file, 'utf8')) as number[][];
    model.setWeights(model.getWeights().map((w, i) => tf.tensor(arrays[i], w.shape)));
    return model;
  }
  const optimizer = tf.train.adam(2e-3);
  if (jitter > 0) {
    // Hard labels with +-jitter px shifts, through the Distiller's loop (alpha = 0, no teacher).
    const rows = Array.from({ length: n }, (_, i) => from + i);
    const x = imagesOf(data.train, rows);
    const y = labelsOf(data.train, rows);
    const d = new Distiller(model, null, { temperature: 1, alpha: 0, optimizer });
    await d.fit(x, { labels: y, epochs, batchSize: 64, seed: 0, jitter });
    d.dispose();
    tf.dispose([x, y]);
  }
  for (let e = 0; e < (jitter > 0 ? 0 : epochs); e++) {
    const order = new Rng(e).permutation(n);
    for (let s = 0; s < n; s += CHUNK) {
      const rows = order.slice(s, s + CHUNK);
      const x = imagesOf(data.train, rows);
      const y = labelsOf(data.train, rows);
      await trainClassifier(model, x, y, { epochs: 1, batchSize: 64, optimizer, seed: e * 100 + s });
      tf.dispose([x, y]);
    }
  }
  optimizer.dispose();
  const arrays = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
  writeFileSync(file, JSON.stringify(arrays));
  return model;
}

interface Arm {
  name: string;
  teacherN: number;
  teacherEpochs: number;
  teacherJitter: number;
  teacherFrom: number;
  n: number;
  hidden: number[];
  epochs: number;
  T: number;
  alpha: number;
  jitter: number;
  perBatch: boolean;
  lr: number;
  batch: number;
}

const base: Arm = {
  name: '',
  teacherN: 20000,
  teacherEpochs: 2,
  teacherJitter: 0,
  teacherFrom: 0,
  n: 3000,
  hidden: [256, 256],
  epochs: 30,
  T: 4,
  alpha: 0.9,
  jitter: 0,
  perBatch: false,
  lr: 1e-3,
  batch: 100,
};

function grid(name: string): Arm[] {
  const a = (p: Partial<Arm>): Arm => ({ ...base, ...p, name: p.name ?? JSON.stringify(p) });
  switch (name) {
    case 'g1':
      return [
        a({ name: 'hard', alpha: 0, T: 1 }),
        a({ name: 'soft T4 a.9' }),
        a({ name: 'soft T2 a.9', T: 2 }),
        a({ name: 'soft T8 a.9', T: 8 }),
        a({ name: 'soft T4 a1', alpha: 1 }),
        a({ name: 'hard j2', alpha: 0, T: 1, jitter: 2 }),
        a({ name: 'soft T4 a.9 j2 cache', jitter: 2 }),
        a({ name: 'soft T4 a.9 j2 per-batch', jitter: 2, perBatch: true }),
        a({ name: 'soft T20 a.9', T: 20 }),
      ];
    case 'g2':
      return [
        a({ name: 'hard j1', alpha: 0, T: 1, jitter: 1 }),
        a({ name: 'soft T4 a.9 j1 per-batch', jitter: 1, perBatch: true }),
        a({ name: 'soft T4 a1 j2 per-batch', jitter: 2, perBatch: true, alpha: 1 }),
        a({ name: 'hard 60ep', alpha: 0, T: 1, epochs: 60 }),
        a({ name: 'soft T4 a.9 60ep', epochs: 60 }),
      ];
    case 'jit':
      return [
        a({ name: 'hard j2', alpha: 0, T: 1, jitter: 2 }),
        a({ name: 'soft T4 a.9 j2 per-batch', jitter: 2, perBatch: true }),
        a({ name: 'soft T4 a.9 j2 cache', jitter: 2 }),
        a({ name: 'hard j1', alpha: 0, T: 1, jitter: 1 }),
        a({ name: 'soft T4 a.9 j1 per-batch', jitter: 1, perBatch: true }),
      ];
    case 'little':
      return [
        a({ name: 'hard n600 e60', alpha: 0, T: 1, n: 600, epochs: 60 }),
        a({ name: 'soft n600 e60', n: 600, epochs: 60 }),
        a({ name: 'hard 60ep', alpha: 0, T: 1, epochs: 60 }),
        a({ name: 'soft T4 a.9 60ep', epochs: 60 }),
      ];
    case 'tt':
      // The teacher trained on the transfer set itself (the paper's setting: one training set).
      return [
        a({ name: 'tt3000x10 soft T4', teacherN: 3000, teacherEpochs: 10 }),
        a({ name: 'tt3000x10 soft T8', teacherN: 3000, teacherEpochs: 10, T: 8 }),
        a({ name: 'soft T20 a.9', T: 20 }),
      ];
    case 'ttj':
      return [
        a({ name: 'tt3000x10j2 soft T4', teacherN: 3000, teacherEpochs: 10, teacherJitter: 2 }),
        a({ name: 'tt3000x10j2 soft T8', teacherN: 3000, teacherEpochs: 10, teacherJitter: 2, T: 8 }),
        a({ name: 'soft n600 e60 T8', n: 600, epochs: 60, T: 8 }),
        a({ name: 'hard n600 e60', alpha: 0, T: 1, n: 600, epochs: 60 }),
      ];
    case 'tj':
      // The same teacher budget (20,000 digits x 2 epochs) with +-1 px jitter.
      return [
        a({ name: 'tj20000x2j1 soft T8', teacherJitter: 1, T: 8 }),
        a({ name: 'soft T20 a.9', T: 20 }),
        a({ name: 'tj20000x2j1 soft T4', teacherJitter: 1 }),
      ];
    case 'n6000':
      // The same number of steps (900) over a larger transfer set.
      return [
        a({ name: 'tj n6000 e15 hard', teacherJitter: 1, n: 6000, epochs: 15, alpha: 0, T: 1 }),
        a({ name: 'tj n6000 e15 soft T8', teacherJitter: 1, n: 6000, epochs: 15, T: 8 }),
      ];
    case 'n10000':
      return [
        a({ name: 'tj n10000 e9 hard', teacherJitter: 1, n: 10000, epochs: 9, alpha: 0, T: 1 }),
        a({ name: 'tj n10000 e9 soft T8', teacherJitter: 1, n: 10000, epochs: 9, T: 8 }),
      ];
    case 'e60':
      return [
        a({ name: 'tj e60 soft T8', teacherJitter: 1, epochs: 60, T: 8 }),
        a({ name: 'tj e60 hard', teacherJitter: 1, epochs: 60, alpha: 0, T: 1 }),
      ];
    case 'w512':
      return [
        a({ name: 'tj 512-512 soft T8', teacherJitter: 1, hidden: [512, 512], T: 8 }),
        a({ name: 'tj 512-512 hard', teacherJitter: 1, hidden: [512, 512], alpha: 0, T: 1 }),
      ];
    case 'e20':
      return [
        a({ name: 'tj e20 soft T8', teacherJitter: 1, epochs: 20, T: 8 }),
        a({ name: 'tj e20 hard', teacherJitter: 1, epochs: 20, alpha: 0, T: 1 }),
      ];
    case 'little40':
      return [
        a({ name: 'tj n600 e40 soft T8', teacherJitter: 1, n: 600, epochs: 40, T: 8 }),
        a({ name: 'tj n600 e40 hard', teacherJitter: 1, n: 600, epochs: 40, alpha: 0, T: 1 }),
      ];
    case 'lr2e30':
      return [
        a({ name: 'tj lr2e-3 e30 soft T8', teacherJitter: 1, lr: 2e-3, T: 8 }),
        a({ name: 'tj lr2e-3 e30 hard', teacherJitter: 1, lr: 2e-3, alpha: 0, T: 1 }),
      ];
    case 'lr2e20':
      return [
        a({ name: 'tj lr2e-3 e20 soft T8', teacherJitter: 1, lr: 2e-3, epochs: 20, T: 8 }),
        a({ name: 'tj lr2e-3 e20 hard', teacherJitter: 1, lr: 2e-3, epochs: 20, alpha: 0, T: 1 }),
      ];
    case 'held':
      // The teacher never sees the transfer digits (rows 3,000-22,999): its soft targets on them are held-out ones.
      return [a({ name: 'tj from3000 soft T8', teacherJitter: 1, teacherFrom: 3000, T: 8 })];
    case 'lr4soft':
      return [a({ name: 'tj lr4e-3 e30 soft T8', teacherJitter: 1, lr: 4e-3, T: 8 })];
    case 'lr4hard':
      return [a({ name: 'tj lr4e-3 e30 hard', teacherJitter: 1, lr: 4e-3, alpha: 0, T: 1 })];
    case 'little30':
      return [
        a({ name: 'tj n600 e30 lr2e-3 soft T8', teacherJitter: 1, n: 600, epochs: 30, lr: 2e-3, T: 8 }),
        a({ name: 'tj n600 e30 lr2e-3 hard', teacherJitter: 1, n: 600, epochs: 30, lr: 2e-3, alpha: 0, T: 1 }),
      ];
    default:
      throw new Error(`unknown grid ${name}`);
  }
}

async function main(): Promise<void> {
  const [gridName = 'g1', out = '/tmp/dm-dev/results.jsonl', seedsArg = '1'] = process.argv.slice(2);
  mkdirSync('/tmp/dm-dev', { recursive: true });
  await initBackend('wasm');
  const data = await loadFullMnist({ testSize: 1 });
  const teachers = new Map<string, { model: tfl.LayersModel; dev: number }>();
  for (const arm of grid(gridName)) {
    const key = `${arm.teacherN}-${arm.teacherEpochs}-j${arm.teacherJitter}-from${arm.teacherFrom}`;
    if (!teachers.has(key)) {
      const t0 = Date.now();
      const model = await teacher(data, arm.teacherN, arm.teacherEpochs, arm.teacherJitter, arm.teacherFrom);
      const dev = await devErrors(model, data);
      teachers.set(key, { model, dev });
      appendFileSync(out, `${JSON.stringify({ teacher: key, dev, seconds: (Date.now() - t0) / 1000 })}\n`);
    }
    const t = teachers.get(key) as { model: tfl.LayersModel; dev: number };
    const rows = Array.from({ length: arm.n }, (_, i) => i);
    const x = imagesOf(data.train, rows);
    const y = labelsOf(data.train, rows);
    const logits = tf.tidy(() => t.model.predict(x) as tf.Tensor2D);
    for (let s = 0; s < Number(seedsArg); s++) {
      const seed = 200 + s;
      const t0 = Date.now();
      const c0 = process.cpuUsage();
      const model = hintonMlp({ hidden: arm.hidden, dropout: 0, inputDropout: 0, seed });
      const d =
        arm.alpha === 0
          ? new Distiller(model, null, { temperature: 1, alpha: 0, learningRate: arm.lr })
          : arm.perBatch
            ? new Distiller(model, t.model, {
                temperature: arm.T,
                alpha: arm.alpha,
                learningRate: arm.lr,
                teacherOutputs: 'per-batch',
              })
            : new Distiller(
                model,
                { outputs: logits, outputKind: 'logits' },
                { temperature: arm.T, alpha: arm.alpha, learningRate: arm.lr },
              );
      await d.fit(x, {
        labels: y,
        epochs: arm.epochs,
        batchSize: arm.batch,
        seed,
        jitter: arm.jitter,
      });
      const dev = await devErrors(model, data);
      d.dispose();
      model.dispose();
      const cu = process.cpuUsage(c0);
      const cpu = (cu.user + cu.system) / 1e6;
      const line = { ...arm, seed, teacherDev: t.dev, dev, seconds: (Date.now() - t0) / 1000, cpu };
      appendFileSync(out, `${JSON.stringify(line)}\n`);
      process.stdout.write(`${arm.name} seed ${seed}: dev ${dev} (teacher ${t.dev}) ${line.seconds.toFixed(1)} s, ${cpu.toFixed(1)} s CPU\n`);
    }
    tf.dispose([x, y, logits]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
