/**
 * Oquab et al. (2014)'s multi-scale patches on synthetic multi-digit scenes: box geometry, the patch grid, the
 * labelling rule, a training loop over labelled patches (one cropAndResize per batch), image scores from the power
 * mean, per-class AP, and a localisation map.
 * Run: npx tsx examples/patches.ts   (about a minute on the wasm backend)
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import {
  aggregatePatchScores,
  boxIoU,
  generateScenes,
  intersectionOverArea,
  localizationMap,
  meanAveragePrecision,
  PatchDataset,
  PatchSampler,
  type PixelBox,
  patchGridSvg,
  pixelToNormalized,
  predictPatches,
  scenesToTensor,
  zeilerFergusCnn,
} from 'transferkit';
import { initBackend, loadMnist } from 'transferkit/node';

await initBackend(); // wasm with transferkit's training kernels here (tfjs-node where installed)

// 1. Geometry: boxes are [y1, x1, y2, x2] in pixels (y1 <= y < y2); cropAndResize wants pixel centres / (H - 1).
const patch: PixelBox = [0, 0, 32, 32];
const digit: PixelBox = [8, 8, 36, 36];
console.log('IoU', boxIoU(patch, digit).toFixed(3));
console.log(
  '|P∩B|/|P|',
  intersectionOverArea(patch, digit).toFixed(3),
  '|P∩B|/|B|',
  intersectionOverArea(digit, patch).toFixed(3),
);
console.log('normalised', pixelToNormalized(patch, { height: 96, width: 96 })); // [0, 0, 31/95, 31/95]

// 2. The grid: the default is Oquab's 8 scales with >= 50% overlap (476 patches on 96x96); fewer here, to be quick.
const sampler = new PatchSampler({ scales: 6, smallest: 0.22, overlap: 0.5 });
const grid = sampler.grid({ height: 96, width: 96 });
console.log(
  `${grid.count} patches, sides ${grid.scales.map((s) => s.size).join(', ')} px,`,
  `overlap >= ${grid.minOverlap.toFixed(2)}, coverage ${grid.coverage}`,
);

// 3. Scenes with 1-3 digits; the Oquab rule labels each patch (|P∩B| >= 0.2|P| and |P∩B| >= 0.6|B|).
const mnist = await loadMnist({ seed: 0, testFraction: 0.2 });
const sceneOptions = { canvasSize: 96, minScale: 24, maxScale: 48, maxObjects: 3 };
const train = generateScenes(mnist.train, { ...sceneOptions, count: 200, seed: 1 });
const test = generateScenes(mnist.test, { ...sceneOptions, count: 100, seed: 2 });
const labels = sampler.label(grid, train[0].objects, { numClasses: 10, multiObject: 'drop' });
console.log(
  `scene 0: ${labels.positives} positive, ${labels.background} background, ${labels.dropped} dropped patches`,
);
writeFileSync(
  'patch-grid.svg',
  patchGridSvg(grid, { objects: train[0].objects, labels, positivesOnly: true }),
);

// 4. A patch classifier with 11 outputs (10 digits + background), trained on every positive patch and as many
//    background patches (a fresh seeded sample each epoch). Each batch is ONE cropAndResize over the scenes.
const model = zeilerFergusCnn({ numClasses: 11, seed: 1 });
model.compile({
  optimizer: tf.train.adam(2e-3),
  loss: (y: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits),
});
const trainX = scenesToTensor(train);
const data = new PatchDataset(
  trainX,
  train.map((s) => s.objects),
  sampler,
  {
    numClasses: 10,
    cropSize: [28, 28],
    backgroundRatio: 1,
    seed: 1,
  },
);
for (let epoch = 0; epoch < 3; epoch++) {
  let loss = 0;
  let n = 0;
  for await (const { x, y } of data.batches(epoch)) {
    loss += ((await model.trainOnBatch(x, y)) as number) * x.shape[0];
    n += x.shape[0];
    tf.dispose([x, y]);
  }
  console.log(`epoch ${epoch + 1}: ${n} patches, loss ${(loss / n).toFixed(3)}`);
}

// 5. Image scores: score(C) = (1/M) sum_i y(P_i, C)^5 over the patches of a held-out scene.
const testX = scenesToTensor(test);
const scores = await predictPatches(model, testX, grid, [28, 28], { activation: 'softmax' }); // [100, P, 11]
const digitScores = tf.slice(scores, [0, 0, 0], [-1, -1, 10]) as tf.Tensor3D;
const truth = test.map((s) =>
  Array.from({ length: 10 }, (_, c) => (s.objects.some((o) => o.label === c) ? 1 : 0)),
);
for (const method of ['power', 'max', 'mean'] as const) {
  const image = aggregatePatchScores(digitScores, { method, power: 5 }); // [100, 10]
  const { map } = meanAveragePrecision(await image.array(), truth);
  console.log(`mAP with the ${method} of the patch scores: ${(100 * map).toFixed(1)}`);
  image.dispose();
}

// 6. Where the network sees each digit: the mean score of the patches covering each pixel.
const first = tf.slice(digitScores, [0, 0, 0], [1, -1, -1]) as tf.Tensor3D;
const maps = localizationMap(first, grid); // [1, 96, 96, 10]
const peak = tf.max(maps, [0, 1, 2]);
const peaks = (await peak.array()) as number[];
console.log(
  'scene 0 holds',
  test[0].objects.map((o) => o.label),
  '; map peaks',
  peaks.map((v) => v.toFixed(2)).join(' '),
);

tf.dispose([trainX, testX, scores, digitScores, first, maps, peak]);
model.dispose();
mnist.dispose();
