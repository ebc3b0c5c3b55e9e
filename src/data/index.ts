export * from './scenes.js';
export * from './split.js';
