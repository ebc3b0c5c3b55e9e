// The browser side of the backend matrix: bundled by esbuild (platform browser) with the BUILT transferkit package
// (dist/index.js: the runner redirects the src import there), the four tfjs browser backends and the cells. The runner opens one page
// per backend and calls `run(backend)`.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
// The runner's esbuild plugin points this import at the built dist/index.js (what npm users get).
import * as tk from '../../../src/index.js';
import { type CellResult, runCells } from './cells.js';

/** What the page reports about the backend it ran on, beside the cells. */
export interface PageRun {
  backend: string;
  /** Backend flags that change the numbers (webgl: float32 render targets; webgpu: the adapter). */
  env: Record<string, string | number | boolean>;
  cells: Record<string, CellResult>;
}

export async function run(backend: string, only?: string[]): Promise<PageRun> {
  setWasmPaths('/');
  // wasm as shipped has no Conv2DBackpropFilter: the training cells need transferkit's kernels there, as documented.
  // (Its return value, the kernels now registered, is what the env line reports: reading the registry through a
  // src/ import would read a second copy of the module, not the bundle's.)
  const registered = backend === 'wasm' ? tk.registerTrainingKernels('wasm') : [];
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialise`);
  await tf.ready();
  const env: PageRun['env'] = {};
  if (backend === 'webgl') {
    env.WEBGL_VERSION = tf.env().getNumber('WEBGL_VERSION');
    env.WEBGL_RENDER_FLOAT32_ENABLED = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    env.WEBGL_PACK = tf.env().getBool('WEBGL_PACK');
  }
  if (backend === 'wasm') env.trainingKernels = registered.join(' ');
  if (backend === 'webgpu') {
    const adapter = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } })
      .adapterInfo;
    env.adapter = `${adapter?.vendor ?? '?'} ${adapter?.architecture ?? ''}`.trim();
  }
  return { backend: tf.getBackend(), env, cells: await runCells(tf, tk, only) };
}
