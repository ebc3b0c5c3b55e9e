/**
 * Regressions of issue 17: each case hung, exhausted memory, escaped the model folder, leaked tensors or returned a
 * silently wrong result before the fix.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it, vi } from 'vitest';
import {
  applyBatchNormPolicy,
  confusionMatrix,
  Deconvnet,
  DistillationLoss,
  decodeFeatures,
  distillationLoss,
  encodeFeatures,
  evaluateClassifier,
  FeatureExtractor,
  FeatureMatrix,
  GroupedOptimizer,
  generateScenes,
  InvalidArgumentError,
  isTransferkitError,
  LayerTransfer,
  loadClassifier,
  memoryEnsembleStore,
  ShapeMismatchError,
  SpecialistEnsemble,
  TransferExperiment,
  TransferkitError,
  trainClassifier,
} from '../../src/index.js';
import { checkOptionKeys, decodePng, encodePng, LIMITS, occluderPositions } from '../../src/internal.js';
import { loadLayersModelFrom, readImageFolder, saveLayersModelTo } from '../../src/node.js';
import { expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

/** A PNG whose IHDR declares `w x h` pixels, with no image data: 8 + 25 + 12 + 12 bytes. */
function fakePng(w: number, h: number): Uint8Array {
  const real = encodePng({ width: 1, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255]) });
  const out = new Uint8Array(real);
  const view = new DataView(out.buffer);
  view.setUint32(16, w);
  view.setUint32(20, h);
  return out;
}

function tinyClassifier(seed = 1): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [3],
        units: 4,
        kernelInitializer: tfl.initializers.glorotNormal({ seed }),
      }),
    ],
  });
}

describe('issue 17 regressions: hangs and memory blow-ups', () => {
  it('occluderPositions rejects size 0, a size past the length and stride 0 (it looped or went negative)', () => {
    expect(occluderPositions(10, 4, 4)).toEqual([0, 4, 6]);
    expect(() => occluderPositions(28, 8, 0)).toThrow(/`stride`/);
    expect(() => occluderPositions(28, 0, 1)).toThrow(/`size`/);
    expect(() => occluderPositions(5, 8, 1)).toThrow(InvalidArgumentError);
  });

  it('confusionMatrix and generateScenes reject absurd sizes before allocating', () => {
    expect(() => confusionMatrix([0], [0], 1e9)).toThrow(/numClasses/);
    const digits = { pixels: new Float32Array(4), labels: [0], height: 2, width: 2 };
    expect(() => generateScenes(digits, { count: 1e7, seed: 0 })).toThrow(/options\.count/);
  });

  it('decodePng and readImageFolder check the header before decoding', async () => {
    const t0 = performance.now();
    expect(() => decodePng(fakePng(20000, 20000))).toThrow(/maxPixels|at most/);
    expect(() => decodePng(fakePng(8000, 8000))).toThrow(/complete PNG/);
    expect(() => decodePng(fakePng(1, 1).subarray(0, 20))).toThrow(InvalidArgumentError);
    const ok = encodePng({ width: 4, height: 4, data: new Uint8ClampedArray(64).fill(200) });
    expect(decodePng(ok).width).toBe(4);
    expect(() => decodePng(ok, { maxPixels: 15 })).toThrow(/at most 15 pixels/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-png-'));
    await writeFile(path.join(dir, 'bomb.png'), fakePng(8000, 8000));
    await expectThrowsNoLeak(
      () => readImageFolder(dir, { size: [8, 8], channels: 1 }),
      InvalidArgumentError,
      /bomb\.png/,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('issue 17 regressions: silent wrong results', () => {
  it('trainClassifier / evaluateClassifier reject labels >= the number of classes', async () => {
    const model = tinyClassifier();
    const x = tf.ones([4, 3]);
    const y = tf.tensor1d([0, 1, 4, 2], 'int32');
    await expectThrowsNoLeak(() => trainClassifier(model, x, y), InvalidArgumentError, /`y\[2\]`.*\[0, 3\]/);
    await expectThrowsNoLeak(
      () => evaluateClassifier(model, { x, labels: y }),
      InvalidArgumentError,
      /`data.labels\[2\]`/,
    );
    tf.dispose([x, y]);
    model.dispose();
  });

  it('distillationLoss and DistillationLoss.pack make an out-of-range hard label NaN, not zero', async () => {
    const z = tf.tensor2d([
      [1, 2, 3],
      [0, 1, 0],
    ]);
    const t = tf.tensor2d([
      [1, 0, 0],
      [0, 2, 1],
    ]);
    const good = distillationLoss(z, t, {
      temperature: 2,
      alpha: 0.5,
      hardLabels: tf.tensor1d([0, 2], 'int32'),
      reduction: 'none',
    });
    const bad = distillationLoss(z, t, {
      temperature: 2,
      alpha: 0.5,
      hardLabels: tf.tensor1d([0, 3], 'int32'),
      reduction: 'none',
    });
    const [g, b] = [await good.data(), await bad.data()];
    expect(Number.isFinite(g[1])).toBe(true);
    expect(b[0]).toBeCloseTo(g[0], 5);
    expect(Number.isNaN(b[1])).toBe(true);
    const loss = new DistillationLoss({ temperature: 2 });
    const packed = loss.pack(tf.softmax(t), tf.tensor1d([-1, 1], 'int32'));
    const p = await packed.data();
    expect(Array.from(p.slice(0, 3)).every(Number.isNaN)).toBe(true);
    expect(p[4]).toBeGreaterThan(2);
    const labels = tf.tensor1d([0, 3], 'int32');
    await expectNoLeak(() => distillationLoss(z, t, { temperature: 2, alpha: 0.5, hardLabels: labels }));
    tf.dispose([z, t, good, bad, packed, labels]);
  });

  it('loadClassifier rejects another version, null or non-finite weights and absurd sizes', async () => {
    const saved = {
      format: 'transferkit-classifier',
      version: 1,
      kind: 'linear-svm',
      numClasses: 2,
      dim: 2,
      options: {},
      state: { weights: [1, 2, 3, 4], bias: [0, 0] },
    } as const;
    const before = tf.memory().numTensors;
    const ok = await loadClassifier(structuredClone(saved) as never);
    ok.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(loadClassifier({ ...saved, version: 2 } as never)).rejects.toThrow(/saved\.version/);
    await expect(
      loadClassifier({ ...saved, state: { weights: [1, null, 3, 4], bias: [0, 0] } } as never),
    ).rejects.toThrow(/weights\[1\]/);
    await expect(loadClassifier({ ...saved, numClasses: 1e9 } as never)).rejects.toThrow(/numClasses/);
    await expect(loadClassifier({ ...saved, state: null } as never)).rejects.toThrow(/saved\.state/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('decodeFeatures rejects negative or missing offsets and labels that would read the magic', () => {
    const buf = new Uint8Array(
      encodeFeatures([new FeatureMatrix(2, 2, new Float32Array([1, 2, 3, 4]), 'fc')], { labels: [0, 1] }),
    );
    expect(decodeFeatures(buf).labels).toEqual(new Int32Array([0, 1]));
    const h = new DataView(buf.buffer).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(12, 12 + h)));
    const rewrite = (edit: (hd: typeof header) => void): Uint8Array => {
      const hd = structuredClone(header);
      edit(hd);
      const text = new TextEncoder().encode(JSON.stringify(hd));
      const out = new Uint8Array(12 + text.length + buf.length - 12 - h);
      out.set(buf.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, text.length, true);
      out.set(text, 12);
      out.set(buf.subarray(12 + h), 12 + text.length);
      return out;
    };
    expect(() => decodeFeatures(rewrite((hd) => (hd.matrices[0].byteOffset = -8)))).toThrow(/matrix sizes/);
    expect(() => decodeFeatures(rewrite((hd) => delete hd.matrices[0].byteOffset))).toThrow(/matrix sizes/);
    expect(() => decodeFeatures(rewrite((hd) => (hd.labels.byteOffset = -(12 + h + 16))))).toThrow(/labels/);
    expect(() => decodeFeatures(rewrite((hd) => (hd.labels.length = 1)))).toThrow(/labels/);
  });

  it('FeatureExtractor and new LayerTransfer reject input sizes the model cannot take', () => {
    const cnn = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 2, kernelSize: 3, name: 'conv1' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, name: 'conv2' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
        tfl.layers.flatten({}),
        tfl.layers.dense({ units: 3, name: 'fc' }),
      ],
    });
    const before = tf.memory().numTensors;
    expect(() => new FeatureExtractor(cnn, { taps: 'pool2', inputSize: [5, 5] })).toThrow(/inputSize/);
    expect(() => new LayerTransfer(cnn, { copy: 1, inputShape: [6, 6, 1] })).toThrow(ShapeMismatchError);
    expect(tf.memory().numTensors).toBe(before);
    const ok = new LayerTransfer(cnn, { copy: 1, inputShape: [14, 14, 1] });
    ok.dispose();
    cnn.dispose();
  });

  it('applyBatchNormPolicy rejects an invalid policy', () => {
    const bn = tfl.layers.batchNormalization({});
    expect(() => applyBatchNormPolicy(bn, 'frozen' as never)).toThrow(/`policy`.*"frozen"/);
  });
});

describe('issue 17 regressions: path escape and leaks', () => {
  it('loadLayersModelFrom keeps weight paths inside the folder and checks truncated weights without leaking', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-model-'));
    const model = tinyClassifier();
    await saveLayersModelTo(model, dir);
    model.dispose();
    const json = JSON.parse(
      await (await import('node:fs/promises')).readFile(path.join(dir, 'model.json'), 'utf8'),
    );
    const evil = path.join(dir, 'evil.json');
    await writeFile(
      evil,
      JSON.stringify({
        ...json,
        weightsManifest: [{ ...json.weightsManifest[0], paths: ['../../../etc/hostname'] }],
      }),
    );
    await expectThrowsNoLeak(
      () => loadLayersModelFrom(evil),
      InvalidArgumentError,
      /inside the model's folder/,
    );
    const abs = path.join(dir, 'abs.json');
    await writeFile(
      abs,
      JSON.stringify({
        ...json,
        weightsManifest: [{ ...json.weightsManifest[0], paths: ['/etc/hostname'] }],
      }),
    );
    await expectThrowsNoLeak(
      () => loadLayersModelFrom(abs),
      InvalidArgumentError,
      /inside the model's folder/,
    );
    await writeFile(path.join(dir, 'short.bin'), new Uint8Array(10));
    const short = path.join(dir, 'short.json');
    await writeFile(
      short,
      JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['short.bin'] }] }),
    );
    await expectThrowsNoLeak(() => loadLayersModelFrom(short), InvalidArgumentError, /truncated weights/);
    await expectNoLeak(async () => {
      const m = await loadLayersModelFrom(dir);
      m.dispose();
    });
  });

  it('SpecialistEnsemble.load with truncated weights throws typed and leaks nothing', async () => {
    const store = memoryEnsembleStore();
    const g = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 4, activation: 'softmax' })],
    });
    const s = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 3, activation: 'softmax' })],
    });
    const ens = new SpecialistEnsemble(g, [
      { model: s, classes: [0, 1], outputKind: 'probabilities', dustbinLogitShift: 0 },
    ]);
    await ens.save(store.handler);
    ens.dispose();
    g.dispose();
    const a = store.artifacts.get('specialist-0') as tf.io.ModelArtifacts;
    store.artifacts.set('specialist-0', { ...a, weightData: (a.weightData as ArrayBuffer).slice(0, 8) });
    await expectThrowsNoLeak(() => SpecialistEnsemble.load(store.handler), InvalidArgumentError, /truncated/);
  });

  it('Deconvnet.topK disposes the batches a generator yields (keepBatches keeps them)', async () => {
    const net = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [6, 6, 1],
          filters: 2,
          kernelSize: 3,
          activation: 'relu',
          name: 'c1',
        }),
        tfl.layers.flatten({}),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const dn = new Deconvnet(net);
    const made: tf.Tensor[] = [];
    const source = function* (bs: number) {
      for (let i = 0; i < 3; i++) {
        const b = tf.randomUniform([bs, 6, 6, 1], 0, 1, 'float32', i);
        made.push(b);
        yield b as tf.Tensor4D;
      }
    };
    await expectNoLeak(async () => {
      const r = await dn.topK(source, { layer: 'c1', k: 2, batchSize: 2 });
      return [r.projections, r.patches];
    });
    expect(made.every((t) => t.isDisposed)).toBe(true);
    made.length = 0;
    const r = await dn.topK(source, { layer: 'c1', k: 2, batchSize: 2, keepBatches: true });
    expect(made.some((t) => t.isDisposed)).toBe(false);
    tf.dispose([...made, r.projections, r.patches]);
    dn.dispose?.();
    net.dispose();
  });

  it('TransferExperiment: a factory returning null, train: null and one-class splits end typed, leak-free', async () => {
    const x = tf.ones([8, 3]);
    const labels = [0, 1, 2, 3, 0, 1, 2, 3];
    const data = { train: { x, labels }, test: { x, labels }, classesA: [0, 1], classesB: [2, 3] };
    const exp = new TransferExperiment(data, { modelFactory: () => null as never, training: { epochs: 1 } });
    await expectThrowsNoLeak(() => exp.run(), InvalidArgumentError, /modelFactory/);
    expect(
      () => new TransferExperiment({ ...data, train: null as never }, { modelFactory: () => null as never }),
    ).toThrow(/data\.train/);
    expect(
      () => new TransferExperiment({ ...data, classesA: [0] }, { modelFactory: () => null as never }),
    ).toThrow(/at least 2 classes/);
    expect(
      () =>
        new TransferExperiment(
          { ...data, test: { x, labels: [0, 1] } },
          { modelFactory: () => null as never },
        ),
    ).toThrow(ShapeMismatchError);
    x.dispose();
  });

  it('GroupedOptimizer.step with a non-scalar loss throws typed and leaks nothing', async () => {
    const v = tf.variable(tf.ones([3]));
    const opt = new GroupedOptimizer([{ name: 'all', variables: [v], learningRate: 0.1 }]);
    await expectThrowsNoLeak(() => opt.step(() => tf.mul(v, 2) as never), ShapeMismatchError, /scalar/);
    await expectNoLeak(() => opt.step(() => tf.sum(tf.mul(v, 2))));
    opt.dispose();
    v.dispose();
  });
});

describe('issue 17: typed errors across builds and unknown option keys', () => {
  it('instanceof and isTransferkitError hold for errors made by another copy of the module', async () => {
    vi.resetModules();
    const other = await import('../../src/core/errors.js?copy' as string);
    expect(other.InvalidArgumentError).not.toBe(InvalidArgumentError);
    const e = new other.ShapeMismatchError('f', 'x', 'shape [1]', [2]);
    expect(e instanceof ShapeMismatchError).toBe(true);
    expect(e instanceof InvalidArgumentError).toBe(true);
    expect(e instanceof TransferkitError).toBe(true);
    expect(isTransferkitError(e)).toBe(true);
    expect(isTransferkitError(e, 'InvalidArgumentError')).toBe(true);
    expect(isTransferkitError(e, 'DisposedError')).toBe(false);
    expect(new other.DisposedError('A', 'b') instanceof InvalidArgumentError).toBe(false);
    expect(new Error('x') instanceof TransferkitError).toBe(false);
    expect(isTransferkitError(new Error('x'))).toBe(false);
    class Mine extends InvalidArgumentError {}
    const m = new Mine('f', 'a', 'b', 1);
    expect(m instanceof Mine && m instanceof InvalidArgumentError).toBe(true);
    expect(e instanceof Mine).toBe(false);
  });

  it('checkOptionKeys names the unknown key and suggests the closest known one', () => {
    expect(() =>
      checkOptionKeys('FeatureExtractor', 'options', { taps: 1, pol: 'avg' }, ['taps', 'pool']),
    ).toThrow(/`options\.pol`.*did you mean `pool`\?/);
    expect(() => checkOptionKeys('f', 'options', { zzzzzzzz: 1 }, ['taps', 'pool'])).toThrow(
      /known options: `taps`, `pool`/,
    );
    expect(() => checkOptionKeys('f', 'options', { taps: 1 }, ['taps'])).not.toThrow();
    expect(LIMITS.maxPixels).toBe(100_000_000);
  });
});
