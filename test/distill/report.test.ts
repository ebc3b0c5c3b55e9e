import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type DistillConfig,
  distill,
  distillConfig,
  renderDistill,
  runDistill,
} from '../../src/report/sections/distill/index.js';
import type { ReportContext } from '../../src/report/types.js';

function context(): ReportContext {
  const memo = new Map<string, Promise<unknown>>();
  return {
    mode: 'quick',
    seed: 0,
    backend: tf.getBackend(),
    cacheDir: '/tmp',
    progress: () => {},
    log: () => {},
    shared<T>(key: string, create: () => Promise<T>): Promise<T> {
      if (!memo.has(key)) memo.set(key, create());
      return memo.get(key) as Promise<T>;
    },
  };
}

describe('the distill report section', () => {
  it('has the paper sizes in full mode and smaller ones in quick mode', () => {
    expect(distill.id).toBe('distill');
    expect(distillConfig('full')).toMatchObject({
      teacherHidden: [1200, 1200],
      studentHidden: [800, 800],
      smallHidden: [30, 30],
      temperature: 20,
    });
    expect(distillConfig('quick').teacherHidden[0]).toBeLessThan(1200);
  });

  it('runs every experiment end to end on MNIST with a tiny recipe, and renders it (wasm)', async ({
    skip,
  }) => {
    if (tf.getBackend() !== 'wasm') skip(); // training on 7k digits: wasm only, to keep the cpu project fast
    const tiny: DistillConfig = {
      ...distillConfig('quick'),
      teacherHidden: [32],
      studentHidden: [16],
      smallHidden: [8],
      teacherEpochs: 1,
      studentEpochs: 1,
      sweep: [2, 20],
      seeds: 1,
      littleEpochs: 3,
      batchSize: 256,
      lr: 0.005,
    };
    const ctx = context();
    const before = tf.memory().numTensors;
    const r = await runDistill(ctx, tiny);
    const mnist = (await ctx.shared('mnist', async () => undefined)) as unknown as { dispose(): void };
    mnist.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.sizes.test).toBe(2000);
    expect(r.sizes.noThrees).toBeLessThan(r.sizes.train);
    expect(r.teacher.errors).toBeLessThan(1000); // a 784-32-10 MLP after one epoch with dropout (chance: 1800)
    expect(r.main).toHaveLength(1);
    expect(r.sweep.map((s) => s.temperature)).toEqual([2, 20]);
    // The student that never saw a 3 misclassifies most 3s until its bias is corrected.
    const t = (s: { perClassErrors: number[] }) => s.perClassErrors[3];
    expect(t(r.noThrees.before)).toBeGreaterThan(r.sizes.threesInTest / 2);
    expect(t(r.noThrees.fitted)).toBeLessThan(t(r.noThrees.before));
    const html = renderDistill(r);
    expect(html).toContain('206 (133 of 1010 threes)');
    expect(html).toContain(`${r.teacher.errors} / 2000`);
    expect(html).toContain('<svg');
  });
});
