// An ESM TypeScript consumer, type-checked against the shipped .d.ts of the packed tarball.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { InvalidArgumentError, Rng, scoped } from 'transferkit';

const backend = process.argv[2] ?? 'cpu';
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
else await import('@tensorflow/tfjs-backend-cpu');
await tf.setBackend(backend);

const rng: Rng = new Rng(1);
const norm = scoped('norm', (x: tf.Tensor) => tf.sqrt(tf.sum(tf.square(x))));
const n = norm(tf.tensor1d([3, 4]));
const v = (await n.data())[0];
if (Math.abs(v - 5) > 1e-6) throw new Error(`norm: ${v}`);
let typed = false;
try {
  rng.int(0);
} catch (e) {
  typed = e instanceof InvalidArgumentError;
}
if (!typed) throw new Error('expected an InvalidArgumentError');
console.log(`consumer (ESM, TypeScript, ${tf.getBackend()}): ok`);
