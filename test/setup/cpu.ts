// Vitest setup for the `cpu` project: the pure-JS backend, with transferkit's training kernels.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers the gradients (tfjs-core alone has none)
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingKernels } from '../../src/kernels/index.js';

registerTrainingKernels('cpu');
await tf.setBackend('cpu');
await tf.ready();
