import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FinetuneCliOptions, runFinetuneCommand } from '../../src/cli/finetune.js';
import { modelRows } from '../../src/cli/models.js';
import { runPatchesCommand } from '../../src/cli/patches.js';
import { runPredictCommand } from '../../src/cli/predict.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import { readPng } from '../../src/node/png.js';
import { saveLayersModelTo } from '../../src/node/pretrained.js';
import { backendName, expectThrowsNoLeak } from '../helpers.js';
import { tinyBackbone, writeColourFolder } from './fixtures.js';

let dir = '';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function opts(over: Partial<FinetuneCliOptions>): FinetuneCliOptions {
  return {
    model: path.join(dir, 'backbone', 'model.json'),
    unfreeze: 0,
    augment: false,
    epochs: 30,
    fineTuneEpochs: 2,
    batchSize: 16,
    learningRate: 0.03,
    valFraction: 0.2,
    out: path.join(dir, 'out'),
    cache: path.join(dir, 'cache'),
    seed: 1,
    backend: backendName(),
    progress: false,
    ...over,
  };
}

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  try {
    return { value: await fn(), stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tk-finetune-'));
  const net = tinyBackbone();
  await saveLayersModelTo(net, path.join(dir, 'backbone'));
  net.dispose();
  // Mixed sizes (12 and 16 pixels: resized to the model's 12x12) and a stray text file.
  await writeColourFolder(path.join(dir, 'images'), 15, 1, [12, 16]);
  await writeFile(path.join(dir, 'images', 'red', 'notes.txt'), 'not an image');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('transferkit finetune / predict / models', () => {
  it('fine-tunes a folder, writes every output file, and predicts with the saved model', async () => {
    const before = tf.memory().numTensors;
    const {
      value: m,
      stdout,
      stderr,
    } = await quiet(() => runFinetuneCommand(opts({ images: path.join(dir, 'images') })));
    expect(stdout).toMatch(/36 training \/ 9 validation images, 3 classes: val accuracy/);
    expect(stderr).toMatch(/skipped 1 non-image file.*notes\.txt/);
    expect(stderr).toMatch(/head epoch 1\/30: loss/);
    expect(m.valAccuracy as number).toBeGreaterThanOrEqual(0.75);
    const out = path.join(dir, 'out');
    expect((await readdir(out)).sort()).toEqual([
      'classes.json',
      'confusion.svg',
      'metrics.json',
      'model.json',
      'summary.html',
      'weights.bin',
    ]);
    // No temporary folder is left beside it.
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    expect(JSON.parse(await readFile(path.join(out, 'classes.json'), 'utf8'))).toEqual([
      'blue',
      'green',
      'red',
    ]);
    const metrics = JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.val.files).toHaveLength(9);
    expect(await readFile(path.join(out, 'confusion.svg'), 'utf8')).toMatch(/^<svg/);
    expect(await readFile(path.join(out, 'summary.html'), 'utf8')).toMatch(/Validation accuracy/);
    expect(tf.memory().numTensors).toBe(before);

    // predict: the saved model agrees with the metrics it was saved with.
    const files = metrics.val.files as string[];
    const { value: preds, stdout: json } = await quiet(() =>
      runPredictCommand({ model: out, inputs: files, topK: 2, format: 'json', backend: backendName() }),
    );
    expect(JSON.parse(json)).toHaveLength(9);
    const names = ['blue', 'green', 'red'];
    preds.forEach((p, i) => {
      expect(p.top).toHaveLength(2);
      expect(p.top[0].probability).toBeGreaterThanOrEqual(p.top[1].probability);
      expect(p.top[0].className).toBe(names[metrics.val.predicted[i]]);
    });
    const { stdout: csv } = await quiet(() =>
      runPredictCommand({
        model: out,
        inputs: [path.join(dir, 'images', 'red')],
        topK: 1,
        format: 'csv',
        backend: backendName(),
      }),
    );
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('file,rank,class,probability');
    expect(lines).toHaveLength(16);
    expect(tf.memory().numTensors).toBe(before);

    // A second run reads every feature chunk from the cache.
    const { stdout: again } = await quiet(() =>
      runFinetuneCommand(opts({ images: path.join(dir, 'images') })),
    );
    expect(again).toMatch(/1\/1 chunks cached/);
  });

  it('scores multi-scale patches with the saved model and writes a localisation map per image', async () => {
    const before = tf.memory().numTensors;
    const images = [path.join(dir, 'images', 'red', '000.png'), path.join(dir, 'images', 'blue', '001.png')];
    const out = path.join(dir, 'patches');
    const { value: res } = await quiet(() =>
      runPatchesCommand({
        model: path.join(dir, 'out'),
        inputs: images,
        out,
        scales: 3,
        power: 5,
        activation: 'none',
        backend: backendName(),
      }),
    );
    expect(res.map((r) => r.top)).toEqual(['red', 'blue']);
    const saved = JSON.parse(await readFile(path.join(out, 'scores.json'), 'utf8'));
    expect(saved.size).toBe(24); // twice the 12-pixel model input
    expect(saved.images).toHaveLength(2);
    for (const r of res) {
      // Power means of probabilities lie in [0, 1].
      for (const v of Object.values(r.scores)) expect(v).toBeGreaterThanOrEqual(0);
      for (const v of Object.values(r.scores)) expect(v).toBeLessThanOrEqual(1);
      const png = await readPng(path.join(out, r.map));
      expect([png.width, png.height]).toEqual([24, 24]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input with typed errors', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await expectThrowsNoLeak(
      () => quiet(() => runFinetuneCommand(opts({ images: empty }))),
      InvalidArgumentError,
      /PNG\/JPEG/,
    );
    const one = path.join(dir, 'one');
    await writeColourFolder(one, 2, 1);
    await rm(path.join(one, 'green'), { recursive: true });
    await rm(path.join(one, 'blue'), { recursive: true });
    await expectThrowsNoLeak(
      () => quiet(() => runFinetuneCommand(opts({ images: one }))),
      InvalidArgumentError,
      /at least two classes/,
    );
    const broken = path.join(dir, 'broken');
    await writeColourFolder(broken, 3, 1);
    await writeFile(path.join(broken, 'red', 'bad.png'), 'this is not a png');
    await expectThrowsNoLeak(
      () => quiet(() => runFinetuneCommand(opts({ images: broken }))),
      InvalidArgumentError,
      /1 unreadable or non-image file\(s\): .*bad\.png/,
    );
    const blocker = path.join(dir, 'blocker');
    await writeFile(blocker, 'a file');
    await expectThrowsNoLeak(
      () =>
        quiet(() =>
          runFinetuneCommand(opts({ images: path.join(dir, 'images'), out: path.join(blocker, 'out') })),
        ),
      InvalidArgumentError,
      /--out.*is a file/,
    );
    const dense = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
    await saveLayersModelTo(dense, path.join(dir, 'dense'));
    dense.dispose();
    await expectThrowsNoLeak(
      () =>
        quiet(() =>
          runFinetuneCommand(
            opts({ images: path.join(dir, 'images'), model: path.join(dir, 'dense', 'model.json') }),
          ),
        ),
      ShapeMismatchError,
      /image input/,
    );
    await expectThrowsNoLeak(
      () =>
        quiet(() =>
          runFinetuneCommand(opts({ images: path.join(dir, 'images'), train: path.join(dir, 'images') })),
        ),
      InvalidArgumentError,
      /--images, or both --train and --val/,
    );
  });

  it('lists the built-in backbones', () => {
    const rows = modelRows();
    expect(rows.map((r) => r.name)).toEqual(['mobilenet_v2', 'inception_v3', 'mobilenet_v2_mid']);
    expect(rows[0]).toMatchObject({ inputSize: 224, featureLayer: 'flatten_1', featureDim: 1280 });
  });

  // One process start is slow (~10 s on the shared machine): once, in the cpu project.
  it.skipIf(backendName() !== 'cpu')(
    'exits with code 2 and a one-line error from the real command line',
    async () => {
      const run = promisify(execFile);
      const err = await run(
        process.execPath,
        [
          path.join(root, 'node_modules/tsx/dist/cli.mjs'),
          path.join(root, 'src/cli.ts'),
          'finetune',
          '--model',
          path.join(dir, 'backbone', 'model.json'),
          '--images',
          path.join(dir, 'nowhere'),
          '--backend',
          'cpu',
        ],
        { cwd: dir },
      ).catch((e) => e as { code: number; stderr: string });
      expect((err as { code: number }).code).toBe(2);
      const lines = (err as { stderr: string }).stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^transferkit: Invalid `--images`.*an existing folder/);
    },
  );
});
