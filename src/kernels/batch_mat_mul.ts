/**
 * `BatchMatMul` with `transposeA` / `transposeB` as an explicit transpose followed by a plain matmul.
 *
 * Backprop through a dense layer multiplies by transposed operands (dX = dY W^T, dW = X^T dY). The wasm
 * backend's matmul is fast only on untransposed operands (FINDINGS.md: 128x800 by 800x800 takes ~9 ms plain and
 * ~100 ms with a transpose flag); materialising the transpose costs one pass over the operand.
 *
 * The wasm backend's plain matmul re-packs its right operand (XNNPACK's fully-connected "weights") on every call
 * whose operand is a new tensor, which every backward pass is. For `A . B^T` with B the larger operand (dX = dY W^T
 * with W [800, 800] and dY [128, 800]), the product is computed as `(B . A^T)^T` instead: two transposes of the
 * small operands and the small result, and the packed operand is A^T, not B^T (128x800 by 800x800: 11 -> 7.8 ms,
 * measured). Each element is the same dot product of the same two vectors; the backend's kernel may add the terms
 * in another order (within float32 rounding). The choice is {@link swapTransposeB}.
 *
 * On wasm, where the native module runs, products of moderate size ({@link preferNativeMatMul}) skip the backend's
 * matmul and its per-call packing altogether ({@link batchMatMulNative}): A . B is the native register-blocked
 * convolution `tk_conv2d_valid` read as a 1x1 convolution (A's rows as pixels, B as the filter), A^T . B is the
 * native filter gradient `tk_conv2d_filter_grad` of a 1x1 convolution (A's rows as positions: no transpose at all),
 * and A . B^T transposes B first. Each output is one float32 running sum over k in order. Measured against this
 * module's previous path (min of 20, same run, on a loaded machine): the zoo CNN's fc layer [64, 800] . [800, 128]
 * 0.28 vs 0.42-0.78 ms and its dW = X^T dY 0.33 vs 0.56 ms; the MLP's [128, 800] . [800, 800] 3.6 vs 6.3 ms and its
 * dW 4.3-4.7 vs 5.2-15 ms; at 512^3 equal (7.2 vs 7.7 ms), at 1024^3 2x slower (131 vs 61 ms: B no longer stays in
 * cache while the blocks stream over it), hence the size rule.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { heapBackend, heapOffset, nativeKernelOn, nativeKernels } from './native.js';
import { type KernelEnv, withKernelScope } from './scope.js';

let swapEnabled = true;

/**
 * Switches the swapped product for `transposeB` on or off (off: transpose B, then multiply). For the tests and the
 * `step` benchmark's before/after; returns the previous setting.
 *
 * @internal
 */
export function setMatMulSwap(on: boolean): boolean {
  const was = swapEnabled;
  swapEnabled = on;
  return was;
}

/**
 * Whether `A [m, k] . B^T` (B `[n, k]`) is cheaper as `(B . A^T)^T` on wasm: the elements transposed or packed,
 * `2mk + mn` against `2nk`.
 */
export function swapTransposeB(m: number, k: number, n: number): boolean {
  return 2 * m * k + m * n < 2 * n * k;
}

/**
 * The rule of the native product: M*K*N below 2^27 multiply-adds (128 x 800 x 800 is 82 M; 512^3 = 2^27 was a tie,
 * 1024^3 twice slower natively: each 4-row block of the output streams over all of B, so B must stay in cache across
 * ~M/4 passes), and enough output columns to fill its blocks of 8: N >= 16 for A.B and A.B^T, N >= 8 for A^T.B (the
 * filter-gradient loop). With fewer columns the 8-lane blocks run mostly empty and the backend's matmul wins (min of
 * 30, idle machine: LinearSvm's [3894, 800] . [800, 5] 3.27 ms native vs 1.61 ms, its [128, 3894] . [3894, 5] as
 * A^T.B 1.28 vs 0.42 ms, the MLP's logits [128, 800] . [800, 10] 0.156 vs 0.097 ms; kept native: the logits'
 * gradient [800, 128]^T . [128, 10] 0.160 vs 0.447 ms, the zoo CNN's fc layer 0.280 vs 0.359 ms).
 */
export function preferNativeMatMul(m: number, k: number, n: number, transposeA = false): boolean {
  return m * k * n < 2 ** 27 && n >= (transposeA ? 8 : 16);
}

/**
 * The product on the native module (module comment), or undefined where it does not apply: not wasm, no native
 * module, the kernel switched off, both operands transposed, a batch dimension above 1, an empty dimension, or a
 * product {@link preferNativeMatMul} leaves to the backend. Inputs are float32 (the caller checks).
 */
export function batchMatMulNative(
  env: KernelEnv,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: tf.BatchMatMulAttrs,
): tf.TensorInfo | undefined {
  if (env.backendName !== 'wasm' || !nativeKernelOn('matMul')) return undefined;
  if (attrs.transposeA && attrs.transposeB) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  if (!a.shape.slice(0, -2).every((d) => d === 1) || !b.shape.slice(0, -2).every((d) => d === 1))
    return undefined;
  const m = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  // Inner sizes that differ go to the original, which reports them (the op checks them before any kernel runs).
  if ((attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2]) !== k) return undefined;
  if (m === 0 || k === 0 || n === 0 || !preferNativeMatMul(m, k, n, attrs.transposeA)) return undefined;
  const native = nativeKernels(env.backend);
  if (native === undefined) return undefined;
  return withKernelScope(env, (s) => {
    const lead = Math.max(ra, rb) - 2;
    const out = s.track(
      heapBackend(env.backend).makeOutput([...new Array<number>(lead).fill(1), m, n], 'float32'),
    );
    if (attrs.transposeA) {
      // A stored [k, m]: its rows are the k positions of a 1x1 convolution with m input channels, B [k, n] its dy.
      native.tk_conv2d_filter_grad(
        heapOffset(env.backend, a),
        heapOffset(env.backend, b),
        heapOffset(env.backend, out),
        1,
        1,
        k,
        m,
        1,
        k,
        1,
        1,
        1,
        1,
        n,
      );
      return out;
    }
    const bk = attrs.transposeB
      ? s.run('Transpose', { x: s.run('Reshape', { x: b }, { shape: [n, k] }) }, { perm: [1, 0] })
      : b;
    // A [m, k] as m pixels of k channels, B [k, n] as a 1x1 filter.
    native.tk_conv2d_valid(
      heapOffset(env.backend, a),
      heapOffset(env.backend, bk),
      heapOffset(env.backend, out),
      1,
      1,
      m,
      k,
      1,
      1,
      n,
      0,
      0,
    );
    return out;
  });
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** A @ B with the transposes made explicit, computed by the backend's original BatchMatMul. */
export function batchMatMulViaTranspose(
  env: KernelEnv,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: tf.BatchMatMulAttrs,
): tf.TensorInfo {
  return withKernelScope(env, (s) => {
    const ra = a.shape.length;
    const rb = b.shape.length;
    const single = a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1);
    if (env.backendName === 'wasm' && swapEnabled && !attrs.transposeA && attrs.transposeB && single) {
      const m = a.shape[ra - 2];
      const k = a.shape[ra - 1];
      const n = b.shape[rb - 2];
      if (swapTransposeB(m, k, n)) {
        const a2 = s.run('Reshape', { x: a }, { shape: [m, k] });
        const b2 = s.run('Reshape', { x: b }, { shape: [n, k] });
        const at = s.run('Transpose', { x: a2 }, { perm: [1, 0] });
        const bat = s.run('BatchMatMul', { a: b2, b: at }, { transposeA: false, transposeB: false }); // [n, m]
        const out = s.run('Transpose', { x: bat }, { perm: [1, 0] });
        const lead = Math.max(ra, rb) - 2;
        return s.run('Reshape', { x: out }, { shape: [...new Array<number>(lead).fill(1), m, n] });
      }
    }
    const at = attrs.transposeA ? s.run('Transpose', { x: a }, { perm: swapLastTwo(ra) }) : a;
    const bt = attrs.transposeB ? s.run('Transpose', { x: b }, { perm: swapLastTwo(rb) }) : b;
    return s.run('BatchMatMul', { a: at, b: bt }, { transposeA: false, transposeB: false });
  });
}
