import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src/node/datasets.js';
import { range } from '../../src/report/data.js';
import {
  perClassTable,
  renderSpecialists,
  runSpecialists,
  runSpecialistsOn,
  type SpecialistsResult,
  type SpecialistsRun,
  specialists,
  specialistsConfig,
  specialistsIntervals,
} from '../../src/report/sections/specialists/index.js';
import { pairedInterval } from '../../src/report/stats.js';
import type { ReportContext } from '../../src/report/types.js';
import { checkXml } from '../render/xml.js';

const NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

function affinity(): number[][] {
  const m = Array.from({ length: 10 }, () => new Array<number>(10).fill(0.002));
  const set = (a: number, b: number, v: number) => {
    m[a][b] = v;
    m[b][a] = v;
  };
  set(0, 6, 0.12);
  set(2, 4, 0.1);
  set(2, 6, 0.08);
  set(5, 7, 0.05);
  set(7, 9, 0.04);
  for (let i = 0; i < 10; i++) m[i][i] = 0.9;
  return m;
}

function run(seed: number, g: number, c: number, e: number): SpecialistsRun {
  return {
    seed,
    sizes: { train: 27000, heldOut: 3000, test: 5000, covered: 3500 },
    generalist: { accuracy: g, covered: g - 0.05 },
    control: { accuracy: c, covered: c - 0.05 },
    tunedControl: null,
    ensemble: { accuracy: e, covered: e - 0.04 },
    affinity: affinity(),
    clusters: [
      { classes: [0, 2, 4, 6], score: 0.07 },
      { classes: [5, 7, 9], score: 0.03 },
      { classes: [1], score: 0 },
      { classes: [3], score: 0 },
      { classes: [8], score: 0 },
    ],
    specialists: [
      { classes: [0, 2, 4, 6], score: 0.07, dustbinLogitShift: 0.2 },
      { classes: [5, 7, 9], score: 0.03, dustbinLogitShift: -0.1 },
    ],
    perClass: {
      generalist: NAMES.map((_, k) => g - 0.01 * (k % 3)),
      control: NAMES.map((_, k) => c - 0.01 * (k % 3)),
      ensemble: NAMES.map((_, k) => (k === 6 ? e + 0.05 : e - 0.01 * (k % 3))),
      tunedControl: null,
    },
    active: { rows: 2400, generalist: 0.7, ensemble: 0.73 },
    solve: { iterations: 40, converged: true },
    seconds: { generalist: 5, specialists: 8, control: 5, total: 20 },
  };
}

function result(runs: SpecialistsRun[]): SpecialistsResult {
  return {
    mode: 'quick',
    backend: 'wasm',
    config: specialistsConfig('quick'),
    classNames: NAMES,
    runs,
    seconds: 60,
  };
}

describe('the specialists section (Fashion-MNIST)', () => {
  it('uses >= 3 seeds and a control trained as many extra epochs as the specialists', () => {
    expect(specialistsConfig('quick').seeds).toBeGreaterThanOrEqual(3);
    expect(specialistsConfig('full').limitPerClass).toBe(7000);
  });

  it('reads its verdict from the paired interval over seeds (oracle: pairedInterval of the arms)', () => {
    const r = result([run(1, 0.85, 0.855, 0.87), run(2, 0.852, 0.858, 0.871), run(3, 0.849, 0.853, 0.869)]);
    const { vsControl, vsGeneralist } = specialistsIntervals(r);
    const oracle = pairedInterval([0.87, 0.871, 0.869], [0.855, 0.858, 0.853]);
    expect(vsControl?.estimate).toBeCloseTo(oracle.estimate, 12);
    expect(vsControl?.lo).toBeCloseTo(oracle.lo, 12);
    expect(vsControl?.lo).toBeGreaterThan(0);
    expect(vsGeneralist?.lo).toBeGreaterThan(0);
    expect(specialists.headlines?.(r)[0].claim).toContain('(holds)');
    // One seed where the control wins by far: the interval straddles zero.
    const mixed = result([run(1, 0.85, 0.855, 0.87), run(2, 0.85, 0.9, 0.86), run(3, 0.849, 0.853, 0.869)]);
    expect(specialists.headlines?.(mixed)[0].claim).toContain('(inconclusive)');
    // The control better on every seed by a steady margin: does not hold.
    const worse = result([run(1, 0.85, 0.87, 0.86), run(2, 0.85, 0.871, 0.861), run(3, 0.85, 0.869, 0.859)]);
    expect(specialists.headlines?.(worse)[0].claim).toContain('(does not hold)');
    // One seed: no interval, inconclusive.
    expect(specialistsIntervals(result([run(1, 0.85, 0.86, 0.87)])).vsControl).toBeNull();
    expect(specialists.headlines?.(result([run(1, 0.85, 0.86, 0.87)]))[0].claim).toContain('(inconclusive)');
  });

  it('renders a well-formed fragment with the verdicts, the per-seed table and a heat map with class names', () => {
    const r = result([run(1, 0.85, 0.855, 0.87), run(2, 0.852, 0.858, 0.871), run(3, 0.849, 0.853, 0.869)]);
    const html = renderSpecialists(r);
    expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
    expect(html).toContain('<span class="ok">holds</span>');
    expect(html).toContain('<svg');
    // Class names, escaped, in the heat map and in the specialists' sets, in cluster order.
    expect(html).toContain('T-shirt/top');
    expect(html).toContain('{Sandal, Sneaker, Ankle boot}');
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    expect(svg.indexOf('Pullover')).toBeLessThan(svg.indexOf('Sandal'));
    expect(svg).toContain('cluster 1');
    // The diagonal (each class's own rate) grey, every off-diagonal cell coloured, with its rate in the tooltip.
    expect(svg.match(/fill="#cccccc"/g)).toHaveLength(10);
    expect(svg).toContain('T-shirt/top / Shirt: 0.12');
    // Per-seed differences.
    expect(html).toContain('1.50 points');
  });

  it('adds the tuned control (a second control at its own rate) to the claims, the tables and the headlines', () => {
    const withTuned = (x: SpecialistsRun, t: number): SpecialistsRun => ({
      ...x,
      tunedControl: { accuracy: t, covered: t - 0.05 },
      perClass: { ...x.perClass, tunedControl: NAMES.map(() => t) },
    });
    const base = result([
      withTuned(run(1, 0.85, 0.855, 0.87), 0.875),
      withTuned(run(2, 0.852, 0.858, 0.871), 0.869),
      withTuned(run(3, 0.849, 0.853, 0.869), 0.874),
    ]);
    const r: SpecialistsResult = { ...base, config: { ...base.config, tunedControlLearningRate: 2.5e-4 } };
    const { vsTunedControl, vsControl } = specialistsIntervals(r);
    const oracle = pairedInterval([0.87, 0.871, 0.869], [0.875, 0.869, 0.874]);
    expect(vsTunedControl?.estimate).toBeCloseTo(oracle.estimate, 12);
    expect(vsTunedControl?.hi).toBeCloseTo(oracle.hi, 12);
    expect(vsControl?.lo).toBeGreaterThan(0);
    const lines = specialists.headlines?.(r) ?? [];
    expect(lines).toHaveLength(2);
    expect(lines[0].claim).toContain('(holds)');
    expect(lines[1].claim).toContain('tuned control');
    expect(lines[1].claim).toContain('(inconclusive)');
    const html = renderSpecialists(r);
    expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
    expect(html).toContain('Adam 0.00025');
    expect(html).toContain('ensemble − tuned control');
    // Seed 1: 0.87 − 0.875.
    expect(html).toContain('-0.50 points');
    // Without a tuned control: no such row, one headline.
    const plain = result([run(1, 0.85, 0.855, 0.87), run(2, 0.852, 0.858, 0.871)]);
    expect(specialistsIntervals(plain).vsTunedControl).toBeNull();
    expect(specialists.headlines?.(plain)).toHaveLength(1);
    expect(renderSpecialists(plain)).not.toContain('tuned control');
  });

  it('tabulates the accuracy per class, mean over seeds, with the specialist covering each class', () => {
    const r = result([run(1, 0.85, 0.855, 0.87), run(2, 0.852, 0.858, 0.871), run(3, 0.849, 0.853, 0.869)]);
    const html = perClassTable(r);
    expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
    const row = (name: string) => {
      const at = html.indexOf(`<td>${name}</td>`);
      expect(at).toBeGreaterThan(-1);
      return html.slice(at, html.indexOf('</tr>', at));
    };
    // Oracle: Shirt (class 6) ensemble 0.87 + 0.05 vs control mean (0.855 + 0.858 + 0.853) / 3.
    const shirt = (0.92 - (0.855 + 0.858 + 0.853) / 3) * 100;
    expect(row('Shirt')).toContain(`${shirt.toFixed(2)} points`);
    expect(row('Shirt')).toContain('specialist 1');
    expect(row('Sneaker')).toContain('specialist 2');
    expect(row('Trouser')).toContain('—');
    // Pullover (class 2): every arm 0.02 below its mean.
    expect(row('Pullover')).toContain(
      `${((0.87 - 0.02 - ((0.855 + 0.858 + 0.853) / 3 - 0.02)) * 100).toFixed(2)} points`,
    );
    expect(renderSpecialists(r)).toContain(row('Shirt'));
  });

  it('runs end to end with a tiny recipe on Fashion-MNIST and frees its tensors (wasm)', async ({ skip }) => {
    if (tf.getBackend() !== 'wasm') skip(); // trains networks: wasm only, to keep the cpu project fast
    const ctx: ReportContext = {
      mode: 'quick',
      seed: 0,
      backend: tf.getBackend(),
      cacheDir: '/tmp',
      progress: () => {},
      log: () => {},
      shared: <T>(_key: string, create: () => Promise<T>) => create(),
    };
    const before = tf.memory().numTensors;
    const r = await runSpecialists(ctx, {
      ...specialistsConfig('quick'),
      limitPerClass: 120,
      hidden: [16],
      generalistEpochs: 2,
      extraEpochs: 1,
      seeds: 2,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.runs).toHaveLength(2);
    expect(r.classNames).toEqual(NAMES);
    for (const x of r.runs) {
      expect(x.sizes.test).toBeGreaterThan(100);
      expect(x.generalist.accuracy).toBeGreaterThan(0.3); // chance is 0.1
      expect(x.specialists.length).toBeGreaterThan(0);
      // Every class in exactly one cluster.
      expect(x.clusters.flatMap((c) => c.classes).sort((a, b) => a - b)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);
    }
    expect(renderSpecialists(r)).toContain('Fashion-MNIST');
  });

  it('trains on the given rows only and scores the given rows (the dev split); each arm uses its own learning rate (wasm)', async ({
    skip,
  }) => {
    if (tf.getBackend() !== 'wasm') skip(); // trains networks: wasm only, to keep the cpu project fast
    const logs: string[] = [];
    const ctx: ReportContext = {
      mode: 'quick',
      seed: 0,
      backend: tf.getBackend(),
      cacheDir: '/tmp',
      progress: () => {},
      log: (m) => logs.push(m),
      shared: <T>(_key: string, create: () => Promise<T>) => create(),
    };
    const data = await loadFashionMnist({ seed: 0, testFraction: 1 / 7, limitPerClass: 60 });
    try {
      // A dev split of the training part: every third row; the rest trains.
      const devRows = range(data.train.size).filter((r) => r % 3 === 0);
      const trainRows = range(data.train.size).filter((r) => r % 3 !== 0);
      const tiny = {
        ...specialistsConfig('quick'),
        hidden: [16],
        generalistEpochs: 2,
        extraEpochs: 1,
        tunedControlLearningRate: null,
        seeds: 2,
      };
      const split = {
        train: data.train,
        trainRows,
        evaluate: data.train,
        evaluateRows: devRows,
        numClasses: data.numClasses,
        classNames: data.classNames,
      };
      const before = tf.memory().numTensors;
      const a = await runSpecialistsOn(ctx, tiny, split, 300);
      // The control at a learning rate too small to move it: it predicts as the generalist does (oracle), while the
      // specialists, at their own unchanged rate, give the same ensemble as before; the tuned control at the first
      // run's control rate is that control (same copy, same batch order).
      const b = await runSpecialistsOn(
        ctx,
        { ...tiny, controlLearningRate: 1e-12, tunedControlLearningRate: tiny.controlLearningRate },
        split,
        300,
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(a.map((r) => r.seed)).toEqual([301, 302]);
      for (const r of a) {
        expect(r.sizes.test).toBe(devRows.length);
        expect(r.sizes.train + r.sizes.heldOut).toBe(trainRows.length);
        expect(r.sizes.heldOut).toBe(Math.round(tiny.heldOutFraction * trainRows.length));
      }
      // The oracle of the scored part: the dev rows' labels (so the accuracy is over exactly those rows).
      const covered = new Set(a[0].specialists.flatMap((s) => s.classes));
      expect(a[0].sizes.covered).toBe(devRows.filter((r) => covered.has(data.train.labels[r])).length);
      expect(a.every((r) => r.tunedControl === null && r.perClass.tunedControl === null)).toBe(true);
      b.forEach((r, i) => {
        expect(r.tunedControl).toEqual(a[i].control);
        expect(r.perClass.tunedControl).toEqual(a[i].perClass.control);
        expect(r.control.accuracy).toBe(r.generalist.accuracy);
        expect(r.control.covered).toBe(r.generalist.covered);
        expect(r.generalist.accuracy).toBe(a[i].generalist.accuracy);
        expect(r.ensemble.accuracy).toBe(a[i].ensemble.accuracy);
      });
      // With a real rate the control moves away from the generalist on at least one seed.
      expect(a.some((r) => r.control.accuracy !== r.generalist.accuracy)).toBe(true);
      expect(logs.some((l) => l.includes('specialists: seed 301'))).toBe(true);
    } finally {
      data.dispose();
    }
  });
});
