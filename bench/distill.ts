/**
 * The `distill` suite: what a distilled training epoch costs.
 *
 * - a plain student epoch (hard labels only: the Distiller's loop with alpha = 0, no teacher),
 * - a distilled epoch with the teacher's soft targets cached (the default: the teacher ran once, before),
 * - a distilled epoch that re-runs the teacher on every batch (`teacherOutputs: 'per-batch'`),
 *
 * all with the same student, batches and optimizer, on the backend the runner selected (wasm + training kernels).
 * Goal: the cached distilled epoch within 1.1x of the plain one. Full: Hinton et al.'s sizes (1200-1200 teacher,
 * 800-800 student) on 4,096 examples; quick: 400-400 and 100-100 on 1,024.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Distiller, hintonMlp, Rng } from '../src/index.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, timeMedian } from './util.js';

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const n = opts.quick ? 1024 : 4096;
  const teacherHidden = opts.quick ? [400, 400] : [1200, 1200];
  const studentHidden = opts.quick ? [100, 100] : [800, 800];
  const batchSize = 128;
  const samples = opts.quick ? 2 : 3;
  const rng = new Rng(0);
  const x = tf.tensor4d(
    Float32Array.from({ length: n * 784 }, () => rng.next()),
    [n, 28, 28, 1],
  );
  const y = tf.tensor1d(
    Array.from({ length: n }, () => rng.int(10)),
    'int32',
  );
  const teacher = hintonMlp({ preset: 'teacher', hidden: teacherHidden, seed: 1 });
  const arch = `784-${studentHidden.join('-')}-10, teacher 784-${teacherHidden.join('-')}-10`;
  const unit = `${n} examples`;
  const records: BenchRecord[] = [];
  const epoch = async (label: string, make: (student: ReturnType<typeof hintonMlp>) => Distiller) => {
    const student = hintonMlp({ hidden: studentHidden, seed: 2 });
    const d = make(student);
    try {
      // The warm-up epoch also fills the teacher cache (when there is one) and creates the optimizer's slots.
      const t = await timeMedian(() => d.fit(x, { labels: y, epochs: 1, batchSize }), { warmUp: 1, samples });
      const rec = makeRecord(`${tf.getBackend()}: ${label} (${arch})`, t.medianMs, {
        unit: 'epoch',
        extra: { examples: n, batchSize, teacherPasses: d.teacherForwardPasses, samples: t.samplesMs.length },
      });
      records.push(rec);
      return rec;
    } finally {
      d.dispose();
      student.dispose();
    }
  };
  try {
    const plain = await epoch(
      'plain student epoch',
      (s) => new Distiller(s, null, { temperature: 1, alpha: 0 }),
    );
    const cached = await epoch(
      'distilled epoch, cached teacher outputs',
      (s) => new Distiller(s, teacher, { temperature: 20, alpha: 0.9 }),
    );
    const perBatch = await epoch(
      'distilled epoch, teacher re-run every batch',
      (s) => new Distiller(s, teacher, { temperature: 20, alpha: 0.9, teacherOutputs: 'per-batch' }),
    );
    addRatios(cached, plain, perBatch);
    addRatios(perBatch, plain);
    // The one-off cost of filling the cache: one teacher pass over the transfer set.
    const fill = await timeMedian(
      async () => {
        const student = hintonMlp({ hidden: studentHidden, seed: 3 });
        const d = new Distiller(student, teacher, { temperature: 20, alpha: 0.9 });
        try {
          (await d.softTargetsFor(x)).dispose();
        } finally {
          d.dispose();
          student.dispose();
        }
      },
      { warmUp: 1, samples },
    );
    records.push(
      makeRecord(`${tf.getBackend()}: teacher pass filling the cache (${unit})`, fill.medianMs, {
        unit: 'pass',
        extra: { examples: n, goalCachedVsPlain: '<= 1.1x time' },
      }),
    );
  } finally {
    tf.dispose([x, y]);
    teacher.dispose();
  }
  return records;
}

/** The distillation benchmark suite. */
export const suite: BenchSuite = {
  id: 'distill',
  title:
    'Distillation: a distilled epoch with cached teacher outputs vs a plain epoch vs re-running the teacher',
  run,
};
