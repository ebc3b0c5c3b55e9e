/**
 * The distill section's recipe per mode and the shape of its results: Hinton, Vinyals & Dean (2015), section 3
 * (MNIST), the paper's MLP-to-MLP setting at small scale on the digits of the `mnist` package.
 *
 * @module
 */
import type { ReportMode } from '../../types.js';

/** The digit whose examples the no-3s experiment leaves out of the transfer set. */
export const THREE = 3;

/** The recipe of the experiments in each mode. */
export interface DistillConfig {
  /** Hidden sizes of the teacher (paper: 1200-1200, dropout, jitter). */
  teacherHidden: number[];
  /** Epochs of the teacher. */
  teacherEpochs: number;
  /** Dropout of the teacher: on hidden units and on inputs (paper: 0.5 and 0.2). */
  teacherDropout: [number, number];
  /** Translation jitter of the teacher's inputs in pixels (paper: 2). */
  teacherJitter: number;
  /** Hidden sizes of the main student (paper: 800-800). */
  studentHidden: number[];
  /** Hidden sizes of the smaller student (30-30). */
  smallHidden: number[];
  /** Epochs of the main student (and the no-3s student) on the full transfer set. */
  studentEpochs: number;
  /** Epochs of the smaller student (cheap, slower to converge when distilled). */
  smallEpochs: number;
  /** The distillation temperature of the main comparison (paper: 20). */
  temperature: number;
  /** Weight of the soft term. */
  alpha: number;
  /** Temperatures of the sweep (on the smaller student). */
  sweep: number[];
  /** Seeds per comparison. */
  seeds: number;
  /** Fraction of the training part used in the "little data" experiment. */
  littleFraction: number;
  /** Epochs on the little subset. */
  littleEpochs: number;
  /** Fraction of the training part held out for validation (bias fit). */
  valFraction: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
}

/**
 * The recipe: `full` uses the paper's sizes and regularisation (1200-1200 teacher with dropout 0.5/0.2 and +-2 px
 * jitter, 800-800 student, 30-30 small); `quick` shrinks the teacher to 400-400 with lighter dropout (0.3/0.1) and
 * +-1 px jitter (which converge in 12 epochs), the main student to 100-100, and trains fewer epochs, to fit ~90 s on
 * 2 cores.
 *
 * @example
 * ```ts
 * distillConfig('quick').teacherHidden; // [400, 400]
 * ```
 */
export function distillConfig(mode: ReportMode): DistillConfig {
  const full = mode === 'full';
  return {
    teacherHidden: full ? [1200, 1200] : [400, 400],
    teacherEpochs: full ? 40 : 12,
    teacherDropout: full ? [0.5, 0.2] : [0.3, 0.1],
    teacherJitter: full ? 2 : 1,
    studentHidden: full ? [800, 800] : [100, 100],
    smallHidden: [30, 30],
    studentEpochs: full ? 30 : 12,
    smallEpochs: full ? 40 : 10,
    temperature: 20,
    alpha: 0.9,
    sweep: full ? [1, 2, 3, 4, 8, 20, 50] : [2, 5, 20],
    seeds: full ? 3 : 2,
    littleFraction: 0.03,
    littleEpochs: full ? 150 : 60,
    valFraction: 0.1,
    batchSize: 128,
    lr: 2e-3,
  };
}

/** Test errors of one trained model. */
export interface ModelScore {
  errors: number;
  rate: number;
  perClassErrors: number[];
}

/** The JSON results of the section. */
export interface DistillResult {
  mode: ReportMode;
  backend: string;
  config: DistillConfig;
  sizes: { train: number; val: number; test: number; threesInTest: number; little: number; noThrees: number };
  teacher: ModelScore & { seconds: number };
  /** Per seed: the main student from scratch and distilled at `temperature`. */
  main: { seed: number; scratch: ModelScore; distilled: ModelScore }[];
  /** Per seed: the small student from scratch and distilled at `temperature`. */
  small: { seed: number; scratch: ModelScore; distilled: ModelScore }[];
  /** The small student distilled at each temperature of the sweep (first seed). */
  sweep: { temperature: number; errors: number }[];
  noThrees: {
    before: ModelScore;
    paperShift: ModelScore;
    fitted: ModelScore;
    fittedShift: number;
  };
  little: { hard: ModelScore; soft: ModelScore };
  seconds: number;
}
