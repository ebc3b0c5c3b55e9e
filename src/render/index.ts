export * from './charts.js';
export * from './heatmap.js';
export * from './image.js';
export * from './svg.js';
