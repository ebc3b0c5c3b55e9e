import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, intersectionOverArea, PatchSampler } from '../../src/index.js';
import { patchBox } from '../../src/internal.js';

describe('PatchSampler grid', () => {
  it('gives the paper-like default: 8 scales, ~500 patches, >= 50% overlap, full coverage', () => {
    const grid = new PatchSampler().grid({ height: 96, width: 96 });
    expect(grid.scales).toHaveLength(8);
    expect(grid.count).toBe(476);
    expect(grid.minOverlap).toBeGreaterThanOrEqual(0.5);
    expect(grid.coverage).toBe(1);
    expect(patchBox(grid, 0)).toEqual([0, 0, 96, 96]);
    // the same sampler returns the cached grid; a new one returns an identical grid (deterministic order)
    expect(new PatchSampler().grid({ height: 96, width: 96 }).boxes).toEqual(grid.boxes);
  });

  it('patches are square, integer, inside the image, ordered, and neighbours overlap >= the requested overlap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 120 }),
        fc.integer({ min: 8, max: 120 }),
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.8, noNaN: true }),
        (height, width, scales, smallest, overlap) => {
          const sampler = new PatchSampler({ scales, smallest, overlap, minPatchSize: 4 });
          const grid = sampler.grid({ height, width });
          let n = 0;
          const mask = new Uint8Array(height * width);
          const bad: string[] = [];
          const check = (ok: boolean, what: string) => {
            if (!ok && bad.length < 5) bad.push(what);
          };
          grid.scales.forEach((sc, si) => {
            if (si > 0) check(sc.size < grid.scales[si - 1].size, `scale ${si} not smaller`);
            check(sc.start === n, `scale ${si} start`);
            for (let i = 0; i < sc.rows.length * sc.cols.length; i++) {
              const b = patchBox(grid, n + i);
              const [y1, x1, y2, x2] = b;
              check(grid.scaleOf[n + i] === si, `scaleOf ${n + i}`);
              check(
                y2 - y1 === sc.size && x2 - x1 === sc.size,
                `patch ${n + i} not square of side ${sc.size}`,
              );
              check(Number.isInteger(y1) && Number.isInteger(x1), `patch ${n + i} not integer`);
              check(y1 >= 0 && x1 >= 0 && y2 <= height && x2 <= width, `patch ${n + i} outside: ${b}`);
              for (let y = y1; y < y2; y++) mask.fill(1, y * width + x1, y * width + x2);
              // right neighbour (same row) and lower neighbour (same column): overlap as a share of the patch
              const c = i % sc.cols.length;
              const r = Math.floor(i / sc.cols.length);
              if (c + 1 < sc.cols.length) {
                const o = intersectionOverArea(b, patchBox(grid, n + i + 1));
                check(o >= overlap && o >= sc.overlap - 1e-12, `right overlap ${o} < ${overlap} at ${n + i}`);
              }
              if (r + 1 < sc.rows.length) {
                const o = intersectionOverArea(b, patchBox(grid, n + i + sc.cols.length));
                check(o >= overlap, `lower overlap ${o} < ${overlap} at ${n + i}`);
              }
            }
            n += sc.rows.length * sc.cols.length;
          });
          expect(bad).toEqual([]);
          expect(grid.count).toBe(n);
          expect(grid.minOverlap).toBeGreaterThanOrEqual(overlap);
          expect(grid.coverage).toBe(mask.reduce((a, b) => a + b, 0) / (height * width));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('takes an explicit list of scales and drops sides below minPatchSize', () => {
    const s = new PatchSampler({ scales: [0.5, 1, 0.05], minPatchSize: 8 });
    expect(s.patchSizes({ height: 96, width: 128 })).toEqual([96, 48]);
    const grid = s.grid({ height: 96, width: 128 });
    expect(grid.scales.map((x) => [x.size, x.rows.length, x.cols.length])).toEqual([
      [96, 1, 2],
      [48, 3, 5],
    ]);
  });

  it('rejects zero scales, overlap >= 1 and other bad options by name', () => {
    expect(() => new PatchSampler({ scales: 0 })).toThrow(/`options.scales`.*Received: 0/);
    expect(() => new PatchSampler({ scales: [] })).toThrow(InvalidArgumentError);
    expect(() => new PatchSampler({ scales: [0.5, 0] })).toThrow(/`options.scales\[1\]`/);
    expect(() => new PatchSampler({ overlap: 1 })).toThrow(/`options.overlap`.*\[0, 1\).*Received: 1/);
    expect(() => new PatchSampler({ overlap: -0.1 })).toThrow(InvalidArgumentError);
    expect(() => new PatchSampler({ smallest: 0.9, largest: 0.5 })).toThrow(/`options.smallest`/);
    expect(() => new PatchSampler({ minPatchSize: 0 })).toThrow(/`options.minPatchSize`/);
    expect(() => new PatchSampler().grid({ height: 4, width: 4 })).toThrow(/minPatchSize = 8/);
    expect(() => new PatchSampler().grid({ height: 9.5, width: 4 })).toThrow(/positive integers/);
    // overlap 0.9 needs a stride <= 0.1 s, i.e. sides >= 10: smaller scales are skipped
    expect(new PatchSampler({ overlap: 0.9, minPatchSize: 1 }).patchSizes({ height: 40, width: 40 })).toEqual(
      [40, 30, 22, 16, 12],
    );
    expect(() => patchBox(new PatchSampler().grid({ height: 16, width: 16 }), 99)).toThrow(/`i`/);
  });
});
