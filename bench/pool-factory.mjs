/**
 * The model factory of the `pool` suite's TransferExperiment grid, as a plain ES module the worker threads import
 * (a function cannot cross threads). It imports the BUILT library (dist/index.js), so a worker thread running the
 * built dist/pool-worker.js compiles nothing at start-up (a .ts factory would pull the whole src/ tree through tsx
 * into every worker). Run `npm run build` first; the suite checks.
 */
import { zeilerFergusCnn } from '../dist/index.js';

/** conv8-pool-conv16-pool-fc64-k, seeded (the report's small zoo CNN). */
export function smallCnn(numClasses, seed) {
  return zeilerFergusCnn({ filters: [8, 16], kernelSizes: [5, 3], hidden: [64], numClasses, seed });
}
