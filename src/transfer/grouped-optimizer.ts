/**
 * Discriminative learning rates: one optimizer per group of variables, all stepped from one gradient computation.
 * tfjs optimizers take a single learning rate; fastai's `discriminative learning rates` (Howard & Ruder 2018,
 * "ULMFiT", Sec. 3.2: theta_t^l = theta_{t-1}^l - eta^l grad_l J(theta)) give each layer group its own eta^l, e.g.
 * a lower rate for the layers copied from a base network than for the re-initialised ones.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkNonEmptyArray,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  isTensor,
  knownKeys,
} from '../core/checks.js';
import { describeValue } from '../core/describe.js';
import { DisposedError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';

/** The tfjs optimizers a group can use. */
export type OptimizerKind = 'sgd' | 'momentum' | 'adam' | 'rmsprop';

/**
 * The optimizer kinds, for validation.
 *
 * @example
 * ```ts
 * OPTIMIZER_KINDS.includes('adam'); // true
 * ```
 */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam', 'rmsprop'];

/** A named group of variables trained at one learning rate. */
export interface ParameterGroup {
  /** A name for progress reports and errors, e.g. `'copied'`. */
  readonly name: string;
  /** The variables of the group (frozen ones, `trainable === false`, are skipped at each step). */
  readonly variables: readonly tf.Variable[];
  /** The group's learning rate (> 0). */
  readonly learningRate: number;
}

/** Options of a {@link GroupedOptimizer}. */
export interface GroupedOptimizerOptions {
  /**
   * The optimizer each group uses.
   * @default 'adam'
   */
  optimizer?: OptimizerKind;
  /**
   * Momentum of the `'momentum'` optimizer.
   * @default 0.9
   */
  momentum?: number;
}

/** Duck-typed `tf.Variable` check (two copies of tfjs-core in one bundle still agree). */
function isVariable(v: unknown): v is tf.Variable {
  const x = v as tf.Variable;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.assign === 'function' &&
    typeof x.trainable === 'boolean' &&
    typeof x.name === 'string'
  );
}

/** Makes a tfjs optimizer of the given kind and rate. */
export function makeOptimizer(kind: OptimizerKind, learningRate: number, momentum = 0.9): tf.Optimizer {
  switch (kind) {
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, momentum);
    case 'adam':
      return tf.train.adam(learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
  }
}

/**
 * Frees the tensors the gradient tape saved for a backward pass that will not happen (tfjs keeps them until the
 * backward pass, so a loss that fails inside `variableGrads` would leak them). Only at the outermost tape.
 */
function freeTapeSaves(): void {
  const state = tf.engine().state as unknown as {
    gradientDepth?: number;
    activeTape?: { saved?: tf.Tensor[] }[] | null;
  };
  if (state.gradientDepth !== 1 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) if (Array.isArray(node.saved)) tf.dispose(node.saved);
}

/** The known keys of {@link GroupedOptimizerOptions}. */
const GROUPED_OPTIMIZER_OPTION_KEYS = knownKeys<GroupedOptimizerOptions>({ optimizer: true, momentum: true });

/**
 * Steps several groups of variables, each with its own optimizer and learning rate, from one gradient computation.
 *
 * @example
 * ```ts
 * const opt = new GroupedOptimizer(
 *   [
 *     { name: 'copied', variables: copiedVars, learningRate: 1e-4 },
 *     { name: 'new', variables: newVars, learningRate: 1e-3 },
 *   ],
 *   { optimizer: 'adam' },
 * );
 * const loss = opt.step(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
 * loss.dispose();
 * opt.dispose();
 * ```
 */
export class GroupedOptimizer {
  private readonly groups: { name: string; variables: tf.Variable[]; optimizer: tf.Optimizer }[];
  private disposed = false;

  /**
   * @param groups at least one group; a variable may belong to one group only
   * @param options see {@link GroupedOptimizerOptions}
   * @throws {@link InvalidArgumentError} for an empty group list, a rate <= 0, a variable in two groups, or an
   * unknown optimizer
   */
  constructor(groups: readonly ParameterGroup[], options?: GroupedOptimizerOptions) {
    const fn = 'GroupedOptimizer';
    checkNonEmptyArray(fn, 'groups', groups);
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, GROUPED_OPTIMIZER_OPTION_KEYS);
    const kind = opts.optimizer ?? 'adam';
    checkOneOf(fn, 'options.optimizer', kind, OPTIMIZER_KINDS);
    const momentum = opts.momentum ?? 0.9;
    checkPositive(fn, 'options.momentum', momentum);
    const seen = new Set<string>();
    groups.forEach((g, i) => {
      checkPositive(fn, `groups[${i}].learningRate`, g.learningRate);
      if (!Array.isArray(g.variables)) {
        throw new InvalidArgumentError(fn, `groups[${i}].variables`, 'an array of tf.Variable', g.variables);
      }
      for (const v of g.variables) {
        if (!isVariable(v)) {
          throw new InvalidArgumentError(fn, `groups[${i}].variables`, 'an array of tf.Variable', v);
        }
        if (seen.has(v.name)) {
          throw new InvalidArgumentError(
            fn,
            `groups[${i}].variables`,
            'variables that are in no other group',
            v.name,
          );
        }
        seen.add(v.name);
      }
    });
    this.groups = groups.map((g) => ({
      name: g.name,
      variables: [...g.variables],
      optimizer: makeOptimizer(kind, g.learningRate, momentum),
    }));
  }

  /** The groups' names and sizes (number of trainable variables now). */
  get summary(): {
    /** The group's name. */
    name: string;
    /** Number of variables in the group. */
    variables: number;
    /** How many of them are trainable now. */
    trainable: number;
  }[] {
    return this.groups.map((g) => ({
      name: g.name,
      variables: g.variables.length,
      trainable: g.variables.filter((v) => v.trainable).length,
    }));
  }

  /**
   * Computes the gradients of `loss` for every trainable variable of every group once, and lets each group's
   * optimizer apply its share. Returns the loss (the caller disposes it).
   *
   * @throws {@link InvalidArgumentError} when no variable of any group is trainable
   */
  step(loss: () => tf.Scalar): tf.Scalar {
    if (this.disposed) throw new DisposedError('GroupedOptimizer', 'step');
    const all = this.groups.flatMap((g) => g.variables.filter((v) => v.trainable && !v.isDisposed));
    if (all.length === 0) {
      throw new InvalidArgumentError('GroupedOptimizer.step', 'groups', 'at least one trainable variable', 0);
    }
    if (typeof loss !== 'function') {
      throw new InvalidArgumentError(
        'GroupedOptimizer.step',
        'loss',
        'a function returning a scalar loss',
        loss,
      );
    }
    // inside a scope, so that the tensors of a loss that throws (or is not a scalar) are freed
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        try {
          const l = loss();
          if (!isTensor(l) || l.rank !== 0) {
            throw new ShapeMismatchError(
              'GroupedOptimizer.step',
              'loss',
              'a function returning a scalar (rank-0) tensor',
              isTensor(l) ? l.shape : describeValue(l),
            );
          }
          return l;
        } catch (e) {
          freeTapeSaves();
          throw e;
        }
      }, all),
    );
    try {
      for (const g of this.groups) {
        const mine: tf.NamedTensorMap = {};
        let any = false;
        for (const v of g.variables) {
          const grad = grads[v.name];
          if (grad != null) {
            mine[v.name] = grad;
            any = true;
          }
        }
        if (any) g.optimizer.applyGradients(mine);
      }
    } finally {
      tf.dispose(grads);
    }
    return value;
  }

  /** Disposes the optimizers' state (moments); the variables belong to their models and are left alone. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const g of this.groups) g.optimizer.dispose();
  }
}
