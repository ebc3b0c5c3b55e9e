import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './src/index.js';
import { setNativeKernel } from './src/kernels/native.js';
await tf.setBackend('wasm'); await tf.ready();
registerTrainingKernels('wasm');
function time(f: () => tf.Tensor, n = 30) { for (let i = 0; i < 3; i++) f().dispose(); let best = 1e9; for (let i = 0; i < n; i++) { const t0 = performance.now(); f().dispose(); best = Math.min(best, performance.now() - t0); } return best; }
const cases: [string, number, number, number, boolean, boolean][] = [
  ['svm X.W 3894x800.800x5', 3894, 800, 5, false, false],
  ['svm X^T.V 800x3894.3894x5', 800, 3894, 5, true, false],
  ['svm X.W 3894x128.128x5', 3894, 128, 5, false, false],
  ['svm X^T.V 128x3894.3894x5', 128, 3894, 5, true, false],
  ['svm X.W^T 3894x800.(5x800)^T', 3894, 800, 5, false, true],
  ['svm X.v 3894x800.800x1', 3894, 800, 1, false, false],
  ['cnn fc 64x800.800x128', 64, 800, 128, false, false],
  ['cnn fc dW 800x64.64x128', 800, 64, 128, true, false],
  ['cnn fc dX 64x128.(800x128)^T', 64, 128, 800, false, true],
  ['logits 64x128.128x10', 64, 128, 10, false, false],
  ['logits dW 128x64.64x10', 128, 64, 10, true, false],
  ['mlp 128x800.800x800', 128, 800, 800, false, false],
  ['mlp dW 800x128.128x800', 800, 128, 800, true, false],
  ['mlp logits 128x800.800x10', 128, 800, 10, false, false],
  ['mlp logits dW 800x128.128x10', 800, 128, 10, true, false],
  ['small fc 32x400.400x64', 32, 400, 64, false, false],
  ['small dW 400x32.32x64', 400, 32, 64, true, false],
];
for (const [label, m, k, n, ta, tb] of cases) {
  const a = tf.randomNormal(ta ? [k, m] : [m, k]); const b = tf.randomNormal(tb ? [n, k] : [k, n]);
  const f = () => tf.matMul(a, b, ta, tb);
  setNativeKernel('matMul', true); const on = time(f);
  setNativeKernel('matMul', false); const off = time(f);
  console.log(`${label.padEnd(34)} native ${on.toFixed(3)} ms  xnn/transferkit-js ${off.toFixed(3)} ms  ratio ${(off/on).toFixed(2)}`);
  tf.dispose([a, b]);
}
