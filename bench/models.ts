/**
 * Bench suite `models`: transferkit's primitives on the real pretrained models (nsfwjs's ImageNet-initialised
 * MobileNetV2 at 224x224 and InceptionV3 at 299x299, through `loadPretrained`), against one forward + backward pass
 * of the same model in the same run (gradients of every weight and of the input, softmax cross-entropy on the
 * model's head).
 *
 * - Deconvnet projection of 8 images x 8 channels of a late MobileNetV2 block (`block_13_expand`, 'max' position):
 *   64 backward signals in one call. Goal: <= 3 forward + backward passes of the 8 images.
 *   `npx tsx bench/profile-projection.ts` gives the per-kernel breakdown of the same projection.
 * - FeatureExtractor throughput (images/s) of the 1280-d / 2048-d `flatten_1` features of MobileNetV2 / InceptionV3,
 *   against the forward + backward pass of the same batch.
 *
 * Runs on the active backend (wasm with training kernels under `npm run bench`); needs `nsfwjs` installed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Deconvnet, FeatureExtractor } from '../src/index.js';
import { loadPretrained } from '../src/node.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, timeMedian } from './util.js';

/** Median ms of one forward + backward pass (all weight gradients and the input gradient) of `batch` images. */
async function forwardBackward(model: tfl.LayersModel, batch: number, size: number, samples: number) {
  const x = tf.variable(tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 5), true);
  const classes = model.outputs[0].shape[1] as number;
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % classes),
      'int32',
    ),
    classes,
  );
  try {
    return await timeMedian(
      async () => {
        const { value, grads } = tf.variableGrads(() =>
          tf.losses.softmaxCrossEntropy(labels, model.predict(x) as tf.Tensor),
        );
        await Promise.all([value.data(), ...Object.values(grads).map((g) => g.data())]);
        tf.dispose([value, grads]);
      },
      { samples },
    );
  } finally {
    tf.dispose([x, labels]);
  }
}

async function projection(opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const backend = tf.getBackend();
  const model = await loadPretrained('mobilenet_v2');
  const samples = opts.quick ? 1 : 3;
  const batch = 8;
  const layer = 'block_13_expand';
  const channels = [0, 1, 2, 3, 4, 5, 6, 7];
  const x = tf.randomUniform([batch, 224, 224, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  try {
    const fb = await forwardBackward(model, batch, 224, samples);
    const fbRec = makeRecord(
      `MobileNetV2 224x224: one forward + backward pass, ${batch} images (${backend})`,
      fb.medianMs,
      {
        unit: 'image',
        perOp: batch,
      },
    );
    records.push(fbRec);
    console.log(`  ${fbRec.name}: ${fbRec.medianMs.toFixed(0)} ms`);
    for (const strategy of ['deconvnet', 'guided'] as const) {
      const dn = new Deconvnet(model, { strategy });
      const t = await timeMedian(
        async () => {
          // all 8 channels (64 signals) in ONE backward pass: the backward frees each layer's signal as soon as the
          // next one is computed, so the peak is a few layers' signals and fits the 4 GiB wasm heap
          const p = dn.project(x, { layer, channels, position: 'max' });
          await p.data();
          p.dispose();
        },
        { samples },
      );
      const rec = addRatios(
        makeRecord(
          `MobileNetV2: project ${batch} images x ${channels.length} channels of ${layer}, ${strategy} (${backend})`,
          t.medianMs,
          {
            unit: 'image',
            perOp: batch,
            extra: {
              forwardBackwardPasses: t.medianMs / fb.medianMs,
            },
          },
        ),
        fbRec,
      );
      records.push(rec);
      console.log(
        `  ${rec.name}: ${rec.medianMs.toFixed(0)} ms = ${(t.medianMs / fb.medianMs).toFixed(2)} fwd+bwd`,
      );
    }
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function extraction(opts: BenchOptions, records: BenchRecord[]): Promise<void> {
  const backend = tf.getBackend();
  // InceptionV3's forward + backward pass at 299x299 needs more than the 4 GiB wasm heap at batch 8: batch 4
  for (const [name, size, batch] of [
    ['mobilenet_v2', 224, 8],
    ['inception_v3', 299, 4],
  ] as const) {
    const model = await loadPretrained(name);
    const samples = opts.quick ? 1 : 3;
    const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3);
    const fx = new FeatureExtractor(model, { taps: 'flatten_1' });
    try {
      // tfjs-wasm 4.22 fails inside InceptionV3's forward + backward pass (a freed tensor saved for the backward
      // pass: "Cannot read properties of undefined (reading 'dtype')" in Identity): the run records NaN and goes on
      const fb = await forwardBackward(model, batch, size, samples).catch((e: unknown) => {
        console.log(`  ${name}: forward + backward pass failed on ${backend}: ${String(e).slice(0, 120)}`);
        return { medianMs: Number.NaN, samplesMs: [] };
      });
      const fbRec = makeRecord(
        `${name} ${size}x${size}: one forward + backward pass, ${batch} images (${backend})`,
        fb.medianMs,
        {
          unit: 'image',
          perOp: batch,
        },
      );
      const t = await timeMedian(
        async () => {
          const f = fx.extract(x);
          await Promise.all(f.map((v) => v.data()));
          tf.dispose(f);
        },
        { samples },
      );
      console.log(`  ${name}: fwd+bwd ${fb.medianMs.toFixed(0)} ms, extract ${t.medianMs.toFixed(0)} ms`);
      records.push(
        fbRec,
        addRatios(
          makeRecord(`${name}: FeatureExtractor flatten_1, batch ${batch} (${backend})`, t.medianMs, {
            unit: 'image',
            perOp: batch,
            extra: { forwardBackwardPasses: t.medianMs / fb.medianMs },
          }),
          fbRec,
        ),
      );
    } finally {
      fx.dispose();
      x.dispose();
      model.dispose();
    }
  }
}

export const suite: BenchSuite = {
  id: 'models',
  title:
    'Real models (nsfwjs MobileNetV2 / InceptionV3): projection and feature extraction vs forward+backward',
  async run(opts: BenchOptions): Promise<BenchRecord[]> {
    const records: BenchRecord[] = [];
    await projection(opts, records);
    await extraction(opts, records);
    return records;
  },
};
