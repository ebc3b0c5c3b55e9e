import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { TransferExperiment, type TransferResults, type TransferRun } from '../../src/index.js';
import {
  renderTransfer,
  type TransferSectionResult,
  transfer,
  transferIntervals,
  transferRegions,
  transferSectionConfig,
} from '../../src/report/sections/transfer/index.js';
import { sharedBSide } from '../../src/report/sections/transfer/run.js';
import { tInterval } from '../../src/report/stats.js';
import { checkXml } from '../render/xml.js';
import { blobs } from '../transfer/models.js';

const SEEDS = [1, 2, 3];
const NS = [1, 2, 3, 4, 5, 6];
/** Per-seed jitter, so the intervals have a width. */
const JITTER = [0, 0.004, -0.003];

/** Accuracy on B of each treatment at n = 1..6 (before jitter); baseB is 0.94. */
function fakeResults(classesA: number[], anb: number[]): TransferResults {
  const acc: Record<string, number[]> = {
    BnB: [0.94, 0.93, 0.9, 0.89, 0.93, 0.94],
    'BnB+': [0.94, 0.941, 0.94, 0.939, 0.94, 0.94],
    AnB: anb,
    'AnB+': [0.95, 0.95, 0.96, 0.955, 0.95, 0.95],
  };
  const runs: TransferRun[] = [];
  SEEDS.forEach((seed, s) => {
    runs.push({ kind: 'baseA', n: 0, seed, accuracy: 0.97, trainLoss: 0.1, ms: 1000 });
    runs.push({ kind: 'baseB', n: 0, seed, accuracy: 0.94 + JITTER[s], trainLoss: 0.1, ms: 1000 });
    for (const [kind, values] of Object.entries(acc)) {
      values.forEach((a, i) => {
        runs.push({
          kind: kind as TransferRun['kind'],
          n: i + 1,
          seed,
          accuracy: a + JITTER[s] * (1 + i / 10),
          trainLoss: 0.2,
          ms: 500,
        });
      });
    }
  });
  return {
    version: 1,
    classesA,
    classesB: [5, 6, 7, 8, 9],
    stages: 7,
    ns: NS,
    seeds: SEEDS,
    kinds: ['BnB', 'BnB+', 'AnB', 'AnB+'],
    runs,
  };
}

function result(): TransferSectionResult {
  return {
    mode: 'quick',
    backend: 'wasm',
    seconds: 60,
    config: transferSectionConfig('quick'),
    trainPerTask: 1125,
    testPerTask: 375,
    stageNames: ['conv1', 'conv2', 'conv3', 'fc1', 'fc2', 'fc3', 'logits'],
    splits: [
      {
        name: 'similar',
        taskA: 'digits 0-4',
        results: fakeResults([0, 1, 2, 3, 4], [0.94, 0.935, 0.93, 0.9, 0.88, 0.85]),
      },
      {
        name: 'dissimilar',
        taskA: 'clothes (T-shirt/top, ...)',
        results: fakeResults([10, 11, 12, 13, 14], [0.93, 0.9, 0.86, 0.8, 0.75, 0.7]),
      },
    ],
    medianRunSeconds: 0.5,
    networks: 3 * (2 + 24 + 13),
  };
}

/** A 3-stage MLP on the blobs (4 inputs), seeded per network. */
const mlpFactory = (classes: number, seed: number) =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 6,
        inputShape: [4],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: 6,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
      tfl.layers.dense({
        units: classes,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
      }),
    ],
  });

describe('report section: transfer (similar and dissimilar tasks)', () => {
  it('has >= 6 transferable stages and >= 4 seeds in both modes', () => {
    for (const mode of ['quick', 'full'] as const) {
      const c = transferSectionConfig(mode);
      expect(
        (c.architecture.filters?.length ?? 0) + (c.architecture.hidden?.length ?? 0),
      ).toBeGreaterThanOrEqual(6);
      expect(c.seeds).toBeGreaterThanOrEqual(4);
      expect(c.dissimilarKinds.every((k) => k.startsWith('A'))).toBe(true);
    }
    expect(transferRegions(NS)).toEqual({ middle: [3, 4], upper: [4, 5, 6] });
    expect(transferRegions([1, 2, 3])).toEqual({ middle: [2], upper: [2, 3] });
  });

  it('computes its intervals from per-seed differences (oracle: tInterval by hand)', () => {
    const r = result();
    const iv = transferIntervals(r);
    // BnB - baseB over n = 3, 4 per seed: (0.9 + 0.89) / 2 - 0.94 plus the jitter's n-dependent part.
    const dip = SEEDS.map(
      (_, s) => (0.9 + JITTER[s] * 1.2 + 0.89 + JITTER[s] * 1.3) / 2 - (0.94 + JITTER[s]),
    );
    expect(iv.bnbDip?.estimate).toBeCloseTo(tInterval(dip).estimate, 12);
    expect(iv.bnbDip?.hi).toBeCloseTo(tInterval(dip).hi, 12);
    expect(iv.bnbDip?.hi).toBeLessThan(0);
    expect(iv.dissimilarity?.lo).toBeGreaterThan(0);
    expect(iv.anbFall?.lo).toBeGreaterThan(0);
    expect(iv.anbPlus?.lo).toBeGreaterThan(0);
    // Co-adaptation: BnB+ - BnB over n = 3, 4 per seed (baseB cancels).
    const co = SEEDS.map(
      (_, s) =>
        (0.94 +
          JITTER[s] * 1.3 +
          0.939 +
          JITTER[s] * 1.4 -
          (0.9 + JITTER[s] * 1.3 + 0.89 + JITTER[s] * 1.4)) /
        2,
    );
    expect(iv.coAdaptation?.estimate).toBeCloseTo(tInterval(co).estimate, 12);
    expect(iv.coAdaptation?.lo).toBeCloseTo(tInterval(co).lo, 12);
    // The dip against BnB's own ends (n = 1 and 6) minus its middle (n = 3, 4): baseB and the jitter cancel here.
    const ends = SEEDS.map(
      (_, s) =>
        (0.94 + JITTER[s] + 0.94 + JITTER[s] * 1.5) / 2 -
        (0.9 + JITTER[s] * 1.2 + 0.89 + JITTER[s] * 1.3) / 2,
    );
    expect(iv.bnbDipEnds?.estimate).toBeCloseTo(tInterval(ends).estimate, 12);
    expect(iv.bnbDipEnds?.lo).toBeGreaterThan(0);
  });

  it('renders both figures, the tables and verdicts read from the intervals', () => {
    const r = result();
    const html = renderTransfer(r);
    expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
    expect(html.match(/<svg/g)?.length).toBe(4); // fig. 4, the zoom of the similar fig. 3, one fig. 3 per split
    expect(html).toContain('4 (fc1)');
    const row = (claim: string) => html.split('<tr>').find((x) => x.includes(claim)) ?? '';
    expect(row('BnB dips')).toContain('class="ok"');
    expect(row('falls with dissimilarity')).toContain('class="ok"');
    expect(row('BnB+ recovers')).toContain('class="ok"');
    expect(transfer.headlines?.(r).map((h) => h.claim.match(/\(([^()]*)\)$/)?.[1])).toEqual([
      'holds',
      'holds',
      'holds',
    ]);
    // The same numbers without seed noise and with a dissimilar split as good as the similar one: inconclusive.
    const flat = result();
    flat.splits[1] = { ...flat.splits[1], results: flat.splits[0].results };
    expect(transfer.headlines?.(flat)[1].claim).toContain('(inconclusive)');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('renders a dissimilar split that ran AnB only (no AnB+ series, column or interval)', () => {
    const r = result();
    const dis = r.splits[1].results;
    r.splits[1] = {
      ...r.splits[1],
      results: { ...dis, kinds: ['AnB'], runs: dis.runs.filter((x) => x.kind !== 'AnB+') },
    };
    const html = renderTransfer(r);
    expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
    expect(transferIntervals(r).anbPlusDissimilar).toBeNull();
    expect(html).not.toContain('NaN');
    expect(html).not.toContain('AnB+ dissimilar');
    expect(html).toContain('AnB dissimilar');
  });

  it('reuses the B side of one split in another: the same networks as training them again (oracle)', async () => {
    const train = blobs(8, 6, 3);
    const test = blobs(4, 6, 3);
    const options = {
      modelFactory: mlpFactory,
      seeds: [1, 2],
      training: { epochs: 1, batchSize: 8, learningRate: 0.05 },
    };
    const classesB = [4, 5];
    const before = tf.memory().numTensors;
    const similar = await new TransferExperiment({ train, test, classesA: [0, 1], classesB }, options).run();
    const scratch = await new TransferExperiment({ train, test, classesA: [2, 3], classesB }, options).run();
    let trained = 0;
    const shared = await new TransferExperiment(
      { train, test, classesA: [2, 3], classesB },
      { ...options, resume: sharedBSide(similar, [2, 3]), onRun: () => void trained++ },
    ).run();
    expect(tf.memory().numTensors).toBe(before);
    // Only baseA, AnB and AnB+ were trained: per seed 1 + 2 x 2 n.
    expect(trained).toBe(2 * (1 + 2 * 2));
    const key = (x: TransferRun) => `${x.kind}|${x.n}|${x.seed}`;
    const acc = (res: TransferResults) => new Map(res.runs.map((x) => [key(x), x.accuracy]));
    expect(acc(shared)).toEqual(acc(scratch));
    expect(shared.classesA).toEqual([2, 3]);
    expect(
      sharedBSide(similar, [2, 3])
        .runs.map((x) => x.kind)
        .sort(),
    ).toEqual(
      similar.runs
        .filter((x) => !x.kind.includes('A'))
        .map((x) => x.kind)
        .sort(),
    );
    tf.dispose([train.x, test.x]);
  });
});
