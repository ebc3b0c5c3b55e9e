// One esbuild bundle of a browser page module, served from 127.0.0.1 with the wasm backend's binaries beside it.
// Shared by the backend matrix (test/browser/matrix/run.mjs) and the browser benchmark (bench/browser/run.mjs).
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));

/**
 * Bundles `entry` (platform browser, ESM) into `dir`/page.js with an index.html and the wasm binaries. With
 * `built: true`, imports of src/index.js are redirected to the built dist/index.js (what npm users get).
 * Returns the bundle's size in bytes; throws if it contains a node: import.
 */
export async function bundlePage(entry, dir, { built = false } = {}) {
  const dist = path.join(root, 'dist/index.js');
  if (built && !fs.existsSync(dist)) throw new Error('dist/index.js is missing: run `npm run build` first');
  await require('esbuild').build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: path.join(dir, 'page.js'),
    logLevel: 'error',
    plugins: built
      ? [
          {
            name: 'built-transferkit',
            setup(b) {
              b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: dist }));
            },
          },
        ]
      : [],
  });
  const bundle = fs.readFileSync(path.join(dir, 'page.js'), 'utf8');
  if (/from ['"]node:|require\(['"]node:/.test(bundle))
    throw new Error('the page bundle contains a node: import');
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of fs.readdirSync(wasmDir)) {
    if (f.endsWith('.wasm')) fs.copyFileSync(path.join(wasmDir, f), path.join(dir, f));
  }
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>transferkit</title>',
  );
  return bundle.length;
}

/** Serves the files of `dir` (flat) on 127.0.0.1 at a free port. */
export function serve(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const name = path.join(dir, path.basename(new URL(req.url ?? '/', 'http://x').pathname) || 'index.html');
    if (!fs.existsSync(name)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(name)] ?? 'application/octet-stream' });
    res.end(fs.readFileSync(name));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
