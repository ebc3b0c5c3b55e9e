/**
 * The BatchNormalization policy of a freeze.
 *
 * tfjs-layers' `BatchNormalization.call` decides between batch statistics and moving statistics by the `training`
 * flag alone: in `fit()` (and any call with `training: true`) it normalises with the batch's statistics and writes
 * new moving mean/variance, even when the layer's `trainable` is false. Keras (since 2.1.3) and timm's
 * `freeze_batch_norm_2d` instead run a frozen BN in inference mode. transferkit makes that choice explicit:
 *
 * - `'inference'` (default): a frozen BN layer is called with `training: false`, so it normalises with its moving
 *   statistics and never updates them; its outputs for a given input stay fixed while the rest trains.
 * - `'batch-stats'`: tfjs's own behaviour: gamma and beta are frozen, but the layer keeps normalising with batch
 *   statistics and updating its moving statistics during training.
 *
 * @module
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOneOf } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';

/** How a frozen BatchNormalization layer behaves in training (see the module comment). */
export type BatchNormPolicy = 'inference' | 'batch-stats';

type Layer = tfl.layers.Layer;
type CallFn = Layer['call'];

const installed = new WeakMap<Layer, { policy: BatchNormPolicy }>();

/**
 * Makes the BatchNormalization layer `layer` honour `policy` when it is not trainable, by wrapping this instance's
 * `call` (its class and configuration are unchanged, so saving the model is unaffected). Calling it again only
 * changes the policy.
 *
 * @throws {@link InvalidArgumentError} for a policy other than `'inference'` or `'batch-stats'`
 *
 * @example
 * ```ts
 * applyBatchNormPolicy(model.getLayer('bn1'), 'inference');
 * model.getLayer('bn1').trainable = false; // from now on fit() leaves its moving statistics alone
 * ```
 */
export function applyBatchNormPolicy(layer: Layer, policy: BatchNormPolicy): void {
  const fn = 'applyBatchNormPolicy';
  if (typeof layer !== 'object' || layer === null || typeof (layer as Layer).call !== 'function') {
    throw new InvalidArgumentError(fn, 'layer', 'a tfjs-layers BatchNormalization layer', layer);
  }
  checkOneOf(fn, 'policy', policy, ['inference', 'batch-stats'] as const);
  const state = installed.get(layer);
  if (state !== undefined) {
    state.policy = policy;
    return;
  }
  const own = { policy };
  installed.set(layer, own);
  const original: CallFn = layer.call.bind(layer);
  const wrapped: CallFn = (inputs, kwargs) => {
    if (own.policy === 'inference' && !layer.trainable) {
      return original(inputs, { ...(kwargs ?? {}), training: false });
    }
    return original(inputs, kwargs);
  };
  layer.call = wrapped;
}

/**
 * The policy installed on `layer` by `applyBatchNormPolicy`, or `undefined` (tfjs's default behaviour).
 *
 * @example
 * ```ts
 * batchNormPolicyOf(transfer.model.getLayer('bn1')); // 'inference' for a LayerTransfer built with the default
 * ```
 */
export function batchNormPolicyOf(layer: Layer): BatchNormPolicy | undefined {
  return installed.get(layer)?.policy;
}

/** Is `layer` a BatchNormalization layer? (internal) */
export function isBatchNorm(layer: Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}
