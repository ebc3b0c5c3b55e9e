/**
 * Seeded dropout masks while transferkit trains a model. tfjs-layers' `Dropout` draws its masks from an unseeded
 * generator, so two trainings with the same seed end with different weights; and a `seed` in its config does not
 * help, as `tf.dropout(x, rate, noiseShape, seed)` with a fixed seed draws the SAME mask on every call (the layer
 * would drop the same units at every step).
 *
 * {@link seedDropoutMasks} gives every `Dropout` (and `SpatialDropout1D`) layer of a model, nested models included,
 * a mask stream of its own for the length of a training run: the k-th training-mode call of a layer draws its mask
 * with the seed `'<layer stream>:<k>'`, where the layer's stream comes from the training seed and the layer's place
 * in the model. Masks therefore differ from step to step and from layer to layer, and repeat from run to run; they
 * are the same on every backend (`tf.randomUniform` with a seed is plain JavaScript, seedrandom's alea, the same
 * generator tfjs uses without one, so seeding costs nothing). Inference calls (`training` false) are untouched and do
 * not advance a stream: Dropout stays the identity there. The model itself does not change (same layers, same
 * config, same weights): it saves and loads as before, and no layer class needs registering.
 *
 * `GaussianNoise`, `GaussianDropout` and `AlphaDropout` draw their noise without any seed in tfjs-layers 4.22 and
 * are left alone (no transferkit model uses them).
 *
 * @module
 */
import { Rng } from '../core/rng.js';
import { type ContainerLike, isContainer, type Layer } from './kinds.js';
import { layerEntries } from './layers.js';

/** The layer classes whose masks {@link seedDropoutMasks} seeds (both pass their `seed` field to `tf.dropout`). */
export const SEEDED_DROPOUT_CLASSES: readonly string[] = ['Dropout', 'SpatialDropout1D'];

/** Mixed into the training seed so the mask streams are not the batch-order stream of the same seed. */
const DROPOUT_SALT = 0x0d5eed0d;

/** A tfjs-layers Dropout as this module uses it: its `call` and the `seed` field that call passes to `tf.dropout`. */
interface DropoutLayer {
  seed?: number | string;
  call: (inputs: unknown, kwargs: Record<string, unknown>) => unknown;
}

/**
 * The dropout layers of a model whose masks {@link seedDropoutMasks} seeds, each once (a layer shared by two nested
 * models counts once), in the model's layer order.
 *
 * @example
 * ```ts
 * dropoutLayers(hintonMlp({ preset: 'teacher' })).map((l) => l.name); // ['input_drop', 'drop1', 'drop2']
 * ```
 */
export function dropoutLayers(model: ContainerLike): Layer[] {
  const seen = new Set<Layer>();
  for (const { layer } of layerEntries(model)) {
    if (SEEDED_DROPOUT_CLASSES.includes(layer.getClassName()) && typeof layer.call === 'function') {
      seen.add(layer);
    }
  }
  return [...seen];
}

/**
 * Seeds the dropout masks of `model` until the returned function is called (call it in a `finally`): see the
 * module comment. The same `seed` on a model of the same structure gives the same masks, call for call; the stream
 * starts again at every call of this function. Seeding a model that is already seeded stacks: the returned
 * functions restore what each found, so call them in reverse order.
 *
 * @param model a tfjs-layers model (anything else has no dropout layers: nothing is done)
 * @param seed the training seed (an integer)
 * @returns a function that puts the layers back as they were (their own `call` and `seed`)
 * @example
 * ```ts
 * const restore = seedDropoutMasks(model, 1);
 * try {
 *   await trainSomehow(model); // masks of step k are the same in every run with seed 1
 * } finally {
 *   restore();
 * }
 * ```
 */
export function seedDropoutMasks(model: unknown, seed: number): () => void {
  if (!isContainer(model)) return () => {};
  const layers = dropoutLayers(model);
  if (layers.length === 0) return () => {};
  const root = new Rng((seed ^ DROPOUT_SALT) | 0);
  const restores = layers.map((layer) => {
    const l = layer as unknown as DropoutLayer;
    const stream = root.nextUint32().toString(36);
    const ownCall = Object.hasOwn(l, 'call');
    const previousCall = l.call;
    const previousSeed = l.seed;
    let k = 0;
    l.call = function seededDropoutCall(this: unknown, inputs, kwargs) {
      // Dropout reads `seed` only when `training` is truthy (tfjs-layers' inTrainPhase): advance only then.
      if (kwargs?.training) l.seed = `${stream}:${k++}`;
      return previousCall.call(layer, inputs, kwargs);
    };
    return () => {
      if (ownCall) l.call = previousCall;
      else delete (l as Partial<DropoutLayer>).call;
      l.seed = previousSeed;
    };
  });
  return () => {
    for (let i = restores.length - 1; i >= 0; i--) restores[i]();
  };
}
