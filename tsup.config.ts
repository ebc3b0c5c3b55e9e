import path from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

const SRC = path.resolve('src');
const SELF: Record<string, string> = {
  [path.join(SRC, 'index.js')]: 'transferkit',
  [path.join(SRC, 'index.ts')]: 'transferkit',
  [path.join(SRC, 'node.js')]: 'transferkit/node',
  [path.join(SRC, 'node.ts')]: 'transferkit/node',
  [path.join(SRC, 'queue.js')]: 'transferkit/queue',
  [path.join(SRC, 'queue.ts')]: 'transferkit/queue',
};

/**
 * Modules that hold classes or error types and export only public names: when the helpers of src/internal.ts (or a
 * Node module's direct imports) reach one of them, the other entries import it from the public entry instead of
 * bundling a second copy. test/package/entries.test.ts checks that every module with a class that the internal
 * helpers reach is listed here and exports only names of its entry.
 */
export const SHARED_MODULES: Record<string, string> = {
  'core/errors.ts': 'transferkit',
  'core/rng.ts': 'transferkit',
  'features/matrix.ts': 'transferkit',
  'model/errors.ts': 'transferkit',
  'node/idx.ts': 'transferkit/node',
};
const SHARED: Record<string, string> = Object.fromEntries(
  Object.entries(SHARED_MODULES).flatMap(([file, target]) => [
    [path.join(SRC, file), target],
    [path.join(SRC, file.replace(/\.ts$/, '.js')), target],
  ]),
);

/**
 * Node-only code (src/node/, src/report/, src/cli.ts) imports the library through src/index.js and src/node.js,
 * and the helpers it shares through src/internal.js (bundled: it is no entry). In the built files the entries
 * become the package's own (`transferkit`, `transferkit/node`), and so do the {@link SHARED_MODULES}, so the
 * library's classes, registries and error types exist once, whichever entry a user imports.
 */
function selfReference(entry: string): Plugin {
  return {
    name: 'transferkit-self-reference',
    setup(build) {
      build.onResolve({ filter: /\.js$/ }, (args) => {
        if (!args.importer || args.kind === 'entry-point') return undefined;
        const file = path.resolve(path.dirname(args.importer), args.path);
        const target = SELF[file] ?? (entry === 'transferkit' ? undefined : SHARED[file]);
        if (target === undefined || target === entry) return undefined;
        return { path: target, external: true };
      });
    },
  };
}

export default defineConfig([
  {
    // The browser-safe main entry, as ESM + CJS + .d.ts.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false, // the configs build in parallel: `npm run build` empties dist/ first
    target: 'es2022',
    platform: 'neutral',
    treeshake: true,
  },
  {
    // `transferkit/node`: Node-only helpers; the main entry stays external (see selfReference).
    entry: { node: 'src/node.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    shims: true, // import.meta.url in the CJS build
    external: ['transferkit'],
    esbuildPlugins: [selfReference('transferkit/node')],
  },
  {
    // The worker thread of transferkit/node's pool (runTransferExperimentInWorkers), next to node.js in dist/.
    entry: { 'pool-worker': 'src/node/pool-worker.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    external: ['transferkit', 'transferkit/node'],
    esbuildPlugins: [selfReference('')],
  },
  {
    // The worker thread of the report's `--workers N` (src/report/runner-pool.ts), next to cli.js in dist/.
    entry: { 'report-worker': 'src/report/runner-worker.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    external: ['transferkit', 'transferkit/node', 'transferkit/queue', 'bullmq', 'ioredis'],
    esbuildPlugins: [selfReference('')],
  },
  {
    // `transferkit/queue`: BullMQ/Redis workers (optional peers bullmq, ioredis); both other entries external.
    entry: { queue: 'src/queue.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    shims: true,
    external: ['transferkit', 'transferkit/node', 'bullmq', 'ioredis'],
    esbuildPlugins: [selfReference('transferkit/queue')],
  },
  {
    // The command line (bin: transferkit), ESM only.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    external: ['transferkit', 'transferkit/node', 'transferkit/queue', 'bullmq', 'ioredis'],
    esbuildPlugins: [selfReference('')],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
