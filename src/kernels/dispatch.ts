/**
 * What each of transferkit's training kernels does when tfjs calls it: try transferkit's implementation, and where
 * it does not apply (another dtype, layout or geometry, or a path switched off) hand the call to the backend's
 * original kernel. {@link TRAINING_KERNELS} is the table; registry.ts registers its entries.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { batchMatMulNative, batchMatMulViaTranspose } from './batch_mat_mul.js';
import { biasAddDirect } from './bias_add.js';
import { conv2DNative } from './conv2d.js';
import { conv2DBackpropFilterViaConv } from './conv2d_backprop_filter.js';
import { conv2DBackpropInputViaConv } from './conv2d_backprop_input.js';
import { depthwiseBackpropFilterViaTaps, depthwiseBackpropInputViaConv } from './depthwise_backprop.js';
import { gatherRowsDirect } from './gather.js';
import { identityShared } from './identity.js';
import { maxPoolGradDirect } from './max_pool_grad.js';
import type { TrainingKernelName } from './registry.js';
import type { KernelEnv } from './scope.js';
import { sliceInPlace } from './slice.js';
import { sumLeadingDirect } from './sum.js';

type Inputs = Record<string, tf.TensorInfo>;

/** One training kernel: its implementation and the error raised where neither it nor an original applies. */
export interface TrainingKernel {
  /** transferkit's result, or undefined where the original must run. */
  run(env: KernelEnv, inputs: Inputs, attrs: unknown): tf.TensorInfo | undefined;
  /** The error for a call `run` declines on a backend without an original kernel of that name. */
  missing(inputs: Inputs): Error;
}

const f32 = (...t: tf.TensorInfo[]) => t.every((x) => x.dtype === 'float32');

/** "a backend with <name>" for the input `arg`. */
function needsOriginal(name: string, arg: string): (inputs: Inputs) => Error {
  return (inputs) => new InvalidArgumentError(name, arg, `a backend with ${name}`, inputs[arg]);
}

/** "float32 tensors" for the input `arg` (its dtype received). */
function needsFloat32(name: string, arg: string): (inputs: Inputs) => Error {
  return (inputs) => new InvalidArgumentError(name, arg, 'float32 tensors', inputs[arg].dtype);
}

/** Every training kernel by name. */
export const TRAINING_KERNELS = {
  Conv2DBackpropFilter: {
    run: (env, { x, dy }, attrs) =>
      f32(x, dy) ? conv2DBackpropFilterViaConv(env, x, dy, attrs as tf.Conv2DBackpropFilterAttrs) : undefined,
    missing: needsFloat32('Conv2DBackpropFilter', 'x'),
  },
  Conv2DBackpropInput: {
    run: (env, { dy, filter }, attrs) =>
      f32(dy, filter)
        ? conv2DBackpropInputViaConv(env, dy, filter, attrs as tf.Conv2DBackpropInputAttrs)
        : undefined,
    missing: needsFloat32('Conv2DBackpropInput', 'dy'),
  },
  BatchMatMul: {
    run: (env, { a, b }, attrs) => {
      if (!f32(a, b)) return undefined;
      const at = attrs as tf.BatchMatMulAttrs;
      const out = batchMatMulNative(env, a, b, at);
      if (out !== undefined) return out;
      // The plain product stays the backend's; transposed ones are transposed explicitly first.
      return at.transposeA || at.transposeB ? batchMatMulViaTranspose(env, a, b, at) : undefined;
    },
    missing: () => new Error('transferkit BatchMatMul: the backend has no BatchMatMul.'),
  },
  DepthwiseConv2dNativeBackpropFilter: {
    run: (env, { x, dy }, attrs) =>
      f32(x, dy)
        ? depthwiseBackpropFilterViaTaps(env, x, dy, attrs as tf.DepthwiseConv2dNativeBackpropFilterAttrs)
        : undefined,
    missing: needsFloat32('DepthwiseConv2dNativeBackpropFilter', 'x'),
  },
  DepthwiseConv2dNativeBackpropInput: {
    run: (env, { dy, filter }, attrs) =>
      f32(dy, filter)
        ? depthwiseBackpropInputViaConv(env, dy, filter, attrs as tf.DepthwiseConv2dNativeBackpropInputAttrs)
        : undefined,
    missing: needsFloat32('DepthwiseConv2dNativeBackpropInput', 'dy'),
  },
  MaxPoolGrad: {
    run: (env, { dy, input }, attrs) => maxPoolGradDirect(env, dy, input, attrs as tf.MaxPoolGradAttrs),
    missing: (inputs) =>
      new InvalidArgumentError('MaxPoolGrad', 'input', 'a float32 NHWC tensor', inputs.input),
  },
  GatherV2: {
    run: (env, { x, indices }, attrs) => gatherRowsDirect(env, x, indices, attrs as tf.GatherV2Attrs),
    missing: needsOriginal('GatherV2', 'x'),
  },
  Sum: {
    run: (env, { x }, attrs) => sumLeadingDirect(env, x, attrs as tf.SumAttrs),
    missing: needsOriginal('Sum', 'x'),
  },
  Add: {
    run: (env, { a, b }) => biasAddDirect(env, a, b),
    missing: needsOriginal('Add', 'a'),
  },
  Slice: {
    run: (env, { x }, attrs) => sliceInPlace(env, x, attrs as tf.SliceAttrs),
    missing: needsOriginal('Slice', 'x'),
  },
  Conv2D: {
    run: (env, { x, filter }, attrs) => conv2DNative(env, x, filter, attrs as tf.Conv2DAttrs),
    missing: needsOriginal('Conv2D', 'x'),
  },
  Identity: {
    run: (env, { x }) => identityShared(env, x),
    missing: needsOriginal('Identity', 'x'),
  },
} satisfies Record<TrainingKernelName, TrainingKernel>;
