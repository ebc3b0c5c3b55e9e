// Vitest setup for the `wasm` project: the WebAssembly backend (SIMD, single thread).
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // registers the gradients (tfjs-core alone has none)
import * as tf from '@tensorflow/tfjs-core';

await tf.setBackend('wasm');
await tf.ready();
