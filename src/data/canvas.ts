/**
 * Pixel helpers of the synthetic scenes: box intersection and area, bilinear resizing of a grey patch, the ink box of
 * a digit, pasting a patch onto a canvas (max blend) and drawing a stroke. Plain TypeScript over Float32Arrays.
 *
 * @module
 */
import type { PixelBox } from '../core/types.js';

/** Intersection area of two half-open pixel boxes. */
export function intersection(a: PixelBox, b: PixelBox): number {
  const h = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const w = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return h > 0 && w > 0 ? h * w : 0;
}

export function area(b: PixelBox): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/**
 * Bilinear resize of a `sh x sw` image to `th x tw` (pixel centres aligned, edges clamped).
 */
export function resize(
  src: ArrayLike<number>,
  offset: number,
  sh: number,
  sw: number,
  th: number,
  tw: number,
): Float32Array {
  const out = new Float32Array(th * tw);
  const sy = sh / th;
  const sx = sw / tw;
  for (let y = 0; y < th; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < tw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const a = src[offset + y0 * sw + x0];
      const b = src[offset + y0 * sw + x1];
      const c = src[offset + y1 * sw + x0];
      const d = src[offset + y1 * sw + x1];
      out[y * tw + x] = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * c + wx * d);
    }
  }
  return out;
}

/** Tight box of the pixels above `threshold` in an `h x w` patch, or undefined when there is none. */
export function inkBox(patch: Float32Array, h: number, w: number, threshold: number): PixelBox | undefined {
  let y1 = h;
  let x1 = w;
  let y2 = -1;
  let x2 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (patch[y * w + x] > threshold) {
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
      }
    }
  }
  return y2 < 0 ? undefined : [y1, x1, y2 + 1, x2 + 1];
}

/** Draws `patch` (h x w) at (top, left) on the canvas with a pixel-wise maximum. */
export function paste(
  canvas: Float32Array,
  size: number,
  patch: Float32Array,
  h: number,
  w: number,
  top: number,
  left: number,
) {
  for (let y = 0; y < h; y++) {
    const cy = top + y;
    if (cy < 0 || cy >= size) continue;
    for (let x = 0; x < w; x++) {
      const cx = left + x;
      if (cx < 0 || cx >= size) continue;
      const v = patch[y * w + x];
      const i = cy * size + cx;
      if (v > canvas[i]) canvas[i] = v;
    }
  }
}

/** Draws a stroke from (y0, x0) to (y1, x1) of the given half-width and intensity. */
export function stroke(
  canvas: Float32Array,
  size: number,
  y0: number,
  x0: number,
  y1: number,
  x1: number,
  radius: number,
  intensity: number,
) {
  const steps = Math.max(1, Math.ceil(Math.hypot(y1 - y0, x1 - x0) * 2));
  const r = Math.ceil(radius);
  for (let s = 0; s <= steps; s++) {
    const cy = y0 + ((y1 - y0) * s) / steps;
    const cx = x0 + ((x1 - x0) * s) / steps;
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const y = Math.round(cy + dy);
        const x = Math.round(cx + dx);
        if (y < 0 || y >= size || x < 0 || x >= size) continue;
        if ((y - cy) ** 2 + (x - cx) ** 2 > radius * radius + 0.25) continue;
        const i = y * size + x;
        if (intensity > canvas[i]) canvas[i] = intensity;
      }
    }
  }
}
