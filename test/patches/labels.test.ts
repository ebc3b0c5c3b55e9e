import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  type LabelledBox,
  labelPatches,
  PatchSampler,
  type PixelBox,
  selectTrainingPatches,
} from '../../src/index.js';
import { BACKGROUND, DROPPED, intersectionArea, MULTIPLE } from '../../src/internal.js';

const P: PixelBox = [0, 0, 10, 10]; // |P| = 100

describe('Oquab labelling rule: |P∩B| >= 0.2|P| and |P∩B| >= 0.6|B|', () => {
  const one = (box: PixelBox, opts = {}) =>
    labelPatches([P], [{ box, label: 3 }], { numClasses: 5, ...opts }).label[0];

  it('hand-made cases from the definition', () => {
    expect(one([0, 0, 8, 8])).toBe(3); // inter 64: 64% of P, 100% of B
    expect(one([0, 0, 4, 4])).toBe(BACKGROUND); // inter 16 < 20: the object is too small in the patch
    expect(one([5, 5, 25, 25])).toBe(BACKGROUND); // inter 25 >= 20 but only 6% of B (< 60%)
    expect(one([0, 0, 4, 5])).toBe(3); // inter 20 = exactly 0.2|P|, 100% of B: boundary counts
    expect(one([0, 0, 4, 4.9])).toBe(BACKGROUND); // inter 19.6 just below 0.2|P|
    expect(one([0, 4, 10, 14])).toBe(3); // inter 60 = exactly 0.6 |B| (|B| = 100)
    expect(one([0, 4.1, 10, 14.1])).toBe(BACKGROUND); // inter 59 just below 0.6|B|
  });

  it('thresholds are configurable', () => {
    expect(one([5, 5, 25, 25], { minObjectOverlap: 0.05 })).toBe(3); // 25 >= 0.05 * 400
    expect(one([0, 0, 4, 4], { minPatchOverlap: 0.1 })).toBe(3); // 16 >= 0.1 * 100
    expect(one([0, 0, 8, 8], { minPatchOverlap: 0.7 })).toBe(BACKGROUND); // 64 < 70
  });

  it('multi-object policies: drop (paper), background, multi-label; same-class matches stay positive', () => {
    const objs: LabelledBox[] = [
      { box: [0, 0, 5, 10], label: 1 },
      { box: [5, 0, 10, 10], label: 2 },
    ];
    const drop = labelPatches([P], objs, { numClasses: 3 });
    expect(drop.label[0]).toBe(DROPPED);
    expect(drop.dropped).toBe(1);
    expect(Array.from(drop.targets)).toEqual([0, 0, 0]);
    const bg = labelPatches([P], objs, { numClasses: 3, multiObject: 'background' });
    expect(bg.label[0]).toBe(BACKGROUND);
    const multi = labelPatches([P], objs, { numClasses: 3, multiObject: 'multi-label' });
    expect(multi.label[0]).toBe(MULTIPLE);
    expect(Array.from(multi.targets)).toEqual([0, 1, 1]);
    const same = labelPatches(
      [P],
      objs.map((o) => ({ ...o, label: 2 })),
      { numClasses: 3 },
    );
    expect(same.label[0]).toBe(2);
  });

  it('agrees with a plain loop over random patches and objects', () => {
    const box = fc
      .tuple(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 24 }),
      )
      .map(([y, x, s]) => [y, x, y + s, x + s] as PixelBox);
    fc.assert(
      fc.property(
        fc.array(box, { minLength: 1, maxLength: 30 }),
        fc.array(fc.record({ box, label: fc.integer({ min: 0, max: 3 }) }), { maxLength: 4 }),
        (patches, objects) => {
          const got = labelPatches(patches, objects, { numClasses: 4 });
          patches.forEach((p, i) => {
            const classes = new Set<number>();
            for (const o of objects) {
              const inter = intersectionArea(p, o.box);
              const ap = (p[2] - p[0]) * (p[3] - p[1]);
              const ab = (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]);
              if (inter > 0 && inter >= 0.2 * ap && inter >= 0.6 * ab) classes.add(o.label);
            }
            const want = classes.size === 0 ? BACKGROUND : classes.size === 1 ? [...classes][0] : DROPPED;
            expect(got.label[i]).toBe(want);
          });
          expect(got.positives + got.background + got.dropped).toBe(patches.length);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('rejects bad labels, inverted boxes, boxes outside the image and bad thresholds', () => {
    expect(() => labelPatches([P], [{ box: [0, 0, 5, 5], label: 5 }], { numClasses: 5 })).toThrow(
      /`objects\[0\].label`.*\[0, 4\].*Received: 5/,
    );
    expect(() => labelPatches([P], [{ box: [5, 0, 1, 5], label: 0 }], { numClasses: 5 })).toThrow(
      /`objects\[0\].box`.*not inverted/,
    );
    const grid = new PatchSampler().grid({ height: 32, width: 32 });
    expect(() =>
      new PatchSampler().label(grid, [{ box: [20, 20, 40, 30], label: 0 }], { numClasses: 2 }),
    ).toThrow(/inside the 32x32 image/);
    expect(() => labelPatches([[3, 3, 1, 9]], [], { numClasses: 2 })).toThrow(/`patches\[0\]`/);
    expect(() => labelPatches([P], [], { numClasses: 2, minPatchOverlap: 1.5 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => labelPatches([P], [], { numClasses: 2, multiObject: 'keep' as never })).toThrow(
      /multi-label/,
    );
  });
});

describe('selectTrainingPatches', () => {
  const sampler = new PatchSampler({ scales: 4, smallest: 0.3 });
  const grid = sampler.grid({ height: 48, width: 48 });
  const scenes: LabelledBox[][] = [
    [{ box: [4, 4, 24, 24], label: 0 }],
    [
      { box: [20, 20, 44, 44], label: 1 },
      { box: [0, 0, 14, 14], label: 0 },
    ],
    [],
  ];
  const labels = scenes.map((o) => sampler.label(grid, o, { numClasses: 2 }));
  const positives = labels.reduce((a, l) => a + l.positives, 0);

  it('keeps every positive, no dropped patch, and round(ratio * positives) seeded background', () => {
    expect(positives).toBeGreaterThan(0);
    const sel = selectTrainingPatches(labels, { backgroundRatio: 1, seed: 3 });
    expect(sel.positives).toBe(positives);
    expect(sel.background).toBe(positives);
    expect(sel.image.length).toBe(2 * positives);
    let bg = 0;
    for (let i = 0; i < sel.image.length; i++) {
      const v = labels[sel.image[i]].label[sel.patch[i]];
      expect(v).not.toBe(DROPPED);
      if (v === BACKGROUND) bg++;
    }
    expect(bg).toBe(positives);
    expect(selectTrainingPatches(labels, { backgroundRatio: 1, seed: 3 }).patch).toEqual(sel.patch);
    expect(selectTrainingPatches(labels, { backgroundRatio: 1, seed: 4 }).patch).not.toEqual(sel.patch);
    const all = selectTrainingPatches(labels, { backgroundRatio: Number.POSITIVE_INFINITY });
    expect(all.background).toBe(all.backgroundAvailable);
    expect(selectTrainingPatches(labels, { backgroundRatio: 0 }).background).toBe(0);
    expect(() => selectTrainingPatches(labels, { backgroundRatio: -1 })).toThrow(/`options.backgroundRatio`/);
  });
});
