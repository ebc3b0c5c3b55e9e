import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type DistillMnistResult,
  distillMnist,
  distillMnistConfig,
  distillMnistIntervals,
  renderDistillMnist,
  runDistillMnist,
} from '../../src/report/sections/distill-mnist.js';
import type { ReportContext } from '../../src/report/types.js';

function context(): ReportContext {
  return {
    mode: 'quick',
    seed: 0,
    backend: tf.getBackend(),
    cacheDir: '/tmp',
    progress: () => {},
    log: () => {},
    shared: <T>(_key: string, create: () => Promise<T>) => create(),
  };
}

describe('the distill-mnist report section', () => {
  it('uses >= 3 seeds in quick mode and the paper-scale student in full mode', () => {
    expect(distillMnistConfig('quick').seeds).toBeGreaterThanOrEqual(3);
    expect(distillMnistConfig('full')).toMatchObject({ studentHidden: [800, 800], teacherTrain: 60000 });
  });

  it('reads its verdicts from intervals over seeds (oracle: hand-made results)', () => {
    const r: DistillMnistResult = {
      mode: 'quick',
      backend: 'cpu',
      config: distillMnistConfig('quick'),
      testSize: 10000,
      teacher: { errors: 100, seconds: 1 },
      runs: [
        { seed: 1, hard: 600, soft: 350, seconds: 1 },
        { seed: 2, hard: 620, soft: 360, seconds: 1 },
        { seed: 3, hard: 610, soft: 355, seconds: 1 },
      ],
      seconds: 3,
    };
    const { gap, saved } = distillMnistIntervals(r);
    expect(gap.estimate).toBeCloseTo((250 / 500 + 260 / 520 + 255 / 510) / 3, 10);
    expect(saved.estimate).toBeCloseTo(255, 10);
    expect(gap.lo).toBeGreaterThan(0);
    const html = renderDistillMnist(r);
    expect(html).toContain('holds');
    const h = distillMnist.headlines?.(r) ?? [];
    expect(h[0].claim).toContain('(holds)');
    // A seed where soft targets did worse makes the interval straddle zero.
    const mixed = { ...r, runs: [...r.runs.slice(0, 2), { seed: 3, hard: 300, soft: 900, seconds: 1 }] };
    expect(distillMnist.headlines?.(mixed)[0].claim).toContain('(inconclusive)');
  });

  it('runs end to end with a tiny recipe on the full MNIST and frees its tensors (wasm)', async ({
    skip,
  }) => {
    if (tf.getBackend() !== 'wasm') skip(); // trains a CNN: wasm only, to keep the cpu project fast
    const before = tf.memory().numTensors;
    const r = await runDistillMnist(context(), {
      ...distillMnistConfig('quick'),
      teacherTrain: 600,
      studentTrain: 200,
      studentHidden: [16],
      studentEpochs: 1,
      seeds: 2,
      testSize: 1000,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.testSize).toBe(1000);
    expect(r.runs).toHaveLength(2);
    expect(r.teacher.errors).toBeLessThan(500);
    for (const run of r.runs) {
      expect(run.hard).toBeGreaterThan(0);
      expect(run.soft).toBeLessThanOrEqual(1000);
    }
    expect(renderDistillMnist(r)).toContain('official');
  }, 300_000);
});
