/**
 * `transferkit distill`: distils a teacher model (a tfjs layers model file) into a student over a folder of images
 * (labels from sub-folder names) or a feature file, with transferkit's {@link Distiller}, and saves the student.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import {
  Distiller,
  decodeFeatures,
  evaluateClassifier,
  hintonMlp,
  InvalidArgumentError,
  stratifiedSplit,
} from '../index.js';
import { withTracked } from '../internal.js';
import { initBackend, loadLayersModelFrom, readImageFolder, saveLayersModelTo } from '../node.js';
import { terminalProgress } from '../report/progress.js';

/** A commander parser of a number `>= min` (`> 0` when `min` is `Number.MIN_VALUE`), `<= max`, maybe an integer. */
function parseNumber(min: number, max = Infinity, integer = false) {
  const kind = integer ? 'an integer' : 'a number';
  const range =
    min === Number.MIN_VALUE && max === Infinity
      ? '> 0'
      : max === Infinity
        ? `>= ${min}`
        : `in [${min === Number.MIN_VALUE ? '0 (exclusive)' : min}, ${max}]`;
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new CommanderArgumentError(`expected ${kind} ${range}, got ${JSON.stringify(v)}.`);
    }
    return n;
  };
}

function parseHidden(v: string): number[] {
  const h = v.split(',').map((s) => Number(s.trim()));
  if (h.length === 0 || h.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new CommanderArgumentError('expected comma-separated layer sizes, e.g. 800,800.');
  }
  return h;
}

function parseSize(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v.trim());
  if (!m) throw new CommanderArgumentError('expected HxW, e.g. 28x28.');
  return [Number(m[1]), Number(m[2])];
}

/** A labelled (or unlabelled) data set read from disk. */
interface DataSet {
  x: tf.Tensor;
  labels?: number[];
  classNames?: string[];
}

/** Reads a transferkit feature file: its first (or named) matrix as `[N, D]`, with its labels if any. */
async function readFeatureFile(file: string, matrixName: string | undefined): Promise<DataSet> {
  const f = decodeFeatures(new Uint8Array(await readFile(file)));
  const m = matrixName === undefined ? f.matrices[0] : f.matrices.find((mm) => mm.name === matrixName);
  if (m === undefined) {
    throw new InvalidArgumentError(
      'transferkit distill',
      '--matrix',
      `one of ${f.matrices.map((mm) => JSON.stringify(mm.name)).join(', ')}`,
      matrixName,
    );
  }
  return { x: tf.tensor2d(m.data, [m.rows, m.cols]), labels: f.labels ? Array.from(f.labels) : undefined };
}

/** The options of the `distill` sub-command, as commander parses them. */
interface DistillCliOptions {
  teacher: string;
  images?: string;
  features?: string;
  matrix?: string;
  student?: string;
  hidden: number[];
  temperature: number;
  alpha: number;
  epochs: number;
  batchSize: number;
  lr: number;
  jitter: number;
  valFraction: number;
  size?: [number, number];
  seed: number;
  out: string;
  backend: string;
  progress: boolean;
}

function requireFile(argument: string, file: string, kind: 'file' | 'folder'): void {
  if (!existsSync(file) || (kind === 'folder' ? !statSync(file).isDirectory() : !statSync(file).isFile())) {
    throw new InvalidArgumentError('transferkit distill', argument, `an existing ${kind}`, file);
  }
}

/** Runs the command (exported for tests). Returns the metrics it writes to `<out>/distill.json`. */
export async function runDistillCommand(opts: DistillCliOptions): Promise<Record<string, unknown>> {
  if ((opts.images === undefined) === (opts.features === undefined)) {
    throw new InvalidArgumentError(
      'transferkit distill',
      '--images / --features',
      'exactly one of them',
      undefined,
    );
  }
  requireFile('--teacher', opts.teacher, 'file');
  if (opts.images !== undefined) requireFile('--images', opts.images, 'folder');
  if (opts.features !== undefined) requireFile('--features', opts.features, 'file');
  if (opts.student !== undefined) requireFile('--student', opts.student, 'file');
  const backend = await initBackend(opts.backend);
  const sink = terminalProgress({ bars: opts.progress });
  let teacher: tfl.LayersModel | undefined;
  let student: tfl.LayersModel | undefined;
  let distiller: Distiller | undefined;
  try {
    // The run's tensors are freed when it ends, by returning or throwing (the one ownership helper).
    return await withTracked(async (track) => {
      teacher = await loadLayersModelFrom(opts.teacher);
      const inShape = teacher.inputs[0].shape.slice(1) as number[];
      const k = teacher.outputs[0].shape[teacher.outputs[0].shape.length - 1] as number;
      let data: DataSet;
      if (opts.images !== undefined) {
        let imageShape: [number, number, number];
        if (inShape.length === 3) imageShape = inShape as [number, number, number];
        else if (opts.size !== undefined) {
          const [h, w] = opts.size;
          const c = inShape.reduce((a, b) => a * b, 1) / (h * w);
          if (c !== 1 && c !== 3) {
            throw new InvalidArgumentError(
              'transferkit distill',
              '--size',
              `H x W with H * W * (1 or 3) = ${inShape.join(' x ')} (the teacher's input)`,
              opts.size.join('x'),
            );
          }
          imageShape = [h, w, c];
        } else {
          throw new InvalidArgumentError(
            'transferkit distill',
            '--size',
            `the image size HxW (the teacher takes flat inputs of ${inShape.join(' x ')})`,
            undefined,
          );
        }
        const [h, w, c] = imageShape;
        data = await readImageFolder(opts.images, {
          size: [h, w],
          channels: c as 1 | 3,
          caller: { fn: 'transferkit distill', argument: '--images' },
        });
        if (inShape.length !== 3) data.x = track(tf.reshape(data.x, [-1, ...inShape]));
      } else {
        data = await readFeatureFile(opts.features as string, opts.matrix);
      }
      track(data.x);
      const n = data.x.shape[0] as number;
      if (opts.alpha < 1 && data.labels === undefined) {
        throw new InvalidArgumentError(
          'transferkit distill',
          '--alpha',
          '1 for unlabelled data (no class sub-folders / no labels in the feature file)',
          opts.alpha,
        );
      }
      // Hold out a validation part (stratified when labelled) to report teacher and student errors.
      let trainIdx = Array.from({ length: n }, (_, i) => i);
      let valIdx: number[] = [];
      if (data.labels !== undefined && opts.valFraction > 0) {
        const split = stratifiedSplit(data.labels, { seed: opts.seed, testFraction: opts.valFraction });
        trainIdx = split.trainIndices;
        valIdx = split.testIndices;
      }
      const take = (t: tf.Tensor, idx: number[]) =>
        track(tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32'))));
      const labelsT = data.labels === undefined ? undefined : track(tf.tensor1d(data.labels, 'int32'));
      const xTrain = take(data.x, trainIdx);
      const yTrain = labelsT === undefined ? undefined : (take(labelsT, trainIdx) as tf.Tensor1D);
      student =
        opts.student !== undefined
          ? await loadLayersModelFrom(opts.student)
          : hintonMlp({ hidden: opts.hidden, inputShape: inShape, numClasses: k, seed: opts.seed });
      distiller = new Distiller(student, teacher, {
        temperature: opts.temperature,
        alpha: opts.alpha,
        learningRate: opts.lr,
      });
      sink.log(
        `transferkit distill: ${n} examples (${trainIdx.length} transfer, ${valIdx.length} validation), T = ${opts.temperature}, alpha = ${opts.alpha}, backend ${backend}`,
      );
      const history = await distiller.fit(xTrain, {
        labels: yTrain,
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        jitter: opts.jitter,
        seed: opts.seed,
        onProgress: (e) => sink.update('distill', e),
      });
      const metrics: Record<string, unknown> = {
        examples: n,
        transfer: trainIdx.length,
        validation: valIdx.length,
        temperature: opts.temperature,
        alpha: opts.alpha,
        epochs: history.epochs,
        absentClasses: history.absentClasses,
        classNames: data.classNames,
        backend,
      };
      if (valIdx.length > 0 && labelsT !== undefined) {
        const xVal = take(data.x, valIdx);
        const yVal = take(labelsT, valIdx) as tf.Tensor1D;
        const t = await evaluateClassifier(teacher, { x: xVal, labels: yVal });
        const s = await evaluateClassifier(student, { x: xVal, labels: yVal });
        metrics.teacherErrors = t.errors;
        metrics.studentErrors = s.errors;
        sink.log(
          `validation errors: teacher ${t.errors} / ${valIdx.length} (${(t.errorRate * 100).toFixed(2)}%), student ${s.errors} (${(s.errorRate * 100).toFixed(2)}%)`,
        );
      }
      await mkdir(opts.out, { recursive: true });
      await saveLayersModelTo(student, opts.out);
      await writeFile(path.join(opts.out, 'distill.json'), JSON.stringify(metrics, null, 2));
      sink.log(`student saved to ${path.join(opts.out, 'model.json')}`);
      return metrics;
    });
  } finally {
    sink.stop();
    distiller?.dispose();
    student?.dispose();
    teacher?.dispose();
  }
}

/** Builds the `distill` sub-command. */
export function distillCommand(): Command {
  return new Command('distill')
    .description(
      'Distil a teacher model into a smaller student (Hinton et al. 2015) over a folder of images (one sub-folder per class) or a feature file; saves the student as a tfjs layers model.',
    )
    .requiredOption(
      '--teacher <model.json>',
      'the teacher: a tfjs layers model.json (outputs logits or probabilities)',
    )
    .option(
      '--images <dir>',
      'transfer set: a folder of PNG/JPEG images, one sub-folder per class (or unlabelled)',
    )
    .option(
      '--features <file>',
      'transfer set: a transferkit feature file (its labels are used when present)',
    )
    .option('--matrix <name>', 'the matrix of the feature file to use (default: the first)')
    .option('--student <model.json>', 'a student model of your own (must output logits); default: an MLP')
    .option('--hidden <sizes>', 'hidden layer sizes of the default MLP student', parseHidden, [800, 800])
    .option('--temperature <T>', 'distillation temperature', parseNumber(Number.MIN_VALUE), 20)
    .option('--alpha <a>', 'weight of the soft term in [0, 1] (1: no labels needed)', parseNumber(0, 1), 0.9)
    .option('--epochs <n>', 'epochs over the transfer set', parseNumber(1, Infinity, true), 10)
    .option('--batch-size <n>', 'examples per step', parseNumber(1, Infinity, true), 128)
    .option('--lr <rate>', 'Adam learning rate', parseNumber(Number.MIN_VALUE), 0.001)
    .option('--jitter <px>', "random shifts of the student's images, in pixels", parseNumber(0, 64, true), 0)
    .option('--val-fraction <f>', 'labelled data held out to report errors', parseNumber(0, 0.9), 0.1)
    .option('--size <HxW>', 'image size, when the teacher takes flat inputs (e.g. 28x28)', parseSize)
    .option(
      '--seed <n>',
      'seed of the split, the student init and the batches',
      parseNumber(0, 2 ** 31, true),
      0,
    )
    .option('--out <dir>', 'where the student (model.json + weights) and distill.json go', 'student')
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .option('--no-progress', 'no progress bars')
    .action(async (opts: DistillCliOptions) => {
      await runDistillCommand(opts);
    });
}
