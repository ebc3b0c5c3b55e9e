export * from './artifacts.js';
export * from './checks.js';
export * from './errors.js';
export * from './limits.js';
export * from './memory.js';
export * from './rng.js';
export * from './types.js';
