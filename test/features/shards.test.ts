import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { featuresCommand } from '../../src/cli/features.js';
import { mergeCommand } from '../../src/cli/merge.js';
import { loadModelArg, parseShard, shardBaseName, shardFromEnv, shardRange } from '../../src/internal.js';
import { writePng } from '../../src/node/png.js';
import { saveLayersModelTo } from '../../src/node/pretrained.js';
import {
  type ExtractionSpec,
  extractFeatures,
  mergeFeatures,
  saveFeatureShard,
  saveFeatures,
} from '../../src/node.js';
import { backendName } from '../helpers.js';

let dir = '';
let modelPath = '';
let images = '';

/** A tiny CNN and 3 classes x 7 images of 10x10 with per-image content (so rows differ). */
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tk-shards-'));
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv',
        kernelInitializer: init(1),
      }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 5, activation: 'relu', name: 'fc', kernelInitializer: init(2) }),
      tfl.layers.dense({ units: 3, name: 'out', kernelInitializer: init(3) }),
    ],
  });
  await saveLayersModelTo(model, path.join(dir, 'model'));
  model.dispose();
  modelPath = path.join(dir, 'model', 'model.json');
  images = path.join(dir, 'images');
  for (const [c, cls] of ['a', 'b', 'c'].entries()) {
    for (let i = 0; i < 7; i++) {
      const data = new Uint8ClampedArray(10 * 10 * 4).map((_, k) =>
        k % 4 === 3 ? 255 : (c * 70 + ((k * (i + 3) * 7 + i * 31) % 90)) % 256,
      );
      await writePng(path.join(images, cls, `img${i}.png`), { width: 10, height: 10, data });
    }
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await f();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const common = () => [
  '--model',
  modelPath,
  '--images',
  images,
  '--tap',
  'conv',
  '--tap',
  'fc',
  '--pool',
  'avg',
  '--norm',
  'l2',
  '--memory-mb',
  '0.01', // a few images per batch: shards and the single run batch differently
  '--backend',
  backendName(),
];

describe('shard arithmetic', () => {
  it('splits rows into contiguous, balanced, complete ranges', () => {
    for (const [total, count] of [
      [10, 3],
      [7, 7],
      [1000, 6],
      [5, 1],
    ]) {
      let next = 0;
      const sizes: number[] = [];
      for (let index = 0; index < count; index++) {
        const r = shardRange(total, { index, count });
        expect(r.start).toBe(next);
        next = r.end;
        sizes.push(r.end - r.start);
      }
      expect(next).toBe(total);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('parses i/n and the Indexed-Job environment, rejecting bad specs', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(shardBaseName({ index: 2, count: 8 })).toBe('shard-00002-of-00008');
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, 4)).toEqual({ index: 3, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', TRANSFERKIT_SHARD_COUNT: '2' })).toEqual({
      index: 1,
      count: 2,
    });
    expect(shardFromEnv({})).toBeUndefined();
    expect(() => parseShard('4/4')).toThrow(/Expected 'i\/n' with 0 <= i < n.*Received: "4\/4"/);
    expect(() => parseShard('a/4')).toThrow(/parseShard/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow(/shard count/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '5' }, 4)).toThrow(/JOB_COMPLETION_INDEX/);
    expect(() => shardRange(-1, { index: 0, count: 1 })).toThrow(/total/);
  });
});

describe('sharded extraction and merge', () => {
  it('merges CLI shards (--shard and JOB_COMPLETION_INDEX) into the single-process file, byte for byte', async () => {
    const before = tf.getBackend();
    const single = path.join(dir, 'single.tkf');
    const shards = path.join(dir, 'cli-shards');
    const merged = path.join(dir, 'merged.tkf');
    await quiet(async () => {
      await featuresCommand().parseAsync([...common(), '--out', single], { from: 'user' });
      // Shards in reverse order, one of them through the Kubernetes environment variable.
      await featuresCommand().parseAsync([...common(), '--shard', '2/3', '--out', shards], { from: 'user' });
      vi.stubEnv('JOB_COMPLETION_INDEX', '1');
      try {
        await featuresCommand().parseAsync([...common(), '--shard-count', '3', '--out', shards], {
          from: 'user',
        });
      } finally {
        vi.unstubAllEnvs();
      }
      await featuresCommand().parseAsync([...common(), '--shard', '0/3', '--out', shards], { from: 'user' });
      await mergeCommand().parseAsync([shards, '--out', merged], { from: 'user' });
    });
    tf.setBackend(before);
    const names = (await readdir(shards)).sort();
    expect(names).toEqual([
      'shard-00000-of-00003.json',
      'shard-00000-of-00003.tkf',
      'shard-00001-of-00003.json',
      'shard-00001-of-00003.tkf',
      'shard-00002-of-00003.json',
      'shard-00002-of-00003.tkf',
    ]);
    const a = await readFile(single);
    const b = await readFile(merged);
    expect(b.length).toBe(a.length);
    expect(Buffer.compare(a, b)).toBe(0);
    const m = JSON.parse(await readFile(path.join(shards, 'shard-00001-of-00003.json'), 'utf8'));
    expect(m).toMatchObject({ index: 1, count: 3, total: 21, start: 7, end: 14, rowMeta: ['files'] });
    expect(m.options).toMatchObject({ taps: ['conv', 'fc'], pool: 'avg', norm: 'l2' });
  });

  describe('bad shard folders', () => {
    let loaded: Awaited<ReturnType<typeof loadModelArg>>;
    const spec = (extra: Partial<ExtractionSpec> = {}): ExtractionSpec => ({
      model: modelPath,
      images,
      taps: ['fc'],
      ...extra,
    });
    /** Writes all `count` shards of `s` into a fresh folder. */
    async function shardsOf(name: string, s: ExtractionSpec, count: number): Promise<string> {
      const out = path.join(dir, name);
      for (let index = 0; index < count; index++) {
        const shard = { index, count };
        const r = await extractFeatures(s, { shard, loaded });
        await saveFeatureShard(out, shard, r.matrices, r);
      }
      return out;
    }
    let good = '';
    beforeAll(async () => {
      loaded = await loadModelArg(modelPath);
      good = await shardsOf('good', spec(), 3);
    });
    afterAll(() => loaded.model.dispose());

    async function variant(name: string, change: (d: string) => Promise<void>): Promise<string> {
      const d = path.join(dir, name);
      await mkdir(d, { recursive: true });
      for (const f of await readdir(good)) await copyFile(path.join(good, f), path.join(d, f));
      await change(d);
      return d;
    }

    it('the library merge equals the library single-process save', async () => {
      const whole = await extractFeatures(spec(), { loaded });
      await saveFeatures(path.join(dir, 'lib-single.tkf'), whole.matrices, {
        labels: whole.labels,
        meta: whole.meta,
      });
      const { bytes, shards } = await mergeFeatures(good);
      expect(shards).toBe(3);
      expect(Buffer.compare(Buffer.from(bytes), await readFile(path.join(dir, 'lib-single.tkf')))).toBe(0);
    });

    it('a missing shard is named', async () => {
      const d = await variant('missing', async (d) => {
        await rm(path.join(d, 'shard-00001-of-00003.json'));
        await rm(path.join(d, 'shard-00001-of-00003.tkf'));
      });
      await expect(mergeFeatures(d)).rejects.toThrow(/`shard-00001-of-00003\.tkf`.*Received: "missing"/);
    });

    it('a shard without its manifest (unfinished write) is named', async () => {
      const d = await variant('unfinished', (d) => rm(path.join(d, 'shard-00002-of-00003.json')));
      await expect(mergeFeatures(d)).rejects.toThrow(/`shard-00002-of-00003\.tkf`.*no manifest/);
    });

    it('a truncated shard is named', async () => {
      const d = await variant('truncated', (d) => truncate(path.join(d, 'shard-00000-of-00003.tkf'), 100));
      await expect(mergeFeatures(d)).rejects.toThrow(/`shard-00000-of-00003\.tkf`.*100 bytes \(truncated/);
    });

    it('a corrupted shard (same size) fails its checksum', async () => {
      const d = await variant('corrupt', async (d) => {
        const f = path.join(d, 'shard-00001-of-00003.tkf');
        const b = await readFile(f);
        b[b.length - 3] ^= 0xff;
        await writeFile(f, b);
      });
      await expect(mergeFeatures(d)).rejects.toThrow(/`shard-00001-of-00003\.tkf`.*SHA-256/);
    });

    it('a foreign shard (another input) and a shard with other options are named', async () => {
      const other = await shardsOf('other-input', { ...spec(), images: path.join(images, 'a') }, 3);
      const d1 = await variant('foreign', async (d) => {
        for (const ext of ['tkf', 'json'])
          await copyFile(
            path.join(other, `shard-00002-of-00003.${ext}`),
            path.join(d, `shard-00002-of-00003.${ext}`),
          );
      });
      await expect(mergeFeatures(d1)).rejects.toThrow(/`shard-00002-of-00003\.tkf`.*same input/);
      const l2 = await shardsOf('other-options', spec({ norm: 'l2' }), 3);
      const d2 = await variant('mismatch', async (d) => {
        for (const ext of ['tkf', 'json'])
          await copyFile(
            path.join(l2, `shard-00001-of-00003.${ext}`),
            path.join(d, `shard-00001-of-00003.${ext}`),
          );
      });
      await expect(mergeFeatures(d2)).rejects.toThrow(
        /`shard-00001-of-00003\.tkf`.*options.*norm: "none".*Received: norm: "l2"/,
      );
    });

    it('shards of a different split and empty folders are rejected', async () => {
      const d = await variant('mixed', async (d) => {
        const two = await shardsOf('two', spec(), 2);
        await copyFile(
          path.join(two, 'shard-00000-of-00002.json'),
          path.join(d, 'shard-00000-of-00002.json'),
        );
        await copyFile(path.join(two, 'shard-00000-of-00002.tkf'), path.join(d, 'shard-00000-of-00002.tkf'));
      });
      await expect(mergeFeatures(d)).rejects.toThrow(/shard-0000\d-of-0000\d\.tkf.*a shard of/);
      await mkdir(path.join(dir, 'empty'), { recursive: true });
      await expect(mergeFeatures(path.join(dir, 'empty'))).rejects.toThrow(/mergeFeatures.*manifests/);
      await expect(extractFeatures(spec(), { loaded, shard: { index: 0, count: 22 } })).rejects.toThrow(
        /at most 21 shards/,
      );
    });

    it('a corrupt image is reported by file name', async () => {
      const bad = path.join(dir, 'bad-images');
      await mkdir(path.join(bad, 'x'), { recursive: true });
      await copyFile(path.join(images, 'a', 'img0.png'), path.join(bad, 'x', 'good.png'));
      await writeFile(path.join(bad, 'x', 'broken.png'), 'not a png');
      const n = tf.memory().numTensors;
      await expect(extractFeatures(spec({ images: bad }), { loaded })).rejects.toThrow(/broken\.png/);
      expect(tf.memory().numTensors).toBe(n);
    });

    it('extracts from a list file with labels', async () => {
      const list = path.join(dir, 'list.txt');
      await writeFile(list, 'images/b/img1.png\t4\nimages/a/img0.png\t0\n');
      const r = await extractFeatures({ model: modelPath, list, taps: ['fc'] }, { loaded });
      expect(r.labels).toEqual([4, 0]);
      expect(r.meta.files).toEqual(['images/b/img1.png', 'images/a/img0.png']);
      expect((r.meta.classes as string[]).length).toBe(5);
      const whole = await extractFeatures(spec(), { loaded });
      // Row 0 of the list is b/img1 = row 8 of the folder (a: 0-6, b: 7-13).
      expect(Array.from(r.matrices[0].data.subarray(0, 5))).toEqual(
        Array.from(whole.matrices[0].data.subarray(8 * 5, 9 * 5)),
      );
      await writeFile(list, 'images/a/img0.png\tcat\n');
      await expect(extractFeatures({ model: modelPath, list }, { loaded })).rejects.toThrow(/line 1/);
    });
  });
});
