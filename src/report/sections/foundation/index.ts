/**
 * The report section `foundation`: the reference CNN on MNIST, as config (./config.ts), run (./run.ts) and render
 * (./render.ts).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { FoundationResult } from './config.js';
import { foundationHeadlines, renderFoundation } from './render.js';
import { runFoundation } from './run.js';

export * from './config.js';
export { foundationHeadlines, foundationInterval, renderFoundation } from './render.js';
export { runFoundation } from './run.js';

/** The foundation report section (id `'foundation'`). */
export const foundation: ReportSection<FoundationResult> = {
  id: 'foundation',
  title: 'Foundation: a reference CNN on MNIST',
  // No version bump for the interval: it is computed at render time from the confusion matrix every cached result
  // has (results cached without `settings` use the mode's defaults).
  run: (ctx) => runFoundation(ctx),
  render: renderFoundation,
  headlines: foundationHeadlines,
};
