// Vitest setup for the `wasm` project: the WebAssembly backend (SIMD, single thread), with transferkit's training
// kernels registered BEFORE the backend initialises (the wasm kernels keep their original setupFunc).
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // registers the gradients (tfjs-core alone has none)
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingKernels } from '../../src/kernels/index.js';

registerTrainingKernels('wasm');
await tf.setBackend('wasm');
await tf.ready();
