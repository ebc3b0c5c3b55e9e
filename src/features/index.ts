/**
 * Features off the shelf (DeCAF, Donahue et al. 2014; Razavian et al. 2014): taps, pooling, normalisation,
 * augmented views, batched extraction and a feature file format.
 *
 * @module
 */
export * from './extractor.js';
export * from './format.js';
export * from './graph-model.js';
export * from './matrix.js';
export * from './normalize.js';
export { closeNames, editDistance, listTaps, type TapInfo, type TapRef } from './taps.js';
export * from './views.js';
