import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { zeilerFergusCnn } from '../../src/index.js';
import {
  type FeatureSeries,
  type FeaturesResult,
  features,
  featuresComparisons,
  featuresConfig,
  featuresHeadlines,
  mobilenetTopology,
  renderFeatures,
  runFeatures,
} from '../../src/report/sections/features/index.js';
import { CNN_KEY, referenceCnnConfig } from '../../src/report/shared.js';
import type { ReportContext } from '../../src/report/types.js';
import { checkXml } from '../render/xml.js';

/** The result of a real quick run (seed 0, wasm). */
function fixture(): FeaturesResult {
  return JSON.parse(
    readFileSync(path.join(__dirname, 'fixtures', 'features.json'), 'utf8'),
  ) as FeaturesResult;
}

function wellFormed(html: string): void {
  expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
  // Every text escaped: no raw '<' outside tags.
  expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
}

function series(id: string, acc: number[][]): FeatureSeries {
  return {
    id,
    label: id,
    dim: id === 'scratch' ? null : 10,
    C: id === 'scratch' ? null : 1,
    devAccuracy: [],
    acc,
  };
}

/** A small result: 2 sizes, 3 draws, hand-made accuracies. */
function synthetic(): FeaturesResult {
  const config = { ...featuresConfig('quick'), sizes: [1, 5] };
  return {
    mode: 'quick',
    backend: 'cpu',
    config,
    classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
    counts: { pool: 700, dev: 200, test: 500 },
    digitCnn: { mnistAccuracy: 0.97, fromCache: true },
    mobilenet: { featureLayer: 'flatten_1', inputSize: 96, msPerImage: 12 },
    curve: [
      series('pixels', [
        [0.4, 0.45, 0.5],
        [0.6, 0.62, 0.64],
      ]),
      series('digit:pool2', [
        [0.42, 0.46, 0.53],
        [0.61, 0.64, 0.66],
      ]),
      series('mobilenet', [
        [0.5, 0.56, 0.6],
        [0.7, 0.71, 0.75],
      ]),
      series('scratch', [
        [0.3, 0.35, 0.4],
        [0.5, 0.55, 0.6],
      ]),
    ],
    depth: [
      series('digit:pool2', [
        [0.42, 0.46, 0.53],
        [0.61, 0.64, 0.66],
      ]),
      series('digit:fc1', [
        [0.42, 0.47, 0.52],
        [0.6, 0.66, 0.65],
      ]),
    ],
    norms: [
      { norm: 'none', C: 10, acc: [0.5, 0.52, 0.55] },
      { norm: 'l2', C: 1, acc: [0.5, 0.56, 0.6] },
      { norm: 'power', C: 1, acc: [0.55, 0.57, 0.62] },
    ],
    cpu: { referenceCnn: 1, extraction: 20, classifiers: 15, scratch: 15, total: 51 },
    seconds: 80,
  };
}

describe('the features section (Fashion-MNIST curve)', () => {
  it('renders the fixture of a real run: chart with the sizes as ticks, tables, verdicts, headlines', () => {
    const r = fixture();
    const html = renderFeatures(r);
    wellFormed(html);
    expect(html).toContain('<svg');
    // The x ticks read the sizes, in order (the chart's x is log10(n)).
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    const ticks = [...svg.matchAll(/text-anchor="middle">(\d+)<\/text>/g)].map((m) => Number(m[1]));
    expect(ticks).toEqual(r.config.sizes);
    expect(html).toContain('MobileNetV2');
    expect(html).toContain('SVM');
    expect(html).toMatch(/class="(ok|no|na)"/);
    // One row per curve series in the first table, with an interval per size.
    for (const s of r.curve) expect(html).toContain(s.label);
    expect(html.match(/\[\d+\.\d, \d+\.\d\]/g)?.length ?? 0).toBeGreaterThanOrEqual(
      r.curve.length * r.config.sizes.length,
    );
    const h = featuresHeadlines(r);
    expect(h.length).toBe(2);
    for (const line of h) expect(line.ours).toMatch(/(holds|does not hold|inconclusive)$/);
    expect(features.render(r, { mode: 'quick', seed: 0, backend: 'wasm' })).toBe(html);
  });

  it('reads verdicts from paired t-intervals over the draws (oracle: hand-computed)', () => {
    const c = featuresComparisons(synthetic());
    // MobileNetV2 - pixels, mean over sizes <= 10 (1 and 5) per draw: [0.1, 0.1, 0.105] -> t interval above 0.
    const d = [(0.1 + 0.1) / 2, (0.11 + 0.09) / 2, (0.1 + 0.11) / 2];
    const m = d.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / 2);
    const half = (4.302652729911275 * sd) / Math.sqrt(3);
    const mp = c.mobilenetVsPixels;
    expect(mp?.overall?.estimate).toBeCloseTo(m, 12);
    expect(mp?.overall?.lo).toBeCloseTo(m - half, 6);
    expect(mp?.overall?.hi).toBeCloseTo(m + half, 6);
    expect(mp?.verdict).toBe('holds');
    expect(mp?.sizes).toEqual([1, 5]);
    // Per size: the paired interval of the differences at that size.
    expect(mp?.perSize[0]?.estimate).toBeCloseTo((0.1 + 0.11 + 0.1) / 3, 12);
    // The digit CNN's pool2 vs fc1: differences straddle 0 -> inconclusive.
    expect(c.curveLayerVsLast?.verdict).toBe('inconclusive');
    // Scratch is below MobileNetV2 in every draw.
    expect(c.mobilenetVsScratch?.verdict).toBe('holds');
    // Reversed: pixels below MobileNetV2 -> 'does not hold' for a claim the other way.
    const r = synthetic();
    [r.curve[0], r.curve[2]] = [
      { ...r.curve[2], id: 'pixels' },
      { ...r.curve[0], id: 'mobilenet' },
    ];
    expect(featuresComparisons(r).mobilenetVsPixels?.verdict).toBe('does not hold');
  });

  it('renders without MobileNetV2 (nsfwjs missing): a note, no MobileNetV2 comparisons', () => {
    const r = synthetic();
    r.mobilenet = { skipped: 'nsfwjs is not installed' };
    r.curve = r.curve.filter((s) => s.id !== 'mobilenet');
    r.norms = [];
    const html = renderFeatures(r);
    wellFormed(html);
    expect(html).toContain('MobileNetV2 was skipped: nsfwjs is not installed');
    const c = featuresComparisons(r);
    expect(c.mobilenetVsPixels).toBeUndefined();
    expect(c.mobilenetVsDigit).toBeUndefined();
    expect(c.digitVsPixels?.verdict).toBe('holds');
    const h = featuresHeadlines(r);
    expect(h.length).toBe(1);
    expect(h[0].claim).toContain('digit:pool2');
  });

  it('escapes text from the results', () => {
    const r = synthetic();
    r.mobilenet = { skipped: 'a <b> & "c"' };
    const html = renderFeatures(r);
    wellFormed(html);
    expect(html).toContain('a &lt;b&gt; &amp;');
  });

  it('resizes the MobileNetV2 topology: input shape and the final average pool, without touching the input', () => {
    const topology = {
      model_config: {
        config: {
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 224, 224, 3] } },
            { class_name: 'Conv2D', config: {} },
            { class_name: 'AveragePooling2D', config: { pool_size: [7, 7], strides: [7, 7] } },
          ],
        },
      },
    };
    const before = JSON.stringify(topology);
    const t = mobilenetTopology(topology, 96) as typeof topology;
    expect(t.model_config.config.layers[0].config.batch_input_shape).toEqual([null, 96, 96, 3]);
    expect(t.model_config.config.layers[2].config).toEqual({ pool_size: [3, 3], strides: [3, 3] });
    expect(JSON.stringify(topology)).toBe(before);
    expect(() => mobilenetTopology(topology, 100)).toThrow(/multiple of 32/);
    expect(() => mobilenetTopology({ config: { layers: [] } }, 96)).toThrow(/AveragePooling2D/);
  });

  it('has a recipe per mode: quick is a subset of full, C and the layer fixed in advance', () => {
    const q = featuresConfig('quick');
    const f = featuresConfig('full');
    expect(f.sizes).toEqual([1, 5, 10, 50, 200]);
    for (const n of q.sizes) expect(f.sizes).toContain(n);
    expect(q.seeds).toBeGreaterThanOrEqual(3);
    expect(q.poolPerClass).toBeGreaterThan(Math.max(...q.sizes));
    expect(f.poolPerClass).toBeGreaterThan(Math.max(...f.sizes));
    expect(q.digitLayers).toContain(q.curveLayer);
    expect(q.mobilenetInput % 32).toBe(0);
  });

  it('runs end to end with a tiny recipe (MobileNetV2 at 32x32, an untrained digit CNN) and frees its tensors (wasm)', async ({
    skip,
  }) => {
    if (tf.getBackend() !== 'wasm') skip(); // loads MobileNetV2 and trains CNNs: wasm only, to keep the cpu project fast
    const cnn = zeilerFergusCnn({ ...referenceCnnConfig('quick').architecture, seed: 1 });
    const stub = {
      model: cnn,
      config: referenceCnnConfig('quick'),
      history: {},
      test: { accuracy: 0.5 },
      backend: 'wasm',
      curve: [],
      fromCache: true,
      dispose: () => cnn.dispose(),
    };
    const ctx: ReportContext = {
      mode: 'quick',
      seed: 0,
      backend: tf.getBackend(),
      cacheDir: '/tmp',
      progress: () => {},
      log: () => {},
      shared: <T>(key: string, create: () => Promise<T>) =>
        key === CNN_KEY ? Promise.resolve(stub as T) : create(),
    };
    const before = tf.memory().numTensors;
    try {
      const r = await runFeatures(ctx, {
        ...featuresConfig('quick'),
        limitPerClass: 40,
        testFraction: 0.25,
        poolPerClass: 8,
        devPerClass: 4,
        testPerClass: 6,
        sizes: [1, 5],
        seeds: 2,
        mobilenetInput: 32,
        cGrid: [1, 10],
        devSize: 2,
        normSize: 5,
        scratch: { learningRate: 2e-3, batchSize: 32, steps: 2 },
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(r.counts).toEqual({ pool: 80, dev: 40, test: 60 });
      expect(r.curve.map((s) => s.id)).toEqual(['pixels', 'digit:pool2', 'mobilenet', 'scratch']);
      expect(r.depth.map((s) => s.id)).toEqual(['digit:pool2', 'digit:fc1']);
      expect(r.curve.map((s) => s.dim)).toEqual([784, 800, 1280, null]);
      for (const s of [...r.curve, ...r.depth]) {
        expect(s.acc).toHaveLength(2);
        for (const perSeed of s.acc) {
          expect(perSeed).toHaveLength(2);
          // Accuracies on 60 test images: multiples of 1/60 in [0, 1].
          for (const a of perSeed) expect(Math.abs(a * 60 - Math.round(a * 60))).toBeLessThan(1e-9);
        }
        if (s.id !== 'scratch') expect([1, 10]).toContain(s.C);
      }
      // Raw pixels with 5 labelled images per class are far above chance (0.1) on clothes.
      expect(Math.min(...r.curve[0].acc[1])).toBeGreaterThan(0.3);
      expect(r.norms.map((n) => n.norm)).toEqual(['none', 'l2', 'power']);
      expect('skipped' in r.mobilenet).toBe(false);
      wellFormed(renderFeatures(r));
    } finally {
      cnn.dispose();
    }
  }, 120_000);
});
