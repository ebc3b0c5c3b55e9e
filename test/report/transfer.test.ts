import { describe, expect, it } from 'vitest';
import type { TransferResults, TransferRun } from '../../src/index.js';
import {
  renderTransfer,
  type TransferSectionResult,
  transfer,
  transferIntervals,
  transferRegions,
  transferSectionConfig,
} from '../../src/report/sections/transfer/index.js';
import { tInterval } from '../../src/report/stats.js';
import { checkXml } from '../render/xml.js';

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
  };
}

describe('report section: transfer (similar and dissimilar tasks)', () => {
  it('has >= 6 transferable stages in full mode and >= 3 seeds', () => {
    const c = transferSectionConfig('full');
    expect(
      (c.architecture.filters?.length ?? 0) + (c.architecture.hidden?.length ?? 0),
    ).toBeGreaterThanOrEqual(6);
    expect(transferSectionConfig('quick').seeds).toBeGreaterThanOrEqual(3);
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
  });

  it('renders both figures, the tables and verdicts read from the intervals', () => {
    const r = result();
    const html = renderTransfer(r);
    expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
    expect(html.match(/<svg/g)?.length).toBe(3); // fig. 4 + one fig. 3 per split
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
});
