/**
 * The report section `distill`: Hinton, Vinyals & Dean (2015), section 3, the paper's MLP-to-MLP setting at small
 * scale, as config (./config.ts), run (./run.ts) and render (./render.ts). Full mode only (quick mode tests the claim
 * in `distill-mnist`).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { DistillResult } from './config.js';
import { distillHeadlines, renderDistill } from './render.js';
import { runDistill } from './run.js';

export * from './config.js';
export { distillHeadlines, renderDistill } from './render.js';
export { runDistill } from './run.js';

/** The distillation report section (id `'distill'`). */
export const distill: ReportSection<DistillResult> = {
  id: 'distill',
  title: "Distillation: Hinton, Vinyals & Dean (2015) on MNIST, the paper's MLP setting",
  // Quick mode tests the claim in distill-mnist (within the budget); this section's MLP-to-MLP setting runs in full
  // mode, or with --only distill.
  modes: ['full'],
  run: (ctx) => runDistill(ctx),
  render: renderDistill,
  headlines: distillHeadlines,
};
