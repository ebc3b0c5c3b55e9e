/**
 * Checks of saved tfjs model artifacts before tfjs turns them into tensors: the weight data must hold exactly the
 * bytes the weight specs declare. tfjs-layers allocates each weight as it decodes it and throws an untyped error
 * (leaking the weights decoded so far) when the data runs short; checking first avoids both.
 *
 * @module
 */
import type { io } from '@tensorflow/tfjs-core';
import { rawValue } from './describe.js';
import { InvalidArgumentError } from './errors.js';

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
  complex64: 8,
};

/** Bytes of one weight spec's data (quantised weights count their quantised size), or `undefined` if unknown. */
function specBytes(spec: io.WeightsManifestEntry): number | undefined {
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.shape)) return undefined;
  let size = 1;
  for (const d of spec.shape) {
    if (!Number.isSafeInteger(d) || d < 0) return undefined;
    size *= d;
  }
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype as string];
  return bytes === undefined || !Number.isSafeInteger(size * bytes) ? undefined : size * bytes;
}

/**
 * Throws an {@link InvalidArgumentError} unless `artifacts.weightData` holds exactly the bytes its `weightSpecs`
 * declare (string weights and unknown dtypes are left to tfjs). Reads no tensor and allocates none.
 *
 * @example
 * ```ts
 * const artifacts = await handler.load!();
 * checkModelArtifacts('myLoader', 'handler', artifacts);
 * ```
 */
export function checkModelArtifacts(fn: string, argument: string, artifacts: io.ModelArtifacts): void {
  if (typeof artifacts !== 'object' || artifacts === null || artifacts.modelTopology === undefined) {
    throw new InvalidArgumentError(fn, argument, 'model artifacts with a modelTopology', artifacts);
  }
  const specs = artifacts.weightSpecs ?? [];
  if (!Array.isArray(specs)) throw new InvalidArgumentError(fn, argument, 'an array of weight specs', specs);
  let expected = 0;
  for (const spec of specs) {
    if (spec?.dtype === 'string') return;
    const b = specBytes(spec);
    if (b === undefined) {
      throw new InvalidArgumentError(
        fn,
        argument,
        'weight specs with a shape and a numeric dtype',
        spec?.name,
      );
    }
    expected += b;
  }
  const data = artifacts.weightData;
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const got = parts.reduce((s, p) => s + p.byteLength, 0);
  if (got !== expected) {
    throw new InvalidArgumentError(
      fn,
      argument,
      `${expected} bytes of weights (as the weights manifest declares for ${specs.length} weights)`,
      rawValue(`${got} bytes${got < expected ? ' (truncated weights)' : ''}`),
    );
  }
}
