export * from './architectures.js';
export * from './cnn.js';
export * from './mlp.js';
export * from './train.js';
