/**
 * A tiny kernel-level scope: runs other kernels of the same backend directly through their registered
 * `kernelFunc` (no engine, no tape), and frees every intermediate `TensorInfo` it produced unless it was kept.
 * This is how tfjs's own composite kernels call each other; it keeps `tf.memory()` exact, because the engine
 * only ever sees the one output the composite kernel returns.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposeDirect } from './transpose.js';

/** The attributes one kernel receives (tfjs's `NamedAttrMap`). */
export type KernelAttrs = tf.NamedAttrMap;

/** What a composite training kernel needs to call the backend's other kernels. */
export interface KernelEnv {
  /** The backend instance the engine passed to the kernel. */
  backend: tf.KernelBackend;
  /** The backend's registered name (`'wasm'`, `'cpu'`). */
  backendName: string;
  /**
   * The kernel configs that were registered before transferkit replaced them. A composite kernel that calls a
   * kernel transferkit also replaces (e.g. `BatchMatMul`) must reach the original, not itself.
   */
  originals: ReadonlyMap<string, tf.KernelConfig>;
}

/** Collects intermediates of one composite kernel call and frees them in `dispose()`. */
export class KernelScope {
  private readonly owned: tf.TensorInfo[] = [];
  constructor(private readonly env: KernelEnv) {}

  /** Runs kernel `name` on the backend and tracks its output as an intermediate. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: KernelAttrs = {}): tf.TensorInfo {
    if (name === 'Transpose') {
      const direct = transposeDirect(this.env, inputs.x as tf.TensorInfo, attrs.perm as number[]);
      if (direct !== undefined) {
        this.owned.push(direct);
        return direct;
      }
    }
    const cfg = this.env.originals.get(name) ?? tf.getKernel(name, this.env.backendName);
    if (cfg === undefined) {
      throw new Error(
        `transferkit training kernel: the '${this.env.backendName}' backend has no '${name}' kernel it relies on.`,
      );
    }
    const out = cfg.kernelFunc({ inputs, backend: this.env.backend, attrs });
    if (Array.isArray(out))
      throw new Error(`transferkit training kernel: '${name}' returned several outputs.`);
    this.owned.push(out);
    return out;
  }

  /** Tracks a TensorInfo made outside `run` (e.g. by `backend.makeTensorInfo`) as an intermediate. */
  track(info: tf.TensorInfo): tf.TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Stops tracking `info` (it becomes the composite kernel's output) and returns it. */
  keep(info: tf.TensorInfo): tf.TensorInfo {
    const i = this.owned.lastIndexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    return info;
  }

  /** Frees every tracked intermediate (reference-counted by the backend, so reshaped views are safe). */
  dispose(): void {
    for (const info of this.owned) this.env.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` with a fresh scope and frees its intermediates afterwards, also when it throws. */
export function withKernelScope(env: KernelEnv, body: (s: KernelScope) => tf.TensorInfo): tf.TensorInfo {
  const scope = new KernelScope(env);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

/** Geometry of {@link dilateAndCrop}: `dy` is `[n, oh, ow, ch]`; the dilated map is `[n, zh, zw, ch]`. */
export interface DilateCrop {
  n: number;
  oh: number;
  ow: number;
  ch: number;
  /** Strides: zeros inserted between rows / columns (`s - 1` of them). */
  sh: number;
  sw: number;
  /** Size of the dilated map, `oh * sh` by `ow * sw`. */
  zh: number;
  zw: number;
  /** The window of the dilated map that is kept. */
  cropTop: number;
  cropLeft: number;
  keepH: number;
  keepW: number;
}

/**
 * The input-gradient kernels' first step: dilates an NHWC `dy` by the strides (views it as `[N, OH, 1, OW, 1, C]` and
 * pads the unit axes to the stride), then crops the rows and columns the gradient does not read.
 */
export function dilateAndCrop(s: KernelScope, dy: tf.TensorInfo, g: DilateCrop): tf.TensorInfo {
  let z = dy;
  if (g.sh > 1 || g.sw > 1) {
    const six = s.run('Reshape', { x: z }, { shape: [g.n, g.oh, 1, g.ow, 1, g.ch] });
    const paddings = [
      [0, 0],
      [0, 0],
      [0, g.sh - 1],
      [0, 0],
      [0, g.sw - 1],
      [0, 0],
    ];
    const padded = s.run('PadV2', { x: six }, { paddings, constantValue: 0 });
    z = s.run('Reshape', { x: padded }, { shape: [g.n, g.zh, g.zw, g.ch] });
  }
  if (g.keepH !== g.zh || g.keepW !== g.zw) {
    z = s.run(
      'Slice',
      { x: z },
      { begin: [0, g.cropTop, g.cropLeft, 0], size: [g.n, g.keepH, g.keepW, g.ch] },
    );
  }
  return z;
}
