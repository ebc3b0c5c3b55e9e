/**
 * The registry of report sections, in report order. Each paper's section appends itself here
 * (`import { x } from './x.js'` and an entry in the array).
 *
 * @module
 */
import type { ReportSection } from '../types.js';
import { deconvnet } from './deconvnet/index.js';
import { distill } from './distill/index.js';
import { distillMnist } from './distill-mnist/index.js';
import { features } from './features/index.js';
import { foundation } from './foundation/index.js';
import { patches } from './patches/index.js';
import { specialists } from './specialists/index.js';
import { transfer } from './transfer/index.js';

/** Every section of the report, in order. */
export const sections: ReportSection<any>[] = [
  foundation,
  deconvnet,
  features,
  transfer,
  patches,
  distill,
  distillMnist,
  specialists,
];
