import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { decodePng, encodePng, pngDataUri, toRgbaGrid } from '../../src/internal.js';
import { readPng, writePng } from '../../src/node.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tk-png-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('PNG encoding', () => {
  const grid = toRgbaGrid(
    { data: Array.from({ length: 3 * 5 * 4 }, (_, i) => i % 7), count: 3, height: 5, width: 4, channels: 1 },
    { cols: 2, scale: 2 },
  );

  it('round-trips an RGBA grid through pngjs decoding', async () => {
    const bytes = encodePng(grid);
    const decoded = PNG.sync.read(bytes);
    expect([decoded.width, decoded.height]).toEqual([grid.width, grid.height]);
    expect(Buffer.compare(decoded.data, Buffer.from(grid.data))).toBe(0);
    const mine = decodePng(bytes);
    expect(Array.from(mine.data)).toEqual(Array.from(grid.data));
    await writePng(path.join(tmp, 'sub', 'g.png'), grid);
    const read = await readPng(path.join(tmp, 'sub', 'g.png'));
    expect(Array.from(read.data)).toEqual(Array.from(grid.data));
  });

  it('makes data URIs that decode back to the image', () => {
    const uri = pngDataUri(grid);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    const back = decodePng(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'));
    expect(back.width).toBe(grid.width);
  });

  it('rejects inconsistent images and non-PNG bytes', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8ClampedArray(3) })).toThrow(/16 RGBA bytes/);
    expect(() => decodePng(new Uint8Array([1, 2, 3]))).toThrow(InvalidArgumentError);
  });
});
