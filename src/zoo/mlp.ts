/**
 * The multilayer perceptrons of Hinton, Vinyals & Dean 2015 ("Distilling the knowledge in a neural network", §3):
 * a large teacher 784-1200-1200-10 trained with dropout, and distilled students 784-800-800-10 and smaller.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** The named MLP sizes of Hinton et al. 2015. */
export type HintonPreset = 'teacher' | 'student' | 'small';

/** The sizes and dropout of one of `HINTON_PRESETS`. */
export interface HintonPresetConfig {
  /** Units of each hidden layer. */
  hidden: readonly number[];
  /** Dropout rate after each hidden layer. */
  dropout: number;
  /** Dropout rate on the inputs. */
  inputDropout: number;
}

/**
 * The presets: `teacher` 784-1200-1200-10 with dropout 0.5 on hidden units and 0.2 on inputs (the paper's
 * regularised net, 67 test errors); `student` 784-800-800-10 without dropout (146 errors alone, 74 distilled);
 * `small` 784-30-30-10 (the paper's smallest distilled net).
 */
export const HINTON_PRESETS: Readonly<Record<HintonPreset, Readonly<HintonPresetConfig>>> = {
  teacher: { hidden: [1200, 1200], dropout: 0.5, inputDropout: 0.2 },
  student: { hidden: [800, 800], dropout: 0, inputDropout: 0 },
  small: { hidden: [30, 30], dropout: 0, inputDropout: 0 },
};

/** Options of {@link hintonMlp}. Explicit fields override the preset's. */
export interface HintonMlpOptions {
  /**
   * Start from one of `HINTON_PRESETS`.
   * @default 'student'
   */
  preset?: HintonPreset;
  /**
   * Units of each hidden ReLU layer (`fc1`, `fc2`, ...).
   * @default the preset's
   */
  hidden?: number[];
  /**
   * Dropout rate after each hidden layer (`drop1`, ...). 0 adds no dropout layer.
   * @default the preset's
   */
  dropout?: number;
  /**
   * Dropout rate on the inputs (`input_drop`). 0 adds no layer.
   * @default the preset's
   */
  inputDropout?: number;
  /**
   * Input shape without the batch; an image shape `[h, w, c]` gets a `flatten` layer first.
   * @default [28, 28, 1]
   */
  inputShape?: number[];
  /**
   * Number of classes (size of the `logits` layer).
   * @default 10
   */
  numClasses?: number;
  /**
   * Seed of the weight initialisers.
   * @default 0
   */
  seed?: number;
  /**
   * Name of the model.
   * @default 'hinton_mlp_<preset>'
   */
  name?: string;
}

/** The known keys of {@link HintonMlpOptions}. */
const HINTON_MLP_OPTION_KEYS = knownKeys<HintonMlpOptions>({
  preset: true,
  hidden: true,
  dropout: true,
  inputDropout: true,
  inputShape: true,
  numClasses: true,
  seed: true,
  name: true,
});

/**
 * Builds one of Hinton et al.'s MLPs as a tfjs-layers `Sequential` model with named layers:
 * [`flatten`] -> [`input_drop`] -> `fc1` (ReLU) -> [`drop1`] -> `fc2` (ReLU) -> [`drop2`] -> `logits` (linear).
 * The output is **logits** (no softmax), as distillation needs them (Hinton et al. 2015, eq. 1:
 * q_i = exp(z_i/T) / sum_j exp(z_j/T)). Kernels are seeded Glorot-uniform, biases zero.
 *
 * The `drop*` layers are tfjs-layers `Dropout` layers (the model saves and loads like any other). When transferkit
 * trains the model ({@link trainClassifier}, `Distiller.fit`, `trainWithGroups`), each of them draws a fresh mask
 * every step from a stream of the training seed, so the same seeds give the same trained weights.
 *
 * @example
 * ```ts
 * const teacher = hintonMlp({ preset: 'teacher', seed: 1 }); // 784-1200-1200-10, dropout 0.5
 * const student = hintonMlp({ preset: 'student' }); // 784-800-800-10
 * const tiny = hintonMlp({ hidden: [30, 30] });
 * ```
 */
export function hintonMlp(options: HintonMlpOptions = {}): tfl.Sequential {
  const fn = 'hintonMlp';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, HINTON_MLP_OPTION_KEYS);
  const preset = opts.preset ?? 'student';
  checkOneOf(fn, 'options.preset', preset, ['teacher', 'student', 'small'] as const);
  const base = HINTON_PRESETS[preset];
  const hidden = opts.hidden ?? [...base.hidden];
  if (!Array.isArray(hidden))
    throw new InvalidArgumentError(fn, 'options.hidden', 'an array of units', hidden);
  hidden.forEach((h, i) => {
    checkInteger(fn, `options.hidden[${i}]`, h, 1);
  });
  const dropout = opts.dropout ?? base.dropout;
  const inputDropout = opts.inputDropout ?? base.inputDropout;
  checkInRange(fn, 'options.dropout', dropout, 0, 1, { hi: true });
  checkInRange(fn, 'options.inputDropout', inputDropout, 0, 1, { hi: true });
  const inputShape = opts.inputShape ?? [28, 28, 1];
  if (!Array.isArray(inputShape) || inputShape.length === 0) {
    throw new InvalidArgumentError(fn, 'options.inputShape', 'a non-empty shape', inputShape);
  }
  inputShape.forEach((d, i) => {
    checkInteger(fn, `options.inputShape[${i}]`, d, 1);
  });
  const numClasses = opts.numClasses ?? 10;
  checkInteger(fn, 'options.numClasses', numClasses, 2);
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);

  const rng = new Rng(seed);
  const model = tfl.sequential({ name: opts.name ?? `hinton_mlp_${preset}` });
  let first = true;
  const input = () => {
    if (!first) return {};
    first = false;
    return { inputShape };
  };
  if (inputShape.length > 1) model.add(tfl.layers.flatten({ name: 'flatten', ...input() }));
  if (inputDropout > 0) model.add(tfl.layers.dropout({ name: 'input_drop', rate: inputDropout, ...input() }));
  hidden.forEach((units, i) => {
    model.add(
      tfl.layers.dense({
        name: `fc${i + 1}`,
        units,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
        biasInitializer: 'zeros',
        ...input(),
      }),
    );
    if (dropout > 0) model.add(tfl.layers.dropout({ name: `drop${i + 1}`, rate: dropout }));
  });
  model.add(
    tfl.layers.dense({
      name: 'logits',
      units: numClasses,
      activation: 'linear',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
      biasInitializer: 'zeros',
      ...input(),
    }),
  );
  return model;
}
