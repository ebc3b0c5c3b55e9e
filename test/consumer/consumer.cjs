// A CommonJS consumer of the packed tarball: require() the CJS build and use every primitive.
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-layers');
const tk = require('transferkit');
const exercise = require('./exercise.cjs');

const backend = process.argv[2] || 'cpu';
require(backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu');

(async () => {
  tk.registerTrainingKernels(backend);
  await tf.setBackend(backend);
  console.log(await exercise(tf, tk, 'CommonJS'));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
