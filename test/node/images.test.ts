import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { listImages } from '../../src/cli/features.js';
import { InvalidArgumentError } from '../../src/index.js';
import { readImageFolder } from '../../src/node.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a `size x size` PNG whose every pixel is (r, g, b, 255). */
function writeSolidPng(file: string, size: number, [r, g, b]: [number, number, number]): void {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) png.data.set([r, g, b, 255], 4 * i);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, PNG.sync.write(png));
}

describe('readImageFolder', () => {
  const root = path.join(dir, 'classes');
  writeSolidPng(path.join(root, 'a', '0.png'), 4, [255, 0, 0]);
  writeSolidPng(path.join(root, 'a', '1.png'), 4, [0, 255, 0]);
  writeSolidPng(path.join(root, 'b', '0.png'), 8, [30, 60, 90]); // resized to 4 x 4
  writeFileSync(path.join(root, 'b', 'notes.txt'), 'not an image');

  it('reads one sub-folder per class into [N, h, w, c] in [0, 1] with labels', async () => {
    const { x, labels, classNames, files } = await readImageFolder(root, { size: [4, 4], channels: 3 });
    try {
      expect(x.shape).toEqual([3, 4, 4, 3]);
      expect(labels).toEqual([0, 0, 1]);
      expect(classNames).toEqual(['a', 'b']);
      expect(files.map((f) => path.relative(root, f))).toEqual([
        path.join('a', '0.png'),
        path.join('a', '1.png'),
        path.join('b', '0.png'),
      ]);
      const v = (await x.array()) as number[][][][];
      expect(v[0][2][3]).toEqual([1, 0, 0]);
      expect(v[1][0][0]).toEqual([0, 1, 0]);
      for (const [k, want] of [30, 60, 90].entries()) expect(v[2][1][1][k]).toBeCloseTo(want / 255, 5);
    } finally {
      x.dispose();
    }
  });

  it('reads grey (mean of RGB) images lying directly in the folder, unlabelled', async () => {
    const flat = path.join(dir, 'flat');
    writeSolidPng(path.join(flat, 'x.png'), 2, [30, 60, 90]);
    const { x, labels, classNames } = await readImageFolder(flat, { size: [2, 2], channels: 1 });
    try {
      expect(x.shape).toEqual([1, 2, 2, 1]);
      expect(labels).toBeUndefined();
      expect(classNames).toBeUndefined();
      for (const p of await x.data()) expect(p).toBeCloseTo(60 / 255, 5);
    } finally {
      x.dispose();
    }
  });

  it('throws InvalidArgumentError for a missing folder, an empty one and a corrupt image', async () => {
    const missing = readImageFolder(path.join(dir, 'missing'), { size: [4, 4], channels: 3 });
    await expect(missing).rejects.toThrow(InvalidArgumentError);
    await expect(readImageFolder(path.join(dir, 'missing'), { size: [4, 4], channels: 3 })).rejects.toThrow(
      /`dir`.*`readImageFolder`.*an existing folder/,
    );
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    await expect(readImageFolder(empty, { size: [4, 4], channels: 3 })).rejects.toThrow(/PNG\/JPEG images/);
    const corrupt = path.join(dir, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(path.join(corrupt, 'bad.png'), 'not a png');
    const err = await readImageFolder(corrupt, {
      size: [4, 4],
      channels: 3,
      caller: { fn: 'transferkit deconv', argument: '--images' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).fn).toBe('transferkit deconv');
    expect((err as InvalidArgumentError).argument).toBe('--images');
    expect((err as Error).message).toMatch(/readable PNG or JPEG images.*bad\.png/);
  });
});

describe('image folders are numbered alike by every reader', () => {
  // Mixed-case class and file names: `localeCompare` (0.1.0's readImageFolder) put `a` before `B`, the CLI's plain
  // sort put `B` first, so `transferkit features` and `transferkit distill` labelled the same folders differently.
  const root = path.join(dir, 'mixed-case');
  writeSolidPng(path.join(root, 'a', 'x.png'), 2, [10, 10, 10]);
  writeSolidPng(path.join(root, 'B', 'y.png'), 2, [20, 20, 20]);
  writeSolidPng(path.join(root, 'B', 'Z.png'), 2, [30, 30, 30]);

  it('sorts classes and files in code-unit order in readImageFolder and the CLI alike', async () => {
    const read = await readImageFolder(root, { size: [2, 2], channels: 1 });
    read.x.dispose();
    const listed = await listImages(root);
    expect(read.classNames).toEqual(['B', 'a']);
    expect(listed.classes).toEqual(read.classNames);
    expect(listed.labels).toEqual(read.labels);
    expect(listed.files).toEqual(read.files);
    expect(read.files.map((f) => path.relative(root, f))).toEqual([
      path.join('B', 'Z.png'),
      path.join('B', 'y.png'),
      path.join('a', 'x.png'),
    ]);
  });
});
