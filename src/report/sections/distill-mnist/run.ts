/**
 * The distill-mnist section's experiment: the zoo CNN teacher trained chunk by chunk on the official MNIST training
 * digits, then per seed a student MLP on hard labels and the same student (same init, batch order and jitter) on the
 * teacher's soft targets, on the main transfer set and on the small-data set. Errors are counted on the official
 * test digits, which choose nothing.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Distiller, evaluateClassifier, hintonMlp, Rng, zeilerFergusCnn } from '../../../index.js';
import { type ImageSplit, loadFullMnist } from '../../../node/datasets.js';
import { imagesOf, labelsOf, range } from '../../data.js';
import type { ReportContext } from '../../types.js';
import {
  type DistillMnistConfig,
  type DistillMnistResult,
  type DistillMnistRun,
  distillMnistConfig,
} from './config.js';

const CHUNK = 5000;

/**
 * Errors of a model on rows of one part, evaluated chunk by chunk (the part is never all float).
 *
 * @example
 * ```ts
 * const errors = await errorsOn(model, data.test, range(data.test.size));
 * ```
 */
export async function errorsOn(
  model: tfl.LayersModel,
  part: ImageSplit['train'],
  rows: readonly number[],
): Promise<number> {
  let errors = 0;
  for (let s = 0; s < rows.length; s += CHUNK) {
    const chunk = rows.slice(s, s + CHUNK);
    const x = imagesOf(part, chunk);
    const y = labelsOf(part, chunk);
    try {
      errors += (await evaluateClassifier(model, { x, labels: y }, { outputKind: 'logits' })).errors;
    } finally {
      tf.dispose([x, y]);
    }
  }
  return errors;
}

/**
 * Trains the zoo CNN teacher on the first `n` training digits with +-`jitter` px shifts, chunk by chunk (one Adam
 * optimizer throughout), so the training set is never all float.
 *
 * @example
 * ```ts
 * const teacher = await trainCnnTeacher(ctx, data, 20000, 2);
 * ```
 */
export async function trainCnnTeacher(
  ctx: Pick<ReportContext, 'seed' | 'progress'>,
  data: ImageSplit,
  n: number,
  epochs: number,
  jitter = 0,
): Promise<tfl.LayersModel> {
  const model = zeilerFergusCnn({ seed: ctx.seed });
  const optimizer = tf.train.adam(2e-3);
  const rows = Math.min(n, data.train.size);
  let perEpoch = 0;
  for (let s = 0; s < rows; s += CHUNK) perEpoch += Math.ceil(Math.min(CHUNK, rows - s) / 64);
  const total = perEpoch * epochs;
  let done = 0;
  try {
    for (let e = 0; e < epochs; e++) {
      const order = new Rng(ctx.seed * 1000 + e).permutation(rows);
      for (let s = 0; s < rows; s += CHUNK) {
        const chunk = order.slice(s, s + CHUNK);
        const x = imagesOf(data.train, chunk);
        const y = labelsOf(data.train, chunk);
        // Hard labels through the Distiller's loop (alpha = 0, no teacher), which shifts the digits by up to
        // +-jitter px; the one Adam optimizer is the caller's, so it lives on across chunks.
        const loop = new Distiller(model, null, { temperature: 1, alpha: 0, optimizer });
        try {
          await loop.fit(x, {
            labels: y,
            epochs: 1,
            batchSize: 64,
            jitter,
            seed: ctx.seed + e * 100 + s,
            onProgress: (p) => {
              if (p.phase === 'train') {
                ctx.progress({ phase: 'distill-mnist: CNN teacher', done: done + p.done, total });
              }
            },
          });
        } finally {
          loop.dispose();
          tf.dispose([x, y]);
        }
        done += Math.ceil(chunk.length / 64);
      }
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
  return model;
}

/** What one pair of students trains on. */
interface TransferSet {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** The teacher's logits over `x` (used when the teacher's outputs are cached). */
  logits: tf.Tensor2D;
}

/**
 * Trains one student MLP on hard labels (`soft = false`: alpha = 0) or distilled, and returns its errors on `rows`
 * of `part`.
 */
async function student(
  ctx: ReportContext,
  cfg: DistillMnistConfig,
  set: TransferSet,
  teacher: tfl.LayersModel,
  scoring: { part: ImageSplit['train']; rows: readonly number[] },
  run: { seed: number; epochs: number; soft: boolean; label: string },
): Promise<number> {
  const model = hintonMlp({ hidden: cfg.studentHidden, dropout: 0, inputDropout: 0, seed: run.seed });
  const d = !run.soft
    ? new Distiller(model, null, { temperature: 1, alpha: 0, learningRate: cfg.lr })
    : cfg.teacherOutputs === 'per-batch'
      ? new Distiller(model, teacher, {
          temperature: cfg.temperature,
          alpha: cfg.alpha,
          learningRate: cfg.lr,
          teacherOutputs: 'per-batch',
        })
      : new Distiller(
          model,
          { outputs: set.logits, outputKind: 'logits' },
          { temperature: cfg.temperature, alpha: cfg.alpha, learningRate: cfg.lr },
        );
  try {
    await d.fit(set.x, {
      labels: set.y,
      epochs: run.epochs,
      batchSize: cfg.batchSize,
      jitter: cfg.jitter,
      seed: run.seed,
      onProgress: (e) => {
        if (e.phase === 'train') {
          ctx.progress({
            phase: `distill-mnist: ${run.label} ${run.soft ? 'soft' : 'hard'} s${run.seed}`,
            done: e.done,
            total: e.total,
          });
        }
      },
    });
    return await errorsOn(model, scoring.part, scoring.rows);
  } finally {
    d.dispose();
    model.dispose();
  }
}

/** The hard-label and distilled students of every seed on one transfer set (the first `n` training digits). */
async function pairs(
  ctx: ReportContext,
  cfg: DistillMnistConfig,
  data: ImageSplit,
  teacher: tfl.LayersModel,
  n: number,
  epochs: number,
  label: string,
  seedOffset: number,
): Promise<DistillMnistRun[]> {
  const rows = range(Math.min(n, data.train.size));
  const x = imagesOf(data.train, rows);
  const y = labelsOf(data.train, rows);
  let logits: tf.Tensor2D | undefined;
  try {
    logits = tf.tidy(() => teacher.predict(x) as tf.Tensor2D);
    const set: TransferSet = { x, y, logits };
    const scoring = { part: data.test, rows: range(data.test.size) };
    const runs: DistillMnistRun[] = [];
    for (let s = 0; s < cfg.seeds; s++) {
      const seed = ctx.seed + seedOffset + s;
      const t0 = Date.now();
      const hard = await student(ctx, cfg, set, teacher, scoring, { seed, epochs, soft: false, label });
      const soft = await student(ctx, cfg, set, teacher, scoring, { seed, epochs, soft: true, label });
      runs.push({ seed, hard, soft, seconds: (Date.now() - t0) / 1000 });
      ctx.log(`distill-mnist: ${label}, seed ${seed}: hard ${hard} -> soft ${soft} test errors`);
    }
    return runs;
  } finally {
    tf.dispose([x, y]);
    if (logits !== undefined) logits.dispose();
  }
}

/**
 * Runs the section: the teacher once, then per seed a student on hard labels and the same student (same init,
 * batch order and jitter) on the teacher's soft targets; then the same on the small-data set.
 *
 * @example
 * ```ts
 * const result = await runDistillMnist(ctx);
 * ```
 */
export async function runDistillMnist(
  ctx: ReportContext,
  config?: DistillMnistConfig,
): Promise<DistillMnistResult> {
  const t0 = Date.now();
  const cfg = config ?? distillMnistConfig(ctx.mode);
  const data = await loadFullMnist({ testSize: cfg.testSize });
  try {
    ctx.log(
      `distill-mnist: CNN teacher on ${cfg.teacherTrain} digits, ${cfg.teacherEpochs} epoch(s), +-${cfg.teacherJitter} px`,
    );
    const tt = Date.now();
    const teacher = await trainCnnTeacher(ctx, data, cfg.teacherTrain, cfg.teacherEpochs, cfg.teacherJitter);
    try {
      const teacherSeconds = (Date.now() - tt) / 1000;
      const teacherErrors = await errorsOn(teacher, data.test, range(data.test.size));
      ctx.log(`distill-mnist: teacher ${teacherErrors} test errors of ${data.test.size}`);
      const runs = await pairs(ctx, cfg, data, teacher, cfg.studentTrain, cfg.studentEpochs, 'main', 200);
      let little: DistillMnistResult['little'];
      if (cfg.littleFraction > 0) {
        const size = Math.max(
          1,
          Math.round(cfg.littleFraction * Math.min(cfg.teacherTrain, data.train.size)),
        );
        little = {
          size,
          runs: await pairs(ctx, cfg, data, teacher, size, cfg.littleEpochs, 'small data', 300),
        };
      }
      return {
        mode: ctx.mode,
        backend: ctx.backend,
        config: cfg,
        testSize: data.test.size,
        teacher: { errors: teacherErrors, seconds: teacherSeconds },
        runs,
        little,
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      teacher.dispose();
    }
  } finally {
    data.dispose();
  }
}
