/**
 * The report section `deconvnet`: Zeiler & Fergus (2013) on the reference CNN, digit scenes and the pretrained
 * MobileNetV2, as config (./config.ts), run (./run.ts, with ./scenes.ts, ./mobilenet.ts and ./images.ts) and render
 * (./render.ts).
 *
 * @module
 */
import type { ReportSection } from '../../types.js';
import type { DeconvnetSectionResult } from './config.js';
import { deconvnetHeadlines, renderDeconvnet } from './render.js';
import { runDeconvnet } from './run.js';

export * from './config.js';
export {
  type MobilenetDeconvConfig,
  type MobilenetDeconvResult,
  type MobilenetLayerFigure,
  mobilenetDeconvConfig,
  renderMobilenetDeconv,
  runMobilenetDeconv,
} from './mobilenet.js';
export { deconvnetHeadlines, deconvnetIntervals, renderDeconvnet } from './render.js';
export { runDeconvnet } from './run.js';
export { buildSceneModel, sceneClassifier, sceneOcclusion } from './scenes.js';

/** The deconvnet report section (id `'deconvnet'`). */
export const deconvnet: ReportSection<DeconvnetSectionResult> = {
  id: 'deconvnet',
  title: 'Zeiler & Fergus (2013): visualising and understanding convolutional networks',
  // 2: adds the pretrained MobileNetV2 top-9 grids (`mobilenet`); 3: the scene classifier copied by LayerTransfer,
  // per-scene occlusion values for the interval (`scenes.perScene`), `config`
  version: 3,
  run: (ctx) => runDeconvnet(ctx),
  render: (r) => renderDeconvnet(r),
  headlines: deconvnetHeadlines,
};
