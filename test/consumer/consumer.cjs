// A CommonJS consumer of the packed tarball.
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-layers');
const tk = require('transferkit');

const backend = process.argv[2] || 'cpu';
require(backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu');

(async () => {
  await tf.setBackend(backend);
  const rng = new tk.Rng(1);
  if (rng.permutation(5).length !== 5) throw new Error('permutation');
  let typed = false;
  try {
    rng.int(0);
  } catch (e) {
    typed = e instanceof tk.InvalidArgumentError;
  }
  if (!typed) throw new Error('expected an InvalidArgumentError');
  console.log(`consumer (CommonJS, ${tf.getBackend()}): ok`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
