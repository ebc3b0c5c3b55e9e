/**
 * The report section `features`: off-the-shelf CNN features (Donahue et al. 2014, DeCAF; Razavian et al. 2014) on
 * Fashion-MNIST, as config (./config.ts), run (./run.ts) and render (./render.ts).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { FeaturesResult } from './config.js';
import { featuresHeadlines, renderFeatures } from './render.js';
import { runFeatures } from './run.js';

export * from './config.js';
export { type Comparison, featuresComparisons, featuresHeadlines, renderFeatures } from './render.js';
export { runFeatures } from './run.js';
export { mobilenetTopology } from './sources.js';

/** The report section `features` (Fashion-MNIST). */
export const features: ReportSection<FeaturesResult> = {
  id: 'features',
  title: 'CNN features off the shelf on Fashion-MNIST (Donahue et al. 2014, DeCAF; Razavian et al. 2014)',
  version: 2,
  run: (ctx) => runFeatures(ctx),
  render: renderFeatures,
  headlines: featuresHeadlines,
};
