// A progress callback's return value must not steer training: `onProgress` is typed `(event) => void`, and TypeScript
// lets an expression-bodied arrow that returns `true` (e.g. `(e) => port.postMessage(e) ?? true`) satisfy it. The
// training loop reads `true` from its own onStep as "stop"; trainClassifier and trainWithGroups used to forward the
// user's return value there, so such a callback silently ended training after the first step.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ProgressCallback } from '../../src/index.js';
import { trainWithGroups } from '../../src/transfer/index.js';
import { trainClassifier } from '../../src/zoo/index.js';
import { mlp, toyData } from '../transfer/models.js';

// Returns true from every call, as a callback built from a truthy expression would.
function truthyProgress(events: string[]): ProgressCallback {
  return ((e: { phase: string }) => {
    events.push(e.phase);
    return true;
  }) as unknown as ProgressCallback;
}

describe('progress callbacks that return a value', () => {
  it('trainClassifier runs every step and epoch whatever onProgress returns', async () => {
    const data = toyData(32);
    const model = mlp();
    const events: string[] = [];
    const y = tf.tensor1d(data.labels, 'int32');
    const h = await trainClassifier(model, data.x, y, {
      epochs: 2,
      batchSize: 8,
      seed: 1,
      onProgress: truthyProgress(events),
    });
    expect(h.epochs.length).toBe(2);
    expect(events.filter((p) => p === 'train').length).toBe(8); // 4 batches x 2 epochs
    model.dispose();
    data.x.dispose();
    y.dispose();
  });

  it('trainWithGroups runs every step whatever onProgress returns', async () => {
    const data = toyData(32);
    const model = mlp();
    const events: string[] = [];
    await trainWithGroups(model, data, {
      epochs: 2,
      batchSize: 8,
      learningRate: 0.05,
      seed: 1,
      onProgress: truthyProgress(events),
    });
    expect(events.filter((p) => p === 'train').length).toBe(8);
    model.dispose();
    data.x.dispose();
  });
});
