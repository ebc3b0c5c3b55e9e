// The real GraphModel nsfwjs ships (`mobilenet_v2_mid`, 224x224 MobileNetV2 converted by tfjs-converter: 178 nodes,
// fused conv ops). Heavy: runs on the wasm project only (a cpu forward pass takes seconds).

import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedLayerError } from '../../src/core/errors.js';
import { Deconvnet } from '../../src/deconvnet/deconvnet.js';
import { predictSoftTargets } from '../../src/distill/teacher.js';
import { SpecialistEnsemble } from '../../src/ensemble/ensemble.js';
import { FeatureExtractor } from '../../src/features/extractor.js';
import { GraphModelNotSupportedError } from '../../src/model/errors.js';
import { withRectifierGradients } from '../../src/model/graph-gradients.js';
import { graphTopology } from '../../src/model/kinds.js';
import { outputKind } from '../../src/model/output-kind.js';
import { pretrainedIOHandler } from '../../src/node/pretrained.js';
import { GraphModelClassifier } from '../../src/transfer/graph-classifier.js';
import { LayerTransfer } from '../../src/transfer/layer-transfer.js';
import { backendName, expectClose, expectThrowsNoLeak } from '../helpers.js';

const P =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/';
const CONV1 = `${P}MobilenetV2/Conv/Relu6`;
const BLOCK3 = `${P}MobilenetV2/expanded_conv_3/expand/Relu6`;
const SUB = `${P}hub_input/Sub`;

describe.runIf(backendName() === 'wasm')('GraphModels (the real nsfwjs mobilenet_v2_mid)', () => {
  let gm: GraphModel;
  let x: tf.Tensor4D;
  beforeAll(async () => {
    gm = await loadGraphModel(pretrainedIOHandler('mobilenet_v2_mid'));
    x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  });
  afterAll(() => {
    x.dispose();
    gm.dispose();
  });

  it('FeatureExtractor taps graph nodes by name in one pass; listTaps lists the 178 nodes with their ops', async () => {
    const taps = FeatureExtractor.listTaps(gm);
    expect(taps.length).toBe(178);
    expect(taps.find((t) => t.name === CONV1)?.className).toBe('_FusedConv2D');
    const fx = new FeatureExtractor(gm, { taps: [CONV1, { layer: BLOCK3, pool: 'max' }], pool: 'avg' });
    const [a, b] = fx.extract(x);
    const [c1, b3] = gm.execute(x, [CONV1, BLOCK3]) as tf.Tensor4D[];
    // oracle: global average / max over the spatial positions, a plain loop
    const pool = async (t: tf.Tensor4D, kind: 'avg' | 'max') => {
      const v = await t.data();
      const [, h, w, ch] = t.shape;
      const out = new Float32Array(ch).fill(kind === 'max' ? -Infinity : 0);
      for (let i = 0; i < h * w; i++)
        for (let k = 0; k < ch; k++) {
          const e = v[i * ch + k];
          out[k] = kind === 'max' ? Math.max(out[k], e) : out[k] + e / (h * w);
        }
      return out;
    };
    expectClose(await a.data(), await pool(c1, 'avg'), 1e-5, 1e-4);
    expectClose(await b.data(), await pool(b3, 'max'), 1e-6);
    tf.dispose([a, b, c1, b3]);
    await expectThrowsNoLeak(
      () => new FeatureExtractor(gm, { taps: [`${P}MobilenetV2/Conv/Relu7`] }),
      InvalidArgumentError,
      /closest: '.*MobilenetV2\/Conv\/Relu6'/,
    );
    fx.dispose();
  });

  it('saliency through the Deconvnet API is the gradient of the kept activations (checked by finite differences)', async () => {
    const dn = new Deconvnet(gm, { strategy: 'saliency' });
    expect(dn.layerNames.length).toBe(178);
    const before = tf.memory().numTensors;
    const p = dn.project(x, { layer: CONV1, channels: [3, 5], position: 'all', signal: 'unit' });
    expect(p.shape).toEqual([1, 2, 224, 224, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    // Oracle: central differences of f(x) = sum of channel 3 of CONV1, at the pixel with the largest gradient.
    const g = await p.data();
    let best = 0;
    for (let i = 0; i < 224 * 224 * 3; i++) if (Math.abs(g[i]) > Math.abs(g[best])) best = i;
    const f = async (delta: number) => {
      const t = tf.tidy(() => {
        const bump = tf.reshape(tf.oneHot(tf.tensor1d([best], 'int32'), 224 * 224 * 3), [1, 224, 224, 3]);
        const a = gm.execute(tf.add(x, tf.mul(bump, delta)), CONV1) as tf.Tensor;
        return tf.sum(tf.slice(a, [0, 0, 0, 3], [-1, -1, -1, 1]));
      });
      const v = (await t.data())[0];
      t.dispose();
      return v;
    };
    const eps = 1e-2;
    const fd = ((await f(eps)) - (await f(-eps))) / (2 * eps);
    expect(Math.abs(fd - g[best])).toBeLessThan(0.02 * Math.abs(g[best]) + 1e-3);
    p.dispose();
  });

  it('guided and deconvnet rules reach the activation part of the fused conv (oracle: the rule applied by hand)', async () => {
    const dn = new Deconvnet(gm);
    // The first fused conv: pre = conv(sub(mul(x))) + bias, then Relu6. Rebuild pre by hand from the graph's weights.
    const conv = (graphTopology(gm) as { node: { name: string; input: string[] }[] }).node.find(
      (n) => n.name === CONV1,
    ) as { input: string[] };
    const w = gm.weights[conv.input[1]][0] as tf.Tensor4D;
    const bias = gm.weights[conv.input[2]][0];
    for (const strategy of ['guided', 'deconvnet'] as const) {
      const p = dn.project(x, { layer: CONV1, channels: [3], position: 'all', signal: 'unit', strategy });
      const want = tf.tidy(() => {
        const xs = gm.execute(x, SUB) as tf.Tensor4D;
        const pre = tf.add(tf.conv2d(xs, w, 2, 'same'), bias);
        const unit = tf.mul(
          tf.onesLike(pre),
          tf.reshape(tf.oneHot([3], pre.shape[3] as number), [1, 1, 1, -1]),
        );
        const mask = tf.mul(tf.cast(tf.greater(pre, 0), 'float32'), tf.cast(tf.less(pre, 6), 'float32'));
        const back = strategy === 'guided' ? tf.mul(tf.relu(unit), mask) : tf.relu(unit);
        // the rest is linear: conv transposed, then the input scaling (Sub, Mul) as their gradient
        return tf.grad((xi: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(gm.execute(xi, SUB) as tf.Tensor4D, w, 2, 'same'), back)),
        )(x);
      });
      expectClose(await p.data(), await want.data(), 1e-4, 1e-3);
      tf.dispose([p, want]);
    }
    // the gradients of Relu/Relu6 are restored, also when the backward pass throws
    const relu6 = tf.getGradient('Relu6');
    expect(() =>
      withRectifierGradients('guided', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tf.getGradient('Relu6')).toBe(relu6);
    // an op without a deconvnet/guided rule is named; saliency is not limited
    await expectThrowsNoLeak(
      () => dn.project(x, { layer: `StatefulPartitionedCall/sequential/prediction/Softmax`, channels: [0] }),
      UnsupportedLayerError,
      /Softmax.*Softmax.*use strategy 'saliency'/,
    );
    // topK on the graph: the strongest unit of channel 3 (oracle: a scan of the node's activations), projected
    // like `project` at that position
    const top = await dn.topK(x, { layer: CONV1, k: 1, channels: [3] });
    const a = gm.execute(x, CONV1) as tf.Tensor4D;
    const av = await a.data();
    const [, , aw, ac] = a.shape;
    let best = 0;
    for (let i = 1; i < av.length / ac; i++) if (av[i * ac + 3] > av[best * ac + 3]) best = i;
    const u = top.units[0][0];
    expect([u.y, u.x]).toEqual([Math.floor(best / aw), best % aw]);
    expect(u.score).toBeCloseTo(av[best * ac + 3], 5);
    const want = dn.project(x, { layer: CONV1, channels: [3], position: { y: u.y, x: u.x } });
    expectClose(await top.projections.data(), await want.data(), 1e-5, 1e-4);
    tf.dispose([a, want, top.projections, top.patches]);
    expect(() => dn.receptiveField(CONV1)).toThrow(GraphModelNotSupportedError);
  });

  it('is a Distiller teacher and a SpecialistEnsemble generalist (output kind read from its Softmax op)', async () => {
    expect(outputKind(gm)).toBe('probabilities');
    const xs = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 8);
    const p = gm.predict(xs) as tf.Tensor2D;
    const T = 3;
    const q = await predictSoftTargets(gm, xs, T);
    const want = tf.softmax(tf.div(tf.log(p), T));
    expectClose(await q.data(), await want.data(), 1e-5);
    // this graph's output signature carries no shape: the class count is given
    const ens = new SpecialistEnsemble(gm, [], { numClasses: 5 });
    expect(ens.numClasses).toBe(5);
    expect(ens.generalistOutput).toBe('probabilities');
    const r = await ens.predictProba(xs);
    expectClose(await r.data(), await p.data(), 1e-5);
    tf.dispose([xs, p, q, want, r]);
  });

  it('LayerTransfer says why it cannot use a GraphModel; GraphModelClassifier builds frozen features + a head', async () => {
    await expectThrowsNoLeak(
      () => new LayerTransfer(gm as never),
      GraphModelNotSupportedError,
      /no layers.*new GraphModelClassifier/,
    );
    const tap = `${P}MobilenetV2/Logits/AvgPool`;
    const clf = new GraphModelClassifier(gm, { tap, numClasses: 3, pool: 'flatten' });
    const logits = clf.predict(x);
    expect(logits.shape).toEqual([1, 3]);
    // oracle: the head applied by hand to the node's activations
    const [k, b] = clf.head.getWeights();
    const want = tf.tidy(() => tf.add(tf.matMul(tf.reshape(gm.execute(x, tap) as tf.Tensor, [1, -1]), k), b));
    expectClose(await logits.data(), await want.data(), 1e-4);
    tf.dispose([logits, want]);
    clf.dispose();
  });
});
