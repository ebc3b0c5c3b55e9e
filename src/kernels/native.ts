/**
 * The native training kernels: a small WebAssembly SIMD128 module (C sources in src/kernels/native/, built by
 * `npm run build:wasm` and embedded in module.generated.ts) that IMPORTS tfjs-backend-wasm's own
 * `WebAssembly.Memory`, so its loops read and write the backend's tensors in place: no copies, no memory of its own.
 * The kernels pass byte offsets of tensors the backend allocated (`typedArrayFromHeap(info).byteOffset`); the
 * module has no data segments and no shadow stack (the build checks both), so it writes nowhere else. The backend's
 * memory may grow between calls: the instance imports the Memory object itself, which stays the same.
 *
 * One instance per backend memory, made on first use. Where the module cannot run (no WebAssembly SIMD, the threaded
 * build's shared memory, a backend without the emscripten `asm.memory` export), {@link nativeKernels} returns
 * undefined and the kernels use their JavaScript loops. A browser's main thread refuses to compile or instantiate a
 * module above 4 KB synchronously: there the module is compiled and instantiated asynchronously on first use and the
 * JavaScript loops run until it is ready.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { NATIVE_WASM_BASE64 } from './native/module.generated.js';

/** The module's exports (see src/kernels/native/kernels.c for each one's contract); pointers are byte offsets. */
export interface NativeExports {
  tk_max_pool_grad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
  tk_im2col_t(
    x: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
    fh: number,
    fw: number,
    top: number,
    left: number,
  ): void;
  tk_adam(
    value: number,
    m: number,
    v: number,
    g: number,
    outValue: number,
    outM: number,
    outV: number,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    om1: number,
    om2: number,
    eps: number,
    nlr: number,
  ): void;
  tk_column_sum(x: number, out: number, rows: number, cols: number): void;
  tk_bias_add(x: number, bias: number, out: number, rows: number, cols: number): void;
  tk_conv2d_valid(
    x: number,
    filter: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    fh: number,
    fw: number,
    f: number,
    zTop: number,
    zBottom: number,
  ): void;
  tk_pad_hw(
    x: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    top: number,
    bottom: number,
    left: number,
    right: number,
  ): void;
  tk_conv2d_filter_grad(
    x: number,
    dy: number,
    dw: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
    fh: number,
    fw: number,
    f: number,
  ): void;
}

/** The native kernels that can be switched off one by one (tests, the `step` benchmark's before/after). */
export type NativeKernel =
  | 'maxPoolGrad'
  | 'im2col'
  | 'adam'
  | 'columnSum'
  | 'biasAdd'
  | 'filterGrad'
  | 'inputGrad'
  | 'matMul'
  | 'conv2d';

const enabled: Record<NativeKernel, boolean> = {
  maxPoolGrad: true,
  im2col: true,
  adam: true,
  columnSum: true,
  biasAdd: true,
  filterGrad: true,
  inputGrad: true,
  matMul: true,
  conv2d: true,
};

/**
 * Switches one native kernel on or off (off: the JavaScript loop, or the backend's own kernel, runs as before).
 * Returns the previous setting.
 *
 * @internal
 */
export function setNativeKernel(kernel: NativeKernel, on: boolean): boolean {
  const was = enabled[kernel];
  enabled[kernel] = on;
  return was;
}

/** Whether a native kernel is switched on (it still runs only where {@link nativeKernels} returns the module). */
export function nativeKernelOn(kernel: NativeKernel): boolean {
  return enabled[kernel];
}

/** undefined: not tried yet; null: unavailable; 'pending': compiling asynchronously. */
let compiled: WebAssembly.Module | null | 'pending' | undefined;
/** Per backend memory: its instance's exports, null where instantiation failed, 'pending' while asynchronous. */
const instances = new WeakMap<WebAssembly.Memory, NativeExports | null | 'pending'>();

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const s = atob(NATIVE_WASM_BASE64);
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function compiledModule(): WebAssembly.Module | null | 'pending' {
  if (compiled !== undefined) return compiled;
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') {
    compiled = null;
    return compiled;
  }
  const bytes = wasmBytes();
  // validate() is false without SIMD128 (or bulk memory): the JavaScript loops stay.
  if (!WebAssembly.validate(bytes)) {
    compiled = null;
    return compiled;
  }
  try {
    compiled = new WebAssembly.Module(bytes);
  } catch {
    // A browser's main thread: synchronous compilation of modules above 4 KB is refused.
    compiled = 'pending';
    WebAssembly.compile(bytes).then(
      (m) => {
        compiled = m;
      },
      () => {
        compiled = null;
      },
    );
  }
  return compiled;
}

/** The backend's emscripten memory (tfjs-backend-wasm keeps the emscripten module as `backend.wasm`). */
function backendMemory(backend: tf.KernelBackend): WebAssembly.Memory | undefined {
  const mem = (backend as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!(mem instanceof WebAssembly.Memory)) return undefined;
  // The threaded build's memory is shared; the module imports an unshared one.
  if (typeof SharedArrayBuffer !== 'undefined' && mem.buffer instanceof SharedArrayBuffer) return undefined;
  return mem;
}

/**
 * The native module bound to `backend`'s memory, or undefined where it cannot run (then the caller uses its
 * JavaScript loop). Only the `wasm` backend has one.
 */
export function nativeKernels(backend: tf.KernelBackend): NativeExports | undefined {
  const mem = backendMemory(backend);
  if (mem === undefined) return undefined;
  const got = instances.get(mem);
  if (got !== undefined) return got === null || got === 'pending' ? undefined : got;
  const mod = compiledModule();
  if (mod === null || mod === 'pending') return undefined;
  const imports = { env: { memory: mem } };
  try {
    const inst = new WebAssembly.Instance(mod, imports);
    const exp = inst.exports as unknown as NativeExports;
    instances.set(mem, exp);
    return exp;
  } catch (e) {
    if (e instanceof RangeError) {
      // A browser's main thread: asynchronous instantiation; the JavaScript loops run meanwhile.
      instances.set(mem, 'pending');
      WebAssembly.instantiate(mod, imports).then(
        (inst) => {
          instances.set(mem, inst.exports as unknown as NativeExports);
        },
        () => {
          instances.set(mem, null);
        },
      );
    } else {
      instances.set(mem, null);
    }
    return undefined;
  }
}

/**
 * The part of tfjs-backend-wasm's backend that the in-place kernels use: a fresh float32 output on its heap, and a
 * view of a float32 tensor's data there. (Gather and Slice, which also move int32 and bool data, type their own.)
 */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/** `backend` (the wasm backend: the caller has checked) as its heap API. */
export function heapBackend(backend: tf.KernelBackend): HeapBackend {
  return backend as unknown as HeapBackend;
}

/** Byte offset of a tensor on the wasm backend's heap. */
export function heapOffset(backend: tf.KernelBackend, info: tf.TensorInfo): number {
  return heapBackend(backend).typedArrayFromHeap(info).byteOffset;
}
