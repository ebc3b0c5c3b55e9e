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
import { cachedModel } from '../../src/report/shared.js';

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
