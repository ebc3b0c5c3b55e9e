/**
 * The model factory of the `pool` suite's TransferExperiment grid, as a module the worker threads import (a
 * function cannot cross threads): the report's small zoo CNN (conv8 5x5, conv16 3x3, fc64).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { zeilerFergusCnn } from '../src/index.js';

/** conv8-pool-conv16-pool-fc64-k, seeded. */
export function smallCnn(numClasses: number, seed: number): tfl.LayersModel {
  return zeilerFergusCnn({ filters: [8, 16], kernelSizes: [5, 3], hidden: [64], numClasses, seed });
}
