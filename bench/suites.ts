/**
 * Every benchmark suite `npm run bench` knows, in run order. To add one, write bench/<id>.ts exporting
 * `suite: BenchSuite` (bench/types.ts) and append it here.
 */
import { suite as deconvnet } from './deconvnet.js';
import { suite as distill } from './distill.js';
import { suite as ensemble } from './ensemble.js';
import { suite as features } from './features.js';
import { suite as finetune } from './finetune.js';
import { suite as kernels } from './kernels.js';
import { suite as models } from './models.js';
import { suite as patches } from './patches.js';
import { suite as peers } from './peers.js';
import { suite as pool } from './pool.js';
import { suite as queue } from './queue.js';
import { suite as report } from './report.js';
import { suite as step } from './step.js';
import { suite as transfer } from './transfer.js';
import type { BenchSuite } from './types.js';

export const suites: BenchSuite[] = [
  kernels,
  step,
  deconvnet,
  patches,
  distill,
  ensemble,
  features,
  transfer,
  pool,
  report,
  peers,
  queue,
  finetune,
  models,
];
