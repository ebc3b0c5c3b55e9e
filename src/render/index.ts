/**
 * SVG figures without a DOM: line and bar charts, heat maps and image grids.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type { BarChartOptions, BarSeries, ChartFrame, LineChartOptions, LineSeries } from './charts.js';
export { barChart, lineChart } from './charts.js';
export type { HeatMapBlock, HeatMapDiagonalBlock, HeatMapOptions, HeatMapRect } from './heatmap.js';
export { heatMap } from './heatmap.js';
export type { ImageGrid, ImageGridOptions, RgbaImage, TileRect, TileSet } from './image.js';
export { labelledGridSvg, tensorToRgbaGrid } from './image.js';
export type { ColormapName } from './svg.js';
