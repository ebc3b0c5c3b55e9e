// A browser consumer: bundled with esbuild for the browser platform (the main entry must be browser-safe).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { Rng, scoped } from 'transferkit';

const norm = scoped('norm', (x: tf.Tensor) => tf.sqrt(tf.sum(tf.square(x))));
export async function main(): Promise<number> {
  await tf.setBackend('cpu');
  const n = norm(tf.tensor1d(new Rng(1).permutation(4)));
  return (await n.data())[0];
}
