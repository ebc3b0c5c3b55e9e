#!/usr/bin/env node
// Runs test/browser/diagnose/transfer-page.ts in headless Chromium and prints, for each variant, the largest
// difference from cpu of each recorded quantity (loss, gradients, weights after each step, logits), in the order
// they are computed: the first line that departs from cpu is where the deviation starts.
// Usage: node test/browser/diagnose/transfer.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../chromium.mjs';
import { bundlePage, serve } from '../page.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const variants = [
  { label: 'cpu', backend: 'cpu', flags: {} },
  { label: 'webgl', backend: 'webgl', flags: {} },
  // set before the backend starts, in a fresh page: the flags derived from WEBGL_PACK are read once and cached
  { label: 'webgl WEBGL_PACK=false', backend: 'webgl', flags: { WEBGL_PACK: false } },
  {
    label: 'webgl WEBGL_PACK_BINARY_OPERATIONS=false',
    backend: 'webgl',
    flags: { WEBGL_PACK_BINARY_OPERATIONS: false },
  },
  { label: 'webgpu', backend: 'webgpu', flags: {} },
];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'transferkit-diagnose-'));
let browser;
let server;
try {
  await bundlePage(path.join(here, 'transfer-page.ts'), tmp);
  server = await serve(tmp);
  browser = await launchChromium({ webgpu: true });
  const res = {};
  for (const v of variants) {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    Object.assign(res, await page.evaluate(async (x) => (await import('/page.js')).run([x]), v));
    await page.close();
  }
  fs.writeFileSync(path.join(os.tmpdir(), 'transferkit-diagnose-transfer.json'), JSON.stringify(res));
  const ref = res.cpu;
  for (const v of variants.slice(1)) {
    console.log(`\n## ${v.label}`);
    const mine = Object.values(res[v.label]);
    for (const [j, [key, a]] of Object.entries(ref).entries()) {
      const b = mine[j];
      let d = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(a[i]));
      }
      console.log(`${key.padEnd(40)} max|diff| ${d.toExponential(2)}  scale ${scale.toExponential(2)}`);
    }
  }
} finally {
  await browser?.close();
  server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
