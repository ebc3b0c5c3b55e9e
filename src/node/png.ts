/**
 * PNG files from RGBA images (pngjs): encode, decode, write, and `data:` URIs for self-contained HTML.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { checkInteger } from '../core/checks.js';
import { LIMITS } from '../core/limits.js';
import { InvalidArgumentError, type RgbaImage } from '../index.js';

function checkImage(fn: string, image: RgbaImage): void {
  if (image === null || typeof image !== 'object') {
    throw new InvalidArgumentError(fn, 'image', 'an RgbaImage {width, height, data}', image);
  }
  checkInteger(fn, 'image.width', image.width, 1);
  checkInteger(fn, 'image.height', image.height, 1);
  if (!ArrayBuffer.isView(image.data) || image.data.length !== image.width * image.height * 4) {
    throw new InvalidArgumentError(
      fn,
      'image.data',
      `${image.width} x ${image.height} x 4 = ${image.width * image.height * 4} RGBA bytes`,
      image.data,
    );
  }
}

/**
 * Encodes an RGBA image (e.g. from `toRgbaGrid`) as PNG bytes.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when `data` does not hold
 * `width * height * 4` bytes
 * @example
 * ```ts
 * const bytes = encodePng(toRgbaGrid(tiles));
 * ```
 */
export function encodePng(image: RgbaImage): Buffer {
  checkImage('encodePng', image);
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: 6 });
}

/** Options of the PNG decoding behind {@link readPng} and the image readers. */
export interface DecodeImageOptions {
  /**
   * Most pixels (width x height) an image may declare; a larger header is rejected before anything is decoded.
   * @default LIMITS.maxPixels (100 megapixels, jpeg-js's default)
   */
  maxPixels?: number;
}

/** Channels per PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** The best compression ratio deflate can reach (258-byte matches in ~2 bits): no PNG expands beyond it. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * Reads the IHDR of PNG bytes and throws unless it is well-formed, declares at most `maxPixels` pixels, and the file
 * is long enough to hold that many (deflate cannot compress more than 1032:1): a 74-byte file that claims 8000 x
 * 8000 pixels is rejected here, before pngjs allocates 256 MB for it.
 */
function checkPngHeader(fn: string, argument: string, bytes: Uint8Array, maxPixels: number): void {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || sig.some((b, i) => bytes[i] !== b)) {
    throw new InvalidArgumentError(fn, argument, 'a PNG (signature and IHDR chunk)', `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = PNG_CHANNELS[bytes[25]];
  if (
    type !== 'IHDR' ||
    width === 0 ||
    height === 0 ||
    channels === undefined ||
    ![1, 2, 4, 8, 16].includes(depth)
  ) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a PNG with a valid IHDR chunk',
      `${type} ${width} x ${height}`,
    );
  }
  if (width * height > maxPixels) {
    throw new InvalidArgumentError(
      fn,
      argument,
      `an image of at most ${maxPixels} pixels (options.maxPixels)`,
      `a PNG header declaring ${width} x ${height} = ${width * height} pixels`,
    );
  }
  const rawBytes = height * Math.ceil((width * channels * depth) / 8);
  if (bytes.length * DEFLATE_MAX_RATIO < rawBytes) {
    throw new InvalidArgumentError(
      fn,
      argument,
      `a complete PNG (${width} x ${height} pixels need at least ${Math.ceil(rawBytes / DEFLATE_MAX_RATIO)} bytes)`,
      `${bytes.length} bytes`,
    );
  }
}

/**
 * Decodes PNG bytes into an RGBA image. The header is checked first (see {@link DecodeImageOptions.maxPixels}).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when the bytes are not a readable PNG, or
 * declare more than `maxPixels` pixels (or more than the file could hold)
 * @example
 * ```ts
 * const img = decodePng(await readFile('digit.png'));
 * ```
 */
export function decodePng(bytes: Uint8Array, options: DecodeImageOptions = {}): RgbaImage {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError('decodePng', 'bytes', 'PNG bytes (a Buffer or Uint8Array)', bytes);
  }
  const maxPixels = options?.maxPixels ?? LIMITS.maxPixels;
  checkInteger('decodePng', 'options.maxPixels', maxPixels, 1);
  checkPngHeader('decodePng', 'bytes', bytes, maxPixels);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new InvalidArgumentError('decodePng', 'bytes', 'a valid PNG', `(${(e as Error).message})`);
  }
  return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data) };
}

/**
 * Writes an RGBA image as a PNG file, creating the folder if needed.
 *
 * @example
 * ```ts
 * await writePng('report/grid.png', grid);
 * ```
 */
export async function writePng(file: string, image: RgbaImage): Promise<void> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidArgumentError('writePng', 'file', 'a file path', file);
  }
  const bytes = encodePng(image);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

/**
 * Reads a PNG file into an RGBA image.
 *
 * @example
 * ```ts
 * const img = await readPng('digits/3/0001.png');
 * ```
 */
export async function readPng(file: string): Promise<RgbaImage> {
  return decodePng(await readFile(file));
}

/**
 * A `data:image/png;base64,...` URI of an RGBA image, for `<img src>` or SVG `<image href>` in self-contained HTML.
 *
 * @example
 * ```ts
 * const html = `<img src="${pngDataUri(grid)}" alt="top-9 activations">`;
 * ```
 */
export function pngDataUri(image: RgbaImage): string {
  return `data:image/png;base64,${encodePng(image).toString('base64')}`;
}
