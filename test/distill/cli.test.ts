import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { runDistillCommand } from '../../src/cli/distill.js';
import { InvalidArgumentError } from '../../src/index.js';
import { saveLayersModelTo, writePng } from '../../src/node.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-distill-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Class 0: a bright left half; class 1: a bright right half (8x8 PNGs). */
async function writeImages(root: string): Promise<void> {
  for (const [c, name] of ['left', 'right'].entries()) {
    await mkdir(path.join(root, name), { recursive: true });
    for (let i = 0; i < 8; i++) {
      const data = new Uint8ClampedArray(8 * 8 * 4);
      for (let p = 0; p < 64; p++) {
        const x = p % 8;
        const on = c === 0 ? x < 4 : x >= 4;
        const v = on ? 200 + ((i * 7 + p) % 50) : (i * 13 + p) % 40;
        data.set([v, v, v, 255], p * 4);
      }
      await writePng(path.join(root, name, `${i}.png`), { width: 8, height: 8, data });
    }
  }
}

function base() {
  return {
    hidden: [6],
    temperature: 2,
    alpha: 0.5,
    epochs: 3,
    batchSize: 4,
    lr: 0.01,
    jitter: 0,
    valFraction: 0.25,
    seed: 0,
    backend: tf.getBackend(),
    progress: false,
  };
}

describe('transferkit distill (CLI)', () => {
  it('distils a saved teacher into an MLP over a folder of PNGs and saves the student', async () => {
    const images = path.join(dir, 'images');
    await writeImages(images);
    // A teacher that knows the rule: the mean of the right half minus the left half.
    const teacher = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [8, 8, 1] }), tfl.layers.dense({ units: 2, useBias: false })],
    });
    const w = Array.from({ length: 64 }, (_, p) => (p % 8 < 4 ? [4 / 32, -4 / 32] : [-4 / 32, 4 / 32]));
    teacher.layers[1].setWeights([tf.tensor2d(w)]);
    const teacherDir = path.join(dir, 'teacher');
    await saveLayersModelTo(teacher, teacherDir);
    teacher.dispose();
    const out = path.join(dir, 'student');
    const before = tf.memory().numTensors;
    const metrics = await runDistillCommand({
      ...base(),
      teacher: path.join(teacherDir, 'model.json'),
      images,
      out,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(metrics).toMatchObject({
      examples: 16,
      transfer: 12,
      validation: 4,
      classNames: ['left', 'right'],
    });
    expect(metrics.teacherErrors).toBe(0);
    expect(existsSync(path.join(out, 'model.json'))).toBe(true);
    const saved = JSON.parse(readFileSync(path.join(out, 'distill.json'), 'utf8'));
    expect(saved.epochs).toHaveLength(3);
  });

  it('fails with clear errors for missing files and conflicting inputs', async () => {
    await expect(
      runDistillCommand({ ...base(), teacher: path.join(dir, 'nope.json'), images: dir, out: dir }),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(
      runDistillCommand({ ...base(), teacher: path.join(dir, 'nope.json'), images: dir, out: dir }),
    ).rejects.toThrow(/--teacher.*an existing file.*nope\.json/);
    await expect(runDistillCommand({ ...base(), teacher: 'x', out: dir })).rejects.toThrow(
      /exactly one of them/,
    );
  });
});
