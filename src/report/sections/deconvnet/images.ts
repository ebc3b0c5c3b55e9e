/**
 * Image assembly for the deconvnet section's figures: rows and columns of RGBA images, object boxes, and the
 * occlusion figure (image | probability map | feature-map activity per row).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RgbaImage, Scene } from '../../../index.js';
import { pngDataUri, toRgbaGrid } from '../../../internal.js';

/** Images side by side (top-aligned) on a white background. */
export function hcat(images: RgbaImage[], gap = 4, bg = 255): RgbaImage {
  const width = images.reduce((a, im) => a + im.width, 0) + gap * (images.length - 1);
  const height = Math.max(...images.map((im) => im.height));
  const data = new Uint8ClampedArray(width * height * 4).fill(bg);
  let ox = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) {
      data.set(im.data.subarray(y * im.width * 4, (y + 1) * im.width * 4), (y * width + ox) * 4);
    }
    ox += im.width + gap;
  }
  return { width, height, data };
}

/** Images one below the other (left-aligned) on a white background. */
export function vcat(images: RgbaImage[], gap = 4, bg = 255): RgbaImage {
  const width = Math.max(...images.map((im) => im.width));
  const height = images.reduce((a, im) => a + im.height, 0) + gap * (images.length - 1);
  const data = new Uint8ClampedArray(width * height * 4).fill(bg);
  let oy = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) {
      data.set(im.data.subarray(y * im.width * 4, (y + 1) * im.width * 4), (oy + y) * width * 4);
    }
    oy += im.height + gap;
  }
  return { width, height, data };
}

/** Draws a 1-pixel red rectangle (box `[y1, x1, y2, x2]` scaled by `scale`, offset by `pad`) in place. */
export function outline(
  im: RgbaImage,
  box: readonly [number, number, number, number],
  scale: number,
  pad: number,
): void {
  const [y1, x1, y2, x2] = box.map((v) => v * scale + pad);
  const set = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= im.width || y >= im.height) return;
    im.data.set([230, 30, 30, 255], (y * im.width + x) * 4);
  };
  for (let x = x1; x < x2; x++) {
    set(x, y1);
    set(x, y2 - 1);
  }
  for (let y = y1; y < y2; y++) {
    set(x1, y);
    set(x2 - 1, y);
  }
}

function single(
  data: ArrayLike<number>,
  h: number,
  w: number,
  scale: number,
  normalize: 'tile' | 'none' | 'symmetric',
  colormap: 'greys' | 'viridis' = 'greys',
): RgbaImage {
  return toRgbaGrid(
    { data, count: 1, height: h, width: w, channels: 1 },
    { pad: 1, scale, normalize, colormap },
  );
}

/**
 * Rows of [image (with the object's box when `scenes` is given) | probability map | feature-map activity] as a PNG
 * data URI, and the mean drop (baseline minus lowest probability) when `occ.baseline` is given. The tensors are not
 * disposed.
 */
export async function occlusionFigure(
  images: tf.Tensor4D,
  occ: { probability: tf.Tensor; featureActivity?: tf.Tensor; baseline?: number[] },
  h: number,
  w: number,
  scenes: Scene[] | null,
): Promise<{ png: string; meanDrop: number }> {
  const [n, r, c] = occ.probability.shape;
  const pv = await occ.probability.data();
  const fv = occ.featureActivity ? await occ.featureActivity.data() : null;
  const iv = await images.data();
  const scale = 3;
  const mapScale = Math.max(1, Math.round((h * scale) / r));
  const rows: RgbaImage[] = [];
  let drop = 0;
  for (let i = 0; i < n; i++) {
    const img = single(iv.subarray(i * h * w, (i + 1) * h * w), h, w, scale, 'none');
    if (scenes) outline(img, scenes[i].objects[0].box, scale, 1);
    const probs = pv.subarray(i * r * c, (i + 1) * r * c);
    const parts = [img, single(probs, r, c, mapScale, 'none', 'viridis')];
    if (fv) parts.push(single(fv.subarray(i * r * c, (i + 1) * r * c), r, c, mapScale, 'tile', 'viridis'));
    rows.push(hcat(parts, 4));
    if (occ.baseline) drop += occ.baseline[i] - Math.min(...probs);
  }
  return { png: pngDataUri(vcat(rows, 4)), meanDrop: occ.baseline ? drop / n : Number.NaN };
}

/** The strategies figure's column of digits, as an RGBA grid of one column. */
export function digitColumn(
  data: ArrayLike<number>,
  count: number,
  normalize: 'none' | 'symmetric' = 'none',
): RgbaImage {
  return toRgbaGrid(
    { data, count, height: 28, width: 28, channels: 1 },
    normalize === 'none' ? { cols: 1, pad: 1, scale: 2 } : { cols: 1, pad: 1, scale: 2, normalize },
  );
}
