/**
 * Opt-in registration of transferkit's training kernels on the `wasm` and `cpu` backends.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { TRAINING_KERNELS, type TrainingKernel } from './dispatch.js';
import type { KernelEnv } from './scope.js';

/** The kernels transferkit can replace. */
export type TrainingKernelName =
  | 'Conv2DBackpropFilter'
  | 'Conv2DBackpropInput'
  | 'BatchMatMul'
  | 'DepthwiseConv2dNativeBackpropFilter'
  | 'DepthwiseConv2dNativeBackpropInput'
  | 'MaxPoolGrad'
  | 'GatherV2'
  | 'Sum'
  | 'Add'
  | 'Slice'
  | 'Conv2D'
  | 'Identity';

/** The backends transferkit has training kernels for. */
export type TrainingKernelBackend = 'wasm' | 'cpu';

/** Every kernel {@link registerTrainingKernels} registers by default, in a stable order. */
export const TRAINING_KERNEL_NAMES: readonly TrainingKernelName[] = Object.freeze([
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'BatchMatMul',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'GatherV2',
  'Sum',
  'Add',
  'Slice',
  'Conv2D',
  'Identity',
]);

const BACKENDS: readonly TrainingKernelBackend[] = ['wasm', 'cpu'];

/**
 * The kernels that make training faster on `backendName`, measured (docs/benchmarks.md): on wasm all twelve
 * (the filter gradients are missing as shipped, the input gradient is 2.5-30x, transposed matmuls 6-20x, the
 * max-pool gradient ~2x and the mini-batch gather 20-50x faster, measured on a loaded machine, the bias
 * gradient's sum over leading axes, the training forward's bias add and its stride-1 convolution run natively, and
 * neither a slice nor a clone copies its whole input); on cpu only the filter gradient (>90% of a conv-net step as
 * shipped). On cpu the others are correct but not faster, because cpu's Conv2D and matmul are plain loops like the
 * originals (the input gradient by convolution is even slower there for strides > 1, as it multiplies the inserted
 * zeros).
 *
 * @example
 * ```ts
 * defaultTrainingKernels('cpu'); // ['Conv2DBackpropFilter']
 * ```
 */
export function defaultTrainingKernels(backendName: TrainingKernelBackend): TrainingKernelName[] {
  checkBackendName('defaultTrainingKernels', backendName);
  return backendName === 'cpu' ? ['Conv2DBackpropFilter'] : [...TRAINING_KERNEL_NAMES];
}

/** Kernels the composite kernels call; the backend's own package must have registered them. */
const REQUIRED = [
  'Conv2D',
  'DepthwiseConv2dNative',
  'Fill',
  'Transpose',
  'Reshape',
  'PadV2',
  'Slice',
  'StridedSlice',
  'Reverse',
  'Multiply',
  'Concat',
  'Sum',
  'BatchMatMul',
];

/** Options of {@link registerTrainingKernels}. */
export interface RegisterTrainingKernelsOptions {
  /**
   * Which kernels to replace. After the call exactly these are transferkit's; any other one transferkit had
   * replaced on this backend is restored to its original. Pass {@link TRAINING_KERNEL_NAMES} for all of them.
   * @default defaultTrainingKernels(backendName): all twelve on wasm, `['Conv2DBackpropFilter']` on cpu
   */
  kernels?: readonly TrainingKernelName[];
}

interface Registration {
  /** The config that was registered before transferkit's, or null where the backend had none. */
  originals: Map<TrainingKernelName, tf.KernelConfig | null>;
  /** {@link originalsMap}'s result, cached (every `Add` on wasm builds a kernel environment); reset on changes. */
  view?: Map<string, tf.KernelConfig>;
}

const registrations = new Map<TrainingKernelBackend, Registration>();
/** The kernel functions transferkit registered, to recognise its own configs in the registry. */
const ours = new WeakSet<tf.KernelFunc>();

function originalsMap(reg: Registration): Map<string, tf.KernelConfig> {
  if (reg.view !== undefined) return reg.view;
  const m = new Map<string, tf.KernelConfig>();
  for (const [k, v] of reg.originals) if (v !== null) m.set(k, v);
  reg.view = m;
  return m;
}

function makeKernelFunc(
  name: TrainingKernelName,
  backendName: TrainingKernelBackend,
  reg: Registration,
): tf.KernelFunc {
  const original = reg.originals.get(name) ?? null;
  const kernel: TrainingKernel = TRAINING_KERNELS[name];
  const fn: tf.KernelFunc = (args) => {
    const env: KernelEnv = {
      backend: args.backend as tf.KernelBackend,
      backendName,
      originals: originalsMap(reg),
    };
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const out = kernel.run(env, inputs, args.attrs ?? {});
    if (out !== undefined) return out;
    if (original === null) throw kernel.missing(inputs);
    return original.kernelFunc(args);
  };
  ours.add(fn);
  return fn;
}

function checkBackendName(fn: string, backendName: unknown): asserts backendName is TrainingKernelBackend {
  if (!BACKENDS.includes(backendName as TrainingKernelBackend)) {
    throw new InvalidArgumentError(
      fn,
      'backendName',
      `one of ${BACKENDS.map((b) => `'${b}'`).join(', ')} (webgl, webgpu and tensorflow (tfjs-node) have fast gradient kernels of their own)`,
      backendName,
    );
  }
}

function isOurs(cfg: tf.KernelConfig | undefined): boolean {
  return cfg !== undefined && ours.has(cfg.kernelFunc);
}

function restore(backendName: TrainingKernelBackend, reg: Registration, name: TrainingKernelName): void {
  const current = tf.getKernel(name, backendName);
  if (isOurs(current)) {
    tf.unregisterKernel(name, backendName);
    const original = reg.originals.get(name);
    if (original) tf.registerKernel(original);
  }
  reg.originals.delete(name);
  reg.view = undefined;
}

/**
 * Registers transferkit's fast gradient kernels on the `wasm` or `cpu` backend (opt-in, idempotent, reversible):
 *
 * - `Conv2DBackpropFilter`: the filter gradient as one Conv2D of x^T ([C, H, W, N]) with dy^T ([OH, OW, N, F]),
 *   dilated by the stride. The wasm backend as shipped has no such kernel, so conv nets cannot train on it;
 *   on cpu it replaces the loop that takes >90% of a training step.
 * - `Conv2DBackpropInput`: the input gradient as one Conv2D of the stride-dilated, padded dy with the spatially
 *   reversed, in/out-swapped filter.
 * - `BatchMatMul` with a transpose flag: an explicit transpose, then the original untransposed matmul.
 * - `DepthwiseConv2dNativeBackpropFilter` / `...BackpropInput` (MobileNet-style layers; wasm has neither): the
 *   filter gradient tap by tap (one-hot depthwise extraction, product with dy, sum), the input gradient as one
 *   depthwise convolution of the dilated, padded dy with the reversed filter.
 * - `MaxPoolGrad` of non-overlapping windows (stride >= window): one pass that routes each window's `dy` to its
 *   arg-max, with the backend's own tie rules, bit-identical to the original (which recomputes the arg-max for
 *   every `dx` element); overlapping windows go to the original.
 * - `GatherV2` of whole rows (axis 0, the mini-batch gather of a training loop) on wasm: one block copy per row,
 *   bit-identical; every other form goes to the original.
 * - `Sum` over leading axes (the bias gradients: dy summed over N, H, W) on wasm: a native SIMD column sum without
 *   the original's transpose, bit-identical; every other form goes to the original.
 * - `Add` of a bias vector over the last axis (the bias add of conv and dense layers, unfused while gradients are
 *   recorded) on wasm: a native SIMD row loop instead of the original's generic broadcast, bit-identical; every other
 *   form goes to the original.
 * - `Slice` on wasm: reads its input in place on the heap (the original first copies the WHOLE input out of the
 *   heap, then slices; a mini-batch slice of a large tensor paid for the whole tensor), bit-identical.
 * - `Identity` on wasm: the clone shares the input's data, reference-counted (the original copies it; the engine
 *   clones every tensor a kernel saves for the backward pass), as the cpu backend's own Identity does.
 * - `Conv2D` on wasm (the training forward's unfused convolution, whose filter is new at every step): stride-1 NHWC
 *   convolutions with filters up to 64 Ki floats as a native register-blocked SIMD loop, without the original's
 *   per-call filter packing (float32 tolerance); every other form goes to the original.
 *
 * On wasm, where WebAssembly SIMD is available, the max-pool gradient, the filter and input gradients, the forward
 * convolution, matmuls below 2^27 multiply-adds, the sum, the bias add and Adam's update (inside `trainClassifier`)
 * run in a small native module compiled from C, in place on the backend's memory; elsewhere the JavaScript loops (or
 * the original kernels) run, with the same results (bit for bit, or within float32 rounding where a sum's order
 * changes).
 *
 * Every replaced kernel keeps the original's `setupFunc`/`disposeFunc` (the wasm backend binds its functions
 * there), so this may run before or after the backend initialises. Each kernel falls back to the original for
 * inputs it does not handle (non-float32 tensors, degenerate geometries). The backend's package must be
 * imported first, so that its kernels are registered. By default only the kernels that are faster on that
 * backend are replaced (`defaultTrainingKernels`); `options.kernels` picks others.
 *
 * @param backendName `'wasm'` or `'cpu'`.
 * @param options Which kernels to replace (default: all).
 * @returns The kernels transferkit now provides on `backendName`.
 * @throws InvalidArgumentError for another backend name, an unknown kernel name, or a backend whose package
 *   has not been imported.
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerTrainingKernels } from 'transferkit';
 *
 * registerTrainingKernels('wasm'); // before or after tf.setBackend('wasm')
 * await tf.setBackend('wasm');
 * // model.fit(...) now trains conv nets on wasm
 * ```
 */
export function registerTrainingKernels(
  backendName: TrainingKernelBackend,
  options: RegisterTrainingKernelsOptions = {},
): TrainingKernelName[] {
  const fn = 'registerTrainingKernels';
  checkBackendName(fn, backendName);
  const wanted = options.kernels ?? defaultTrainingKernels(backendName);
  if (!Array.isArray(wanted)) {
    throw new InvalidArgumentError(fn, 'options.kernels', 'an array of kernel names', wanted);
  }
  for (const k of wanted) {
    if (!TRAINING_KERNEL_NAMES.includes(k)) {
      throw new InvalidArgumentError(
        fn,
        'options.kernels',
        `kernel names among ${TRAINING_KERNEL_NAMES.map((n) => `'${n}'`).join(', ')}`,
        k,
      );
    }
  }
  const missing = REQUIRED.filter((k) => {
    const cfg = tf.getKernel(k, backendName);
    return cfg === undefined || isOurs(cfg);
  });
  // BatchMatMul, Sum and Slice may already be ours (a second call); only the backend's own kernels must be present.
  const reg0 = registrations.get(backendName);
  const missingReal = missing.filter((k) => !reg0?.originals.get(k as TrainingKernelName));
  if (missingReal.length > 0) {
    throw new InvalidArgumentError(
      fn,
      'backendName',
      `a backend whose kernels are registered (import '@tensorflow/tfjs-backend-${backendName}' first; missing: ${missingReal.join(', ')})`,
      backendName,
    );
  }
  const reg: Registration = reg0 ?? { originals: new Map() };
  registrations.set(backendName, reg);
  for (const name of [...reg.originals.keys()]) {
    if (!wanted.includes(name)) restore(backendName, reg, name);
  }
  for (const name of TRAINING_KERNEL_NAMES) {
    if (!wanted.includes(name)) continue;
    const current = tf.getKernel(name, backendName);
    if (isOurs(current)) continue;
    reg.originals.set(name, current ?? null);
    reg.view = undefined;
    if (current !== undefined) tf.unregisterKernel(name, backendName);
    const config: tf.KernelConfig = {
      kernelName: name,
      backendName,
      kernelFunc: makeKernelFunc(name, backendName, reg),
    };
    if (current?.setupFunc) config.setupFunc = current.setupFunc;
    if (current?.disposeFunc) config.disposeFunc = current.disposeFunc;
    tf.registerKernel(config);
  }
  if (reg.originals.size === 0) registrations.delete(backendName);
  return trainingKernelsRegistered(backendName);
}

/**
 * Restores the kernels {@link registerTrainingKernels} replaced on `backendName` (re-registering each original,
 * or removing the kernel where the backend had none, e.g. `Conv2DBackpropFilter` on wasm). Idempotent.
 *
 * @returns The kernels that were restored (empty when none were registered).
 * @example
 * ```ts
 * registerTrainingKernels('cpu');
 * unregisterTrainingKernels('cpu'); // ['Conv2DBackpropFilter'] (the cpu default)
 * ```
 */
export function unregisterTrainingKernels(backendName: TrainingKernelBackend): TrainingKernelName[] {
  checkBackendName('unregisterTrainingKernels', backendName);
  const reg = registrations.get(backendName);
  if (reg === undefined) return [];
  const names = TRAINING_KERNEL_NAMES.filter((n) => reg.originals.has(n));
  for (const name of names) restore(backendName, reg, name);
  registrations.delete(backendName);
  return names;
}

/**
 * The training kernels transferkit currently provides on `backendName` (empty when none).
 *
 * @example
 * ```ts
 * trainingKernelsRegistered('wasm'); // [] until registerTrainingKernels('wasm')
 * ```
 */
export function trainingKernelsRegistered(backendName: TrainingKernelBackend): TrainingKernelName[] {
  checkBackendName('trainingKernelsRegistered', backendName);
  return TRAINING_KERNEL_NAMES.filter((n) => isOurs(tf.getKernel(n, backendName)));
}
