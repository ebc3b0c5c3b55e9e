/**
 * Issue 17: a batch whose shape does not fit the model gets a typed ShapeMismatchError naming the function, the
 * argument, the model's input shape and the received shape, before any kernel runs (was a raw tfjs-layers
 * "Error when checking : expected flatten_input to have 4 dimension(s)"). Int32 images to Deconvnet get a typed
 * error (was a raw "must be float32 tensor" from conv2d).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Deconvnet,
  Distiller,
  InvalidArgumentError,
  PatchSampler,
  predictPatches,
  predictSoftTargets,
  ShapeMismatchError,
  SpecialistEnsemble,
} from '../../src/index.js';
import { expectThrowsBeforeAllocating } from './engine-work.js';

/** A tiny classifier on [*, 8, 8, 1] images with `k` outputs. */
function cnn(k: number, name: string): tfl.Sequential {
  return tfl.sequential({
    name,
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: `${name}_conv` }),
      tfl.layers.flatten({ name: `${name}_flat` }),
      tfl.layers.dense({ units: k, name: `${name}_logits` }),
    ],
  });
}

let student: tfl.Sequential;
let teacher: tfl.Sequential;
let flatTeacher: tfl.Sequential;
let good: tf.Tensor4D;
let flat: tf.Tensor2D;
let wide: tf.Tensor4D;
let labels: tf.Tensor1D;

beforeAll(() => {
  student = cnn(3, 'student');
  teacher = cnn(3, 'teacher');
  flatTeacher = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [64], units: 3 })] });
  good = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  flat = tf.randomUniform([4, 64], 0, 1, 'float32', 2) as tf.Tensor2D;
  wide = tf.randomUniform([4, 10, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  labels = tf.tensor1d([0, 1, 2, 0], 'int32');
});

afterAll(() => {
  tf.dispose([good, flat, wide, labels]);
  for (const m of [student, teacher, flatTeacher]) m.dispose();
});

describe('input shapes are checked against the model before any work', () => {
  it('Distiller.fit: x and validation.x against the student, x against the teacher', async () => {
    const d = new Distiller(student, teacher, { temperature: 2, alpha: 0.5 });
    await expectThrowsBeforeAllocating(
      () => d.fit(flat, { labels, epochs: 1 }),
      ShapeMismatchError,
      /`x` passed to `Distiller\.fit`.*\[\*, 8, 8, 1\] \(the input of the student\).*shape \[4, 64\]/s,
    );
    await expectThrowsBeforeAllocating(
      () => d.fit(wide, { labels, epochs: 1 }),
      ShapeMismatchError,
      /\[\*, 8, 8, 1\].*shape \[4, 10, 8, 1\]/s,
    );
    await expectThrowsBeforeAllocating(
      () => d.fit(good, { labels, epochs: 1, validation: { x: flat, labels } }),
      ShapeMismatchError,
      /options\.validation\.x.*the student.*shape \[4, 64\]/s,
    );
    // label VALUES are read before the teacher runs (was: a teacher pass, a cached output, then the error)
    const outOfRange = tf.tensor1d([0, 1, 2, 3], 'int32');
    await expectThrowsBeforeAllocating(
      () => d.fit(good, { labels: outOfRange, epochs: 1 }),
      InvalidArgumentError,
      /`options\.labels\[3\]` passed to `Distiller\.fit`.*\[0, 2\].*3/s,
    );
    outOfRange.dispose();
    d.dispose();
    const mixed = new Distiller(student, flatTeacher, { temperature: 2, alpha: 0.5 });
    await expectThrowsBeforeAllocating(
      () => mixed.fit(good, { labels, epochs: 1 }),
      ShapeMismatchError,
      /`x`.*\[\*, 64\] \(the input of the teacher\).*shape \[4, 8, 8, 1\]/s,
    );
    mixed.dispose();
  });

  it('predictSoftTargets: x against each teacher model', async () => {
    await expectThrowsBeforeAllocating(
      () => predictSoftTargets(teacher, flat, 2),
      ShapeMismatchError,
      /`x` passed to `predictSoftTargets`.*\[\*, 8, 8, 1\] \(the input of the teacher\).*shape \[4, 64\]/s,
    );
    await expectThrowsBeforeAllocating(
      () => predictSoftTargets([teacher, flatTeacher], good, 2),
      ShapeMismatchError,
      /teacher\[1\]/,
    );
    // the happy path still works and leaks nothing
    const before = tf.memory().numTensors;
    const q = await predictSoftTargets(teacher, good, 2);
    expect(q.shape).toEqual([4, 3]);
    q.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('SpecialistEnsemble.predict / predictProba / predictDetailed: x against the generalist and the specialists', async () => {
    const generalist = cnn(4, 'gen');
    const spec = cnn(3, 'spec'); // classes 1, 2 + the dustbin
    const ensemble = new SpecialistEnsemble(generalist, [
      { model: spec, classes: [1, 2], outputKind: 'logits', dustbinLogitShift: 0 },
    ]);
    await expectThrowsBeforeAllocating(
      () => ensemble.predict(flat),
      ShapeMismatchError,
      /`x` passed to `SpecialistEnsemble\.predict`.*\[\*, 8, 8, 1\] \(the input of the generalist\).*shape \[4, 64\]/s,
    );
    await expectThrowsBeforeAllocating(
      () => ensemble.predictDetailed(wide),
      ShapeMismatchError,
      /SpecialistEnsemble\.predictDetailed/,
    );
    const before = tf.memory().numTensors;
    await expectThrowsBeforeAllocating(
      () => ensemble.predictProba(flat),
      ShapeMismatchError,
      /SpecialistEnsemble\.predictProba/,
    );
    const p = await ensemble.predictProba(good);
    expect(p.shape).toEqual([4, 4]);
    p.dispose();
    expect((await ensemble.predict(good)).length).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    ensemble.dispose();
    generalist.dispose();
  });

  it('predictPatches: crops of cropSize (and the images channels) against the model input', async () => {
    const grid = new PatchSampler({ scales: 2, smallest: 0.5 }).grid({ height: 16, width: 16 });
    const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const rgb = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    await expectThrowsBeforeAllocating(
      () => predictPatches(student, images, grid, [12, 12]),
      ShapeMismatchError,
      /`cropSize` passed to `predictPatches`.*\[\*, 8, 8, 1\].*\[\*, 12, 12, 1\]/s,
    );
    await expectThrowsBeforeAllocating(
      () => predictPatches(student, rgb, grid, [8, 8]),
      ShapeMismatchError,
      /\[\*, 8, 8, 3\]/,
    );
    const before = tf.memory().numTensors;
    const s = await predictPatches(student, images, grid, [8, 8]);
    expect(s.shape).toEqual([2, grid.count, 3]);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([images, rgb]);
  });

  it('Deconvnet.project / projectUnits on int32 images: a typed error naming the cast', async () => {
    const dn = new Deconvnet(student);
    const ints = tf.zeros([1, 8, 8, 1], 'int32') as tf.Tensor4D;
    await expectThrowsBeforeAllocating(
      () => dn.project(ints, { layer: 'student_conv', channels: [0] }),
      InvalidArgumentError,
      /`images` passed to `Deconvnet\.project`.*float32.*tf\.cast\(images, 'float32'\).*int32/s,
    );
    await expectThrowsBeforeAllocating(
      () => dn.projectUnits(ints, [{ image: 0, channel: 0, y: 0, x: 0 }], { layer: 'student_conv' }),
      InvalidArgumentError,
      /Deconvnet\.projectUnits.*float32/s,
    );
    ints.dispose();
  });
});
