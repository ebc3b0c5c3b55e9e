#!/usr/bin/env node
// Consumer smoke test: `npm pack` the built library, install the tarball into a fresh temporary project and use
// it the three ways users do: (a) an ESM TypeScript file type-checked against the shipped .d.ts and run,
// (b) a CommonJS require, (c) a browser bundle (esbuild, platform browser: proves the main entry is browser-safe),
// each on the cpu and wasm backends. Peers and dependencies are linked from this repo's node_modules, so the
// test needs no network.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';

/** Serves `dir` on 127.0.0.1, imports `file` in a headless Chromium page and returns what its `run()` returns. */
async function runInChromium(dir, file) {
  const server = http.createServer((req, res) => {
    const name = path.join(dir, path.basename(new URL(req.url ?? '/', 'http://x').pathname) || 'index.html');
    if (name.endsWith('index.html')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>consumer</title>');
    } else if (fs.existsSync(name)) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(name));
    } else res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    const out = await page.evaluate(async (f) => (await import(`/${f}`)).run(), file);
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    return out;
  } finally {
    await browser.close();
    server.close();
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.join(root, 'test/consumer');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'transferkit-consumer-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', tmp], root).trim().split('\n').pop();
  const nm = path.join(tmp, 'node_modules');
  fs.mkdirSync(path.join(nm, 'transferkit'), { recursive: true });
  run(
    'tar',
    ['-xzf', path.join(tmp, tarball), '-C', path.join(nm, 'transferkit'), '--strip-components=1'],
    tmp,
  );
  // Link every package of this repo (peers, dependencies, tools) except transferkit itself.
  for (const entry of fs.readdirSync(path.join(root, 'node_modules'))) {
    if (entry.startsWith('.') || entry === 'transferkit') continue;
    fs.symlinkSync(path.join(root, 'node_modules', entry), path.join(nm, entry));
  }
  fs.writeFileSync(
    path.join(tmp, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  for (const f of fs.readdirSync(here))
    if (f !== 'run.mjs') fs.copyFileSync(path.join(here, f), path.join(tmp, f));
  fs.writeFileSync(
    path.join(tmp, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true, // tfjs 4.22's own .d.ts do not pass a full lib check
        types: ['node'],
        outDir: 'out',
      },
      files: ['consumer.ts'],
    }),
  );
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  // (a) ESM + TypeScript, type-checked against the shipped declarations.
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], tmp);
  for (const backend of ['cpu', 'wasm']) {
    process.stdout.write(run(process.execPath, ['out/consumer.js', backend], tmp));
    // (b) CommonJS.
    process.stdout.write(run(process.execPath, ['consumer.cjs', backend], tmp));
  }
  // (c) A browser bundle of the main entry.
  const esbuild = createRequire(path.join(root, 'package.json'))('esbuild');
  await esbuild.build({
    absWorkingDir: tmp,
    entryPoints: ['consumer-browser.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    outfile: 'out/browser.js',
    logLevel: 'warning',
  });
  const bundlePath = path.join(tmp, 'out/browser.js');
  const bundle = fs.readFileSync(bundlePath, 'utf8');
  if (/from ['"]node:|require\(['"]node:/.test(bundle))
    throw new Error('the browser bundle contains a node: import');
  if (/(from\s*|require\(\s*|import\(\s*)['"]@tensorflow\/tfjs-(backend-wasm|node)/.test(bundle))
    throw new Error('the browser bundle pulled in a backend it did not ask for');
  // Run the bundle where it belongs: in Debian's headless Chromium, served from 127.0.0.1.
  console.log(
    `${await runInChromium(path.dirname(bundlePath), 'browser.js')}; bundle ${(bundle.length / 1024).toFixed(0)} KiB`,
  );
  console.log('consumer smoke test: 1 passed, 0 failed');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
