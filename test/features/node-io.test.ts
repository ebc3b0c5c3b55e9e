import { mkdtemp, rm } from 'node:fs/promises';
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
});
