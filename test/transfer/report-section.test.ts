import { describe, expect, it } from 'vitest';
import { summarizeTransfer, type TransferResults, type TransferRun } from '../../src/index.js';
import {
  type TransferSectionResult,
  transfer,
  transferSectionConfig,
} from '../../src/report/sections/transfer.js';

function fakeResults(): TransferResults {
  const runs: TransferRun[] = [];
  const acc: Record<string, number[]> = {
    BnB: [0.93, 0.9, 0.94],
    'BnB+': [0.94, 0.94, 0.94],
    AnB: [0.93, 0.9, 0.7],
    'AnB+': [0.95, 0.95, 0.96],
  };
  for (const seed of [1, 2]) {
    runs.push({ kind: 'baseA', n: 0, seed, accuracy: 0.97, trainLoss: 0.1, ms: 1000 });
    runs.push({ kind: 'baseB', n: 0, seed, accuracy: 0.94 + seed * 0.001, trainLoss: 0.1, ms: 1000 });
    for (const [kind, values] of Object.entries(acc)) {
      values.forEach((a, i) => {
        runs.push({
          kind: kind as TransferRun['kind'],
          n: i + 1,
          seed,
          accuracy: a + seed * 0.001,
          trainLoss: 0.2,
          ms: 500,
        });
      });
    }
  }
  return {
    version: 1,
    classesA: [0, 1, 2, 3, 4],
    classesB: [5, 6, 7, 8, 9],
    stages: 4,
    ns: [1, 2, 3],
    seeds: [1, 2],
    kinds: ['BnB', 'BnB+', 'AnB', 'AnB+'],
    runs,
  };
}

describe('report section: transfer', () => {
  it('renders the figure, the table and verdicts computed from the results', () => {
    const results = fakeResults();
    const r: TransferSectionResult = {
      mode: 'quick',
      backend: 'wasm',
      seconds: 60,
      config: transferSectionConfig('quick'),
      trainPerTask: 1500,
      testPerTask: 500,
      stageNames: ['conv1', 'conv2', 'fc1', 'logits'],
      splits: [{ name: 'digits 0-4 vs 5-9', results, summary: summarizeTransfer(results), resumedRuns: 0 }],
      medianRunSeconds: 0.5,
    };
    const html = transfer.render(r, { mode: 'quick', seed: 0, backend: 'wasm' });
    expect(html).toContain('<svg');
    expect(html.match(/<polyline|<path/g)?.length ?? 0).toBeGreaterThan(0);
    expect(html).toContain('3 (fc1)');
    // AnB at n = 3 is 23 points below baseB: "AnB falls with depth" holds; BnB's interior dip (n = 2: -4 pts) too.
    const row = (claim: string) => html.split('<tr>').find((r) => r.includes(claim)) ?? '';
    expect(row('AnB falls with depth')).toContain('class="ok"');
    expect(row('BnB dips')).toMatch(/worst interior BnB at n = 2: -4\.\d pts.*class="ok"/);
    // AnB+ is 1, 1 and 2 points above baseB: +1.3 on average.
    expect(row('AnB+ beats baseB')).toMatch(/\+1\.3 pts on average over n = 1, 2, 3.*class="ok"/);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
