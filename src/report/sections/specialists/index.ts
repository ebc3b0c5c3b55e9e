/**
 * The report section `specialists`: Hinton, Vinyals & Dean (2015), section 5, on Fashion-MNIST, as config
 * (./config.ts), run (./run.ts) and render (./render.ts).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { SpecialistsResult } from './config.js';
import { renderSpecialists, specialistsHeadlines } from './render.js';
import { runSpecialists } from './run.js';

export * from './config.js';
export {
  clusterHeatMap,
  perClassTable,
  renderSpecialists,
  specialistsHeadlines,
  specialistsIntervals,
} from './render.js';
export { runSpecialists, runSpecialistsOn, type SpecialistsData } from './run.js';

/** The report section `specialists` (Fashion-MNIST). */
export const specialists: ReportSection<SpecialistsResult> = {
  id: 'specialists',
  title: 'Specialist ensembles on Fashion-MNIST (Hinton, Vinyals & Dean 2015, section 5)',
  version: 4,
  run: (ctx) => runSpecialists(ctx),
  render: renderSpecialists,
  headlines: specialistsHeadlines,
};
