import { describe, expect, it } from 'vitest';
import { pngDataUri, toRgbaGrid } from '../../src/internal.js';
import {
  type FoundationResult,
  foundation,
  foundationInterval,
} from '../../src/report/sections/foundation/index.js';
import { referenceCnnConfig } from '../../src/report/shared.js';
import { checkXml } from '../render/xml.js';

describe('the foundation section', () => {
  it('renders cached results as a well-formed fragment with the claim, curve, confusion matrix and samples', () => {
    const grid = toRgbaGrid({
      data: new Float32Array(2 * 784),
      count: 2,
      height: 28,
      width: 28,
      channels: 1,
    });
    // 2,000 test digits, 194 of each class's 200 right: 97.00%
    const confusion = Array.from({ length: 10 }, (_, i) =>
      Array.from({ length: 10 }, (_, j) => (i === j ? 194 : j === (i + 1) % 10 ? 6 : 0)),
    );
    const result: FoundationResult = {
      backend: 'wasm',
      trainSize: 8000,
      testSize: 2000,
      config: referenceCnnConfig('quick'),
      params: 108874,
      layers: [{ name: 'conv1', className: 'Conv2D', outputShape: '[N,24,24,16]', params: 416 }],
      history: [
        { epoch: 1, loss: 0.5, acc: 0.84, valLoss: 0.2, valAcc: 0.95, seconds: 20 },
        { epoch: 2, loss: 0.13, acc: 0.96, valLoss: 0.1, valAcc: 0.97, seconds: 20 },
      ],
      curve: [
        { examples: 640, loss: 2, acc: 0.4 },
        { examples: 1280, loss: 1, acc: 0.7 },
      ],
      trainSeconds: 40,
      examplesPerSecond: 400,
      fromCache: false,
      test: { loss: 0.1, accuracy: 0.97 },
      perClassAccuracy: Array.from({ length: 10 }, () => 0.97),
      confusion,
      samples: {
        png: pngDataUri(grid),
        width: grid.width,
        height: grid.height,
        tiles: grid.tiles,
        labels: ['1 (1)', '7 (2)'],
        wrong: [false, true],
      },
    };
    const html = foundation.render(result, { mode: 'quick', seed: 0, backend: 'wasm' });
    const names = checkXml(`<div>${html.replace(/<img ([^>]*[^/])>/g, '<img $1/>')}</div>`);
    expect(names.filter((n) => n === 'svg').length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('97.00%');
    expect(html).toContain('LeNet-5');
    expect(html).toContain('1 wrong');
    expect(html).toContain('<span class="ok">holds</span>');
    expect(html).toContain('bootstrap over the 2,000 test digits');
    expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
    expect(foundation.id).toBe('foundation');
    const [line] = foundation.headlines?.(result) ?? [];
    expect(line.claim).toBe('Reference CNN, MNIST test accuracy above 95% (holds)');
    expect(line.ours).toMatch(
      /^97\.00% \[96\.\d\d, 97\.\d\d\] \(95% CI, n = 2000\) \(8000 digits, 2 epochs, 40 s on wasm\)$/,
    );
  });

  it('reads its interval from the confusion matrix: close to the normal approximation, verdict from the threshold', () => {
    const result = {
      confusion: [
        [970, 30],
        [0, 0],
      ],
      settings: undefined,
    } as unknown as FoundationResult;
    const { interval, verdict, threshold } = foundationInterval(result);
    expect(threshold).toBe(0.95);
    expect(interval.estimate).toBeCloseTo(0.97, 12);
    expect(interval.n).toBe(1000);
    // oracle: p ± 1.96 sqrt(p (1 - p) / n) = 0.97 ± 0.0106
    const half = 1.96 * Math.sqrt((0.97 * 0.03) / 1000);
    expect(Math.abs(interval.lo - (0.97 - half))).toBeLessThan(0.003);
    expect(Math.abs(interval.hi - (0.97 + half))).toBeLessThan(0.003);
    expect(verdict).toBe('holds');
    // 950 of 1000: the interval straddles 95% -> inconclusive; 900 of 1000: below it -> does not hold
    const at = (k: number) =>
      foundationInterval({
        confusion: [
          [k, 1000 - k],
          [0, 0],
        ],
      } as unknown as FoundationResult).verdict;
    expect(at(950)).toBe('inconclusive');
    expect(at(900)).toBe('does not hold');
    // seeded: the same interval twice
    expect(foundationInterval(result).interval).toEqual(interval);
  });
});
