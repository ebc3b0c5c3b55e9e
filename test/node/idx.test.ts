import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { encodeIdx, IdxFormatError, readIdx } from '../../src/node.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A hand-written IDX file: magic 00 00 <type> <rank>, big-endian dims, then the data bytes. */
function handmade(type: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    out[4 + 4 * i] = (d >>> 24) & 255;
    out[5 + 4 * i] = (d >>> 16) & 255;
    out[6 + 4 * i] = (d >>> 8) & 255;
    out[7 + 4 * i] = d & 255;
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}

async function problemOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IdxFormatError);
    return (e as IdxFormatError).problem;
  }
  throw new Error('expected an IdxFormatError');
}

describe('readIdx', () => {
  it('reads a hand-written uint8 file from a path and from bytes', async () => {
    const bytes = handmade(0x08, [2, 3], [1, 2, 3, 250, 251, 255]);
    const file = path.join(dir, 'tiny-idx2-ubyte');
    writeFileSync(file, bytes);
    for (const r of [await readIdx(file), await readIdx(bytes)]) {
      expect(r.type).toBe('uint8');
      expect(r.dims).toEqual([2, 3]);
      expect(Array.from(r.data)).toEqual([1, 2, 3, 250, 251, 255]);
    }
  });

  it('decodes big-endian int16 / int32 / float32 / float64 and int8', async () => {
    // int16 -2 = FF FE; 258 = 01 02
    expect(Array.from((await readIdx(handmade(0x0b, [2], [0xff, 0xfe, 0x01, 0x02]))).data)).toEqual([
      -2, 258,
    ]);
    // int32 -1 and 65536
    const i32 = await readIdx(handmade(0x0c, [2], [255, 255, 255, 255, 0, 1, 0, 0]));
    expect(Array.from(i32.data)).toEqual([-1, 65536]);
    // float32 1.5 = 3F C0 00 00
    expect(Array.from((await readIdx(handmade(0x0d, [1], [0x3f, 0xc0, 0, 0]))).data)).toEqual([1.5]);
    // float64 -2 = C0 00 00 00 00 00 00 00
    expect(Array.from((await readIdx(handmade(0x0e, [1], [0xc0, 0, 0, 0, 0, 0, 0, 0]))).data)).toEqual([-2]);
    expect(Array.from((await readIdx(handmade(0x09, [2], [0xff, 0x7f]))).data)).toEqual([-1, 127]);
  });

  it('reads gzip files (detected from the content) and round-trips encodeIdx', async () => {
    const data = new Float32Array([0.25, -3, 1e6, 7, 8, 9]);
    const bytes = encodeIdx({ type: 'float32', dims: [3, 2], data });
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0, 0x0d, 2]);
    const file = path.join(dir, 'f.idx.gz');
    writeFileSync(file, gzipSync(bytes));
    const r = await readIdx(file);
    expect(r.dims).toEqual([3, 2]);
    expect(Array.from(r.data)).toEqual(Array.from(data));
    const u8 = handmade(0x08, [4], [9, 8, 7, 6]);
    expect(Array.from((await readIdx(gzipSync(u8))).data)).toEqual([9, 8, 7, 6]);
  });

  it('rejects bad magic, unknown types, zero dims, truncated and over-long files with typed errors', async () => {
    const good = handmade(0x08, [2, 2], [1, 2, 3, 4]);
    const badMagic = good.slice();
    badMagic[0] = 1;
    expect(await problemOf(readIdx(badMagic))).toBe('magic');
    const badType = good.slice();
    badType[2] = 0x0a;
    expect(await problemOf(readIdx(badType))).toBe('type');
    expect(await problemOf(readIdx(handmade(0x08, [], [])))).toBe('dims');
    expect(await problemOf(readIdx(good.subarray(0, 7)))).toBe('length'); // ends inside the header
    expect(await problemOf(readIdx(good.subarray(0, good.length - 1)))).toBe('length');
    expect(await problemOf(readIdx(new Uint8Array([...good, 0])))).toBe('length');
    const file = path.join(dir, 'truncated');
    writeFileSync(file, good.subarray(0, good.length - 2));
    await expect(readIdx(file)).rejects.toThrow(/declare 4 bytes of data .* holds 2/);
    // gzip: truncated stream, and a stream holding more or less than declared
    const gz = gzipSync(good);
    expect(await problemOf(readIdx(gz.subarray(0, gz.length - 6)))).toBe('gzip');
    expect(await problemOf(readIdx(gzipSync(good.subarray(0, good.length - 1))))).toBe('length');
    expect(await problemOf(readIdx(gzipSync(new Uint8Array([...good, 5]))))).toBe('length');
  });

  it('refuses huge declared sizes before allocating (raw against the file length, gzip against maxBytes)', async () => {
    const huge = handmade(0x08, [0xffffffff, 0xffffffff, 28], [1, 2, 3]);
    expect(await problemOf(readIdx(huge))).toBe('limit');
    const file = path.join(dir, 'huge');
    writeFileSync(file, handmade(0x0e, [100000, 1000], [1]));
    expect(await problemOf(readIdx(file, { maxBytes: 2 ** 40 }))).toBe('length');
    expect(await problemOf(readIdx(gzipSync(handmade(0x08, [1000, 1000], [1])), { maxBytes: 1000 }))).toBe(
      'limit',
    );
    await expect(readIdx(good(), { maxBytes: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(readIdx(42 as unknown as string)).rejects.toThrow(InvalidArgumentError);
    function good() {
      return handmade(0x08, [1], [1]);
    }
  });

  it('encodeIdx rejects data that does not match its dims', () => {
    expect(() => encodeIdx({ type: 'uint8', dims: [2, 2], data: new Uint8Array(3) })).toThrow(
      InvalidArgumentError,
    );
    expect(() => encodeIdx({ type: 'uint8', dims: [1.5], data: new Uint8Array(1) })).toThrow(
      InvalidArgumentError,
    );
  });
});
