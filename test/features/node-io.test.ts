import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeatureMatrix } from '../../src/features/matrix.js';
import { loadFeatures, saveFeatures } from '../../src/node/features-io.js';

describe('feature files on disk', () => {
  it('saves and loads back matrices, labels and metadata', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-feat-'));
    try {
      const file = path.join(dir, 'sub', 'f.tkf');
      const m = new FeatureMatrix(2, 3, new Float32Array([0.5, -1, 2, 3, 4, -5.25]), 'fc1');
      await saveFeatures(file, [m], { labels: [1, 0], meta: { tap: 'fc1' } });
      const back = await loadFeatures(file);
      expect(Array.from(back.matrices[0].data)).toEqual(Array.from(m.data));
      expect(Array.from(back.labels ?? [])).toEqual([1, 0]);
      expect(back.meta).toEqual({ tap: 'fc1' });
      await expect(loadFeatures(path.join(dir, 'missing.tkf'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replaces an existing file by a rename (a reader keeps the old file or sees the new one, never a part)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-feat-'));
    try {
      const file = path.join(dir, 'f.tkf');
      await writeFile(file, 'old contents');
      const before = await stat(file);
      const m = new FeatureMatrix(1, 2, new Float32Array([1, 2]), 'fc1');
      await saveFeatures(file, [m]);
      // an in-place write keeps the inode; temp file + rename gives the path a new one
      expect((await stat(file)).ino).not.toBe(before.ino);
      expect(Array.from((await loadFeatures(file)).matrices[0].data)).toEqual([1, 2]);
      expect(await readdir(dir)).toEqual(['f.tkf']); // no temporary file left behind
      expect((await readFile(file)).subarray(0, 8).toString('latin1')).toBe('TKFEATS1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
