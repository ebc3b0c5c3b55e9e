/**
 * The model side of {@link finetune}: the feature layer, the backbone composed with a new softmax head, scores of
 * class probabilities and early stopping on the validation loss with the best epoch's weights.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInteger } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { deriveSeed } from '../transfer/config.js';

const FN = 'finetune';

/** A layer of a layers model. */
export type Layer = tfl.LayersModel['layers'][number];

/** The top-level layer of `model` that `ref` (name, or index negative from the end) names. */
export function resolveLayer(model: tfl.LayersModel, ref: string | number): Layer {
  if (typeof ref === 'number') {
    checkInteger(FN, 'options.featureLayer', ref, -model.layers.length, model.layers.length - 1);
    return model.layers[ref < 0 ? model.layers.length + ref : ref];
  }
  if (typeof ref !== 'string') {
    throw new InvalidArgumentError(FN, 'options.featureLayer', 'a layer name or index', ref);
  }
  const layer = model.layers.find((l) => l.name === ref);
  if (layer === undefined) {
    throw new InvalidArgumentError(
      FN,
      'options.featureLayer',
      `the name of a top-level layer of the model (${model.layers.map((l) => l.name).join(', ')})`,
      ref,
    );
  }
  return layer;
}

/** The output shape of `layer` (its first output's when it has several), batch as `null`. */
export function layerOutputShape(layer: Layer): (number | null)[] {
  const s = layer.outputShape as (number | null)[] | (number | null)[][];
  return (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
}

/** Cross-entropy and accuracy of probabilities `[n, k]` against labels. */
export function scoreProbabilities(
  probs: Float32Array,
  labels: ArrayLike<number>,
  k: number,
): { loss: number; accuracy: number; predicted: number[]; confidence: number[] } {
  const n = labels.length;
  const predicted: number[] = [];
  const confidence: number[] = [];
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
    predicted.push(best);
    confidence.push(probs[i * k + best]);
    if (best === labels[i]) correct++;
    loss -= Math.log(Math.max(probs[i * k + labels[i]], 1e-7));
  }
  return {
    loss: n > 0 ? loss / n : Number.NaN,
    accuracy: n > 0 ? correct / n : Number.NaN,
    predicted,
    confidence,
  };
}

/** Weights of `model`, copied (to restore the best epoch). */
export function snapshot(model: tfl.LayersModel): tf.Tensor[] {
  return model.getWeights().map((w) => tf.clone(w));
}

/** Tracks the best epoch of a stage (lowest validation loss) and says when to stop. */
export class EarlyStopping {
  best = Number.POSITIVE_INFINITY;
  bestEpoch = 0;
  private weights: tf.Tensor[] = [];
  constructor(
    private readonly model: tfl.LayersModel,
    private readonly patience: number,
  ) {}
  /** Records an epoch; `true` when the stage should stop. */
  update(epoch: number, valLoss: number): boolean {
    if (Number.isNaN(valLoss)) return false;
    if (valLoss < this.best - 1e-6) {
      this.best = valLoss;
      this.bestEpoch = epoch;
      tf.dispose(this.weights);
      this.weights = snapshot(this.model);
      return false;
    }
    return epoch - this.bestEpoch >= this.patience;
  }
  /** Puts the best epoch's weights back (when there was one) and frees the copy. */
  restore(): void {
    if (this.weights.length > 0) this.model.setWeights(this.weights);
    this.dispose();
  }
  dispose(): void {
    tf.dispose(this.weights);
    this.weights = [];
  }
}

/**
 * The backbone up to `layer`, then global average pooling (for a 4-D output) and a softmax Dense head of `k` units,
 * as one functional model sharing the backbone's layers. `dispose()` frees only the layers it added.
 */
export function composeModel(
  backbone: tfl.LayersModel,
  layer: Layer,
  pool: boolean,
  k: number,
  seed: number,
): { model: tfl.LayersModel; dispose: () => void } {
  const taken = new Set(backbone.layers.map((l) => l.name));
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    return name;
  };
  const out = layer.output as tfl.SymbolicTensor;
  const pooled = pool
    ? (tfl.layers.globalAveragePooling2d({ name: unique('finetune_pool') }).apply(out) as tfl.SymbolicTensor)
    : out;
  const dense = tfl.layers.dense({
    units: k,
    activation: 'softmax',
    name: unique('finetune_head'),
    kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(seed, 'head') }),
  });
  const y = dense.apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: backbone.inputs, outputs: y, name: unique('finetuned') });
  return {
    model,
    dispose: () => {
      if (!dense.weights.some((w) => w.read().isDisposed)) dense.dispose();
    },
  };
}
