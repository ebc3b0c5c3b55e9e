import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { batchesOf, isBatchSource } from '../../src/core/batches.js';
import { InvalidArgumentError } from '../../src/core/errors.js';

async function collect(
  source: Parameters<typeof batchesOf>[0],
  batchSize: number,
  keepBatches = false,
): Promise<{ shapes: number[][]; values: number[][]; owned: boolean[]; args: string[] }> {
  const out = {
    shapes: [] as number[][],
    values: [] as number[][],
    owned: [] as boolean[],
    args: [] as string[],
  };
  for await (const { batch, owned, argument } of batchesOf(source, { batchSize, keepBatches, fn: 'f' })) {
    out.shapes.push([...batch.shape]);
    out.values.push(Array.from(await batch.data()));
    out.owned.push(owned);
    out.args.push(argument);
    if (owned) batch.dispose();
  }
  return out;
}

describe('batchesOf (the one batch-source adapter)', () => {
  it('slices a tensor, stacks array images by shape, passes iterables and generators on', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 5 }, (_, i) => i),
      [5, 1, 1, 1],
    );
    const before = tf.memory().numTensors;
    const sliced = await collect(x, 2);
    expect(sliced.shapes).toEqual([
      [2, 1, 1, 1],
      [2, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
    expect(sliced.values.flat()).toEqual([0, 1, 2, 3, 4]);
    expect(sliced.owned).toEqual([true, true, true]);
    expect((await collect(x, 8)).owned).toEqual([false]);
    const imgs = [0, 1, 2].map((v) => tf.fill([1, 1, 1], v));
    const other = tf.fill([2, 1, 1, 1], 9);
    const arr = await collect([imgs[0], imgs[1], imgs[2], tf.zeros([1, 2, 2, 1]), other], 2);
    expect(arr.shapes).toEqual([
      [2, 1, 1, 1],
      [1, 1, 1, 1],
      [1, 2, 2, 1],
      [2, 1, 1, 1],
    ]);
    expect(arr.owned).toEqual([true, true, false, false]);
    expect(arr.values.flat()).toEqual([0, 1, 2, 0, 0, 0, 0, 9, 9]);
    expect(arr.args[2]).toBe('source[3]');
    const gen = await collect((bs) => [tf.ones([bs, 1, 1, 1]), tf.zeros([1, 1, 1, 1])], 3);
    expect(gen.shapes).toEqual([
      [3, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
    expect(gen.owned).toEqual([true, true]);
    expect(gen.args).toEqual(['source (batch 0)', 'source (batch 1)']);
    const kept = tf.ones([1, 1, 1, 1]);
    expect((await collect([kept][Symbol.iterator](), 4, true)).owned).toEqual([false]);
    expect(kept.isDisposed).toBe(false);
    tf.dispose([...imgs, other, kept]);
    expect(tf.memory().numTensors).toBe(before + 1 /* the zeros batch the caller made inline */);
    x.dispose();
  });

  it('rejects a non-tensor array item and a generator that returns no iterable, naming the argument', async () => {
    expect(isBatchSource(42)).toBe(false);
    expect(isBatchSource(null)).toBe(false);
    expect(isBatchSource([])).toBe(true);
    const img = tf.zeros([1, 1, 1]);
    await expect(collect([img, 'x' as unknown as tf.Tensor], 2)).rejects.toThrow(/source\[1\]/);
    await expect(collect((() => 3) as unknown as () => tf.Tensor[], 2)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    img.dispose();
  });
});
