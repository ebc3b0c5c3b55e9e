/**
 * Bench suite `deconvnet`: the cost of Zeiler & Fergus projections on the reference CNN architecture (28x28 digits,
 * conv5x5x16-pool-conv3x3x32-pool-fc128-fc10, random seeded weights, the active backend).
 *
 * - Projecting the top-9 units of every channel of conv2 (32 x 9 = 288 units, each on its own image) in one batched
 *   pass, against ONE forward + backward pass (a training step's gradients of all weights and of the input) of the
 *   same 288 images.
 *   Goal: within 3x.
 * - Projecting every channel of conv2 for 8 images in one batched pass, against a JS loop of one `project` call per
 *   image and channel.
 * - The whole `topK` (scan of 1,000 images + projection + crops) for context.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Deconvnet, zeilerFergusCnn } from '../src/index.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, timeMedian } from './util.js';

export const suite: BenchSuite = {
  id: 'deconvnet',
  title: 'Deconvnet: top-9 projections of a layer vs one forward+backward pass; batched vs per-image loop',
  async run(opts: BenchOptions): Promise<BenchRecord[]> {
    const backend = tf.getBackend();
    const model = zeilerFergusCnn({ seed: 3 });
    const dn = new Deconvnet(model);
    const layer = 'conv2';
    const channels = dn.layerInfo(layer).channels;
    const k = 9;
    const units = channels * k;
    const samples = opts.quick ? 3 : 5;
    const scanN = opts.quick ? 300 : 1000;
    const images = tf.randomUniform([units, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const scan = tf.randomUniform([scanN, 28, 28, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: units }, (_, i) => i % 10),
        'int32',
      ),
      10,
    );
    try {
      // the strongest position of each (image, channel) pair, as top-k would pick them
      const a = dn.activations(images, layer);
      const pos = tf.tidy(() => tf.argMax(tf.reshape(a, [units, -1, channels]), 1));
      const posV = await pos.data();
      const ow = a.shape[2] as number;
      tf.dispose([a, pos]);
      const unitRefs = Array.from({ length: units }, (_, i) => {
        const ch = Math.floor(i / k);
        const p = posV[i * channels + ch];
        return { image: i, channel: ch, y: Math.floor(p / ow), x: p % ow };
      });

      // the input as a variable: one forward pass and one backward pass give the gradients of every weight AND of
      // the input (what a projection computes), as in a training step of input-gradient methods
      const xv = tf.variable(images, true);
      const fb = await timeMedian(
        async () => {
          const { value, grads } = tf.variableGrads(() =>
            tf.losses.softmaxCrossEntropy(labels, model.predict(xv) as tf.Tensor),
          );
          await Promise.all([value.data(), ...Object.values(grads).map((g) => g.data())]);
          tf.dispose([value, grads]);
        },
        { samples },
      );
      xv.dispose();
      const fbRec = makeRecord(`one forward + backward pass, ${units} images (${backend})`, fb.medianMs, {
        unit: 'image',
        perOp: units,
      });

      const proj = await timeMedian(
        async () => {
          const p = dn.projectUnits(images, unitRefs, { layer });
          await p.data();
          p.dispose();
        },
        { samples },
      );
      const projRec = addRatios(
        makeRecord(
          `project top-${k} of all ${channels} ${layer} channels, one pass (${backend})`,
          proj.medianMs,
          {
            unit: 'image',
            perOp: units,
            extra: { slowdownVsForwardBackward: proj.medianMs / fb.medianMs },
          },
        ),
        fbRec,
      );

      const nImg = 8;
      const few = tf.slice(images, 0, nImg) as tf.Tensor4D;
      const batched = await timeMedian(
        async () => {
          const p = dn.project(few, { layer, channels: 'all' });
          await p.data();
          p.dispose();
        },
        { samples },
      );
      const loop = await timeMedian(
        async () => {
          const outs: tf.Tensor[] = [];
          for (let i = 0; i < nImg; i++) {
            const one = tf.slice(few, i, 1) as tf.Tensor4D;
            for (let c = 0; c < channels; c++) outs.push(dn.project(one, { layer, channels: [c] }));
            one.dispose();
          }
          await Promise.all(outs.map((t) => t.data()));
          tf.dispose(outs);
        },
        { samples: opts.quick ? 2 : 3 },
      );
      few.dispose();
      const loopRec = makeRecord(
        `per-image, per-channel loop: ${nImg} images x ${channels} channels (${backend})`,
        loop.medianMs,
        { unit: 'projection', perOp: nImg * channels },
      );
      const batchedRec = addRatios(
        makeRecord(
          `batched: ${nImg} images x ${channels} channels in one pass (${backend})`,
          batched.medianMs,
          {
            unit: 'projection',
            perOp: nImg * channels,
          },
        ),
        loopRec,
      );

      const topk = await timeMedian(
        async () => {
          const r = await dn.topK(scan, { layer, k, batchSize: 128 });
          tf.dispose([r.projections, r.patches]);
        },
        { samples: opts.quick ? 1 : 3, warmUp: 0 },
      );
      const topkRec = makeRecord(
        `topK: scan ${scanN} images + project ${units} units + crop (${backend})`,
        topk.medianMs,
        {
          unit: 'image',
          perOp: scanN,
        },
      );
      return [fbRec, projRec, loopRec, batchedRec, topkRec];
    } finally {
      tf.dispose([images, scan, labels]);
      model.dispose();
    }
  },
};
