/**
 * The {@link GraphModelNotSupportedError} each primitive throws for a GraphModel where it reads layers (kept apart
 * from the error classes, which the build shares between entries).
 *
 * @module
 */
import { GraphModelNotSupportedError } from './errors.js';

/** The error for a GraphModel given where a primitive reads layers. */
export function graphModelError(fn: string, argument: string): GraphModelNotSupportedError {
  if (fn.startsWith('LayerTransfer')) {
    return new GraphModelNotSupportedError(
      fn,
      argument,
      'a GraphModel is a frozen, converted TensorFlow graph whose ops have no layers, no layer configuration to rebuild and no trainable variables, so its first layers cannot be copied or re-initialised',
      'new GraphModelClassifier(graphModel, { tap, numClasses }) builds frozen graph-model features + a new trainable head in one call',
    );
  }
  return new GraphModelNotSupportedError(
    fn,
    argument,
    'a GraphModel has no layers to read',
    'a LayersModel, or a primitive that accepts GraphModels (FeatureExtractor, Deconvnet saliency, Distiller teachers, SpecialistEnsemble generalists)',
  );
}
