/**
 * Adam with one kernel per variable and step on the wasm and cpu backends.
 *
 * tfjs's `AdamOptimizer.applyGradients` runs about a dozen element-wise kernels per variable (two moment updates,
 * two bias corrections, square root, add, divide, multiply, add), each a pass over the variable with its own
 * output buffer; in a profile of the zoo CNN's training step on wasm they were ~100 of the step's ~240 kernels.
 * {@link FusedAdamOptimizer} keeps tfjs's optimizer (its state, `getWeights`/`setWeights`, serialisation) and
 * replaces only the update: one pass computes, per element, in float32 with the same operations in the same order
 * as tfjs (Kingma & Ba 2015, Alg. 1, with tfjs's epsilon placement):
 *
 *   m' = m b1 + g (1 - b1),  v' = v b2 + g^2 (1 - b2),
 *   w' = (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps) * (-lr) + w
 *
 * Every intermediate is rounded to float32 (`Math.fround`), and double-precision `+ - * / sqrt` rounded to float32
 * equal the float32 operations, so the result is bit-identical to tfjs's Adam on these backends (a test checks it).
 * Other backends, and other dtypes, take tfjs's own update.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapBackend, heapOffset, nativeKernelOn, nativeKernels } from './native.js';

/** The kernel's name in the tfjs kernel registry. */
export const FUSED_ADAM_KERNEL = 'TransferkitFusedAdam';

interface CpuBackend {
  readSync(dataId: tf.DataId): Float32Array;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/** The step's scalars, as tfjs holds them (float32). */
interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** accBeta1 = beta1^t as the float32 variable holds it. */
  accBeta1: number;
  /** accBeta2 = beta2^t as the float32 variable holds it. */
  accBeta2: number;
}

const f = Math.fround;

/** A tensor with its variable's name (tfjs-core's `NamedTensor`, not exported from its entry). */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** One Adam update of `value`, `m`, `v` from `g` into the three outputs (see the module comment). */
export function adamUpdateInto(
  value: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  outValue: Float32Array,
  outM: Float32Array,
  outV: Float32Array,
  a: AdamAttrs,
): void {
  const b1 = f(a.beta1);
  const c1 = f(1 - a.beta1);
  const b2 = f(a.beta2);
  const c2 = f(1 - a.beta2);
  const om1 = f(1 - f(a.accBeta1));
  const om2 = f(1 - f(a.accBeta2));
  const eps = f(a.epsilon);
  const nlr = f(-a.learningRate);
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = f(f(m[i] * b1) + f(gi * c1));
    const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2));
    const step = f(f(f(mi / om1) / f(f(Math.sqrt(f(vi / om2))) + eps)) * nlr);
    outValue[i] = step + value[i];
    outM[i] = mi;
    outV[i] = vi;
  }
}

function fusedAdamKernel(backendName: 'wasm' | 'cpu'): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { value, m, v, g } = inputs as Record<'value' | 'm' | 'v' | 'g', tf.TensorInfo>;
    const a = attrs as unknown as AdamAttrs;
    const shape = [...value.shape];
    if (backendName === 'wasm') {
      const b = heapBackend(backend as tf.KernelBackend);
      const outs = [
        b.makeOutput(shape, 'float32'),
        b.makeOutput(shape, 'float32'),
        b.makeOutput(shape, 'float32'),
      ];
      const kb = backend as tf.KernelBackend;
      const native = nativeKernelOn('adam') ? nativeKernels(kb) : undefined;
      if (native !== undefined) {
        const ptr = (t: tf.TensorInfo) => heapOffset(kb, t);
        native.tk_adam(
          ptr(value),
          ptr(m),
          ptr(v),
          ptr(g),
          ptr(outs[0]),
          ptr(outs[1]),
          ptr(outs[2]),
          shape.reduce((s, d) => s * d, 1),
          f(a.beta1),
          f(1 - a.beta1),
          f(a.beta2),
          f(1 - a.beta2),
          f(1 - f(a.accBeta1)),
          f(1 - f(a.accBeta2)),
          f(a.epsilon),
          f(-a.learningRate),
        );
        return outs;
      }
      // Views after the allocations: growing the wasm memory detaches older views.
      adamUpdateInto(
        b.typedArrayFromHeap(value),
        b.typedArrayFromHeap(m),
        b.typedArrayFromHeap(v),
        b.typedArrayFromHeap(g),
        b.typedArrayFromHeap(outs[0]),
        b.typedArrayFromHeap(outs[1]),
        b.typedArrayFromHeap(outs[2]),
        a,
      );
      return outs;
    }
    const b = backend as unknown as CpuBackend;
    const size = shape.reduce((s, d) => s * d, 1);
    const out = [new Float32Array(size), new Float32Array(size), new Float32Array(size)];
    adamUpdateInto(
      b.readSync(value.dataId),
      b.readSync(m.dataId),
      b.readSync(v.dataId),
      b.readSync(g.dataId),
      out[0],
      out[1],
      out[2],
      a,
    );
    return out.map((o) => b.makeTensorInfo(shape, 'float32', o));
  };
}

/** Registers the fused kernel for the active backend if it is wasm or cpu; returns whether it is available. */
function ensureKernel(): boolean {
  const name = tf.getBackend();
  if (name !== 'wasm' && name !== 'cpu') return false;
  if (tf.getKernel(FUSED_ADAM_KERNEL, name) === undefined) {
    tf.registerKernel({
      kernelName: FUSED_ADAM_KERNEL,
      backendName: name,
      kernelFunc: fusedAdamKernel(name),
    });
  }
  return true;
}

interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/**
 * tfjs's Adam with the per-variable update in one kernel on wasm and cpu (see the module comment); the same
 * numbers as `tf.train.adam(learningRate, beta1, beta2, epsilon)`, bit for bit.
 *
 * @example
 * ```ts
 * const opt = new FusedAdamOptimizer(1e-3);
 * opt.minimize(() => loss());
 * opt.dispose();
 * ```
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** beta1^t and beta2^t as numbers, mirroring the float32 variables (read back after `setWeights`). */
  private acc: [number, number];

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
    this.acc = [f(beta1), f(beta2)];
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const grads = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const registered = tf.engine().registeredVariables;
    const fusable =
      ensureKernel() &&
      grads.every(
        (gr) =>
          gr.tensor == null || (gr.tensor.dtype === 'float32' && registered[gr.name]?.dtype === 'float32'),
      );
    if (!fusable) {
      super.applyGradients(variableGradients as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      this.acc = [f(this.acc[0] * f(this.beta1)), f(this.acc[1] * f(this.beta2))];
      return;
    }
    const self = this as unknown as AdamState;
    const attrs = {
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      learningRate: self.learningRate,
      accBeta1: this.acc[0],
      accBeta2: this.acc[1],
    };
    tf.tidy(() => {
      grads.forEach((gr, i) => {
        const value = registered[gr.name];
        if (self.accumulatedFirstMoment[i] == null) {
          self.accumulatedFirstMoment[i] = {
            originalName: `${gr.name}/m`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        if (self.accumulatedSecondMoment[i] == null) {
          self.accumulatedSecondMoment[i] = {
            originalName: `${gr.name}/v`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        if (gr.tensor == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const [newValue, newM, newV] = tf
          .engine()
          .runKernel(
            FUSED_ADAM_KERNEL,
            { value, m, v, g: gr.tensor },
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.acc = [f(this.acc[0] * f(self.beta1)), f(this.acc[1] * f(self.beta2))];
    this.incrementIterations();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await super.setWeights(weightValues);
    const self = this as unknown as AdamState;
    this.acc = [(await self.accBeta1.data())[0], (await self.accBeta2.data())[0]];
  }
}

/** Whether `trainClassifier` uses the fused Adam: always, never, or where it runs natively. */
export type FusedAdamSetting = boolean | 'native';

let fusedAdam: FusedAdamSetting = 'native';

/**
 * Switches the fused Adam of `trainClassifier`: `'native'` (the default) uses it where the native SIMD kernel runs
 * (the wasm backend with WebAssembly SIMD: one pass per variable instead of tfjs's dozen kernels), `tf.train.adam`
 * elsewhere; `true` / `false` force it on / off. The JavaScript pass (scalar float32 divisions and square root) was
 * slower than tfjs's dozen SIMD kernels (2.1x on the MLP's 1.3 M weights, 1.4x on the zoo CNN's, docs/benchmarks.md),
 * so without the native module it stays off. Returns the previous setting.
 *
 * @internal
 */
export function setFusedAdam(on: FusedAdamSetting): FusedAdamSetting {
  const was = fusedAdam;
  fusedAdam = on;
  return was;
}

/** Whether the fused Adam runs natively on the active backend. */
function nativeAdam(): boolean {
  return tf.getBackend() === 'wasm' && nativeKernelOn('adam') && nativeKernels(tf.backend()) !== undefined;
}

/** Adam for transferkit's training loops: the fused one where it is faster (see {@link setFusedAdam}), else tfjs's. */
export function makeAdam(learningRate: number): tf.Optimizer {
  const fused = fusedAdam === 'native' ? nativeAdam() : fusedAdam;
  return fused ? new FusedAdamOptimizer(learningRate) : tf.train.adam(learningRate);
}
