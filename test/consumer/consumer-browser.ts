// A browser consumer: bundled by esbuild for the browser platform (the main entry must be browser-safe: no node:
// import, no backend import), then run on the cpu backend, using every primitive through the ESM build.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import * as tk from 'transferkit';
// @ts-expect-error: a plain CommonJS helper shared with consumer.cjs, bundled by esbuild
import exercise from './exercise.cjs';

export async function run(): Promise<string> {
  tk.registerTrainingKernels('cpu');
  await tf.setBackend('cpu');
  return exercise(tf, tk, 'browser bundle');
}
