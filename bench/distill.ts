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
import { addRatios, makeRecord, median } from './util.js';

type Student = ReturnType<typeof hintonMlp>;

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const n = opts.quick ? 1024 : 4096;
  const teacherHidden = opts.quick ? [400, 400] : [1200, 1200];
  const studentHidden = opts.quick ? [100, 100] : [800, 800];
  const batchSize = 128;
  const samples = opts.quick ? 3 : 3;
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
  // The three set-ups share the student architecture, batches and optimizer; their epochs are timed interleaved
  // (plain, cached, per-batch, plain, ...) so that load on a shared machine affects all three alike.
  const setups = [
    {
      label: 'plain student epoch',
      make: (s: Student) => new Distiller(s, null, { temperature: 1, alpha: 0 }),
    },
    {
      label: 'distilled epoch, cached teacher outputs',
      make: (s: Student) => new Distiller(s, teacher, { temperature: 20, alpha: 0.9 }),
    },
    {
      label: 'distilled epoch, teacher re-run every batch',
      make: (s: Student) =>
        new Distiller(s, teacher, { temperature: 20, alpha: 0.9, teacherOutputs: 'per-batch' }),
    },
  ].map((u, i) => {
    const student = hintonMlp({ hidden: studentHidden, seed: 2 + i });
    return { ...u, student, distiller: u.make(student), times: [] as number[] };
  });
  try {
    const epoch = (d: Distiller) => d.fit(x, { labels: y, epochs: 1, batchSize });
    // Warm-up: kernels, the optimizer's slots, and (cached set-up) the teacher's soft targets.
    const fill0 = performance.now();
    await setups[1].distiller.softTargetsFor(x).then((q) => q.dispose());
    const fillMs = performance.now() - fill0;
    for (const u of setups) await epoch(u.distiller);
    for (let i = 0; i < samples; i++) {
      for (const u of setups) {
        const t0 = performance.now();
        await epoch(u.distiller);
        u.times.push(performance.now() - t0);
      }
    }
    for (const u of setups) {
      records.push(
        makeRecord(`${tf.getBackend()}: ${u.label} (${arch})`, median(u.times), {
          unit: 'epoch',
          extra: {
            examples: n,
            batchSize,
            teacherPasses: u.distiller.teacherForwardPasses,
            samples: u.times.length,
          },
        }),
      );
    }
    const [plain, cached, perBatch] = records;
    addRatios(cached, plain, perBatch);
    addRatios(perBatch, plain);
    records.push(
      makeRecord(`${tf.getBackend()}: one teacher pass filling the cache (${unit})`, fillMs, {
        unit: 'pass',
        extra: { examples: n, goal: 'cached epoch <= 1.1x the plain epoch' },
      }),
    );
  } finally {
    for (const u of setups) {
      u.distiller.dispose();
      u.student.dispose();
    }
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
