/**
 * The report's one disk model cache (`cachedModel` in src/report/shared.ts): a model saved under a key is loaded
 * back with the same weights and meta; another key trains again; a bad folder name is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedModel, liveTensorsNote, tensorsHeldBy } from '../../src/report/shared.js';

function tiny(seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [3],
        units: 2,
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
    ],
  });
}

async function weights(m: tfl.LayersModel): Promise<number[]> {
  return Array.from(await m.getWeights()[0].data());
}

describe('cachedModel: the report disk cache of trained models', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('trains once, then loads the same weights and meta for the same key; another key trains again', async () => {
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'tk-cache-'));
    dirs.push(cacheDir);
    const logs: string[] = [];
    const ctx = { cacheDir, log: (m: string) => logs.push(m) };
    let trained = 0;
    const train = (seed: number) => async () => {
      trained++;
      return { model: tiny(seed), meta: { accuracy: 0.5 + seed / 100 } };
    };
    const a = await cachedModel(ctx, 'tiny', { seed: 1 }, train(1));
    expect(a.fromCache).toBe(false);
    const before = tf.memory().numTensors;
    const b = await cachedModel(ctx, 'tiny', { seed: 1 }, train(1));
    expect(b.fromCache).toBe(true);
    expect(b.meta).toEqual({ accuracy: 0.51 });
    expect(await weights(b.model)).toEqual(await weights(a.model));
    expect(trained).toBe(1);
    expect(logs.some((l) => l.includes('tiny') && l.includes('loaded'))).toBe(true);
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const c = await cachedModel(ctx, 'tiny', { seed: 2 }, train(2));
    expect(c.fromCache).toBe(false);
    expect(trained).toBe(2);
    expect(await weights(c.model)).not.toEqual(await weights(a.model));
    a.model.dispose();
    c.model.dispose();
  });

  it('refuses a name that is not a plain folder name, before training', async () => {
    let trained = 0;
    const ctx = { cacheDir: tmpdir(), log: () => {} };
    await expect(
      cachedModel(ctx, '../escape', {}, async () => {
        trained++;
        return { model: tiny(0), meta: null };
      }),
    ).rejects.toThrow(/cachedModel.*"\.\.\/escape"/);
    expect(trained).toBe(0);
  });
});

describe('tensorsHeldBy / liveTensorsNote: what the shared values keep, told apart from a leak', () => {
  it('counts the tensors and model weights the shared values hold, each once, with their bytes', () => {
    const before = tf.memory();
    // The shape of the report's two shared values: an MNIST-like split and a { model, dispose } record.
    const split = {
      train: { x: tf.zeros([8, 2, 2, 1]), y: tf.zeros([8], 'int32'), size: 8, labels: new Int32Array(8) },
      test: { x: tf.zeros([2, 2, 2, 1]), y: tf.zeros([2], 'int32'), size: 2 },
    };
    const model = tiny(1);
    const cnn = { model, test: { accuracy: 1 }, curve: [{ loss: 1 }], dispose: () => model.dispose() };
    const alias = { again: split.train.x, list: [split.test.y] };
    const held = tensorsHeldBy(
      new Map<string, unknown>([
        ['mnist', split],
        ['cnn', cnn],
        ['alias', alias],
        ['plain', { n: 3 }],
      ]),
    );
    expect(held.keys).toEqual(['mnist', 'cnn']);
    // 4 data tensors + the dense layer's kernel and bias.
    expect(held.tensors).toBe(6);
    expect(held.tensors).toBe(tf.memory().numTensors - before.numTensors);
    expect(held.bytes).toBe(tf.memory().numBytes - before.numBytes);
    expect(held.bytes).toBe((32 + 8 + 8 + 2 + 3 * 2 + 2) * 4);
    const note = liveTensorsNote(tf.memory(), held, before.numTensors);
    expect(note).toMatch(/all held by ctx.shared for later sections \(mnist, cnn\)/);
    // A tensor nobody holds is named as a leak.
    const leaked = tf.ones([3]);
    expect(liveTensorsNote(tf.memory(), held, before.numTensors)).toMatch(
      /: 6 held by ctx.shared \(mnist, cnn\), 1 NOT held by it \(a leak\)$/,
    );
    // Disposed values hold nothing.
    tf.dispose([leaked, split.train.x, split.train.y, split.test.x, split.test.y]);
    cnn.dispose();
    expect(
      tensorsHeldBy(
        new Map<string, unknown>([
          ['mnist', split],
          ['cnn', cnn],
        ]),
      ),
    ).toEqual({ tensors: 0, bytes: 0, keys: [] });
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(liveTensorsNote({ numTensors: 0, numBytes: 0 }, { tensors: 0, bytes: 0, keys: [] })).toBe(
      'live tensors 0, 0.0 MB, none left by the sections',
    );
  });

  it('never calls a getter: counting does not build the tensors of a lazy split part', () => {
    const before = tf.memory().numTensors;
    let built: tf.Tensor | undefined;
    const part = {
      size: 4,
      get x(): tf.Tensor {
        built ??= tf.zeros([4, 2]);
        return built;
      },
    };
    const shared = new Map<string, unknown>([['fashion', { train: part }]]);
    expect(tensorsHeldBy(shared)).toEqual({ tensors: 0, bytes: 0, keys: [] });
    expect(tf.memory().numTensors).toBe(before);
    expect(built).toBeUndefined();
    part.x.dispose();
  });
});
