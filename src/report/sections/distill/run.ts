/**
 * The distill section's experiments: a dropout + jitter teacher MLP, a student trained from scratch, the same
 * student distilled at T = 20, a smaller student, a sweep over T, several seeds; a transfer set without 3s before
 * and after the bias correction; and the "little data" comparison (3% of the training set, hard vs soft targets).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  applyBiasShift,
  Distiller,
  type Evaluation,
  evaluateClassifier,
  fitBiasShift,
  hintonMlp,
  stratifiedSplit,
  type TeacherOutputs,
} from '../../../index.js';
import { pct } from '../../html.js';
import { sharedMnist } from '../../shared.js';
import type { ReportContext } from '../../types.js';
import { type DistillConfig, type DistillResult, distillConfig, type ModelScore, THREE } from './config.js';

function toScore(s: Evaluation): ModelScore {
  return { errors: s.errors, rate: s.errorRate, perClassErrors: s.perClassErrors };
}

/** Gathers rows of a tensor (a new tensor). */
function rows<T extends tf.Tensor>(t: T, idx: readonly number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d([...idx], 'int32'))) as T;
}

interface TrainArgs {
  ctx: ReportContext;
  label: string;
  hidden: number[];
  seed: number;
  x: tf.Tensor;
  y: tf.Tensor1D;
  epochs: number;
  /** Precomputed teacher logits over `x` (distillation), or undefined (hard labels only). */
  teacher?: TeacherOutputs;
  temperature?: number;
  /** Dropout on hidden units and inputs. */
  dropout?: [number, number];
  jitter?: number;
  cfg: DistillConfig;
}

/** Trains one MLP (from scratch, or distilled from precomputed teacher logits) with the Distiller's loop. */
async function train(a: TrainArgs): Promise<{ model: tfl.LayersModel; seconds: number }> {
  const model = hintonMlp({
    hidden: a.hidden,
    dropout: a.dropout?.[0] ?? 0,
    inputDropout: a.dropout?.[1] ?? 0,
    seed: a.seed,
  });
  const d =
    a.teacher === undefined
      ? new Distiller(model, null, { temperature: 1, alpha: 0, learningRate: a.cfg.lr })
      : new Distiller(model, a.teacher, {
          temperature: a.temperature ?? a.cfg.temperature,
          alpha: a.cfg.alpha,
          learningRate: a.cfg.lr,
        });
  const t0 = Date.now();
  try {
    await d.fit(a.x, {
      labels: a.y,
      epochs: a.epochs,
      batchSize: a.cfg.batchSize,
      jitter: a.jitter ?? 0,
      seed: a.seed,
      onProgress: (e) => {
        if (e.phase === 'train')
          a.ctx.progress({ phase: `distill: ${a.label}`, done: e.done, total: e.total });
      },
    });
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    d.dispose();
  }
  return { model, seconds: (Date.now() - t0) / 1000 };
}

async function scoreAndDispose(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor1D): Promise<ModelScore> {
  try {
    return toScore(await evaluateClassifier(model, { x: x, labels: y }, { outputKind: 'logits' }));
  } finally {
    model.dispose();
  }
}

/** Logits of a model over `x`, in batches (a new tensor). */
async function logitsOf(model: tfl.LayersModel, x: tf.Tensor): Promise<tf.Tensor2D> {
  const parts: tf.Tensor[] = [];
  try {
    const n = x.shape[0] as number;
    for (let s = 0; s < n; s += 512) {
      parts.push(tf.tidy(() => model.predict(tf.slice(x, s, Math.min(512, n - s))) as tf.Tensor));
    }
    return tf.concat(parts, 0) as tf.Tensor2D;
  } finally {
    tf.dispose(parts);
  }
}

/**
 * Runs every experiment of the section with the recipe of `ctx.mode` (or `config`, e.g. a tiny one for a smoke test).
 *
 * @example
 * ```ts
 * const result = await runDistill(ctx);
 * ```
 */
export async function runDistill(ctx: ReportContext, config?: DistillConfig): Promise<DistillResult> {
  const t0 = Date.now();
  const cfg = config ?? distillConfig(ctx.mode);
  const mnist = await sharedMnist(ctx);
  // A validation split of the training part (for the bias fit); teachers and students train on the rest.
  const split = stratifiedSplit(mnist.train.labels, { seed: ctx.seed + 7, testFraction: cfg.valFraction });
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  try {
    const xTrain = keep(rows(mnist.train.x, split.trainIndices));
    const yTrain = keep(rows(mnist.train.y, split.trainIndices));
    const xVal = keep(rows(mnist.train.x, split.testIndices));
    const yVal = keep(rows(mnist.train.y, split.testIndices));
    const xTest = mnist.test.x;
    const yTest = mnist.test.y;
    const trainLabels = split.trainLabels;

    // 1. The teacher: dropout and jitter.
    ctx.log(
      `distill: teacher 784-${cfg.teacherHidden.join('-')}-10 (dropout ${cfg.teacherDropout.join('/')}, jitter ${cfg.teacherJitter}), ${cfg.teacherEpochs} epochs`,
    );
    const teacherRun = await train({
      ctx,
      label: 'teacher',
      hidden: cfg.teacherHidden,
      seed: ctx.seed,
      x: xTrain,
      y: yTrain,
      epochs: cfg.teacherEpochs,
      dropout: cfg.teacherDropout,
      jitter: cfg.teacherJitter,
      cfg,
    });
    const teacherLogits = keep(await logitsOf(teacherRun.model, xTrain));
    const teacher = {
      ...toScore(await evaluateClassifier(teacherRun.model, { x: xTest, labels: yTest })),
      seconds: teacherRun.seconds,
    };
    teacherRun.model.dispose();
    ctx.log(`distill: teacher ${teacher.errors} test errors (${pct(teacher.rate)})`);
    const teacherOut: TeacherOutputs = { outputs: teacherLogits, outputKind: 'logits' };

    // 2. Students from scratch and distilled, several seeds; the small student too.
    const pair = async (hidden: number[], epochs: number, seed: number, name: string) => {
      const base = { ctx, hidden, seed, x: xTrain, y: yTrain, epochs, cfg };
      const scratch = await scoreAndDispose(
        (await train({ ...base, label: `${name} scratch s${seed}` })).model,
        xTest,
        yTest,
      );
      const distilled = await scoreAndDispose(
        (await train({ ...base, label: `${name} T=${cfg.temperature} s${seed}`, teacher: teacherOut })).model,
        xTest,
        yTest,
      );
      return { seed, scratch, distilled };
    };
    const main: DistillResult['main'] = [];
    const small: DistillResult['small'] = [];
    for (let s = 0; s < cfg.seeds; s++) {
      const seed = ctx.seed + 100 + s;
      main.push(await pair(cfg.studentHidden, cfg.studentEpochs, seed, 'student'));
      small.push(await pair(cfg.smallHidden, cfg.smallEpochs, seed, 'small'));
      ctx.log(
        `distill: seed ${seed}: student ${main[s].scratch.errors} -> ${main[s].distilled.errors}, small ${small[s].scratch.errors} -> ${small[s].distilled.errors}`,
      );
    }

    // 3. A sweep over T on the small student (first seed; T = temperature reuses the run above).
    const sweep: DistillResult['sweep'] = [];
    for (const t of cfg.sweep) {
      if (t === cfg.temperature) {
        sweep.push({ temperature: t, errors: small[0].distilled.errors });
        continue;
      }
      const m = await train({
        ctx,
        label: `small T=${t}`,
        hidden: cfg.smallHidden,
        seed: small[0].seed,
        x: xTrain,
        y: yTrain,
        epochs: cfg.smallEpochs,
        teacher: teacherOut,
        temperature: t,
        cfg,
      });
      sweep.push({ temperature: t, errors: (await scoreAndDispose(m.model, xTest, yTest)).errors });
    }

    // 4. No 3s in the transfer set; then the bias correction (the paper's 3.5, and one fitted on validation).
    const no3 = trainLabels.flatMap((l, i) => (l === THREE ? [] : [i]));
    const xNo3 = keep(rows(xTrain, no3));
    const yNo3 = keep(rows(yTrain, no3));
    const logitsNo3 = keep(rows(teacherLogits, no3));
    const no3Run = await train({
      ctx,
      label: 'no 3s',
      hidden: cfg.studentHidden,
      seed: main[0].seed,
      x: xNo3,
      y: yNo3,
      epochs: cfg.studentEpochs,
      teacher: { outputs: logitsNo3, outputKind: 'logits' },
      cfg,
    });
    let noThrees: DistillResult['noThrees'];
    try {
      const before = toScore(await evaluateClassifier(no3Run.model, { x: xTest, labels: yTest }));
      applyBiasShift(no3Run.model, [THREE], 3.5);
      const paperShift = toScore(await evaluateClassifier(no3Run.model, { x: xTest, labels: yTest }));
      applyBiasShift(no3Run.model, [THREE], -3.5);
      const fit = await fitBiasShift(no3Run.model, { x: xVal, labels: yVal }, { classes: [THREE] });
      applyBiasShift(no3Run.model, [THREE], fit.shift);
      const fitted = toScore(await evaluateClassifier(no3Run.model, { x: xTest, labels: yTest }));
      noThrees = { before, paperShift, fitted, fittedShift: fit.shift };
    } finally {
      no3Run.model.dispose();
    }

    // 5. Little data: 3% of the training part, hard labels vs the teacher's soft targets.
    const littleSplit = stratifiedSplit(trainLabels, {
      seed: ctx.seed + 11,
      testFraction: 1 - cfg.littleFraction,
    });
    const littleIdx = littleSplit.trainIndices;
    const xLittle = keep(rows(xTrain, littleIdx));
    const yLittle = keep(rows(yTrain, littleIdx));
    const logitsLittle = keep(rows(teacherLogits, littleIdx));
    const lbase = {
      ctx,
      hidden: cfg.studentHidden,
      seed: main[0].seed,
      x: xLittle,
      y: yLittle,
      epochs: cfg.littleEpochs,
      cfg,
    };
    const hard = await scoreAndDispose((await train({ ...lbase, label: 'little hard' })).model, xTest, yTest);
    const soft = await scoreAndDispose(
      (
        await train({
          ...lbase,
          label: 'little soft',
          teacher: { outputs: logitsLittle, outputKind: 'logits' },
        })
      ).model,
      xTest,
      yTest,
    );

    return {
      mode: ctx.mode,
      backend: ctx.backend,
      config: cfg,
      sizes: {
        train: split.trainIndices.length,
        val: split.testIndices.length,
        test: mnist.test.size,
        threesInTest: mnist.test.labels.filter((l) => l === THREE).length,
        little: littleIdx.length,
        noThrees: no3.length,
      },
      teacher,
      main,
      small,
      sweep,
      noThrees,
      little: { hard, soft },
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    tf.dispose(owned);
  }
}
