import path from 'node:path';
import { defineConfig } from 'vite';

// The browser demo: bundles transferkit's main entry (from source) with the tfjs backends for the browser.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: {
    alias: { transferkit: path.resolve(import.meta.dirname, '../../src/index.ts') },
  },
  build: {
    outDir: path.resolve(import.meta.dirname, '../../dist-demo'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    target: 'es2022',
  },
  logLevel: 'warn',
});
