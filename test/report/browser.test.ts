import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { pngDataUri, toRgbaGrid } from '../../src/internal.js';
import { silentProgress } from '../../src/report/progress.js';
import { runReport } from '../../src/report/runner.js';
import { type FoundationResult, foundation } from '../../src/report/sections/foundation/index.js';
import { referenceCnnConfig } from '../../src/report/shared.js';
import type { ReportSection } from '../../src/report/types.js';
import { checkReportInChromium } from './chromium.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tk-report-browser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Foundation results as the cache would hold them (no training in this test). */
function cachedFoundation(): FoundationResult {
  const grid = toRgbaGrid(
    {
      data: Float32Array.from({ length: 4 * 784 }, (_, i) => (i % 29) / 29),
      count: 4,
      height: 28,
      width: 28,
      channels: 1,
    },
    { cols: 4, scale: 2, normalize: 'none' },
  );
  return {
    backend: 'wasm',
    trainSize: 8000,
    testSize: 2000,
    config: referenceCnnConfig('quick'),
    params: 108874,
    layers: [{ name: 'conv1', className: 'Conv2D', outputShape: '[N,24,24,16]', params: 416 }],
    history: [{ epoch: 1, loss: 0.5, acc: 0.84, valLoss: 0.2, valAcc: 0.95, seconds: 20 }],
    curve: [
      { examples: 640, loss: 2, acc: 0.4 },
      { examples: 1280, loss: 1, acc: 0.7 },
    ],
    trainSeconds: 20,
    examplesPerSecond: 400,
    fromCache: false,
    test: { loss: 0.2, accuracy: 0.95 },
    perClassAccuracy: Array.from({ length: 10 }, (_, i) => 0.9 + i / 100),
    confusion: Array.from({ length: 10 }, (_, i) =>
      Array.from({ length: 10 }, (_, j) => (i === j ? 190 : 1)),
    ),
    samples: {
      png: pngDataUri(grid),
      width: grid.width,
      height: grid.height,
      tiles: grid.tiles,
      labels: ['1 (1)', '2 (2)', '3 (3)', '5 (4)'],
      wrong: [false, false, false, true],
    },
  };
}

// One browser launch is enough: run on the cpu project only.
describe.skipIf(tf.getBackend() !== 'cpu')('the report in headless Chromium', () => {
  it('renders every section with its figures; finds broken images; no console error, no network', async () => {
    const out = path.join(tmp, 'report');
    const cacheDir = path.join(out, 'cache', 'quick-seed0');
    await mkdir(cacheDir, { recursive: true });
    writeFileSync(
      path.join(cacheDir, 'foundation.json'),
      JSON.stringify({
        format: 'transferkit-report-cache',
        version: 1,
        id: 'foundation',
        mode: 'quick',
        seed: 0,
        backend: 'wasm',
        createdAt: '',
        seconds: 1,
        sectionVersion: 1,
        result: cachedFoundation(),
      }),
    );
    const extra: ReportSection<number> = {
      id: 'extra',
      title: 'Extra',
      run: async () => 3,
      // A deliberately broken image shows that the check can fail.
      render: (r) => `<p>three = ${r}</p><img src="data:image/png;base64,AAAA" alt="broken on purpose">`,
    };
    const run = await runReport({ sections: [foundation, extra], out, progress: silentProgress() });
    expect(run.sections.map((s) => s.status)).toEqual(['cached', 'ran']);
    const check = await checkReportInChromium(run.file);
    expect(check.sections.map((s) => [s.id, s.status])).toEqual([
      ['foundation', 'cached'],
      ['extra', 'ran'],
    ]);
    expect(check.sections[0].svgs).toBeGreaterThanOrEqual(4);
    expect(check.sections[0].images).toBeGreaterThanOrEqual(1);
    expect(check.brokenImages).toEqual(['broken on purpose']);
    expect(check.emptySvgs).toBe(0);
    expect(check.consoleErrors).toEqual([]);
    expect(check.requests).toEqual([]);
  });
});
