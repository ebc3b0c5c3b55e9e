/**
 * The report section `transfer`: Yosinski et al. (2014), similar and dissimilar tasks, as config (./config.ts), run
 * (./run.ts) and render (./render.ts).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { TransferSectionResult } from './config.js';
import { renderTransfer, transferHeadlines } from './render.js';
import { runTransfer } from './run.js';

export * from './config.js';
export { renderTransfer, transferHeadlines } from './render.js';
export { runTransfer } from './run.js';
export { transferIntervals, transferRegions } from './stats.js';

/** The `transfer` report section. */
export const transfer: ReportSection<TransferSectionResult> = {
  id: 'transfer',
  title: 'How transferable are features? Similar and dissimilar tasks (Yosinski et al. 2014)',
  version: 4,
  run: (ctx) => runTransfer(ctx),
  render: renderTransfer,
  headlines: transferHeadlines,
};
