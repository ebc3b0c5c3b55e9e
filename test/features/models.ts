/** Tiny models for the feature tests. */
import * as tfl from '@tensorflow/tfjs-layers';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** conv(3x3, 4) -> maxpool -> conv(3x3, 6) -> flatten -> dense(5) -> dense(3), input 10x10x2. */
export function tinyCnn(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [10, 10, 2],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv1',
        kernelInitializer: init(1),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({
        filters: 6,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv2',
        kernelInitializer: init(2),
      }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 5, activation: 'relu', name: 'fc1', kernelInitializer: init(3) }),
      tfl.layers.dense({ units: 3, name: 'logits', kernelInitializer: init(4) }),
    ],
  });
}

/** A backbone (conv -> avg pool) as the first layer of a Sequential, then a head. */
export function nestedFirst(): { model: tfl.Sequential; backbone: tfl.Sequential } {
  const backbone = tfl.sequential({
    name: 'backbone',
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        name: 'bconv',
        kernelInitializer: init(5),
      }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
    ],
  });
  const model = tfl.sequential({
    layers: [backbone, tfl.layers.dense({ units: 2, name: 'head', kernelInitializer: init(6) })],
  });
  return { model, backbone };
}

/** A functional model with a nested model applied in the middle (its inner tensors are not in the outer graph). */
export function nestedMiddle(): { model: tfl.LayersModel; inner: tfl.LayersModel } {
  const ii = tfl.input({ shape: [6, 6, 2] });
  const a = tfl.layers
    .conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'iconv', kernelInitializer: init(7) })
    .apply(ii) as tfl.SymbolicTensor;
  const b = tfl.layers.flatten({ name: 'iflat' }).apply(a) as tfl.SymbolicTensor;
  const inner = tfl.model({ inputs: ii, outputs: b, name: 'inner' });
  const x = tfl.input({ shape: [6, 6, 2] });
  const pre = tfl.layers
    .conv2d({ filters: 2, kernelSize: 1, name: 'pre', kernelInitializer: init(8) })
    .apply(x) as tfl.SymbolicTensor;
  const mid = inner.apply(pre) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 2, name: 'out', kernelInitializer: init(9) })
    .apply(mid) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: x, outputs: out }), inner };
}

/** Counts calls of every layer's `call` (to prove one forward pass). Returns the counter and an undo. */
export function countCalls(layers: tfl.layers.Layer[]): { counts: Map<string, number>; restore: () => void } {
  const counts = new Map<string, number>();
  const undo: (() => void)[] = [];
  for (const layer of layers) {
    const original = layer.call.bind(layer);
    counts.set(layer.name, 0);
    layer.call = (inputs, kwargs) => {
      counts.set(layer.name, (counts.get(layer.name) ?? 0) + 1);
      return original(inputs, kwargs);
    };
    undo.push(() => {
      delete (layer as unknown as { call?: unknown }).call;
    });
  }
  return {
    counts,
    restore: () => {
      for (const u of undo) u();
    },
  };
}
