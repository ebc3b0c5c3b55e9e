import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boxIoU,
  InvalidArgumentError,
  intersectionOverArea,
  type PixelBox,
  pixelToNormalized,
} from '../../src/index.js';
import {
  boxArea,
  boxIntersection,
  checkPixelBox,
  intersectionArea,
  normalizedToPixel,
  pixelBoxesToNormalized,
} from '../../src/internal.js';

/** A valid box inside a `size x size` image, with integer or fractional corners. */
const boxArb = (size = 64, integer = false): fc.Arbitrary<PixelBox> => {
  const coord = (max: number) =>
    integer ? fc.integer({ min: 0, max }) : fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true });
  const side = (max: number) =>
    integer ? fc.integer({ min: 1, max }) : fc.double({ min: 1, max, noNaN: true, noDefaultInfinity: true });
  return fc
    .tuple(coord(size - 1), coord(size - 1), side(size), side(size))
    .map(([y, x, h, w]) => [y, x, Math.min(size, y + h), Math.min(size, x + w)] as PixelBox)
    .filter((b) => b[2] - b[0] >= 1 && b[3] - b[1] >= 1);
};

/** Pixel-mask oracle: counts pixels of a size x size image covered by both integer boxes. */
function maskIntersection(a: PixelBox, b: PixelBox): number {
  let n = 0;
  for (let y = 0; y < 64; y++)
    for (let x = 0; x < 64; x++) {
      const inA = y >= a[0] && y < a[2] && x >= a[1] && x < a[3];
      const inB = y >= b[0] && y < b[2] && x >= b[1] && x < b[3];
      if (inA && inB) n++;
    }
  return n;
}

describe('box geometry', () => {
  it('IoU is symmetric and in [0, 1]; 1 for identical boxes', () => {
    fc.assert(
      fc.property(boxArb(), boxArb(), (a, b) => {
        const ab = boxIoU(a, b);
        expect(ab).toBeCloseTo(boxIoU(b, a), 12);
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1 + 1e-12);
        expect(boxIoU(a, a)).toBeCloseTo(1, 12);
      }),
    );
  });

  it('intersection over either area is in [0, 1], bounds the IoU, and equals the pixel count for integer boxes', () => {
    fc.assert(
      fc.property(boxArb(64, true), boxArb(64, true), (a, b) => {
        const inter = intersectionArea(a, b);
        expect(inter).toBe(maskIntersection(a, b));
        const ia = intersectionOverArea(a, b);
        const ib = intersectionOverArea(b, a);
        const iou = boxIoU(a, b);
        for (const v of [ia, ib]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          expect(v).toBeGreaterThanOrEqual(iou - 1e-12); // |A∩B|/|A| >= |A∩B|/|A∪B|
        }
        // |A∪B| = |A| + |B| - |A∩B| gives IoU = 1 / (1/ia + 1/ib - 1) when they overlap
        if (inter > 0) expect(iou).toBeCloseTo(1 / (1 / ia + 1 / ib - 1), 10);
        // intersection over area is 1 exactly when one box contains the other
        const contains = a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
        expect(ia === 1).toBe(contains);
        const box = boxIntersection(a, b);
        expect(box === null ? 0 : boxArea(box)).toBe(inter);
      }),
    );
  });

  it('closed-form cases', () => {
    expect(boxArea([0, 0, 2, 3])).toBe(6);
    expect(intersectionArea([0, 0, 4, 4], [2, 2, 6, 6])).toBe(4);
    expect(boxIoU([0, 0, 4, 4], [2, 2, 6, 6])).toBeCloseTo(4 / 28, 12);
    expect(intersectionOverArea([0, 0, 4, 4], [2, 2, 6, 6])).toBe(0.25);
    expect(boxIntersection([0, 0, 2, 2], [2, 0, 4, 2])).toBeNull(); // touching edges do not overlap
  });

  it('pixel <-> normalised conversion round-trips and follows cropAndResize (y / (H - 1) of pixel centres)', () => {
    const size = { height: 96, width: 64 };
    expect(pixelToNormalized([0, 0, 28, 28], size)).toEqual([0, 0, 27 / 95, 27 / 63]);
    expect(pixelToNormalized([0, 0, 96, 64], size)).toEqual([0, 0, 1, 1]);
    fc.assert(
      fc.property(boxArb(64), (b) => {
        const back = normalizedToPixel(pixelToNormalized(b, size), size);
        for (let i = 0; i < 4; i++) expect(back[i]).toBeCloseTo(b[i], 9);
      }),
    );
    const flat = pixelBoxesToNormalized([0, 0, 28, 28, 10, 5, 20, 64], size);
    const one = pixelToNormalized([10, 5, 20, 64], size);
    for (let i = 0; i < 4; i++) expect(flat[4 + i]).toBeCloseTo(one[i], 6);
  });

  it('rejects inverted, empty, non-finite and out-of-image boxes with the box in the message', () => {
    expect(() => boxIoU([5, 0, 2, 10], [0, 0, 1, 1])).toThrow(InvalidArgumentError);
    expect(() => boxIoU([5, 0, 2, 10], [0, 0, 1, 1])).toThrow(/`a`.*y1 < y2.*\[5, 0, 2, 10\]/);
    expect(() => boxArea([0, 3, 4, 3])).toThrow(/not inverted, not empty/);
    expect(() => intersectionArea([0, 0, 1, Number.NaN], [0, 0, 1, 1])).toThrow(/four finite numbers/);
    expect(() => pixelToNormalized([0, 0, 97, 10], { height: 96, width: 64 })).toThrow(
      /inside the 96x64 image/,
    );
    expect(() => pixelToNormalized([-1, 0, 9, 10], { height: 96, width: 64 })).toThrow(InvalidArgumentError);
    expect(() => pixelToNormalized([0, 0, 1, 1], { height: 0, width: 64 })).toThrow(/positive integers/);
    expect(() => normalizedToPixel([0.5, 0, 0.2, 1], { height: 9, width: 9 })).toThrow(/not inverted/);
    expect(() => checkPixelBox('f', 'b', [0, 0, 1])).toThrow(/four finite numbers/);
  });
});
