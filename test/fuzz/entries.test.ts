/**
 * Fuzz suite (issue 17): generated bad arguments to the main public entries, and corrupted files for each loader,
 * must end in a typed error (a TransferkitError subclass) or a documented result, leak no tensor, and return
 * within a time bound. Runs and seeds are fixed, so the suite is deterministic and bounded.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accuracy,
  confusionMatrix,
  Deconvnet,
  DistillationLoss,
  decodeFeatures,
  distillationLoss,
  encodeFeatures,
  FeatureExtractor,
  FeatureMatrix,
  generateScenes,
  isTransferkitError,
  LayerTransfer,
  LinearSvm,
  loadClassifier,
  occluderPositions,
  PatchSampler,
  SoftmaxRegression,
  softTargets,
  trainClassifier,
} from '../../src/index.js';
import { decodePng, encodePng, loadLayersModelFrom, saveLayersModelTo } from '../../src/node.js';

const RUNS = 40;
const TIME_BOUND_MS = 5000;
const stats = { entries: 0, cases: 0, typed: 0, accepted: 0, untyped: 0, leaks: 0, slow: 0 };
const untypedSamples: string[] = [];

let disposed: tf.Tensor;
let cnn: tfl.Sequential;
let images: tf.Tensor4D;

beforeAll(() => {
  disposed = tf.ones([2, 2]);
  disposed.dispose();
  cnn = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 2,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv1',
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 3, name: 'fc1' }),
      tfl.layers.dense({ units: 3, name: 'logits' }),
    ],
  });
  images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
});

afterAll(() => {
  cnn.dispose();
  images.dispose();
  console.log(
    `fuzz (${tf.getBackend()}): ${stats.entries} entries, ${stats.cases} cases: ${stats.typed} typed errors, ` +
      `${stats.accepted} accepted as documented, ${stats.untyped} untyped, ${stats.leaks} leaks, ${stats.slow} slow`,
  );
});

/** Values that no argument of these entries accepts (or accepts as documented). Built lazily: tensors need a backend. */
function badValue(): fc.Arbitrary<() => unknown> {
  return fc.oneof(
    fc.constantFrom<() => unknown>(
      () => undefined,
      () => null,
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => -1,
      () => 0,
      () => 1.5,
      () => 1e12,
      () => -1e12,
      () => '',
      () => 'conv9',
      () => [],
      () => [Number.NaN],
      () => ({}),
      () => ({ length: -1 }),
      () => true,
      () => () => 0,
      () => disposed,
      () => tf.tensor1d([1, 2, 3], 'int32'),
      () => tf.tensor2d([[Number.NaN, Number.POSITIVE_INFINITY]]),
      () => tf.zeros([0, 3]),
      () => tf.zeros([1, 1, 1, 1, 1]),
      () => new Float32Array(3),
    ),
    fc.integer({ min: -1e9, max: 1e9 }).map((n) => () => n),
    fc.string({ maxLength: 6 }).map((s) => () => s),
  );
}

/** Runs `call` on generated bad values and checks every outcome. */
async function probe(name: string, call: (bad: unknown) => unknown, runs = RUNS): Promise<void> {
  stats.entries++;
  await fc.assert(
    fc.asyncProperty(badValue(), async (make) => {
      const bad = make();
      const owned = bad instanceof tf.Tensor && bad !== disposed ? bad : undefined;
      const before = tf.memory().numTensors;
      const t0 = performance.now();
      stats.cases++;
      try {
        const out = await call(bad);
        tf.dispose(out as tf.TensorContainer);
        stats.accepted++;
      } catch (e) {
        if (isTransferkitError(e)) stats.typed++;
        else {
          stats.untyped++;
          untypedSamples.push(`${name}: ${String(e).slice(0, 160)}`);
          throw new Error(`${name} threw an untyped error: ${String(e)}`);
        }
      }
      const ms = performance.now() - t0;
      if (ms > TIME_BOUND_MS) {
        stats.slow++;
        throw new Error(`${name} took ${ms.toFixed(0)} ms`);
      }
      const after = tf.memory().numTensors;
      owned?.dispose();
      if (after !== before) {
        stats.leaks++;
        throw new Error(`${name} leaked ${after - before} tensors`);
      }
    }),
    { numRuns: runs, seed: 17, endOnFailure: true },
  );
}

describe('fuzz: public entries with bad arguments', () => {
  it('metrics and geometry', async () => {
    await probe('occluderPositions.length', (b) => occluderPositions(b as number, 2, 1));
    await probe('occluderPositions.size', (b) => occluderPositions(10, b as number, 1));
    await probe('occluderPositions.stride', (b) => occluderPositions(10, 2, b as number));
    await probe('confusionMatrix.numClasses', (b) => confusionMatrix([0, 1], [1, 1], b as number));
    await probe('confusionMatrix.yTrue', (b) => confusionMatrix(b as number[], [1, 1], 2));
    await probe('accuracy.yPred', (b) => accuracy([0, 1], b as number[]));
  });

  it('data generators', async () => {
    const digits = { pixels: new Float32Array(16), labels: [0], height: 4, width: 4 };
    await probe('generateScenes.count', (b) =>
      generateScenes(digits, { count: b as number, seed: 0, canvasSize: 16, minScale: 4, maxScale: 8 }),
    );
    await probe('generateScenes.digits', (b) => generateScenes(b as never, { count: 1, seed: 0 }));
  });

  it('distillation losses', async () => {
    const z = tf.tensor2d([[1, 2, 3]]);
    const t = tf.tensor2d([[3, 2, 1]]);
    await probe('distillationLoss.studentLogits', (b) =>
      distillationLoss(b as tf.Tensor, t, { temperature: 2, alpha: 1 }),
    );
    await probe('distillationLoss.teacher', (b) =>
      distillationLoss(z, b as tf.Tensor, { temperature: 2, alpha: 1 }),
    );
    await probe('distillationLoss.temperature', (b) =>
      distillationLoss(z, t, { temperature: b as number, alpha: 1 }),
    );
    await probe('distillationLoss.alpha', (b) =>
      distillationLoss(z, t, { temperature: 2, alpha: b as number }),
    );
    await probe('distillationLoss.unknownKey', (b) =>
      distillationLoss(z, t, { temperature: 2, alpha: 1, tempreature: b } as never),
    );
    await probe('DistillationLoss.temperature', (b) => new DistillationLoss({ temperature: b as number }));
    await probe('softTargets.temperature', (b) => softTargets(z, b as number));
    tf.dispose([z, t]);
  });

  it('feature extraction, deconvnet and transfer', async () => {
    // constructed objects are not disposed: a FeatureExtractor's dispose() would free the shared model
    await probe('FeatureExtractor.taps', (b) => void new FeatureExtractor(cnn, { taps: b as string }), 25);
    await probe(
      'FeatureExtractor.pool',
      (b) => void new FeatureExtractor(cnn, { taps: 'fc1', pool: b as 'avg' }),
      25,
    );
    await probe(
      'FeatureExtractor.unknownKey',
      (b) => void new FeatureExtractor(cnn, { taps: 'fc1', pol: b } as never),
      25,
    );
    await probe(
      'FeatureExtractor.extract',
      (b) => new FeatureExtractor(cnn, { taps: 'fc1' }).extract(b as tf.Tensor4D),
      25,
    );
    const dn = new Deconvnet(cnn);
    await probe(
      'Deconvnet.project.images',
      (b) => dn.project(b as tf.Tensor4D, { layer: 'conv1', channels: [0] }),
      25,
    );
    await probe(
      'Deconvnet.project.layer',
      (b) => dn.project(images, { layer: b as string, channels: [0] }),
      25,
    );
    await probe(
      'Deconvnet.topK.k',
      (b) => dn.topK(images, { layer: 'conv1', k: b as number }).then((r) => [r.projections, r.patches]),
      25,
    );
    await probe(
      'Deconvnet.occlusion.size',
      (b) =>
        dn
          .occlusion(images, { size: b as number, labels: [0, 1] })
          .then((r) => Object.values(r).filter((v) => v instanceof tf.Tensor)),
      25,
    );
    await probe('LayerTransfer.copy', (b) => new LayerTransfer(cnn, { copy: b as number }).dispose(), 25);
    await probe(
      'LayerTransfer.inputShape',
      (b) => new LayerTransfer(cnn, { copy: 1, inputShape: b as number[] }).dispose(),
      25,
    );
    await probe('PatchSampler.scales', (b) => new PatchSampler({ scales: b as number }));
  });

  it('classifiers', async () => {
    const x = tf.tensor2d([
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
    ]);
    await probe('LinearSvm.C', (b) => new LinearSvm({ C: b as number }));
    await probe(
      'SoftmaxRegression.unknownKey',
      (b) => new SoftmaxRegression({ epochs: 2, lamda: b } as never),
    );
    await probe(
      'LinearSvm.fit.x',
      async (b) => {
        const svm = new LinearSvm({ epochs: 2 });
        try {
          await svm.fit(b as tf.Tensor2D, [0, 1, 0, 1]);
        } finally {
          svm.dispose();
        }
      },
      25,
    );
    await probe(
      'LinearSvm.fit.y',
      async (b) => {
        const svm = new LinearSvm({ epochs: 2 });
        try {
          await svm.fit(x, b as number[]);
        } finally {
          svm.dispose();
        }
      },
      25,
    );
    await probe(
      'trainClassifier.y',
      (b) => trainClassifier(cnn, images, b as tf.Tensor1D, { epochs: 1 }),
      25,
    );
    x.dispose();
  });
});

/** Byte-level corruptions of a valid file: truncation, a flipped byte, an overwritten 4-byte word. */
function corruptions(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
    fc
      .tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([i, v]) => {
        const out = valid.slice();
        out[i] = v;
        return out;
      }),
    fc.tuple(fc.integer({ min: 0, max: Math.max(0, valid.length - 4) }), fc.integer()).map(([i, v]) => {
      const out = valid.slice();
      new DataView(out.buffer).setInt32(i, v, true);
      return out;
    }),
  );
}

async function probeCorpus(
  name: string,
  valid: Uint8Array,
  load: (bytes: Uint8Array) => unknown,
  runs = 60,
): Promise<void> {
  stats.entries++;
  await fc.assert(
    fc.asyncProperty(corruptions(valid), async (bytes) => {
      const before = tf.memory().numTensors;
      const t0 = performance.now();
      stats.cases++;
      try {
        const out = await load(bytes);
        if (out && typeof (out as { dispose?: unknown }).dispose === 'function')
          (out as { dispose(): void }).dispose();
        stats.accepted++;
      } catch (e) {
        if (!isTransferkitError(e)) {
          stats.untyped++;
          throw new Error(`${name} threw an untyped error: ${String(e)}`);
        }
        stats.typed++;
      }
      expect(performance.now() - t0).toBeLessThan(TIME_BOUND_MS);
      if (tf.memory().numTensors !== before) {
        stats.leaks++;
        throw new Error(`${name} leaked ${tf.memory().numTensors - before} tensors`);
      }
    }),
    { numRuns: runs, seed: 17, endOnFailure: true },
  );
}

describe('fuzz: corrupt files for every loader', () => {
  it('TKFEATS1 feature files', async () => {
    const valid = new Uint8Array(
      encodeFeatures([new FeatureMatrix(3, 2, new Float32Array([1, 2, 3, 4, 5, 6]), 'fc1')], {
        labels: [0, 1, 2],
      }),
    );
    await probeCorpus('decodeFeatures', valid, (b) => decodeFeatures(b));
  });

  it('classifier JSON', async () => {
    const svm = new LinearSvm({ epochs: 3 });
    const x = tf.tensor2d([
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
    ]);
    await svm.fit(x, [0, 1, 1, 0]);
    x.dispose();
    const saved = await svm.save();
    svm.dispose();
    // field-level corruptions (byte-level ones mostly make JSON.parse fail, which is the caller's parse)
    stats.entries++;
    const fields = [
      'version',
      'kind',
      'format',
      'numClasses',
      'dim',
      'options',
      'state',
      'state.weights',
      'state.bias',
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), badValue(), async (field, make) => {
        const bad = make();
        if (bad instanceof tf.Tensor) {
          if (bad !== disposed) bad.dispose();
          return;
        }
        const copy = structuredClone(saved) as unknown as Record<string, Record<string, unknown>>;
        const [f1, f2] = field.split('.');
        if (f2 === undefined) (copy as Record<string, unknown>)[f1] = bad;
        else copy[f1][f2] = bad;
        const before = tf.memory().numTensors;
        stats.cases++;
        try {
          (await loadClassifier(copy as never)).dispose();
          stats.accepted++;
        } catch (e) {
          if (!isTransferkitError(e)) {
            stats.untyped++;
            throw new Error(`loadClassifier(${field}) threw an untyped error: ${String(e)}`);
          }
          stats.typed++;
        }
        expect(tf.memory().numTensors).toBe(before);
      }),
      { numRuns: 80, seed: 17, endOnFailure: true },
    );
  });

  it('PNG images', async () => {
    const valid = encodePng({ width: 6, height: 5, data: new Uint8ClampedArray(120).fill(90) });
    await probeCorpus('decodePng', new Uint8Array(valid), (b) => decodePng(b));
  });

  it('model.json weights', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-fuzz-model-'));
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    await saveLayersModelTo(model, dir);
    model.dispose();
    const { readFile } = await import('node:fs/promises');
    const weights = new Uint8Array(await readFile(path.join(dir, 'weights.bin')));
    let k = 0;
    await probeCorpus(
      'loadLayersModelFrom(weights.bin)',
      weights,
      async (b) => {
        const sub = path.join(dir, `w${k++}`);
        await (await import('node:fs/promises')).mkdir(sub, { recursive: true });
        await writeFile(path.join(sub, 'weights.bin'), b);
        await writeFile(path.join(sub, 'model.json'), await readFile(path.join(dir, 'model.json')));
        return loadLayersModelFrom(sub);
      },
      20,
    );
  });
});

describe('fuzz: summary', () => {
  it('covered every entry with no untyped error, leak or slow call', () => {
    expect(untypedSamples).toEqual([]);
    expect(stats.entries).toBeGreaterThanOrEqual(25);
    expect(stats.untyped + stats.leaks + stats.slow).toBe(0);
  });
});
