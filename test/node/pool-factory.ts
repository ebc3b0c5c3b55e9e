// The model factory the pool test's workers import (functions cannot cross threads): a 4-8-8-k MLP.
import * as tfl from '@tensorflow/tfjs-layers';

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
