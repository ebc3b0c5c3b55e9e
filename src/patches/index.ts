/**
 * Oquab et al. (2014)'s multi-scale patches: box geometry, the patch grid, the labelling rule, batched crops and
 * patch-to-image score aggregation.
 *
 * @module
 */
export * from './aggregate.js';
export * from './boxes.js';
export * from './crops.js';
export * from './labels.js';
export * from './sampler.js';
export * from './svg.js';
