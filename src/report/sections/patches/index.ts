/**
 * The report section `patches`: Oquab et al. (2014)'s multi-scale patches on synthetic multi-digit scenes, as config
 * (./config.ts), run (./run.ts, interval in ./intervals.ts, sample figures in ./figures.ts) and render (./render.ts).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { PatchesResult } from './config.js';
import { patchesHeadlines, renderPatches } from './render.js';
import { runPatches } from './run.js';

export * from './config.js';
export { pairedMapIntervals } from './intervals.js';
export { patchesHeadlines, patchesVerdict, renderPatches } from './render.js';
export { runPatches } from './run.js';

/** The `patches` section of the report. */
export const patches: ReportSection<PatchesResult> = {
  id: 'patches',
  title: 'Multi-scale patches and transfer to cluttered scenes (Oquab et al. 2014)',
  // 2: the paired bootstrap interval over test scenes (`intervals`), `config`, models in the report's model cache
  version: 2,
  run: (ctx) => runPatches(ctx),
  render: (r) => renderPatches(r),
  headlines: patchesHeadlines,
};
