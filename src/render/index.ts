/**
 * SVG figures without a DOM: line charts (training curves) and image grids. The bar charts and heat maps of the
 * report stay in their files (`src/internal.ts`).
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type { ChartFrame, LineChartOptions, LineSeries } from './charts.js';
export { lineChart } from './charts.js';
export type { ImageGrid, ImageGridOptions, RgbaImage, TileRect, TileSet } from './image.js';
export { tensorToRgbaGrid } from './image.js';
export type { ColormapName } from './svg.js';
