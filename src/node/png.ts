/**
 * PNG files from RGBA images (pngjs): encode, decode, write, and `data:` URIs for self-contained HTML.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { checkInteger, InvalidArgumentError, type RgbaImage } from '../index.js';

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

/**
 * Decodes PNG bytes into an RGBA image.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when the bytes are not a readable PNG
 * @example
 * ```ts
 * const img = decodePng(await readFile('digit.png'));
 * ```
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError('decodePng', 'bytes', 'PNG bytes (a Buffer or Uint8Array)', bytes);
  }
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
