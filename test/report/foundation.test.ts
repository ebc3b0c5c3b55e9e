import { describe, expect, it } from 'vitest';
import { pngDataUri, toRgbaGrid } from '../../src/internal.js';
import { type FoundationResult, foundation } from '../../src/report/sections/foundation.js';
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
    const confusion = Array.from({ length: 10 }, (_, i) =>
      Array.from({ length: 10 }, (_, j) => (i === j ? 9 : 0)),
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
    expect(foundation.id).toBe('foundation');
    expect(foundation.headlines?.(result)[0].ours).toMatch(
      /^97\.00% \(8000 digits, 2 epochs, 40 s on wasm\)$/,
    );
  });
});
