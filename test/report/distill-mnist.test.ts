import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type DistillMnistResult,
  distillMnist,
  distillMnistConfig,
  distillMnistIntervals,
  renderDistillMnist,
  runDistillMnist,
  runIntervals,
} from '../../src/report/sections/distill-mnist/index.js';
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

function handMade(): DistillMnistResult {
  return {
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
    little: {
      size: 600,
      runs: [
        { seed: 4, hard: 1100, soft: 700, seconds: 1 },
        { seed: 5, hard: 1000, soft: 900, seconds: 1 },
        { seed: 6, hard: 1200, soft: 1300, seconds: 1 },
      ],
    },
    seconds: 3,
  };
}

describe('the distill-mnist report section', () => {
  it('uses >= 3 seeds in quick mode, the paper-scale student in full mode, and 3% of the data for small data', () => {
    expect(distillMnistConfig('quick').seeds).toBeGreaterThanOrEqual(3);
    expect(distillMnistConfig('full')).toMatchObject({ studentHidden: [800, 800], teacherTrain: 60000 });
    expect(distillMnistConfig('quick').littleFraction).toBe(0.03);
  });

  it('reads its verdicts from intervals over seeds (oracle: hand-made results)', () => {
    const r = handMade();
    const { gap, saved } = distillMnistIntervals(r);
    expect(gap.estimate).toBeCloseTo((250 / 500 + 260 / 520 + 255 / 510) / 3, 10);
    expect(saved.estimate).toBeCloseTo(255, 10);
    expect(gap.lo).toBeGreaterThan(0);
    // The small-data runs: shares 400/1000, 100/900, -100/1100; one seed worse, so the interval straddles 0.
    const li = runIntervals(r.little?.runs ?? [], r.teacher.errors);
    expect(li.gap.estimate).toBeCloseTo((0.4 + 100 / 900 - 100 / 1100) / 3, 10);
    expect(li.gap.lo).toBeLessThan(0);
    const html = renderDistillMnist(r);
    expect(html).toContain('holds');
    expect(html).toContain('inconclusive');
    expect(html).toContain('600 digits');
    const h = distillMnist.headlines?.(r) ?? [];
    expect(h[0].claim).toContain('(holds;');
    expect(h[2].claim).toContain('(inconclusive)');
    // A seed where soft targets did worse makes the interval straddle zero.
    const mixed = { ...r, runs: [...r.runs.slice(0, 2), { seed: 3, hard: 300, soft: 900, seconds: 1 }] };
    expect(distillMnist.headlines?.(mixed)[0].claim).toContain('(inconclusive;');
    // Without the small-data part (results of the first version) it still renders.
    expect(renderDistillMnist({ ...r, little: undefined })).not.toContain('Small data');
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
      jitter: 1,
      teacherOutputs: 'per-batch',
      seeds: 2,
      testSize: 1000,
      littleFraction: 0.1,
      littleEpochs: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.testSize).toBe(1000);
    expect(r.runs).toHaveLength(2);
    expect(r.little?.size).toBe(60);
    expect(r.little?.runs).toHaveLength(2);
    expect(r.teacher.errors).toBeLessThan(500);
    for (const run of [...r.runs, ...(r.little?.runs ?? [])]) {
      expect(run.hard).toBeGreaterThan(0);
      expect(run.soft).toBeLessThanOrEqual(1000);
    }
    expect(renderDistillMnist(r)).toContain('official');
  }, 300_000);
});
