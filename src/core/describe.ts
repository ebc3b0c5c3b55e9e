/**
 * How error messages print values: `describeValue` (tensors by dtype and shape, arrays by length, strings
 * quoted, never reading tensor data) and `rawValue` (a string printed as is). Internal.
 *
 * @module
 */

// Symbol.for: the same symbol in every copy of this module (the CLI bundles one, the library has another).
const RAW = Symbol.for('transferkit.rawValue');
/** A string wrapped by `rawValue`, printed unquoted in error messages. */
export interface RawValue {
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
