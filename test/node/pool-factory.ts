// The model factories the pool test's workers import (functions cannot cross threads): a 4-8-8-k MLP.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { deriveSeed } from '../../src/transfer/config.js';

export function makeMlp(classes: number, seed: number): tfl.Sequential {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 8, inputShape: [4], activation: 'relu', kernelInitializer: init(seed) }),
      tfl.layers.dense({ units: 8, activation: 'relu', kernelInitializer: init(seed + 1) }),
      tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(seed + 2) }),
    ],
  });
}

/** A marker file the threads of this process see: seed 3's task writes it when it fails. */
const failedMarker = path.join(os.tmpdir(), `transferkit-pool-test-${process.pid}-failed`);

/** Removes the marker (the test calls this before and after). */
export function clearFailedMarker(): void {
  rmSync(failedMarker, { force: true });
}

/**
 * `makeMlp`, except that seed 3's task throws at once, and seed 4's task waits until it has (at most 20 s), so that it
 * is still running in its thread when the other task fails.
 */
export function failsOnSeed3(classes: number, seed: number): tfl.Sequential {
  if (seed === deriveSeed(3, 'baseA')) {
    writeFileSync(failedMarker, '');
    throw new Error('factory refuses seed 3');
  }
  if (seed === deriveSeed(4, 'baseA')) {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let t = 0; t < 2000 && !existsSync(failedMarker); t++) Atomics.wait(cell, 0, 0, 10);
  }
  return makeMlp(classes, seed);
}
