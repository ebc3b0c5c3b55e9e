import { describe, expect, it } from 'vitest';
import { type DigitSet, generateScenes, InvalidArgumentError, scenesToTensor } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

/** Ten synthetic 28x28 "digits": a filled square of side 8 + 2*label at the centre. */
function squares(): DigitSet {
  const n = 10;
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) {
    const side = 8 + 2 * i;
    const o = Math.floor((28 - side) / 2);
    for (let y = o; y < o + side; y++) for (let x = o; x < o + side; x++) pixels[i * 784 + y * 28 + x] = 1;
  }
  return { pixels, labels: Array.from({ length: n }, (_, i) => i), height: 28, width: 28 };
}

describe('generateScenes', () => {
  const digits = squares();

  it('is reproducible for a seed', () => {
    const a = generateScenes(digits, { count: 3, seed: 5 });
    const b = generateScenes(digits, { count: 3, seed: 5 });
    expect(a.map((s) => s.objects)).toEqual(b.map((s) => s.objects));
    expect(Array.from(a[2].pixels)).toEqual(Array.from(b[2].pixels));
    const c = generateScenes(digits, { count: 3, seed: 6 });
    expect(c.map((s) => s.objects)).not.toEqual(a.map((s) => s.objects));
  });

  it('places 1-4 objects with valid, in-bounds, tight and non-overlapping boxes', () => {
    const scenes = generateScenes(digits, { count: 40, seed: 1, noise: 0, strokes: 0, fragments: 0 });
    const counts = new Set<number>();
    for (const s of scenes) {
      expect(s.pixels.length).toBe(112 * 112);
      expect(s.objects.length).toBeGreaterThanOrEqual(1);
      expect(s.objects.length).toBeLessThanOrEqual(4);
      counts.add(s.objects.length);
      for (const o of s.objects) {
        const [y1, x1, y2, x2] = o.box;
        expect(y1).toBeGreaterThanOrEqual(0);
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(y2).toBeLessThanOrEqual(112);
        expect(x2).toBeLessThanOrEqual(112);
        expect(y2).toBeGreaterThan(y1);
        expect(x2).toBeGreaterThan(x1);
        expect(o.scale).toBeGreaterThanOrEqual(20);
        expect(o.scale).toBeLessThanOrEqual(56);
        // The square digit of side 8+2l, scaled by scale/28, gives a box of about that side.
        const expected = ((8 + 2 * o.label) * o.scale) / 28;
        expect(Math.abs(y2 - y1 - expected)).toBeLessThanOrEqual(2);
        expect(Math.abs(x2 - x1 - expected)).toBeLessThanOrEqual(2);
        // Ink inside the box, none on the row just outside it (tightness), unless another object is there.
        expect(s.pixels[Math.floor((y1 + y2) / 2) * 112 + Math.floor((x1 + x2) / 2)]).toBeGreaterThan(0.2);
      }
      for (let i = 0; i < s.objects.length; i++) {
        for (let j = i + 1; j < s.objects.length; j++) {
          const a = s.objects[i].box;
          const b = s.objects[j].box;
          const h = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
          const w = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
          const inter = h > 0 && w > 0 ? h * w : 0;
          const area = (x: number[]) => (x[2] - x[0]) * (x[3] - x[1]);
          expect(inter).toBeLessThanOrEqual(0.1 * Math.min(area(a), area(b)));
        }
      }
    }
    expect(counts.size).toBeGreaterThanOrEqual(3);
  });

  it('keeps pixel values in [0, 1] with clutter and noise, and honours classes', () => {
    const scenes = generateScenes(digits, {
      count: 5,
      seed: 2,
      classes: [3, 4],
      canvasSize: 64,
      maxScale: 40,
    });
    for (const s of scenes) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of s.pixels) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      for (const o of s.objects) expect([3, 4]).toContain(o.label);
    }
  });

  it('rejects bad input', () => {
    expect(() => generateScenes({ ...digits, pixels: new Float32Array(5) }, { count: 1, seed: 0 })).toThrow(
      /digits.pixels.*7840 values/,
    );
    expect(() => generateScenes(digits, { count: 1, seed: 0, minScale: 30, maxScale: 20 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => generateScenes(digits, { count: 1, seed: 0, classes: [42] })).toThrow(/options.classes/);
    expect(() => generateScenes(digits, { count: -1, seed: 0 })).toThrow(/options.count/);
  });
});

describe('scenesToTensor', () => {
  it('stacks scenes as [n, h, w, 1] without leaking', async () => {
    const scenes = generateScenes(squares(), {
      count: 2,
      seed: 3,
      canvasSize: 32,
      minScale: 10,
      maxScale: 16,
    });
    const x = scenesToTensor(scenes);
    expect(x.shape).toEqual([2, 32, 32, 1]);
    expect((await x.data())[32 * 32 + 5]).toBeCloseTo(scenes[1].pixels[5]);
    x.dispose();
    await expectNoLeak(() => scenesToTensor(scenes));
    expect(() => scenesToTensor([])).toThrow(InvalidArgumentError);
  });
});
