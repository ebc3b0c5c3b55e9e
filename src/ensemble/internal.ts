/** Helpers shared inside src/ensemble (not part of the public API). */
import type * as tfl from '@tensorflow/tfjs-layers';

/** Is `v` a tfjs-layers `LayersModel` (duck-typed so that two copies of tfjs-layers still agree)? */
export function isLayersModel(v: unknown): v is tfl.LayersModel {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as tfl.LayersModel).layers) &&
    typeof (v as tfl.LayersModel).getWeights === 'function' &&
    typeof (v as tfl.LayersModel).toJSON === 'function' &&
    typeof (v as tfl.LayersModel).save === 'function'
  );
}
