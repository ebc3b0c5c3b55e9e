import { defineConfig } from 'vitest/config';

// The same suites run twice: on the pure-JS cpu backend and on the wasm backend (with transferkit's training
// kernels). Each project has its own setup file that registers and selects its backend.
const shared = {
  include: ['test/**/*.test.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: 'cpu', setupFiles: ['test/setup/cpu.ts'] } },
      { test: { ...shared, name: 'wasm', setupFiles: ['test/setup/wasm.ts'] } },
    ],
  },
});
