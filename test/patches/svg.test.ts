import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, PatchSampler, patchGridSvg } from '../../src/index.js';

describe('patchGridSvg', () => {
  const sampler = new PatchSampler({ scales: 3, smallest: 0.4 });
  const grid = sampler.grid({ height: 32, width: 32 });
  const objects = [{ box: [2, 2, 14, 14] as [number, number, number, number], label: 3 }];

  it('draws one square per patch of the chosen scales, plus the objects', () => {
    const count = (svg: string) => (svg.match(/<rect /g) ?? []).length;
    const all = patchGridSvg(grid, { zoom: 2 });
    expect(count(all)).toBe(1 + grid.count); // background + patches
    const s0 = grid.scales[0].rows.length * grid.scales[0].cols.length;
    expect(count(patchGridSvg(grid, { scales: [0], objects }))).toBe(1 + s0 + 1);
    expect(all).toContain('width="64"');
  });

  it('colours positives by class and can draw only them', () => {
    const labels = sampler.label(grid, objects, { numClasses: 10 });
    expect(labels.positives).toBeGreaterThan(0);
    const svg = patchGridSvg(grid, { labels, positivesOnly: true });
    expect((svg.match(/<rect /g) ?? []).length).toBe(1 + labels.positives);
    expect(svg).toContain('#D55E00'); // class 3's colour
  });

  it('rejects scale indices outside the grid and labels of another grid', () => {
    expect(() => patchGridSvg(grid, { scales: [3] })).toThrow(/`options.scales\[0\]`/);
    const other = new PatchSampler({ scales: 1 }).grid({ height: 32, width: 32 });
    const labels = sampler.label(other, objects, { numClasses: 10 });
    expect(() => patchGridSvg(grid, { labels })).toThrow(InvalidArgumentError);
  });
});
